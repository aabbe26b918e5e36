/**
 * A gateway for tests: the real Apollo server and HTTP entry on 127.0.0.1 (port 0), domains
 * in-process, a fresh table and bucket, and a local key pair to sign tokens for any role.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freshAws, type TestAws } from './aws.js';
import { loadOrCreateKeys, signToken, LOCAL_ISSUER, type LocalKeys, type TokenRequest } from '../../functions/shared/localTokens.js';
import { buildGateway } from '../../gateway/server.js';
import { createGatewayHttpServer } from '../../gateway/http.js';
import { inProcessInvoker, type Invoker } from '../../gateway/invoker.js';
import { domains as allDomains, type DomainRegistration } from '../../gateway/domains.js';
import { createTokenVerifier } from '../../gateway/auth/verifier.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string } }[];
}

export interface TestGateway {
  url: string;
  aws: TestAws;
  keys: LocalKeys;
  invoker: Invoker;
  token(req: Partial<TokenRequest> & { roles?: TokenRequest['roles']; agentSite?: string }): Promise<string>;
  /** Tokens for the usual callers, signed once. */
  tokens: { admin: string; operator: string; viewer: string };
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export async function startTestGateway(opts: { production?: boolean; domains?: DomainRegistration[] } = {}): Promise<TestGateway> {
  const aws = await freshAws('gw');
  const dir = mkdtempSync(join(tmpdir(), 'skyboot-keys-'));
  const keys = await loadOrCreateKeys(dir);
  process.env.SKYBOOT_JWT_ISSUER = LOCAL_ISSUER;
  process.env.SKYBOOT_JWKS_FILE = join(dir, 'jwks.json');
  process.env.SKYBOOT_LOCAL_SIGNING_KEY = join(dir, 'signing-key.jwk.json');
  process.env.SKYBOOT_AGENT_CREDENTIALS = 'local';
  const invoker = inProcessInvoker(opts.domains ?? allDomains);
  const apollo = buildGateway({ production: opts.production ?? false, domains: opts.domains ?? allDomains });
  await apollo.start();
  const verify = createTokenVerifier({ issuer: LOCAL_ISSUER, jwks: { keys: keys.jwks } });
  const http: Server = createGatewayHttpServer({ apollo, verify, invoker, ide: true });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const token: TestGateway['token'] = (req) => signToken(keys, { subject: req.subject ?? `test-${req.roles?.join('-') ?? req.agentSite}`, ...req });
  const tokens = {
    admin: await token({ roles: ['admin'] }),
    operator: await token({ roles: ['operator'] }),
    viewer: await token({ roles: ['viewer'] }),
  };
  return {
    url,
    aws,
    keys,
    invoker,
    token,
    tokens,
    async gql(query, variables, tok = tokens.admin) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(tok ? { authorization: `Bearer ${tok}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GraphQLResponse;
      return { ...body, status: res.status } as GraphQLResponse<never>;
    },
    async close() {
      const closed = new Promise<void>((r) => http.close(() => r()));
      http.closeAllConnections();
      await closed;
      await apollo.stop();
      await aws.dispose();
    },
  };
}
