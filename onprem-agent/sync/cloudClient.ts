/**
 * The agent's GraphQL client: POST with the bearer token its TokenSource gives (client
 * credentials, or a token file re-read on every call). A 401 makes the source fetch a new token
 * and the request is sent once more. Transport failures and 5xx are CloudUnreachableError (retry
 * later); GraphQL errors are CloudRequestError.
 */
import type { SiteSnapshotAnswer } from '../../schema/snapshotDelta.js';
import { CloudRequestError, CloudRequestTooLargeError, CloudUnreachableError } from './errors.js';
import { StaticTokenSource, TokenFileSource, type TokenSource } from './tokenProvider.js';

export { CloudRequestError, CloudRequestTooLargeError, CloudUnreachableError } from './errors.js';

export interface CloudClientOptions {
  /** The gateway's base URL (http://host:4000) or its /graphql URL. */
  url: string;
  /** Where tokens come from; else `tokenFile` (re-read per call) or a fixed `token`. */
  tokens?: TokenSource;
  tokenFile?: string;
  token?: string;
  timeoutMs?: number;
}

export interface ObservationResult {
  idempotencyKey: string;
  outcome: 'STORED' | 'DUPLICATE' | 'REJECTED';
  error: string | null;
}

export interface CloudObservation {
  idempotencyKey: string;
  kind: string;
  at: string;
  payload: unknown;
}

export const SNAPSHOT_QUERY = `query SiteSnapshot($since: Int) {
  siteSnapshot(sinceRevision: $since) {
    site revision unchanged contentHash generatedAt
    artifacts { sha256 size type status url urlExpiresAt }
    content { url bytes }
    deltas { fromRevision toRevision url bytes }
  }
}`;

const REPORT_MUTATION = `mutation Report($batch: [ObservationInput!]!) {
  reportObservations(batch: $batch) { idempotencyKey outcome error }
}`;

export class CloudClient {
  readonly graphqlUrl: string;
  readonly tokens: TokenSource | null;
  constructor(private readonly opts: CloudClientOptions) {
    this.graphqlUrl = opts.url.replace(/\/+$/, '').endsWith('/graphql') ? opts.url.replace(/\/+$/, '') : `${opts.url.replace(/\/+$/, '')}/graphql`;
    this.tokens = opts.tokens ?? (opts.tokenFile ? new TokenFileSource(opts.tokenFile) : opts.token ? new StaticTokenSource(opts.token) : null);
  }

  async request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    if (!this.tokens) throw new CloudRequestError('no agent credentials: give --token-endpoint, --client-id and --client-secret-file, or --token-file', 'UNAUTHENTICATED');
    const first = await this.tokens.token();
    try {
      return await this.send<T>(query, variables, first);
    } catch (err) {
      // One retry with a fresh token: the old one expired early, was revoked, or the file was rotated.
      if (err instanceof CloudRequestError && err.code === 'UNAUTHENTICATED' && this.tokens.rejected(first)) {
        return this.send<T>(query, variables, await this.tokens.token());
      }
      throw err;
    }
  }

  private async send<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      throw new CloudUnreachableError(`${this.graphqlUrl}: ${cause?.code ?? (err as Error).message}`);
    }
    if (res.status >= 500 || res.status === 429) throw new CloudUnreachableError(`${this.graphqlUrl}: HTTP ${res.status}`);
    if (res.status === 413) {
      // The gateway names the limit in a GraphQL error; API Gateway answers with its own body.
      const text = await res.text().catch(() => '');
      const said = (() => { try { return (JSON.parse(text) as { errors?: { message?: string }[] }).errors?.[0]?.message; } catch { return undefined; } })();
      throw new CloudRequestTooLargeError(`${this.graphqlUrl}: HTTP 413: ${said ?? (text.slice(0, 200) || 'request body too large')}`);
    }
    // API Gateway's JWT authorizer answers 401 with its own body, not GraphQL's.
    if (res.status === 401) throw new CloudRequestError(`${this.graphqlUrl}: HTTP 401 ${(await res.text().catch(() => '')).slice(0, 200)}`, 'UNAUTHENTICATED');
    let body: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw new CloudUnreachableError(`${this.graphqlUrl}: HTTP ${res.status}, unreadable body (${(err as Error).message})`);
    }
    if (body.errors?.length) {
      const e = body.errors[0]!;
      const code = e.extensions?.code;
      if (code === 'INTERNAL_SERVER_ERROR') throw new CloudUnreachableError(`${this.graphqlUrl}: ${e.message}`);
      throw new CloudRequestError(`${this.graphqlUrl}: ${e.message}`, code);
    }
    if (!body.data) throw new CloudUnreachableError(`${this.graphqlUrl}: HTTP ${res.status} without data`);
    return body.data;
  }

  /** The snapshot's references; snapshotTransfer.ts fetches what they point at. */
  async siteSnapshot(sinceRevision: number | null): Promise<SiteSnapshotAnswer> {
    return (await this.request<{ siteSnapshot: SiteSnapshotAnswer }>(SNAPSHOT_QUERY, { since: sinceRevision })).siteSnapshot;
  }

  async reportObservations(batch: CloudObservation[]): Promise<ObservationResult[]> {
    return (await this.request<{ reportObservations: ObservationResult[] }>(REPORT_MUTATION, { batch })).reportObservations;
  }
}
