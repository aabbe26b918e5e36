/**
 * A Redfish client for one BMC: authentication (a session created once and reused, basic auth
 * when sessions are unavailable), the per-BMC and global concurrency bounds, and polite retries
 * when the BMC says it is busy. Credentials go in headers and the session POST body only; they
 * are never logged and never leave this object.
 */
import type { Logger } from 'pino';
import { Limiter } from './limiter.js';
import { ForbiddenError } from '../../schema/errors.js';
import { BmcTransport, MAX_SOCKETS_PER_BMC, RequestTimeoutError, type BmcAddress, type HttpResult, type TlsPolicy } from './transport.js';

export type Json = Record<string, unknown>;

export interface BmcCredentials {
  username: string;
  password: string;
}

export interface ClientOptions {
  address: BmcAddress;
  tls?: TlsPolicy;
  timeoutMs: number;
  credentials?: BmcCredentials;
  /** Shared by every client of one discovery run: the global in-flight bound. */
  global?: Limiter;
  logger: Logger;
  maxBusyRetries?: number;
  /** A Retry-After longer than this is cut to it, so one BMC cannot stall a run for hours. */
  maxRetryAfterMs?: number;
}

export class RedfishHttpError extends Error {
  constructor(readonly bmc: string, readonly method: string, readonly path: string, readonly status: number, detail: string) {
    super(`${method} ${path} on ${bmc} answered HTTP ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'RedfishHttpError';
  }
}

export class RedfishAuthError extends Error {
  constructor(readonly bmc: string, reason: string) {
    super(`authentication to ${bmc} failed: ${reason}`);
    this.name = 'RedfishAuthError';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function retryAfterMs(header: string | string[] | undefined, attempt: number): number {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw !== undefined && raw !== '') {
    if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
    const at = Date.parse(raw);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  return Math.min(10_000, 500 * 2 ** attempt);
}

function redfishMessage(body: Buffer): string {
  try {
    const err = (JSON.parse(body.toString('utf8')) as Json).error as Json | undefined;
    return typeof err?.message === 'string' ? err.message : '';
  } catch {
    return '';
  }
}

const RETRIABLE_NETWORK = new Set(['ECONNRESET', 'EPIPE']);
/**
 * Methods that may be sent again after the connection dropped mid-request: doing them twice
 * is doing them once. A POST action (ComputerSystem.Reset) or a PATCH may have taken effect
 * before the drop; sending it again could undo it (a second PushPowerButton) or do it twice
 * (a second ForceRestart), so the caller reads the state back instead.
 */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** The connection dropped during a write: the BMC may or may not have carried it out. */
export class RedfishWriteOutcomeUnknownError extends Error {
  constructor(readonly bmc: string, readonly method: string, readonly path: string, readonly reason: string) {
    super(`${method} ${path} on ${bmc} got no answer (${reason}): the BMC may or may not have carried it out`);
    this.name = 'RedfishWriteOutcomeUnknownError';
  }
}

export class RedfishClient {
  readonly bmc: string;
  requests = 0;
  /** Bytes of every answer's body, so a walk can bound what one BMC may make it read. */
  bytesReceived = 0;
  busyResponses = 0;
  authMode: 'session' | 'basic' | 'none' = 'none';
  private token: string | undefined;
  private sessionUri: string | undefined;
  private sessionsPath = '/redfish/v1/SessionService/Sessions';
  private notBefore = 0;
  private readonly perBmc = new Limiter(MAX_SOCKETS_PER_BMC);
  private readonly transport: BmcTransport;
  private readonly log: Logger;

  constructor(private readonly opts: ClientOptions) {
    this.transport = new BmcTransport(opts.address, opts.tls, opts.timeoutMs);
    this.bmc = this.transport.key;
    this.log = opts.logger.child({ bmc: this.bmc });
  }

  /** One HTTP exchange, bounded per BMC and globally, retried while the BMC answers 503. */
  private async exchange(method: string, path: string, body?: string, extra: Record<string, string> = {}): Promise<HttpResult> {
    return this.perBmc.run(async () => {
      const maxBusy = this.opts.maxBusyRetries ?? 6;
      for (let attempt = 0, networkRetries = 0; ; attempt++) {
        const wait = this.notBefore - Date.now();
        if (wait > 0) await sleep(wait);
        const headers: Record<string, string> = { ...this.authHeaders(), ...extra };
        let res: HttpResult;
        try {
          this.requests++;
          const send = (): Promise<HttpResult> => this.transport.request(method, path, headers, body);
          res = await (this.opts.global ? this.opts.global.run(send) : send());
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          if (RETRIABLE_NETWORK.has(code)) {
            // A kept-alive socket the BMC closed meanwhile: a fresh one usually works, but only
            // a request that is safe to repeat is repeated.
            if (IDEMPOTENT_METHODS.has(method) && networkRetries++ < 2) continue;
            if (!IDEMPOTENT_METHODS.has(method)) throw new RedfishWriteOutcomeUnknownError(this.bmc, method, path, `${code}: ${(err as Error).message}`);
          }
          throw err;
        }
        this.bytesReceived += res.body.length;
        this.log.debug({ method, path, status: res.status }, 'redfish request');
        if (res.status !== 503 || attempt >= maxBusy) return res;
        this.busyResponses++;
        const delay = Math.min(retryAfterMs(res.headers['retry-after'], attempt), this.opts.maxRetryAfterMs ?? 60_000);
        this.log.debug({ path, delayMs: delay }, 'BMC busy, backing off');
        this.notBefore = Math.max(this.notBefore, Date.now() + delay);
      }
    });
  }

  private authHeaders(): Record<string, string> {
    if (this.authMode === 'session' && this.token) return { 'X-Auth-Token': this.token };
    if (this.authMode === 'basic' && this.opts.credentials) {
      const { username, password } = this.opts.credentials;
      return { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    }
    return {};
  }

  /** Unauthenticated, as the specification requires the service root to be. */
  async serviceRoot(): Promise<Json> {
    let res = await this.exchange('GET', '/redfish/v1/');
    if (res.status === 401 && this.opts.credentials && this.authMode === 'none') {
      // Some firmware wants credentials even here, against the specification.
      this.authMode = 'basic';
      res = await this.exchange('GET', '/redfish/v1/');
      this.authMode = 'none';
    }
    return this.json('GET', '/redfish/v1/', res);
  }

  /** Opens a session when the BMC offers one; otherwise (or when it fails) uses basic auth. */
  async login(root: Json): Promise<void> {
    const creds = this.opts.credentials;
    if (!creds) return;
    const link = ((root.Links as Json | undefined)?.Sessions as Json | undefined)?.['@odata.id'];
    if (typeof link === 'string') this.sessionsPath = link;
    let why: string;
    try {
      const res = await this.exchange('POST', this.sessionsPath, JSON.stringify({ UserName: creds.username, Password: creds.password }));
      const token = res.headers['x-auth-token'];
      if ((res.status === 201 || res.status === 200) && typeof token === 'string') {
        this.token = token;
        this.authMode = 'session';
        const location = res.headers.location;
        let uri = typeof location === 'string' ? location : undefined;
        if (!uri) {
          try {
            const id = (JSON.parse(res.body.toString('utf8')) as Json)['@odata.id'];
            if (typeof id === 'string') uri = id;
          } catch {
            uri = undefined;
          }
        }
        this.sessionUri = uri ? new URL(uri, 'http://bmc').pathname : undefined;
        this.log.debug({ authMode: 'session' }, 'redfish session opened');
        return;
      }
      why = `session POST answered HTTP ${res.status}`;
    } catch (err) {
      // A dead BMC or an impostor certificate is not a reason to try basic auth.
      if (err instanceof RequestTimeoutError || err instanceof ForbiddenError) throw err;
      why = `session POST failed: ${(err as Error).message}`;
    }
    this.authMode = 'basic';
    this.log.debug({ authMode: 'basic', reason: why }, 'falling back to basic auth');
  }

  async logout(): Promise<void> {
    if (this.authMode !== 'session' || !this.sessionUri) return;
    try {
      await this.exchange('DELETE', this.sessionUri);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'session delete failed');
    }
    this.token = undefined;
    this.authMode = 'none';
  }

  private json(method: string, path: string, res: HttpResult): Json {
    if (res.status === 401 || res.status === 403) {
      throw new RedfishAuthError(this.bmc, `${method} ${path} answered HTTP ${res.status} with ${this.authMode === 'none' ? 'no credentials' : `${this.authMode} auth`}`);
    }
    if (res.status < 200 || res.status >= 300) throw new RedfishHttpError(this.bmc, method, path, res.status, redfishMessage(res.body));
    try {
      const parsed = JSON.parse(res.body.toString('utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Json;
    } catch {
      // fall through to the error below
    }
    throw new RedfishHttpError(this.bmc, method, path, res.status, 'the body is not a JSON object');
  }

  async get(path: string): Promise<Json> {
    let res = await this.exchange('GET', path);
    if (res.status === 401 && this.authMode === 'session' && this.opts.credentials) {
      // Sessions time out on long walks; one new session, then give up.
      this.authMode = 'none';
      await this.login({ Links: { Sessions: { '@odata.id': this.sessionsPath } } });
      res = await this.exchange('GET', path);
    }
    return this.json('GET', path, res);
  }

  /**
   * A write (POST action, PATCH); returns the status, throwing on an HTTP error, and
   * RedfishWriteOutcomeUnknownError when the connection dropped before the answer: never
   * sent twice here.
   */
  async write(method: 'POST' | 'PATCH', path: string, payload: Json, headers: Record<string, string> = {}): Promise<number> {
    const res = await this.exchange(method, path, JSON.stringify(payload), headers);
    if (res.status === 401 || res.status === 403) throw new RedfishAuthError(this.bmc, `${method} ${path} answered HTTP ${res.status}`);
    if (res.status < 200 || res.status >= 300) throw new RedfishHttpError(this.bmc, method, path, res.status, redfishMessage(res.body));
    return res.status;
  }

  close(): void {
    this.transport.close();
  }
}
