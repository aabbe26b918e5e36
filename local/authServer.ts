/**
 * The local stack's OAuth 2.0 / OpenID Connect authorization server: npm `oidc-provider`
 * (pure JavaScript, OpenID-certified, maintained by the author of `jose`, which the gateway
 * already verifies with). It stands in for Cognito and issues the same kind of tokens:
 * RS256 JWT access tokens with `client_id`, `scope`, `token_use: access`, and for people
 * `username` and `cognito:groups`, verified by the gateway's one verifier through the JWKS URL.
 *
 * - Agents and automation: client credentials. A site's agent client is registered through
 *   OpenID Connect Dynamic Client Registration (the sites domain calls it as it calls Cognito's
 *   CreateUserPoolClient in AWS), allowed exactly `skyboot/agent skyboot/site.<name>`; a request
 *   without `scope` gets the client's allowed scopes, as Cognito does.
 * - People: authorization code + PKCE (the public client `skyboot-cli`, loopback redirects on any
 *   port, RFC 8252) with refresh tokens; the login form is served here. Users admin, operator
 *   and viewer, one per deployment-wide role, and operator-lab-a (group `operator@lab-a`) and
 *   viewer-lab-b (`viewer@lab-b`), whose roles hold at one site only (create the sites lab-a and
 *   lab-b to use them), with a password generated per data dir (printed at start).
 * - Access tokens live SKYBOOT_TOKEN_TTL_SECONDS (default 3600).
 *
 * Registered clients and the signing key persist in the data dir; sessions and refresh tokens
 * live in memory, so a restart asks people to log in again (agents just fetch a new token).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Adapter, type AdapterPayload, type Configuration, type KoaContext, type ProviderToken } from 'oidc-provider';
import { writeFileAtomic } from '../onprem-agent/sync/atomicFile.js';

/** The access tokens' resource (audience); the gateway accepts tokens by issuer and signature. */
export const API_RESOURCE = 'urn:skyboot:api';
/** The CLI's public client: authorization code + PKCE with loopback redirects. */
export const CLI_CLIENT_ID = 'skyboot-cli';
/** The web console's public client: authorization code + PKCE, redirected back to /console/. */
export const CONSOLE_CLIENT_ID = 'skyboot-console';
/** People's clients: they carry the OpenID scopes Cognito's human clients carry. */
const PEOPLE_CLIENTS: readonly string[] = [CLI_CLIENT_ID, CONSOLE_CLIENT_ID];
const loopbackOrigin = (origin: string) => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(origin);
/** The client metadata (Dynamic Client Registration) naming the scopes a client may be granted. */
export const ALLOWED_SCOPES_METADATA = 'skyboot_allowed_scopes';
const allowedScopes = (client: object): string => {
  const v = (client as Record<string, unknown>)[ALLOWED_SCOPES_METADATA];
  return typeof v === 'string' ? v : '';
};
/** The local dev users and their Cognito-style groups: one per deployment-wide role, two with a per-site role. */
export const DEV_USER_GROUPS = {
  admin: ['admin'],
  operator: ['operator'],
  viewer: ['viewer'],
  'operator-lab-a': ['operator@lab-a'],
  'viewer-lab-b': ['viewer@lab-b'],
} as const satisfies Record<string, readonly string[]>;
export type DevUserName = keyof typeof DEV_USER_GROUPS;
export const DEV_USERS = Object.keys(DEV_USER_GROUPS) as DevUserName[];

export interface DevUser {
  username: string;
  password: string;
  groups: string[];
}

export interface AuthServerOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  tokenTtlSeconds?: number;
  /**
   * More users besides admin, operator and viewer, e.g. `{ username: 'op-lab-a', groups:
   * ['operator@lab-a'] }`; their passwords are generated at each start (see `users`).
   */
  extraUsers?: { username: string; groups: string[] }[];
  log?: (line: string) => void;
}

export interface TokenIssueCounts {
  /** Access tokens issued, per client id. */
  byClient: Record<string, number>;
  refreshGrants: number;
}

export interface AuthServer {
  issuer: string;
  jwksUri: string;
  tokenEndpoint: string;
  authorizationEndpoint: string;
  registrationEndpoint: string;
  /** The initial access token Dynamic Client Registration requires (kept in the data dir). */
  registrationToken: string;
  users: DevUser[];
  tokenTtlSeconds: number;
  issued: TokenIssueCounts;
  stop(): Promise<void>;
}

export function tokenTtlFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SKYBOOT_TOKEN_TTL_SECONDS;
  if (raw === undefined || raw === '') return 3600;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 5) throw new Error(`SKYBOOT_TOKEN_TTL_SECONDS: "${raw}" is not an integer number of seconds >= 5`);
  return n;
}

interface Secrets {
  signingKey: JWK;
  cookieKeys: string[];
  registrationToken: string;
  users: DevUser[];
}

const newDevUser = (username: DevUserName): DevUser => ({ username, password: randomBytes(9).toString('base64url'), groups: [...DEV_USER_GROUPS[username]] });

async function loadOrCreateSecrets(dir: string): Promise<Secrets> {
  const path = join(dir, 'secrets.json');
  if (existsSync(path)) {
    const kept = JSON.parse(readFileSync(path, 'utf8')) as Secrets;
    // A data dir from before a dev user existed gets that user added; kept passwords stay.
    const missing = DEV_USERS.filter((u) => !kept.users.some((k) => k.username === u));
    if (!missing.length) return kept;
    const secrets = { ...kept, users: [...kept.users, ...missing.map(newDevUser)] };
    await writeFileAtomic(path, JSON.stringify(secrets, null, 2), 0o600);
    return secrets;
  }
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const secrets: Secrets = {
    signingKey: { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' },
    cookieKeys: [randomBytes(32).toString('base64url')],
    registrationToken: randomBytes(32).toString('base64url'),
    users: DEV_USERS.map(newDevUser),
  };
  await writeFileAtomic(path, JSON.stringify(secrets, null, 2), 0o600);
  return secrets;
}

/**
 * oidc-provider's storage: everything in memory, registered clients also in a file, so a site's
 * agent keeps its client id and secret across restarts of the stack.
 */
function adapterClass(dir: string): new (model: string) => Adapter {
  const stores = new Map<string, Map<string, { payload: AdapterPayload; expiresAt: number | null }>>();
  const clientsFile = join(dir, 'clients.json');
  const persisted = ['Client'];
  let writing: Promise<void> = Promise.resolve();
  const store = (model: string) => {
    let s = stores.get(model);
    if (!s) {
      s = new Map();
      if (model === 'Client' && existsSync(clientsFile)) {
        for (const [id, payload] of Object.entries(JSON.parse(readFileSync(clientsFile, 'utf8')) as Record<string, AdapterPayload>)) s.set(id, { payload, expiresAt: null });
      }
      stores.set(model, s);
    }
    return s;
  };
  const save = (model: string) => {
    if (!persisted.includes(model)) return Promise.resolve();
    const snapshot = JSON.stringify(Object.fromEntries([...store(model)].map(([id, e]) => [id, e.payload])), null, 2);
    // Writes are chained so the file always ends with the latest state.
    writing = writing.then(() => writeFileAtomic(clientsFile, snapshot, 0o600));
    return writing;
  };
  return class FileBackedAdapter implements Adapter {
    constructor(private readonly model: string) {}
    private live(id: string) {
      const e = store(this.model).get(id);
      if (!e) return undefined;
      if (e.expiresAt !== null && e.expiresAt <= Date.now()) {
        store(this.model).delete(id);
        return undefined;
      }
      return e;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      store(this.model).set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null });
      await save(this.model);
    }
    async find(id: string) {
      return this.live(id)?.payload;
    }
    async findByUserCode(userCode: string) {
      for (const [id, e] of store(this.model)) if (e.payload.userCode === userCode) return this.live(id)?.payload;
      return undefined;
    }
    async findByUid(uid: string) {
      for (const [id, e] of store(this.model)) if (e.payload.uid === uid) return this.live(id)?.payload;
      return undefined;
    }
    async consume(id: string) {
      const e = this.live(id);
      if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store(this.model).delete(id);
      await save(this.model);
    }
    async revokeByGrantId(grantId: string) {
      for (const [id, e] of store(this.model)) if (e.payload.grantId === grantId) store(this.model).delete(id);
      await save(this.model);
    }
  };
}

const html = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body style="font-family:sans-serif;max-width:24em;margin:4em auto">${body}</body></html>`;
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function passwordMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startAuthServer(opts: AuthServerOptions): Promise<AuthServer> {
  const dir = join(opts.dataDir, 'auth');
  mkdirSync(dir, { recursive: true });
  const secrets = await loadOrCreateSecrets(dir);
  const ttl = opts.tokenTtlSeconds ?? tokenTtlFromEnv();
  const host = opts.host ?? '127.0.0.1';
  const issued: TokenIssueCounts = { byClient: {}, refreshGrants: 0 };

  // The issuer names the port, so listen first and build the provider on the bound address.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}`;

  const extra: DevUser[] = (opts.extraUsers ?? []).map((u) => ({ ...u, password: randomBytes(9).toString('base64url') }));
  const allUsers = [...secrets.users, ...extra];
  const users = new Map(allUsers.map((u) => [u.username, u]));
  const configuration: Configuration = {
    adapter: adapterClass(dir),
    jwks: { keys: [secrets.signingKey] },
    cookies: { keys: secrets.cookieKeys },
    clients: [
      {
        client_id: CLI_CLIENT_ID,
        client_name: 'Skyboot CLI',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
      },
      {
        // The console is served by the local gateway, whose port varies (0 in tests, PORT with
        // npm start). Registered as a loopback client, the provider accepts /console/ on any
        // loopback port (RFC 8252's rule); in AWS, Cognito's console client names the
        // CloudFront URL exactly.
        client_id: CONSOLE_CLIENT_ID,
        client_name: 'Skyboot console',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/console/', 'http://localhost/console/'],
      },
    ],
    // The console's page calls the token endpoint from the gateway's origin, a loopback origin
    // on another port than its registered redirect URIs name.
    clientBasedCORS: (_ctx: KoaContext, origin: string, client: { clientId: string; redirectUris: string[] }) =>
      client.clientId === CONSOLE_CLIENT_ID ? loopbackOrigin(origin) : client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin),
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    claims: { openid: ['sub'], profile: ['preferred_username', 'cognito:groups'] },
    pkce: { required: () => true },
    // Site scopes come and go with sites, so a client's allowed scopes are its own metadata, not
    // the provider's static scope list (Cognito keeps them on the resource server and the client).
    extraClientMetadata: {
      properties: [ALLOWED_SCOPES_METADATA],
      validator: (_ctx: KoaContext, key: string, value: unknown) => {
        if (key === ALLOWED_SCOPES_METADATA && value !== undefined && (typeof value !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(value))) {
          throw new Error(`${ALLOWED_SCOPES_METADATA} must be a space-separated list of scope tokens`);
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client may introspect and revoke only its own tokens (the CLI revokes its refresh token at logout).
      introspection: { enabled: true, allowedPolicy: async (_ctx: KoaContext, client: { clientId: string }, token: { clientId?: string }) => token.clientId === client.clientId },
      revocation: { enabled: true, allowedPolicy: async (_ctx: KoaContext, client: { clientId: string }, token: { clientId?: string }) => token.clientId === client.clientId },
      registration: {
        enabled: true,
        initialAccessToken: secrets.registrationToken,
        idFactory: () => `agent-${randomBytes(8).toString('hex')}`,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: KoaContext, resource: string, client: { clientId: string; scope?: string }) => {
          if (resource !== API_RESOURCE) throw new Error(`unknown resource ${resource}`);
          return {
            // Agents get what their client allows; people the OpenID scopes Cognito's human client carries.
            scope: PEOPLE_CLIENTS.includes(client.clientId) ? 'openid email profile' : allowedScopes(client),
            audience: API_RESOURCE,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: { AccessToken: ttl, ClientCredentials: ttl, IdToken: ttl, RefreshToken: 14 * 24 * 3600, Session: 14 * 24 * 3600, Interaction: 3600, Grant: 14 * 24 * 3600 },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    interactions: { url: (_ctx: KoaContext, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx, id) => {
      const user = users.get(id);
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, 'cognito:groups': user.groups }) };
    },
    // Cognito's access-token claims, which the gateway's verifier reads.
    extraTokenClaims: async (_ctx, token: ProviderToken) => {
      const user = token.accountId ? users.get(token.accountId) : undefined;
      return { token_use: 'access', ...(user ? { username: user.username, 'cognito:groups': user.groups } : {}) };
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.on('access_token.issued', ((token: ProviderToken) => countIssued(token)) as never);
  provider.on('client_credentials.issued', ((token: ProviderToken) => countIssued(token)) as never);
  provider.on('grant.success', ((ctx: KoaContext) => {
    if (ctx.oidc?.params?.grant_type === 'refresh_token') issued.refreshGrants += 1;
  }) as never);
  function countIssued(token: ProviderToken) {
    const id = token.clientId ?? 'unknown';
    issued.byClient[id] = (issued.byClient[id] ?? 0) + 1;
  }

  // Cognito grants a client-credentials request without `scope` every scope the client allows.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === '/token' && ctx.is('application/x-www-form-urlencoded')) {
      const form = await readForm(ctx.req);
      if (form.get('grant_type') === 'client_credentials') {
        const basic = /^Basic\s+(\S+)$/i.exec(ctx.get('authorization'));
        const id = basic ? decodeURIComponent(Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] ?? '') : form.get('client_id');
        const client = id ? await provider.Client.find(id) : undefined;
        const allowed = client ? allowedScopes(client) : '';
        const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
        // As Cognito: no scope means every allowed scope, a scope the client may not have is refused.
        if (requested.length === 0 && allowed) form.set('scope', allowed);
        const refused = requested.filter((s) => !allowed.split(' ').includes(s));
        if (client && refused.length) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_scope', error_description: `scope ${refused.join(' ')} is not allowed for this client` };
          return;
        }
      }
      // The provider reads the body itself: hand it the (possibly amended) form as a fresh stream.
      const body = Buffer.from(form.toString());
      const replay = Object.assign(Readable.from([body]), {
        headers: { ...ctx.req.headers, 'content-length': String(body.length) },
        method: ctx.req.method,
        url: ctx.req.url,
        socket: ctx.req.socket,
        httpVersion: ctx.req.httpVersion,
      });
      ctx.req = replay as unknown as typeof ctx.req;
      ctx.request.req = ctx.req;
    }
    await next();
  });

  const callback = provider.callback();
  const interaction = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const details = await provider.interactionDetails(req, res);
    const page = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html('Skyboot login', body));
    if (details.prompt.name === 'login') {
      if (req.method === 'POST' && path.endsWith('/login')) {
        const form = await readForm(req);
        const user = users.get(form.get('username') ?? '');
        if (!user || !passwordMatches(user.password, form.get('password') ?? '')) {
          return page(401, `<p>Unknown user or wrong password.</p>${loginForm(details.uid)}`);
        }
        return provider.interactionFinished(req, res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
      }
      return page(200, loginForm(details.uid));
    }
    // Consent: the CLI is this deployment's own first-party client, so its requests are granted as asked.
    const accountId = details.session?.accountId;
    const clientId = details.params.client_id;
    if (!accountId || !clientId) return page(400, '<p>The login session is missing; start again.</p>');
    const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };
  handler = (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path.startsWith('/interaction/')) {
      interaction(req, res, path).catch((err: Error) => {
        opts.log?.(`auth interaction failed: ${err.message}`);
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end(`interaction failed: ${err.message}\n`);
      });
      return;
    }
    callback(req, res);
  };

  opts.log?.(`authorization server ${issuer} (access tokens live ${ttl} s)`);
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    tokenEndpoint: `${issuer}/token`,
    authorizationEndpoint: `${issuer}/auth`,
    registrationEndpoint: `${issuer}/reg`,
    registrationToken: secrets.registrationToken,
    users: allUsers,
    tokenTtlSeconds: ttl,
    issued,
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function loginForm(uid: string): string {
  return `<h1>Skyboot</h1><form method="post" action="/interaction/${escapeHtml(uid)}/login">
<p><label>User <input name="username" autocomplete="username" autofocus></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button type="submit">Log in</button></p></form>`;
}
