/**
 * `skyboot login|logout|whoami`. A person logs in with authorization code + PKCE (RFC 7636):
 * the CLI listens on a loopback port (RFC 8252; Cognito's hosted UI and the local stack's
 * authorization server both accept http://127.0.0.1:<port>/callback), prints the authorization
 * URL for a browser, and exchanges the code it receives. Automation uses `--client-credentials`
 * with a client id and a secret file. Tokens and the API URL are kept per profile (profiles.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliIo } from './imageCommands.js';
import { CliError, DEFAULT_URL, clientConfig, graphqlClient } from './client.js';
import { clientCredentials, discover, profileName, ProfileStore, tokenRequest, type Profile } from './profiles.js';

const LOCAL_CLI_CLIENT = 'skyboot-cli';
const LOGIN_TIMEOUT_MS = 5 * 60_000;

interface LoginOptions {
  api?: string;
  issuer?: string;
  clientId?: string;
  scope?: string;
  clientCredentials?: boolean;
  clientSecretFile?: string;
  redirectUri?: string;
}

/** Waits for the browser's redirect to http://127.0.0.1:<port>/callback and returns its query. */
async function loopbackListener(fixed: URL | null, signal?: AbortSignal): Promise<{ redirectUri: string; result: Promise<URLSearchParams>; close(): void }> {
  let done: (q: URLSearchParams) => void = () => undefined;
  let fail: (e: Error) => void = () => undefined;
  const result = new Promise<URLSearchParams>((res, rej) => { done = res; fail = rej; });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== (fixed?.pathname ?? '/callback')) return void res.writeHead(404).end();
    const ok = url.searchParams.has('code');
    res.writeHead(ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><p>${ok ? 'Logged in to Skyboot. You can close this window.' : 'Login failed; see the terminal.'}</p>`);
    done(url.searchParams);
  });
  await new Promise<void>((r, j) => { server.once('error', j); server.listen(fixed ? Number(fixed.port) : 0, fixed?.hostname === 'localhost' ? 'localhost' : '127.0.0.1', () => r()); });
  const timer = setTimeout(() => fail(new CliError(`no login within ${LOGIN_TIMEOUT_MS / 60_000} minutes`)), LOGIN_TIMEOUT_MS);
  signal?.addEventListener('abort', () => fail(new CliError('login interrupted')));
  return {
    redirectUri: fixed ? fixed.toString() : `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    result,
    close() {
      clearTimeout(timer);
      server.closeAllConnections();
      server.close();
    },
  };
}

export function registerLoginCommands(program: Command, io: CliIo): void {
  program
    .command('login')
    .description('log in and keep the tokens for a profile (authorization code + PKCE in a browser, or --client-credentials)')
    .option('--api <url>', "the Skyboot GraphQL URL this profile talks to (kept in the profile)")
    .option('--issuer <url>', 'the OAuth 2.0 / OpenID Connect issuer (Cognito user pool URL, or the local stack\'s authorization server)')
    .option('--client-id <id>', `the OAuth client (people: the human app client; locally "${LOCAL_CLI_CLIENT}")`)
    .option('--scope <scopes>', 'scopes to request (default: "openid offline_access" for people; the client\'s own for client credentials)')
    .option('--redirect-uri <url>', 'a fixed loopback redirect the app client lists (Cognito: http://localhost:8765/callback, the CDK default); default http://127.0.0.1:<random port>/callback')
    .option('--client-credentials', 'automation: the client-credentials grant with --client-id and --client-secret-file')
    .option('--client-secret-file <file>', 'file holding the client secret (with --client-credentials)')
    .action(async (o: LoginOptions) => {
      const store = new ProfileStore();
      const name = profileName(program.opts<{ profile?: string }>().profile);
      const old = store.profile(name);
      const issuer = o.issuer ?? old?.issuer;
      if (!issuer) throw new CliError(`profile ${name} has no authorization server yet: give --issuer (npm start prints the local one)`);
      const profile: Profile = {
        apiUrl: o.api ?? old?.apiUrl ?? process.env.SKYBOOT_URL ?? DEFAULT_URL,
        issuer,
        clientId: o.clientId ?? old?.clientId ?? LOCAL_CLI_CLIENT,
        scope: o.scope ?? (o.clientCredentials ? null : old?.scope ?? null),
        clientSecretFile: o.clientCredentials ? resolve(o.clientSecretFile ?? old?.clientSecretFile ?? '') : null,
      };
      if (o.clientCredentials && !o.clientSecretFile && !old?.clientSecretFile) throw new CliError('--client-credentials needs --client-secret-file');
      const endpoints = await discover(issuer);
      let tokens;
      if (profile.clientSecretFile) {
        tokens = await clientCredentials(profile, endpoints.token_endpoint);
      } else {
        if (!endpoints.authorization_endpoint) throw new CliError(`${issuer} names no authorization_endpoint`);
        const fixed = o.redirectUri ?? old?.redirectUri ?? null;
        let fixedUrl: URL | null = null;
        if (fixed) {
          try {
            fixedUrl = new URL(fixed);
          } catch {
            throw new CliError(`--redirect-uri: "${fixed}" is not a URL`);
          }
          if (fixedUrl.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(fixedUrl.hostname) || !fixedUrl.port) {
            throw new CliError(`--redirect-uri: "${fixed}" must be http://127.0.0.1:<port>/… or http://localhost:<port>/… (a loopback listener of this CLI)`);
          }
          profile.redirectUri = fixedUrl.toString();
        }
        const listener = await loopbackListener(fixedUrl, io.signal);
        try {
          const verifier = randomBytes(32).toString('base64url');
          const state = randomBytes(16).toString('base64url');
          const q = new URLSearchParams({
            response_type: 'code',
            client_id: profile.clientId,
            redirect_uri: listener.redirectUri,
            scope: profile.scope ?? 'openid offline_access',
            state,
            code_challenge: createHash('sha256').update(verifier).digest('base64url'),
            code_challenge_method: 'S256',
          });
          io.err('Open this URL in a browser to log in:');
          io.err(`${endpoints.authorization_endpoint}?${q}`);
          const answer = await listener.result;
          if (answer.get('error')) throw new CliError(`login refused: ${answer.get('error')} ${answer.get('error_description') ?? ''}`.trim());
          if (answer.get('state') !== state) throw new CliError('login answer carries another state; start again');
          const t = await tokenRequest(endpoints.token_endpoint, { grant_type: 'authorization_code', code: answer.get('code') ?? '', redirect_uri: listener.redirectUri, client_id: profile.clientId, code_verifier: verifier });
          tokens = { ...t, tokenEndpoint: endpoints.token_endpoint };
        } finally {
          listener.close();
        }
      }
      await store.saveProfile(name, profile);
      await store.saveTokens(name, tokens);
      const who = await graphqlClient({ url: profile.apiUrl, token: tokens.accessToken })<{ whoami: { subject: string; roles: string[]; siteRoles: string[] } }>('{ whoami { subject roles siteRoles } }');
      io.out(`logged in to ${profile.apiUrl} as ${who.whoami.subject} (${[...who.whoami.roles, ...who.whoami.siteRoles].join(', ')}); profile ${name}`);
    });

  program
    .command('logout')
    .description("forget a profile's tokens (and revoke its refresh token where the server supports it)")
    .action(async () => {
      const store = new ProfileStore();
      const name = profileName(program.opts<{ profile?: string }>().profile);
      const cached = store.tokens(name);
      const profile = store.profile(name);
      if (cached?.refreshToken && profile) {
        const endpoints = await discover(profile.issuer).catch(() => null);
        if (endpoints?.revocation_endpoint) {
          await fetch(endpoints.revocation_endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ token: cached.refreshToken, token_type_hint: 'refresh_token', client_id: profile.clientId }),
          }).catch(() => undefined);
        }
      }
      io.out(store.forgetTokens(name) ? `logged out of profile ${name}` : `profile ${name} was not logged in`);
    });

  program
    .command('token')
    .description("print the profile's access token (refreshed first if it is about to expire), for curl or the GraphQL IDE")
    .action(async () => {
      const cfg = clientConfig(process.env, program.opts<{ profile?: string }>().profile);
      const token = typeof cfg.token === 'function' ? await cfg.token() : cfg.token;
      if (!token) throw new CliError('no token: run `skyboot login`');
      io.out(token);
    });

  program
    .command('whoami')
    .description('who the API sees: subject, roles and site')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const out = await io.gql<{ whoami: { subject: string; roles: string[]; site: string | null; siteRoles: string[] } }>('{ whoami { subject roles site siteRoles } }');
      if (o.json) return io.out(JSON.stringify(out.whoami, null, 2));
      const roles = [...out.whoami.roles, ...out.whoami.siteRoles].join(', ') || 'no role';
      io.out(`${out.whoami.subject}: ${roles}${out.whoami.site ? ` (site ${out.whoami.site})` : ''} at ${io.apiUrl ?? DEFAULT_URL}`);
    });
}
