/**
 * The cloud half on one machine: DynamoDB Local persisted in the data dir, s3rver storing
 * under it, the table and bucket, a local OAuth 2.0 authorization server (local/authServer.ts),
 * the site `local` with its agent's client, and the gateway on 127.0.0.1. `npm start` and the
 * end-to-end tests both use it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDynamoDbLocal, startS3rver, type RunningEmulator, type RunningS3 } from './emulators.js';
import { ensureTableAndBucket } from './table.js';
import { deliverS3rverEvents } from '../functions/images/localEvents.js';
import { clients, resetClients } from '../functions/shared/clients.js';
import { startAuthServer, CONSOLE_CLIENT_ID, type AuthServer } from './authServer.js';
import { consoleSite, ConsoleNotBuiltError, type ConsoleConfig, type ConsoleSite } from '../gateway/console.js';
import { agentClientConfig, type AgentClientConfig } from '../schema/agentClientConfig.js';
import { buildGateway } from '../gateway/server.js';
import { createGatewayHttpServer } from '../gateway/http.js';
import { inProcessInvoker, type Invoker } from '../gateway/invoker.js';
import { domains } from '../gateway/domains.js';
import { createTokenVerifier } from '../gateway/auth/verifier.js';
import type { Identity } from '../functions/shared/identity.js';
import type { AgentCredentials } from '../functions/sites/credentials.js';

export interface LocalStackOptions {
  dataDir: string;
  port: number;
  host?: string;
  /** External AWS endpoints (LocalStack, a test harness); otherwise the embedded emulators start. */
  external?: boolean;
  /** The authorization server's port (its issuer URL names it); 0 picks one. */
  authPort?: number;
  log?: (line: string) => void;
}

export interface LocalStack {
  url: string;
  graphqlUrl: string;
  dataDir: string;
  auth: AuthServer;
  /** Site `local`'s agent: client id, secret file and token endpoint, as `skyboot site create` prints them. */
  agentClient: AgentClientConfig;
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

    const auth = await startAuthServer({ dataDir, host: opts.host ?? '127.0.0.1', port: opts.authPort ?? 0, log });
    running.unshift({ endpoint: auth.issuer, stop: () => auth.stop() });
    // The sites domain registers agent clients here, as it creates Cognito app clients in AWS.
    process.env.SKYBOOT_JWT_ISSUER = auth.issuer;
    process.env.SKYBOOT_JWKS_URL = auth.jwksUri;
    process.env.SKYBOOT_CLIENT_REGISTRATION_TOKEN = auth.registrationToken;
    process.env.SKYBOOT_AGENT_CREDENTIALS = 'local';

    const invoker = inProcessInvoker(domains);

    const apollo = buildGateway({ production: false });
    await apollo.start();
    apolloStop = () => apollo.stop();
    const verify = createTokenVerifier({ issuer: auth.issuer, jwks: { url: auth.jwksUri } });
    let ready = false;
    const webConsole = localConsole(auth, log);
    http = createGatewayHttpServer({ apollo, verify, invoker, ide: true, ready: () => ready, ...(webConsole ? { console: webConsole } : {}) });
    await new Promise<void>((r, j) => {
      http!.once('error', j);
      http!.listen(opts.port, opts.host ?? '127.0.0.1', () => r());
    });
    const port = (http.address() as AddressInfo).port;
    const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
    const agentClient = await ensureLocalSite(invoker, dataDir, auth, `${url}/graphql`);
    ready = true;
    return {
      url,
      graphqlUrl: `${url}/graphql`,
      dataDir,
      auth,
      agentClient,
      invoker,
      s3,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The console's config.json locally: the API on the gateway's own origin, people's logins at the local provider. */
export function localConsoleConfig(auth: AuthServer): ConsoleConfig {
  return { api: '/graphql', issuer: auth.issuer, clientId: CONSOLE_CLIENT_ID, scope: 'openid profile' };
}

/**
 * The web console, when built (`npm start` builds it first); without a build the stack still
 * starts and says what is missing.
 */
function localConsole(auth: AuthServer, log: (line: string) => void): ConsoleSite | undefined {
  try {
    return consoleSite(localConsoleConfig(auth));
  } catch (err) {
    if (!(err instanceof ConsoleNotBuiltError)) throw err;
    log(err.message);
    return undefined;
  }
}

/**
 * The site `local` exists after the first start. Its agent's client is registered once; the
 * client id, secret file and token endpoint are kept in the data dir (agent/cloud.json), and new
 * credentials are made only when those point at another authorization server.
 */
async function ensureLocalSite(invoker: Invoker, dataDir: string, auth: AuthServer, graphqlUrl: string): Promise<AgentClientConfig> {
  const admin: Identity = { subject: 'local-stack', roles: ['admin'], site: null };
  const agentDir = join(dataDir, 'agent');
  const configFile = join(agentDir, 'cloud.json');
  const secretFile = join(agentDir, 'client.secret');
  if (existsSync(configFile) && existsSync(secretFile)) {
    const kept = JSON.parse(readFileSync(configFile, 'utf8')) as AgentClientConfig;
    if (kept.tokenEndpoint === auth.tokenEndpoint) return { ...kept, cloud: graphqlUrl };
  }
  const existing = await invoker.invoke({ domain: 'sites', identity: admin, requestId: 'local-start', calls: [{ operation: 'site', args: { name: LOCAL_SITE } }] });
  const found = existing.results[0];
  const operation = found?.ok && found.value ? 'rotateAgentCredentials' : 'createSite';
  const args = operation === 'createSite' ? { input: { name: LOCAL_SITE, description: 'The local demo site', domain: 'local.skyboot' } } : { site: LOCAL_SITE };
  const out = await invoker.invoke({ domain: 'sites', identity: admin, requestId: 'local-start', calls: [{ operation, args }] });
  const r = out.results[0];
  if (!r?.ok) throw new Error(`could not create site ${LOCAL_SITE}: ${r ? r.error.message : 'no result'}`);
  const value = r.value as { agentCredentials?: AgentCredentials } & Partial<AgentCredentials>;
  const credentials = value.agentCredentials ?? (value as AgentCredentials);
  if (!credentials.clientSecret || !credentials.tokenEndpoint) throw new Error('local agent credentials carry no client secret or token endpoint');
  mkdirSync(agentDir, { recursive: true });
  writeFileSync(secretFile, credentials.clientSecret, { mode: 0o600 });
  const config = agentClientConfig({ ...credentials, tokenEndpoint: credentials.tokenEndpoint }, { cloud: graphqlUrl, clientSecretFile: secretFile });
  writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  return config;
}
