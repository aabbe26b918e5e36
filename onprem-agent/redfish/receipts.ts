/**
 * What became of the site's discovery reports, for `skyboot-agent status`: the outbox only
 * learns that the cloud stored a report, not which of its items the inventory refused (a MAC
 * another node holds, an xname of another site). The cloud keeps a receipt per report; this
 * reads the latest ones (`discoveryReceipts`) and keeps a copy in the data dir, so status can
 * show refused items while the cloud is unreachable too. Alongside: what the last scan itself
 * could not use (untrusted certificates, identity conflicts, unreachable BMCs).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { log as agentLog } from '../logger.js';
import { writeFileAtomic } from '../sync/atomicFile.js';
import type { CloudClient } from '../sync/cloudClient.js';
import { discoveryDir, loadLastReport } from './report-store.js';
import type { UnreachableRecord } from './types.js';

export interface RejectedItem {
  xname: string;
  code: string;
  message: string;
}

export interface DiscoveryReceiptView {
  idempotencyKey: string;
  at: string;
  agent: string | null;
  endpoints: number;
  components: number;
  rejected: RejectedItem[];
}

export interface DiscoveryStatus {
  /** The stored map: when it was scanned and what it holds. */
  map: { finishedAt: string; bmcs: number; nodes: number; carriedOver: string[] } | null;
  /** What the last scan could not use, by stage (`untrusted`, `identity`, `tcp`, …). */
  notUsed: UnreachableRecord[];
  /** The cloud's receipts, newest first, as last read. */
  receipts: DiscoveryReceiptView[];
  /** Every item the cloud refused in those receipts. */
  rejected: Array<RejectedItem & { idempotencyKey: string; at: string }>;
  receiptsReadAt: string | null;
  lastError: string | null;
}

const RECEIPTS_QUERY = 'query Receipts($first: Int) { discoveryReceipts(first: $first) { idempotencyKey at agent endpoints components rejected { xname code message } } }';
/** Reading the receipts again sooner than this answers from the copy. */
const REFRESH_MS = 5_000;
/** How long status waits for a fresh read before answering from the copy. */
const STATUS_WAIT_MS = 1_500;

export class DiscoveryReceipts {
  private readAt = 0;
  private lastError: string | null = null;
  private inflight: Promise<void> | null = null;
  private readonly logger: Logger;

  constructor(private readonly dataDir: string, private readonly client: CloudClient | null, logger: Logger = agentLog) {
    this.logger = logger.child({ module: 'discovery-receipts' });
  }

  private get file(): string {
    return join(discoveryDir(this.dataDir), 'receipts.json');
  }

  private async stored(): Promise<{ readAt: string; receipts: DiscoveryReceiptView[] } | null> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as { readAt: string; receipts: DiscoveryReceiptView[] };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Reads the latest receipts from the cloud and keeps them; a failure is kept for status. */
  async refresh(): Promise<void> {
    if (!this.client) return;
    this.readAt = Date.now();
    try {
      const { discoveryReceipts } = await this.client.request<{ discoveryReceipts: DiscoveryReceiptView[] }>(RECEIPTS_QUERY, { first: 10 });
      await mkdir(discoveryDir(this.dataDir), { recursive: true });
      await writeFileAtomic(this.file, JSON.stringify({ readAt: new Date().toISOString(), receipts: discoveryReceipts }, null, 2) + '\n', 0o600);
      this.lastError = null;
      for (const r of discoveryReceipts) {
        if (r.rejected.length > 0) this.logger.debug({ idempotencyKey: r.idempotencyKey, rejected: r.rejected.length }, 'discovery report items refused by the cloud');
      }
    } catch (err) {
      this.lastError = (err as Error).message;
    }
  }

  async status(): Promise<DiscoveryStatus> {
    if (this.client && Date.now() - this.readAt >= REFRESH_MS) {
      // Status answers within its own timeout even when the cloud does not: a slow read goes
      // on in the background and the copy answers now.
      this.inflight ??= this.refresh().finally(() => { this.inflight = null; });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.inflight, new Promise<void>((r) => { timer = setTimeout(r, STATUS_WAIT_MS); })]);
      clearTimeout(timer);
    }
    const [report, copy] = await Promise.all([loadLastReport(this.dataDir), this.stored()]);
    const receipts = copy?.receipts ?? [];
    return {
      map: report
        ? { finishedAt: report.finishedAt, bmcs: report.redfishEndpoints.length, nodes: report.hardware.length, carriedOver: (report.carriedOver ?? []).map((c) => c.xname) }
        : null,
      notUsed: report?.unreachable ?? [],
      receipts,
      rejected: receipts.flatMap((r) => r.rejected.map((x) => ({ ...x, idempotencyKey: r.idempotencyKey, at: r.at }))),
      receiptsReadAt: copy?.readAt ?? null,
      lastError: this.lastError,
    };
  }
}
