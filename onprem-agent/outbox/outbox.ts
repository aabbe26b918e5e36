/**
 * The durable outbox: one file per observation under `<dir>/pending/`, written atomically
 * (temp + fsync + rename + directory fsync) before enqueue returns, removed only after the cloud
 * acknowledged it (STORED or DUPLICATE). The cloud stores each observation once per
 * idempotency key, so redelivery after a crash or a lost acknowledgement takes effect once.
 * File names sort by enqueue time, so delivery keeps the order observations were made in.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../logger.js';
import { fsyncDir, TEMP_FILE, writeFileAtomic } from '../sync/atomicFile.js';
import { backoffMs } from '../sync/linkStatus.js';
import type { CloudObservation, ObservationResult } from '../sync/cloudClient.js';
import type { ObservationSink } from './sink.js';

export interface OutboxEntry extends CloudObservation {
  enqueuedAt: string;
}

export interface OutboxTransport {
  reportObservations(batch: CloudObservation[]): Promise<ObservationResult[]>;
}

export interface OutboxStats {
  depth: number;
  oldestEnqueuedAt: string | null;
  delivered: number;
  duplicates: number;
  rejected: number;
  lastDeliveredAt: string | null;
  lastError: string | null;
  consecutiveFailures: number;
}

export interface OutboxOptions {
  batchSize?: number;
  /** How often an idle outbox looks for entries written by other processes. */
  idleRescanMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

const KEY = /^[\w.:-]{1,128}$/;

export class Outbox implements ObservationSink {
  readonly pendingDir: string;
  readonly rejectedDir: string;
  /** idempotencyKey → file name of pending entries. */
  private readonly pending = new Map<string, string>();
  private seq = 0;
  private counters = { delivered: 0, duplicates: 0, rejected: 0 };
  private lastDeliveredAt: string | null = null;
  private lastError: string | null = null;
  private failures = 0;
  private running = false;
  private delivering: Promise<void> | null = null;
  private sleeper: { backoff: boolean; wake: () => void } | null = null;

  constructor(readonly dir: string, private readonly transport: OutboxTransport, private readonly opts: OutboxOptions = {}) {
    this.pendingDir = join(dir, 'pending');
    this.rejectedDir = join(dir, 'rejected');
  }

  async init(): Promise<this> {
    await mkdir(this.pendingDir, { recursive: true });
    await mkdir(this.rejectedDir, { recursive: true });
    await this.rescan(true);
    return this;
  }

  /**
   * Picks up entries other processes wrote (`skyboot-agent discover` enqueues into the running
   * agent's outbox directory) and forgets files that are gone. At start-up, also removes temp
   * files of enqueues that never returned.
   */
  async rescan(startup = false): Promise<void> {
    const files = (await readdir(this.pendingDir)).sort();
    const present = new Set(files);
    for (const [key, f] of this.pending) if (!present.has(f)) this.pending.delete(key);
    const known = new Set(this.pending.values());
    for (const f of files) {
      if (TEMP_FILE.test(f)) {
        if (startup) await rm(join(this.pendingDir, f), { force: true });
        continue;
      }
      if (!f.endsWith('.json') || known.has(f)) continue;
      try {
        const e = JSON.parse(await readFile(join(this.pendingDir, f), 'utf8')) as OutboxEntry;
        if (!this.pending.has(e.idempotencyKey)) this.pending.set(e.idempotencyKey, f);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        log.error({ file: f, err: (err as Error).message }, 'unreadable outbox entry moved aside');
        await rename(join(this.pendingDir, f), join(this.rejectedDir, f)).catch(() => undefined);
      }
    }
  }

  get depth(): number {
    return this.pending.size;
  }

  /** Durable when it returns. Enqueueing a key that is still pending is a no-op. */
  async enqueue(kind: string, payload: unknown, idempotencyKey: string): Promise<void> {
    if (!KEY.test(idempotencyKey)) throw new Error(`outbox: idempotency key "${idempotencyKey}" must be 1-128 of letters, digits, _ . : -`);
    if (this.pending.has(idempotencyKey)) return;
    const now = new Date();
    const name = `${String(now.getTime()).padStart(15, '0')}-${String(this.seq++ % 1e6).padStart(6, '0')}-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)}.json`;
    const entry: OutboxEntry = { idempotencyKey, kind, at: now.toISOString(), payload, enqueuedAt: now.toISOString() };
    await writeFileAtomic(join(this.pendingDir, name), JSON.stringify(entry));
    this.pending.set(idempotencyKey, name);
    if (this.sleeper && !this.sleeper.backoff) this.sleeper.wake();
  }

  private async oldest(n: number): Promise<{ file: string; entry: OutboxEntry }[]> {
    const files = [...this.pending.values()].sort().slice(0, n);
    return Promise.all(files.map(async (file) => ({ file, entry: JSON.parse(await readFile(join(this.pendingDir, file), 'utf8')) as OutboxEntry })));
  }

  /** One delivery round of up to batchSize entries; returns how many were acknowledged. */
  async deliverOnce(): Promise<number> {
    const batch = await this.oldest(this.opts.batchSize ?? 50);
    if (!batch.length) return 0;
    const results = await this.transport.reportObservations(batch.map(({ entry }) => ({ idempotencyKey: entry.idempotencyKey, kind: entry.kind, at: entry.at, payload: entry.payload })));
    const byKey = new Map(results.map((r) => [r.idempotencyKey, r]));
    let acked = 0;
    for (const { file, entry } of batch) {
      const r = byKey.get(entry.idempotencyKey);
      if (!r) continue; // not answered: stays for the next round
      if (r.outcome === 'REJECTED') {
        log.error({ idempotencyKey: entry.idempotencyKey, kind: entry.kind, error: r.error }, 'cloud rejected an observation; kept under outbox/rejected');
        await rename(join(this.pendingDir, file), join(this.rejectedDir, file));
        this.counters.rejected++;
      } else {
        await rm(join(this.pendingDir, file), { force: true });
        if (r.outcome === 'DUPLICATE') this.counters.duplicates++;
        else this.counters.delivered++;
      }
      this.pending.delete(entry.idempotencyKey);
      acked++;
    }
    await fsyncDir(this.pendingDir);
    this.lastDeliveredAt = new Date().toISOString();
    return acked;
  }

  /** Delivers until empty; throws on the first failure. */
  async drain(): Promise<void> {
    while (this.pending.size) {
      if ((await this.deliverOnce()) === 0) break;
    }
  }

  private sleep(ms: number, backoff: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleeper = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleeper = { backoff, wake: done };
    });
  }

  /** The background loop: deliver when there is something, back off while the cloud fails. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async (): Promise<void> => {
      while (this.running) {
        let delay = 0;
        await this.rescan().catch((err: Error) => log.warn({ err: err.message }, 'outbox rescan failed'));
        if (this.pending.size) {
          try {
            await this.drain();
            this.failures = 0;
            this.lastError = null;
          } catch (err) {
            this.failures++;
            this.lastError = (err as Error).message;
            delay = backoffMs(this.failures, this.opts.baseDelayMs ?? 1000, this.opts.maxDelayMs ?? 60_000);
            log.warn({ err: this.lastError, retryInMs: delay, depth: this.pending.size }, 'outbox delivery failed');
          }
        }
        if (!this.running) break;
        // Idle: a new entry wakes the loop, and entries other processes wrote are picked up within
        // the idle interval. Backing off: only nudge() (the link came back) ends the wait early.
        await this.sleep(delay || (this.opts.idleRescanMs ?? 5_000), delay > 0);
      }
    };
    this.delivering = loop();
  }

  /** Ends a backoff wait at once (the sync loop saw the cloud answer again). */
  nudge(): void {
    this.sleeper?.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.sleeper?.wake();
    await this.delivering;
  }

  async stats(): Promise<OutboxStats> {
    const oldest = [...this.pending.values()].sort()[0];
    let oldestEnqueuedAt: string | null = null;
    if (oldest) oldestEnqueuedAt = new Date(Number(oldest.split('-')[0])).toISOString();
    return { depth: this.pending.size, oldestEnqueuedAt, ...this.counters, lastDeliveredAt: this.lastDeliveredAt, lastError: this.lastError, consecutiveFailures: this.failures };
  }
}

/** No delivery: a process that only enqueues (the running agent's outbox loop delivers). */
const NOT_DELIVERING: OutboxTransport = {
  reportObservations: async () => {
    throw new Error('this process only enqueues; the running agent delivers');
  },
};

/**
 * The sink for one-shot commands (`skyboot-agent discover`): entries land durably in
 * `<dataDir>/outbox/pending`, where the running agent (same data dir) picks them up and delivers.
 */
export async function openOutboxSink(dataDir: string): Promise<ObservationSink & { dir: string }> {
  const outbox = await new Outbox(join(dataDir, 'outbox'), NOT_DELIVERING).init();
  return { dir: outbox.pendingDir, enqueue: (kind, payload, key) => outbox.enqueue(kind, payload, key) };
}
