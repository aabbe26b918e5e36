/**
 * CLI profiles and their cached tokens, under $XDG_CONFIG_HOME/skyboot (default
 * ~/.config/skyboot): `profiles.json` names each profile's API URL and authorization server,
 * `tokens/<profile>.json` holds its tokens. Both are 0600 in a 0700 directory. The profile is
 * `--profile`, else SKYBOOT_PROFILE, else `default`.
 *
 * A cached access token is used until shortly before it expires; then the refresh token (people) or
 * the client-credentials grant with the stored secret file (automation) gets a new one.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../onprem-agent/sync/atomicFile.js';
import { CliError } from './client.js';

export interface Profile {
  apiUrl: string;
  issuer: string;
  clientId: string;
  scope: string | null;
  /** Automation: the client-credentials grant with the secret in this file. */
  clientSecretFile: string | null;
  /** A fixed loopback redirect URI (Cognito lists exact callback URLs); else a random port per login. */
  redirectUri?: string;
}

export interface CachedTokens {
  accessToken: string;
  refreshToken: string | null;
  /** ms since the epoch. */
  expiresAt: number;
  /** When to refresh (ms): 30 s before expiry, or a fifth of the lifetime for short-lived tokens. */
  refreshAt: number;
  tokenEndpoint: string;
}

export interface OidcEndpoints {
  authorization_endpoint?: string;
  token_endpoint: string;
  revocation_endpoint?: string;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'skyboot');
}

export function profileName(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const name = flag ?? env.SKYBOOT_PROFILE ?? 'default';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new CliError(`profile "${name}": use letters, digits, '.', '_' and '-' (at most 64)`);
  return name;
}

function readJson<T>(path: string): T | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CliError(`${path}: ${(err as Error).message}`);
  }
}

export class ProfileStore {
  readonly dir: string;
  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.dir = configDir(env);
  }
  private get profilesFile() {
    return join(this.dir, 'profiles.json');
  }
  private tokenFile(name: string) {
    return join(this.dir, 'tokens', `${name}.json`);
  }
  profiles(): Record<string, Profile> {
    return readJson<{ profiles: Record<string, Profile> }>(this.profilesFile)?.profiles ?? {};
  }
  profile(name: string): Profile | null {
    return this.profiles()[name] ?? null;
  }
  async saveProfile(name: string, profile: Profile): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.profilesFile, JSON.stringify({ profiles: { ...this.profiles(), [name]: profile } }, null, 2), 0o600);
  }
  tokens(name: string): CachedTokens | null {
    return readJson<CachedTokens>(this.tokenFile(name));
  }
  async saveTokens(name: string, tokens: CachedTokens): Promise<void> {
    mkdirSync(join(this.dir, 'tokens'), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.tokenFile(name), JSON.stringify(tokens, null, 2), 0o600);
  }
  forgetTokens(name: string): boolean {
    const had = this.tokens(name) !== null;
    rmSync(this.tokenFile(name), { force: true });
    return had;
  }
}

export async function discover(issuer: string): Promise<OidcEndpoints> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new CliError(`cannot reach the authorization server at ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new CliError(`${url} answered HTTP ${res.status}`);
  const meta = (await res.json()) as OidcEndpoints;
  if (!meta.token_endpoint) throw new CliError(`${url} names no token_endpoint`);
  return meta;
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

/** One POST to the token endpoint; `basic` authenticates a confidential client. */
export async function tokenRequest(tokenEndpoint: string, form: Record<string, string>, basic?: { id: string; secret: string }): Promise<{ accessToken: string; refreshToken: string | null; expiresAt: number; refreshAt: number }> {
  let res: Response;
  try {
    res = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...(basic ? { authorization: `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}` } : {}),
      },
      body: new URLSearchParams(form),
    });
  } catch (err) {
    throw new CliError(`cannot reach the token endpoint ${tokenEndpoint}: ${(err as Error).message}`);
  }
  const json = (await res.json().catch(() => ({}))) as TokenResponse;
  if (!res.ok || !json.access_token) throw new CliError(`token endpoint ${tokenEndpoint}: HTTP ${res.status} ${json.error ?? ''} ${json.error_description ?? ''}`.trim());
  const lifetimeMs = (json.expires_in ?? 3600) * 1000;
  const now = Date.now();
  return { accessToken: json.access_token, refreshToken: json.refresh_token ?? null, expiresAt: now + lifetimeMs, refreshAt: now + lifetimeMs - Math.min(30_000, lifetimeMs / 5) };
}

export async function clientCredentials(profile: Profile, tokenEndpoint: string): Promise<CachedTokens> {
  if (!profile.clientSecretFile) throw new CliError('this profile has no clientSecretFile');
  let secret: string;
  try {
    secret = (await readFile(profile.clientSecretFile, 'utf8')).trim();
  } catch (err) {
    throw new CliError(`clientSecretFile ${profile.clientSecretFile}: ${(err as Error).message}`);
  }
  const t = await tokenRequest(tokenEndpoint, { grant_type: 'client_credentials', ...(profile.scope ? { scope: profile.scope } : {}) }, { id: profile.clientId, secret });
  return { ...t, refreshToken: null, tokenEndpoint };
}

/** The profile's access token, refreshed first when it is about to expire; null when not logged in. */
export async function profileToken(store: ProfileStore, name: string): Promise<string | null> {
  const profile = store.profile(name);
  const cached = store.tokens(name);
  if (!profile || !cached) return null;
  if (Date.now() < cached.refreshAt) return cached.accessToken;
  let next: CachedTokens;
  if (profile.clientSecretFile) {
    next = await clientCredentials(profile, cached.tokenEndpoint);
  } else if (cached.refreshToken) {
    try {
      const t = await tokenRequest(cached.tokenEndpoint, { grant_type: 'refresh_token', refresh_token: cached.refreshToken, client_id: profile.clientId });
      // Servers that rotate refresh tokens send a new one; others (Cognito) keep the old one valid.
      next = { ...t, refreshToken: t.refreshToken ?? cached.refreshToken, tokenEndpoint: cached.tokenEndpoint };
    } catch (err) {
      throw new CliError(`profile ${name}: the session could not be refreshed (${(err as Error).message}); run \`skyboot login --profile ${name}\``);
    }
  } else {
    throw new CliError(`profile ${name}: the token expired; run \`skyboot login --profile ${name}\``);
  }
  await store.saveTokens(name, next);
  return next.accessToken;
}
