/**
 * `skyboot login` against the local authorization server, headless: the test plays the browser.
 * It reads the authorization URL the CLI prints, posts the login form, and follows the redirect
 * to the CLI's loopback listener. The cached token then serves queries through the profile, and
 * once it is about to expire (5-second tokens) the CLI refreshes it with the refresh token.
 * Automation logs in with --client-credentials; logout forgets the tokens.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../cli/program.js';
import { localIssuer } from '../../../functions/sites/credentials.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { browserLogin } from '../../support/oauthBrowser.js';

const TTL_SECONDS = 5;

describe('skyboot login, whoami, logout (local authorization server, the browser played by the test)', () => {
  let gw: TestGateway;
  let home: string;
  const saved = { XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, SKYBOOT_TOKEN: process.env.SKYBOOT_TOKEN, SKYBOOT_URL: process.env.SKYBOOT_URL, SKYBOOT_PROFILE: process.env.SKYBOOT_PROFILE };
  beforeAll(async () => {
    gw = await startTestGateway({ tokenTtlSeconds: TTL_SECONDS });
    home = mkdtempSync(join(tmpdir(), 'skyboot-login-'));
    process.env.XDG_CONFIG_HOME = home;
    delete process.env.SKYBOOT_TOKEN;
    delete process.env.SKYBOOT_URL;
    delete process.env.SKYBOOT_PROFILE;
  });
  afterAll(async () => {
    await gw.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(home, { recursive: true, force: true });
  });

  async function cli(args: string[], onErr?: (line: string) => void) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'skyboot', ...args], { out: (l) => out.push(l), err: (l) => { err.push(l); onErr?.(l); }, tty: false });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  const tokenFile = (profile: string) => join(home, 'skyboot', 'tokens', `${profile}.json`);
  const cachedAccessToken = (profile: string) => (JSON.parse(readFileSync(tokenFile(profile), 'utf8')) as { accessToken: string }).accessToken;

  it('logs in with authorization code + PKCE through the loopback redirect, caches 0600 tokens, and refreshes them on expiry', async () => {
    const operator = gw.auth.users.find((u) => u.username === 'operator')!;
    let browser: Promise<unknown> | undefined;
    const login = await cli(['login', '--profile', 'lab', '--api', `${gw.url}/graphql`, '--issuer', gw.auth.issuer], (line) => {
      if (!line.startsWith(gw.auth.authorizationEndpoint)) return;
      const redirectUri = new URL(line).searchParams.get('redirect_uri')!;
      expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      browser = browserLogin(line, redirectUri, operator.username, operator.password);
    });
    expect(login.err).not.toMatch(/skyboot:/);
    expect(login.code).toBe(0);
    await expect(browser).resolves.toMatchObject({ callbackStatus: 200 });
    expect(login.out).toBe(`logged in to ${gw.url}/graphql as operator (operator); profile lab`);
    expect(statSync(tokenFile('lab')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'skyboot', 'profiles.json')).mode & 0o777).toBe(0o600);

    // The profile holds the API URL and the token: nothing exported.
    const refreshesBefore = gw.auth.issued.refreshGrants;
    const first = cachedAccessToken('lab');
    const who = await cli(['whoami', '--profile', 'lab']);
    expect(who).toMatchObject({ code: 0, out: `operator: operator at ${gw.url}/graphql` });
    expect(gw.auth.issued.refreshGrants).toBe(refreshesBefore);

    // Past its refresh point the CLI trades the refresh token for a new access token.
    await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000 + 500));
    process.env.SKYBOOT_PROFILE = 'lab';
    const later = await cli(['site', 'list', '--json']);
    delete process.env.SKYBOOT_PROFILE;
    expect(later.code).toBe(0);
    expect(JSON.parse(later.out)).toEqual([]);
    expect(gw.auth.issued.refreshGrants).toBe(refreshesBefore + 1);
    expect(cachedAccessToken('lab')).not.toBe(first);
    expect(await cli(['token', '--profile', 'lab'])).toMatchObject({ code: 0, out: cachedAccessToken('lab') });

    // A fixed redirect must be this CLI's own loopback listener.
    const away = await cli(['login', '--profile', 'lab', '--redirect-uri', 'http://example.org:8765/callback']);
    expect(away.code).toBe(1);
    expect(away.err).toMatch(/--redirect-uri: "http:\/\/example.org:8765\/callback" must be http:\/\/127.0.0.1:<port>/);

    // Another profile is not logged in; logout forgets lab's tokens.
    const other = await cli(['whoami', '--profile', 'other']);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/not logged in: run `skyboot login --profile other`/);
    expect(await cli(['logout', '--profile', 'lab'])).toMatchObject({ code: 0, out: 'logged out of profile lab' });
    const gone = await cli(['whoami', '--profile', 'lab']);
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/not logged in: run `skyboot login --profile lab`/);
  }, 60_000);

  it('logs automation in with --client-credentials and fetches a new token when it expires', async () => {
    const client = await localIssuer(process.env)('ci-site');
    const secretFile = join(home, 'ci.secret');
    writeFileSync(secretFile, client.clientSecret!, { mode: 0o600 });
    const login = await cli(['login', '--profile', 'ci', '--client-credentials', '--api', `${gw.url}/graphql`, '--issuer', gw.auth.issuer, '--client-id', client.clientId, '--client-secret-file', secretFile]);
    expect(login).toMatchObject({ code: 0, out: `logged in to ${gw.url}/graphql as ${client.clientId} (agent); profile ci` });
    const issued = gw.auth.issued.byClient[client.clientId]!;
    await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000 + 500));
    const who = await cli(['whoami', '--profile', 'ci', '--json']);
    expect(JSON.parse(who.out)).toEqual({ subject: client.clientId, roles: ['agent'], site: 'ci-site', siteRoles: [] });
    expect(gw.auth.issued.byClient[client.clientId]).toBe(issued + 1);
  }, 30_000);
});
