/**
 * The agent's GraphQL client: POST with the site's agent token, read from its file on every call
 * so a rotated token is picked up without a restart. Transport failures and 5xx are
 * CloudUnreachableError (retry later); GraphQL errors are CloudRequestError.
 */
import { readFile } from 'node:fs/promises';
import type { SiteSnapshot } from '../../schema/siteSnapshot.js';

export class CloudUnreachableError extends Error {}
export class CloudRequestError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}
/** HTTP 413: the request body is larger than the cloud accepts; sending it again cannot help. */
export class CloudRequestTooLargeError extends CloudRequestError {
  constructor(message: string) {
    super(message, 'PAYLOAD_TOO_LARGE');
  }
}

export interface CloudClientOptions {
  /** The gateway's base URL (http://host:4000) or its /graphql URL. */
  url: string;
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

const BOOT = 'configId matchedSelector imageId kernel initrd rootfs kernelParameters rootfsProvider';
export const SNAPSHOT_QUERY = `query SiteSnapshot($since: Int) {
  siteSnapshot(sinceRevision: $since) {
    site revision unchanged contentHash generatedAt siteDomain
    nodes { xname nid role subRole arch groups interfaces { mac ipAddresses network } boot { ${BOOT} } cloudInit { metaData userData vendorData } }
    discovery { arch boot { ${BOOT} } }
    artifacts { sha256 size type status url urlExpiresAt }
    images { id name version arch status }
    redfishEndpoints { xname address }
    iscsiPortals { agent portals }
  }
}`;

const REPORT_MUTATION = `mutation Report($batch: [ObservationInput!]!) {
  reportObservations(batch: $batch) { idempotencyKey outcome error }
}`;

export class CloudClient {
  readonly graphqlUrl: string;
  constructor(private readonly opts: CloudClientOptions) {
    this.graphqlUrl = opts.url.replace(/\/+$/, '').endsWith('/graphql') ? opts.url.replace(/\/+$/, '') : `${opts.url.replace(/\/+$/, '')}/graphql`;
  }

  private async token(): Promise<string> {
    if (this.opts.token) return this.opts.token;
    if (!this.opts.tokenFile) throw new CloudRequestError('no agent token: give --token-file', 'UNAUTHENTICATED');
    return (await readFile(this.opts.tokenFile, 'utf8')).trim();
  }

  async request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const token = await this.token();
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

  async siteSnapshot(sinceRevision: number | null): Promise<SiteSnapshot> {
    return (await this.request<{ siteSnapshot: SiteSnapshot }>(SNAPSHOT_QUERY, { since: sinceRevision })).siteSnapshot;
  }

  async reportObservations(batch: CloudObservation[]): Promise<ObservationResult[]> {
    return (await this.request<{ reportObservations: ObservationResult[] }>(REPORT_MUTATION, { batch })).reportObservations;
  }
}
