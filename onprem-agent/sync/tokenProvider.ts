/**
 * Where the agent's bearer token comes from.
 *
 * - Client credentials (OAuth 2.0, RFC 6749 §4.4): the site's client id and the secret from its
 *   file are posted to the token endpoint (Cognito's /oauth2/token in AWS, the local stack's
 *   authorization server locally). The token is reused until `refreshBeforeSeconds` before it
 *   expires, fetched again once when the API answers 401, and while the endpoint is unreachable
 *   requests fail fast with CloudUnreachableError under exponential backoff, so the sync loop and
 *   outbox back off as for any outage. Boots never wait on any of this: they are served from the
 *   stored snapshot.
 * - A static token file, re-read on every call so a rotated token needs no restart.
 */
import { readFile } from 'node:fs/promises';
import type { AgentConfig } from '../config.js';
import { backoffMs } from './linkStatus.js';
import { CloudRequestError, CloudUnreachableError } from './errors.js';

export interface TokenSource {
  /** A token to send now. */
  token(): Promise<string>;
  /** The API refused `token` (HTTP 401): the next call fetches a new one if that can help. */
  rejected(token: string): boolean;
  status(): TokenStatus;
}

export interface TokenStatus {
  mode: 'clientCredentials' | 'tokenFile' | 'static';
  /** Tokens the endpoint issued to this agent since start. */
  fetched: number;
  /** Of these, fetched because the API answered 401. */
  fetchedAfter401: number;
  expiresAt: string | null;
  lastFetchAt: string | null;
  lastError: string | null;
  consecutiveFailures: number;
}

export interface ClientCredentialsOptions {
  tokenEndpoint: string;
  clientId: string;
  clientSecretFile: string;
  /** Space-separated; omitted, the server grants the client's allowed scopes (Cognito does). */
  scope?: string | null;
  /** Refresh this long before expiry (default: 60 s, or a fifth of the lifetime if shorter). */
  refreshBeforeSeconds?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

interface Held {
  value: string;
  /** When to fetch a new one (ms epoch), before `expiresAt`. */
  refreshAt: number;
  expiresAt: number;
}

export class ClientCredentialsTokenSource implements TokenSource {
  private held: Held | null = null;
  private inflight: Promise<string> | null = null;
  private retryAt = 0;
  private lastError: string | null = null;
  private failures = 0;
  private fetched = 0;
  private fetchedAfter401 = 0;
  private lastFetchAt: string | null = null;
  private forced = false;
  private readonly now: () => number;

  constructor(private readonly opts: ClientCredentialsOptions) {
    this.now = opts.now ?? Date.now;
  }

  async token(): Promise<string> {
    const t = this.now();
    if (this.held && t < this.held.refreshAt) return this.held.value;
    // Fetch again; a still-valid token covers an endpoint outage until it actually expires.
    if (t < this.retryAt) {
      if (this.held && t < this.held.expiresAt) return this.held.value;
      throw new CloudUnreachableError(`token endpoint ${this.opts.tokenEndpoint}: ${this.lastError ?? 'backing off'} (retry in ${this.retryAt - t} ms)`);
    }
    this.inflight ??= this.fetch().finally(() => { this.inflight = null; });
    try {
      return await this.inflight;
    } catch (err) {
      if (err instanceof CloudUnreachableError && this.held && this.now() < this.held.expiresAt) return this.held.value;
      throw err;
    }
  }

  rejected(token: string): boolean {
    if (this.held?.value !== token) return true;
    this.held = null;
    this.forced = true;
    this.retryAt = 0;
    return true;
  }

  status(): TokenStatus {
    return {
      mode: 'clientCredentials',
      fetched: this.fetched,
      fetchedAfter401: this.fetchedAfter401,
      expiresAt: this.held ? new Date(this.held.expiresAt).toISOString() : null,
      lastFetchAt: this.lastFetchAt,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
    };
  }

  private failed(err: Error): never {
    this.failures += 1;
    this.lastError = err.message;
    this.retryAt = this.now() + backoffMs(this.failures, this.opts.backoffBaseMs ?? 1000, this.opts.backoffMaxMs ?? 60_000);
    throw err;
  }

  private async fetch(): Promise<string> {
    let secret: string;
    try {
      secret = (await readFile(this.opts.clientSecretFile, 'utf8')).trim();
    } catch (err) {
      return this.failed(new CloudRequestError(`clientSecretFile ${this.opts.clientSecretFile}: ${(err as Error).message}`, 'UNAUTHENTICATED'));
    }
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.opts.scope) body.set('scope', this.opts.scope);
    // RFC 6749 §2.3.1: client_secret_basic, each part form-urlencoded first.
    const basic = Buffer.from(`${encodeURIComponent(this.opts.clientId)}:${encodeURIComponent(secret)}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(this.opts.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic}` },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      return this.failed(new CloudUnreachableError(`token endpoint ${this.opts.tokenEndpoint}: ${cause?.code ?? (err as Error).message}`));
    }
    const text = await res.text().catch(() => '');
    let json: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      // Reported below with the status.
    }
    if (res.status >= 500 || res.status === 429) return this.failed(new CloudUnreachableError(`token endpoint ${this.opts.tokenEndpoint}: HTTP ${res.status}`));
    if (!res.ok || typeof json.access_token !== 'string') {
      const why = typeof json.error === 'string' ? `${json.error}${typeof json.error_description === 'string' ? `: ${json.error_description}` : ''}` : text.slice(0, 200);
      // A refused client (bad secret, unknown client, scope not allowed) is a configuration error, still retried with backoff.
      return this.failed(new CloudRequestError(`token endpoint ${this.opts.tokenEndpoint} refused client ${this.opts.clientId}: HTTP ${res.status} ${why}`, 'UNAUTHENTICATED'));
    }
    const lifetimeS = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 3600;
    const t = this.now();
    const before = Math.min(this.opts.refreshBeforeSeconds ?? 60, lifetimeS / 5);
    this.held = { value: json.access_token, expiresAt: t + lifetimeS * 1000, refreshAt: t + (lifetimeS - before) * 1000 };
    this.fetched += 1;
    if (this.forced) this.fetchedAfter401 += 1;
    this.forced = false;
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = null;
    this.lastFetchAt = new Date(t).toISOString();
    return json.access_token;
  }
}

export class TokenFileSource implements TokenSource {
  private lastError: string | null = null;
  constructor(private readonly file: string) {}
  async token(): Promise<string> {
    try {
      const t = (await readFile(this.file, 'utf8')).trim();
      this.lastError = null;
      return t;
    } catch (err) {
      this.lastError = `tokenFile ${this.file}: ${(err as Error).message}`;
      throw new CloudRequestError(this.lastError, 'UNAUTHENTICATED');
    }
  }
  /** The file may have been rotated meanwhile; the retry re-reads it. */
  rejected(): boolean {
    return true;
  }
  status(): TokenStatus {
    return { mode: 'tokenFile', fetched: 0, fetchedAfter401: 0, expiresAt: null, lastFetchAt: null, lastError: this.lastError, consecutiveFailures: 0 };
  }
}

export class StaticTokenSource implements TokenSource {
  constructor(private readonly value: string) {}
  async token(): Promise<string> {
    return this.value;
  }
  rejected(): boolean {
    return false;
  }
  status(): TokenStatus {
    return { mode: 'static', fetched: 0, fetchedAfter401: 0, expiresAt: null, lastFetchAt: null, lastError: null, consecutiveFailures: 0 };
  }
}

/** The agent's credentials as configured: client credentials when given, else the token file. */
export function tokenSourceFor(config: Pick<AgentConfig, 'clientCredentials' | 'tokenFile'>, opts: Partial<ClientCredentialsOptions> = {}): TokenSource | undefined {
  if (config.clientCredentials) return new ClientCredentialsTokenSource({ ...config.clientCredentials, ...opts });
  return config.tokenFile ? new TokenFileSource(config.tokenFile) : undefined;
}
