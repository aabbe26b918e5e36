/**
 * The cloud half on one machine: DynamoDB Local persisted in the data dir, s3rver storing
 * under it, the table and bucket, a local token issuer, the site `local` with its agent
 * token, and the gateway on 127.0.0.1. `npm start` and the end-to-end tests both use it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDynamoDbLocal, startS3rver, type RunningEmulator, type RunningS3 } from './emulators.js';
import { ensureTableAndBucket } from './table.js';
import { deliverS3rverEvents } from '../functions/images/localEvents.js';
import { clients, resetClients } from '../functions/shared/clients.js';
import { loadOrCreateKeys, signToken, LOCAL_ISSUER } from '../functions/shared/localTokens.js';
import { buildGateway } from '../gateway/server.js';
import { createGatewayHttpServer } from '../gateway/http.js';
import { inProcessInvoker, type Invoker } from '../gateway/invoker.js';
import { domains } from '../gateway/domains.js';
import { createTokenVerifier } from '../gateway/auth/verifier.js';
import type { Identity } from '../functions/shared/identity.js';

export interface LocalStackOptions {
  dataDir: string;
  port: number;
  host?: string;
  /** External AWS endpoints (LocalStack, a test harness); otherwise the embedded emulators start. */
  external?: boolean;
  log?: (line: string) => void;
}

export interface LocalStack {
  url: string;
  graphqlUrl: string;
  dataDir: string;
  adminToken: string;
  agentToken: string;
  invoker: Invoker;
  s3: RunningS3 | undefined;
  stop(): Promise<void>;
}

export const LOCAL_SITE = 'local';

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log = opts.log ?? (() => undefined);
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const running: RunningEmulator[] = [];
  let s3: RunningS3 | undefined;
  let http: Server | undefined;
  let apolloStop: (() => Promise<void>) | undefined;
  const stop = async () => {
    if (http) {
      const closed = new Promise<void>((r) => http!.close(() => r()));
      http.closeAllConnections();
      await closed;
    }
    await apolloStop?.();
    resetClients();
    for (const e of running) {
      await e.stop();
    }
  };
  try {
    process.env.SKYBOOT_LOCAL = '1';
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
    process.env.SKYBOOT_DEFAULT_SITE ??= LOCAL_SITE;
    if (!opts.external) {
      log('starting DynamoDB Local and s3rver');
      const [dynamo, s3rver] = await Promise.all([
        startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb') }),
        startS3rver({ dir: join(dataDir, 's3') }),
      ]);
      running.push(dynamo, s3rver);
      s3 = s3rver;
      process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
      process.env.AWS_ENDPOINT_URL_S3 = s3rver.endpoint;
    }
    resetClients();
    const c = clients();
    const created = await ensureTableAndBucket(c);
    log(`table ${c.config.tableName} ${created.createdTable ? 'created' : 'found'}, bucket ${c.config.bucketName} ${created.createdBucket ? 'created' : 'found'}`);
    // In AWS the bucket notifies the finalizer Lambda; locally s3rver's events reach the same handler.
    const events = s3 ? deliverS3rverEvents(s3.server, { bucket: c.config.bucketName }) : undefined;
    if (events) running.unshift({ endpoint: 'local S3 events', stop: async () => events.stop() });

    const keys = await loadOrCreateKeys(dataDir);
    process.env.SKYBOOT_JWT_ISSUER = LOCAL_ISSUER;
    process.env.SKYBOOT_JWKS_FILE = join(dataDir, 'jwks.json');
    process.env.SKYBOOT_LOCAL_SIGNING_KEY = join(dataDir, 'signing-key.jwk.json');
    process.env.SKYBOOT_AGENT_CREDENTIALS = 'local';
    const adminToken = await signToken(keys, { subject: 'local-admin', roles: ['admin'] });
    writeFileSync(join(dataDir, 'admin.token'), adminToken, { mode: 0o600 });

    const invoker = inProcessInvoker(domains);
    const agentToken = await ensureLocalSite(invoker, dataDir);

    const apollo = buildGateway({ production: false });
    await apollo.start();
    apolloStop = () => apollo.stop();
    const verify = createTokenVerifier({ issuer: LOCAL_ISSUER, jwks: { keys: keys.jwks } });
    let ready = false;
    http = createGatewayHttpServer({ apollo, verify, invoker, ide: true, ready: () => ready });
    await new Promise<void>((r, j) => {
      http!.once('error', j);
      http!.listen(opts.port, opts.host ?? '127.0.0.1', () => r());
    });
    const port = (http.address() as AddressInfo).port;
    const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
    ready = true;
    return {
      url,
      graphqlUrl: `${url}/graphql`,
      dataDir,
      adminToken,
      agentToken,
      invoker,
      s3,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The site `local` exists after the first start; its agent token is (re)written each start. */
async function ensureLocalSite(invoker: Invoker, dataDir: string): Promise<string> {
  const admin: Identity = { subject: 'local-stack', roles: ['admin'], site: null };
  const tokenFile = join(dataDir, 'agent.token');
  const existing = await invoker.invoke({ domain: 'sites', identity: admin, requestId: 'local-start', calls: [{ operation: 'site', args: { name: LOCAL_SITE } }] });
  const found = existing.results[0];
  const operation = found?.ok && found.value ? 'rotateAgentCredentials' : 'createSite';
  const args = operation === 'createSite' ? { input: { name: LOCAL_SITE, description: 'The local demo site', domain: 'local.skyboot' } } : { site: LOCAL_SITE };
  const out = await invoker.invoke({ domain: 'sites', identity: admin, requestId: 'local-start', calls: [{ operation, args }] });
  const r = out.results[0];
  if (!r?.ok) throw new Error(`could not create site ${LOCAL_SITE}: ${r ? r.error.message : 'no result'}`);
  const value = r.value as { agentCredentials?: { token: string }; token?: string };
  const token = value.agentCredentials?.token ?? value.token;
  if (!token) throw new Error('local agent credentials carry no token');
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true });
  writeFileSync(tokenFile, token, { mode: 0o600 });
  return token;
}
