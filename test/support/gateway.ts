/**
 * A gateway for tests: the real Apollo server and HTTP entry on 127.0.0.1 (port 0), domains
 * in-process, a fresh table and bucket, and the local authorization server (local/authServer.ts)
 * that issues every token: people log in with authorization code + PKCE (the browser played by
 * test/support/oauthBrowser.ts), agents use client credentials of a client registered as the
 * sites domain registers one. Only the refusal tests forge tokens (test/support/forgedTokens.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import { freshAws, type TestAws } from './aws.js';
import { startAuthServer, CLI_CLIENT_ID, type AuthServer, type DevUserName } from '../../local/authServer.js';
import { localConsoleConfig } from '../../local/stack.js';
import { consoleSite } from '../../gateway/console.js';
import { localIssuer } from '../../functions/sites/credentials.js';
import { buildGateway } from '../../gateway/server.js';
import { createGatewayHttpServer } from '../../gateway/http.js';
import { inProcessInvoker, type Invoker } from '../../gateway/invoker.js';
import { domains as allDomains, type DomainRegistration } from '../../gateway/domains.js';
import { createTokenVerifier } from '../../gateway/auth/verifier.js';
import { clientCredentialsToken, pkceLogin } from './oauthBrowser.js';
import { authServerSigningKey, forgeToken, type ForgedTokenRequest } from './forgedTokens.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string } }[];
}

export interface TestGateway {
  url: string;
  aws: TestAws;
  auth: AuthServer;
  invoker: Invoker;
  /** A person's access token, from a login (authorization code + PKCE) as that dev user. */
  login(user: DevUserName | string): Promise<string>;
  /** A new agent client for `site` (registered as createSite registers one) and its client-credentials token. */
  agentToken(site: string): Promise<string>;
  /** A token the authorization server would never issue, signed with its key (refusal tests only). */
  forgedToken(req: Partial<ForgedTokenRequest>): Promise<string>;
  /** Tokens of the three dev users, from one login each. */
  tokens: { admin: string; operator: string; viewer: string };
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  production?: boolean;
  domains?: DomainRegistration[];
  tokenTtlSeconds?: number;
  /** People besides admin, operator and viewer, with their Cognito-style groups (e.g. `operator@lab-a`). */
  users?: { username: string; groups: string[] }[];
  /** Serve the built web console at /console/ (as the local stack does). */
  console?: boolean;
  /** A DynamoDB Local of the gateway's own (test/support/aws.ts, FreshAwsOptions). */
  ownDynamoDb?: boolean;
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const aws = await freshAws('gw', { ownDynamoDb: opts.ownDynamoDb ?? false });
  const dir = mkdtempSync(join(tmpdir(), 'skyboot-auth-'));
  const auth = await startAuthServer({ dataDir: dir, port: 0, ...(opts.tokenTtlSeconds ? { tokenTtlSeconds: opts.tokenTtlSeconds } : {}), ...(opts.users ? { extraUsers: opts.users } : {}) });
  process.env.SKYBOOT_JWT_ISSUER = auth.issuer;
  process.env.SKYBOOT_JWKS_URL = auth.jwksUri;
  process.env.SKYBOOT_CLIENT_REGISTRATION_TOKEN = auth.registrationToken;
  process.env.SKYBOOT_AGENT_CREDENTIALS = 'local';
  const invoker = inProcessInvoker(opts.domains ?? allDomains);
  const apollo = buildGateway({ production: opts.production ?? false, domains: opts.domains ?? allDomains });
  await apollo.start();
  const verify = createTokenVerifier({ issuer: auth.issuer, jwks: { url: auth.jwksUri } });
  const webConsole = opts.console ? consoleSite(localConsoleConfig(auth)) : undefined;
  const http: Server = createGatewayHttpServer({ apollo, verify, invoker, ide: true, ...(webConsole ? { console: webConsole } : {}) });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const login = async (user: string) => {
    const found = auth.users.find((u) => u.username === user);
    if (!found) throw new Error(`no user ${user} on the test authorization server (give it in startTestGateway({ users }))`);
    const password = found.password;
    return (await pkceLogin({ authorizationEndpoint: auth.authorizationEndpoint, tokenEndpoint: auth.tokenEndpoint, clientId: CLI_CLIENT_ID, username: user, password })).access_token;
  };
  const register = localIssuer(process.env);
  const agentToken = async (site: string) => {
    const c = await register(site);
    return clientCredentialsToken(c.tokenEndpoint!, c.clientId, c.clientSecret!);
  };
  let key: JWK | undefined;
  const forgedToken = async (req: Partial<ForgedTokenRequest>) => forgeToken((key ??= authServerSigningKey(dir)), { issuer: auth.issuer, ...req });
  const [admin, operator, viewer] = await Promise.all([login('admin'), login('operator'), login('viewer')]);
  const tokens = { admin, operator, viewer };
  return {
    url,
    aws,
    auth,
    invoker,
    login,
    agentToken,
    forgedToken,
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
      await auth.stop();
      await aws.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
