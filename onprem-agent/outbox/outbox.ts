/**
 * The durable outbox: one file per observation under `<dir>/pending/`, written atomically
 * (temp + fsync + rename + directory fsync) before enqueue returns, removed only after the cloud
 * acknowledged it (STORED or DUPLICATE). The cloud stores each observation once per
 * idempotency key, so redelivery after a crash or a lost acknowledgement takes effect once.
 * File names sort by enqueue time, so delivery keeps the order observations were made in.
 *
 * Limits, so that one entry or one flood cannot stop the rest:
 * - a batch is at most `batchSize` entries and `maxBatchBytes` bytes, under the cloud's request
 *   body limit (schema/requestLimits.ts) with room for the GraphQL envelope; entries are measured
 *   as JSON strings (quotes escaped), since in AWS the body reaches the Lambda inside a JSON event,
 *   which is what the 6 MB invoke limit counts;
 * - an entry the cloud refuses (REJECTED for validation, or a request refused for its size or
 *   its input, narrowed down to the one entry by halving the batch) is parked under
 *   `<dir>/parked/` with its reason, and delivery goes on with the entries behind it;
 * - enqueue refuses an entry larger than one batch (OutboxEntryTooLargeError) and any entry once
 *   the pending entries fill `maxBytes` (OutboxFullError), so a LAN flood cannot fill the disk;
 *   parked entries have a budget of their own, beyond which the oldest are discarded (counted).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_REQUEST_BODY_BYTES } from '../../schema/requestLimits.js';
import { log } from '../logger.js';
import { fsyncDir, TEMP_FILE, writeFileAtomic } from '../sync/atomicFile.js';
import { backoffMs } from '../sync/linkStatus.js';
import { CloudRequestError, type CloudObservation, type ObservationResult } from '../sync/cloudClient.js';
import type { ObservationSink } from './sink.js';

export interface OutboxEntry extends CloudObservation {
  enqueuedAt: string;
}

export interface OutboxTransport {
  reportObservations(batch: CloudObservation[]): Promise<ObservationResult[]>;
}

/** Why an entry was set aside, kept beside it under `parked/` as `<entry file>.reason`. */
export interface ParkedEntry {
  idempotencyKey: string;
  kind: string;
  bytes: number;
  parkedAt: string;
  /** `cloud`: the cloud refused it; `agent`: the agent could not send it (too large, unreadable). */
  by: 'cloud' | 'agent';
  reason: string;
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  maxBytes: number;
  oldestEnqueuedAt: string | null;
  delivered: number;
  duplicates: number;
  /** Entries the cloud refused (each is parked). */
  rejected: number;
  /** Enqueues refused because the outbox was full or the entry too large. */
  refused: number;
  lastRefusal: string | null;
  lastDeliveredAt: string | null;
  lastError: string | null;
  consecutiveFailures: number;
  parked: { count: number; bytes: number; discarded: number; newest: ParkedEntry[] };
}

export interface OutboxOptions {
  /** Entries per request (the cloud takes at most 100). */
  batchSize?: number;
  /** Bytes of observations per request; defaults to the cloud's body limit less 1 MiB. */
  maxBatchBytes?: number;
  /** Bytes of pending entries before enqueue refuses. */
  maxBytes?: number;
  /** Bytes of parked entries before the oldest are discarded. */
  maxParkedBytes?: number;
  /** How often an idle outbox looks for entries written by other processes. */
  idleRescanMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface OutboxInitOptions {
  /**
   * Temp files of enqueues that never returned are removed only by the data dir's lock holder:
   * in any other process they may be another process's enqueue in flight.
   */
  removeStaleTempFiles?: boolean;
}

export const DEFAULT_MAX_BATCH_BYTES = MAX_REQUEST_BODY_BYTES - 1024 * 1024;
export const DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_PARKED_MAX_BYTES = 64 * 1024 * 1024;
/** How many parked entries status lists (newest first); the count covers all. */
const STATUS_PARKED = 20;
const KEY = /^[\w.:-]{1,128}$/;
const REASON_SUFFIX = '.reason';
const RECENT_ANSWERS = 1000;

/** The outbox holds as many bytes as its budget allows; the caller should answer 503 and retry later. */
export class OutboxFullError extends Error {
  readonly httpStatus = 503;
  constructor(readonly bytes: number, readonly maxBytes: number, readonly entryBytes: number) {
    super(`outbox full: ${bytes} bytes pending of a ${maxBytes}-byte budget; an entry of ${entryBytes} bytes was refused (the cloud has not taken the backlog yet)`);
  }
}

/** One entry larger than any request the cloud accepts: it could never be delivered. */
export class OutboxEntryTooLargeError extends Error {
  readonly httpStatus = 413;
  constructor(readonly kind: string, readonly entryBytes: number, readonly maxBatchBytes: number) {
    super(`outbox: a ${kind} entry of ${entryBytes} bytes is larger than one request to the cloud may carry (${maxBatchBytes} bytes); split it`);
  }
}

/** A whole request the cloud refused for what it carries (size, input), not for the link or the token. */
function refusedForContent(err: unknown): boolean {
  return err instanceof CloudRequestError && ['PAYLOAD_TOO_LARGE', 'BAD_USER_INPUT', 'BAD_REQUEST', 'GRAPHQL_VALIDATION_FAILED'].includes(err.code ?? '');
}

export type EntryState = { state: 'pending' } | { state: 'delivered'; outcome: 'STORED' | 'DUPLICATE' } | { state: 'parked'; reason: string } | { state: 'unknown' };

interface Pending {
  file: string;
  /** On disk: what the byte budget counts. */
  bytes: number;
  /** As a JSON string (quotes escaped): what it adds to a request once API Gateway wraps the body in a Lambda event. */
  wireBytes: number;
}

const wireSize = (text: string): number => Buffer.byteLength(JSON.stringify(text));

interface Loaded extends Pending {
  entry: OutboxEntry;
}

/** The parked entries' reasons in `dir/parked`, oldest first (what `status` shows without a running agent). */
export async function readParked(dir: string): Promise<(ParkedEntry & { file: string })[]> {
  const parkedDir = join(dir, 'parked');
  const names = (await readdir(parkedDir).catch(() => [] as string[])).filter((f) => f.endsWith(REASON_SUFFIX)).sort();
  const out: (ParkedEntry & { file: string })[] = [];
  for (const name of names) {
    try {
      out.push({ ...(JSON.parse(await readFile(join(parkedDir, name), 'utf8')) as ParkedEntry), file: name.slice(0, -REASON_SUFFIX.length) });
    } catch (err) {
      log.warn({ file: join(parkedDir, name), err: (err as Error).message }, 'unreadable parked-entry reason skipped');
    }
  }
  return out;
}

export class Outbox implements ObservationSink {
  readonly pendingDir: string;
  readonly parkedDir: string;
  /** idempotencyKey → pending file and its size. */
  private readonly pending = new Map<string, Pending>();
  /** Enqueues of a key still being written: a second enqueue of the key waits for the first. */
  private readonly writing = new Map<string, Promise<void>>();
  private parked: (ParkedEntry & { file: string })[] = [];
  /** The cloud's answer for recently delivered keys (bounded), for whereIs. */
  private readonly answered = new Map<string, 'STORED' | 'DUPLICATE'>();
  private seq = 0;
  private bytes = 0;
  /** Bytes of enqueues in flight: counted against the budget before their write starts. */
  private reserved = 0;
  private counters = { delivered: 0, duplicates: 0, rejected: 0, refused: 0, discarded: 0 };
  private lastRefusal: string | null = null;
  private lastDeliveredAt: string | null = null;
  private lastError: string | null = null;
  private failures = 0;
  private running = false;
  private delivering: Promise<void> | null = null;
  private sleeper: { backoff: boolean; wake: () => void } | null = null;
  private readonly maxBatchBytes: number;
  private readonly maxBytes: number;
  private readonly maxParkedBytes: number;

  constructor(readonly dir: string, private readonly transport: OutboxTransport, private readonly opts: OutboxOptions = {}) {
    this.pendingDir = join(dir, 'pending');
    this.parkedDir = join(dir, 'parked');
    this.maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES;
    this.maxParkedBytes = opts.maxParkedBytes ?? DEFAULT_PARKED_MAX_BYTES;
  }

  async init(opts: OutboxInitOptions = {}): Promise<this> {
    await mkdir(this.pendingDir, { recursive: true });
    await mkdir(this.parkedDir, { recursive: true });
    await this.adoptLegacyRejected();
    this.parked = await readParked(this.dir);
    await this.rescan(opts.removeStaleTempFiles ?? false);
    return this;
  }

  /** Agents before parked/ existed moved refused entries to rejected/ without a reason. */
  private async adoptLegacyRejected(): Promise<void> {
    const legacy = join(this.dir, 'rejected');
    for (const f of (await readdir(legacy).catch(() => [] as string[])).filter((n) => n.endsWith('.json'))) {
      const bytes = (await stat(join(legacy, f))).size;
      const reason: ParkedEntry = { idempotencyKey: f, kind: 'unknown', bytes, parkedAt: new Date().toISOString(), by: 'cloud', reason: 'refused before this agent version recorded reasons (moved from outbox/rejected)' };
      await writeFileAtomic(join(this.parkedDir, f + REASON_SUFFIX), JSON.stringify(reason));
      await rename(join(legacy, f), join(this.parkedDir, f));
    }
  }

  /**
   * Picks up entries other processes wrote into the directory and forgets files that are gone.
   * With `removeTemps` (the lock holder at start-up only), also removes temp files of enqueues
   * that never returned.
   */
  async rescan(removeTemps = false): Promise<void> {
    const files = (await readdir(this.pendingDir)).sort();
    const present = new Set(files);
    for (const [key, p] of this.pending) {
      if (!present.has(p.file)) {
        this.pending.delete(key);
        this.bytes -= p.bytes;
      }
    }
    const known = new Set([...this.pending.values()].map((p) => p.file));
    for (const f of files) {
      if (TEMP_FILE.test(f)) {
        if (removeTemps) await rm(join(this.pendingDir, f), { force: true });
        continue;
      }
      if (!f.endsWith('.json') || known.has(f)) continue;
      try {
        const text = await readFile(join(this.pendingDir, f), 'utf8');
        const e = JSON.parse(text) as OutboxEntry;
        if (!this.pending.has(e.idempotencyKey)) {
          const bytes = Buffer.byteLength(text);
          this.pending.set(e.idempotencyKey, { file: f, bytes, wireBytes: wireSize(text) });
          this.bytes += bytes;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        await this.park(f, { idempotencyKey: f, kind: 'unknown', bytes: 0 }, 'agent', `unreadable entry: ${(err as Error).message}`);
      }
    }
  }

  get depth(): number {
    return this.pending.size;
  }

  /**
   * Durable when it returns. Enqueueing a key that is pending (or being enqueued) is a no-op.
   * Throws OutboxEntryTooLargeError or OutboxFullError instead of accepting what it cannot keep.
   */
  async enqueue(kind: string, payload: unknown, idempotencyKey: string): Promise<void> {
    if (!KEY.test(idempotencyKey)) throw new Error(`outbox: idempotency key "${idempotencyKey}" must be 1-128 of letters, digits, _ . : -`);
    if (this.pending.has(idempotencyKey)) return;
    const inFlight = this.writing.get(idempotencyKey);
    if (inFlight) return inFlight;
    const now = new Date();
    const entry: OutboxEntry = { idempotencyKey, kind, at: now.toISOString(), payload, enqueuedAt: now.toISOString() };
    const text = JSON.stringify(entry);
    const size = Buffer.byteLength(text);
    const wireBytes = wireSize(text);
    if (wireBytes > this.maxBatchBytes) this.refuse(new OutboxEntryTooLargeError(kind, wireBytes, this.maxBatchBytes));
    if (this.bytes + this.reserved + size > this.maxBytes) this.refuse(new OutboxFullError(this.bytes + this.reserved, this.maxBytes, size));
    const name = `${String(now.getTime()).padStart(15, '0')}-${String(this.seq++ % 1e6).padStart(6, '0')}-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)}.json`;
    this.reserved += size;
    const write = (async () => {
      try {
        await writeFileAtomic(join(this.pendingDir, name), text);
        // The idle rescan may have found the file between its rename and here.
        if (!this.pending.has(idempotencyKey)) {
          this.pending.set(idempotencyKey, { file: name, bytes: size, wireBytes });
          this.bytes += size;
        }
      } finally {
        this.reserved -= size;
        this.writing.delete(idempotencyKey);
      }
    })();
    this.writing.set(idempotencyKey, write);
    await write;
    if (this.sleeper && !this.sleeper.backoff) this.sleeper.wake();
  }

  private refuse(err: OutboxFullError | OutboxEntryTooLargeError): never {
    this.counters.refused++;
    this.lastRefusal = err.message;
    log.warn({ err: err.message }, 'outbox refused an entry');
    throw err;
  }

  /**
   * Moves a pending file aside with the reason beside it (the reason first, so a parked entry
   * always has one), and keeps the parked entries within their budget.
   */
  private async park(file: string, what: { idempotencyKey: string; kind: string; bytes: number }, by: ParkedEntry['by'], reason: string): Promise<void> {
    const record: ParkedEntry = { ...what, parkedAt: new Date().toISOString(), by, reason };
    await writeFileAtomic(join(this.parkedDir, file + REASON_SUFFIX), JSON.stringify(record));
    await rename(join(this.pendingDir, file), join(this.parkedDir, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fsyncDir(this.parkedDir);
    const p = this.pending.get(what.idempotencyKey);
    if (p?.file === file) {
      this.pending.delete(what.idempotencyKey);
      this.bytes -= p.bytes;
    }
    this.parked.push({ ...record, file });
    log.error({ idempotencyKey: what.idempotencyKey, kind: what.kind, bytes: what.bytes, reason }, 'outbox entry parked; delivery goes on without it');
    let parkedBytes = this.parked.reduce((a, e) => a + e.bytes, 0);
    while (parkedBytes > this.maxParkedBytes && this.parked.length > 1) {
      const old = this.parked.shift()!;
      await rm(join(this.parkedDir, old.file), { force: true });
      await rm(join(this.parkedDir, old.file + REASON_SUFFIX), { force: true });
      parkedBytes -= old.bytes;
      this.counters.discarded++;
      log.warn({ idempotencyKey: old.idempotencyKey, kind: old.kind, bytes: old.bytes }, 'parked outbox entry discarded: parked entries exceed their budget');
    }
  }

  /** The oldest entries that fit one request; entries no request could carry are parked on the way. */
  private async nextBatch(): Promise<Loaded[]> {
    const batch: Loaded[] = [];
    let bytes = 0;
    const order = [...this.pending.entries()].sort((a, b) => (a[1].file < b[1].file ? -1 : 1));
    for (const [key, p] of order) {
      if (batch.length >= (this.opts.batchSize ?? 50)) break;
      if (p.wireBytes > this.maxBatchBytes) {
        await this.park(p.file, { idempotencyKey: key, kind: 'unknown', bytes: p.bytes }, 'agent', `${p.wireBytes} bytes as sent: larger than one request to the cloud may carry (${this.maxBatchBytes} bytes)`);
        continue;
      }
      if (bytes + p.wireBytes > this.maxBatchBytes) break;
      let entry: OutboxEntry;
      try {
        entry = JSON.parse(await readFile(join(this.pendingDir, p.file), 'utf8')) as OutboxEntry;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.pending.delete(key);
          this.bytes -= p.bytes;
          continue;
        }
        await this.park(p.file, { idempotencyKey: key, kind: 'unknown', bytes: p.bytes }, 'agent', `unreadable entry: ${(err as Error).message}`);
        continue;
      }
      batch.push({ ...p, entry });
      bytes += p.wireBytes;
    }
    return batch;
  }

  /**
   * Sends `batch`; when the cloud refuses the request for what it carries, halves it until the
   * refused entry stands alone, parks that one and delivers the rest. Returns entries settled.
   */
  private async send(batch: Loaded[]): Promise<number> {
    let results: ObservationResult[];
    try {
      results = await this.transport.reportObservations(batch.map(({ entry }) => ({ idempotencyKey: entry.idempotencyKey, kind: entry.kind, at: entry.at, payload: entry.payload })));
    } catch (err) {
      if (!refusedForContent(err)) throw err;
      if (batch.length === 1) {
        const [only] = batch as [Loaded];
        this.counters.rejected++;
        await this.park(only.file, { idempotencyKey: only.entry.idempotencyKey, kind: only.entry.kind, bytes: only.bytes }, 'cloud', (err as Error).message);
        return 1;
      }
      const half = Math.ceil(batch.length / 2);
      return (await this.send(batch.slice(0, half))) + (await this.send(batch.slice(half)));
    }
    const byKey = new Map(results.map((r) => [r.idempotencyKey, r]));
    let settled = 0;
    for (const { file, bytes, entry } of batch) {
      const r = byKey.get(entry.idempotencyKey);
      if (!r) continue; // not answered: stays for the next round
      if (r.outcome === 'REJECTED') {
        this.counters.rejected++;
        await this.park(file, { idempotencyKey: entry.idempotencyKey, kind: entry.kind, bytes }, 'cloud', r.error ?? 'rejected without a reason');
      } else {
        await rm(join(this.pendingDir, file), { force: true });
        if (r.outcome === 'DUPLICATE') this.counters.duplicates++;
        else this.counters.delivered++;
        this.answered.set(entry.idempotencyKey, r.outcome);
        if (this.answered.size > RECENT_ANSWERS) this.answered.delete(this.answered.keys().next().value!);
        const p = this.pending.get(entry.idempotencyKey);
        if (p?.file === file) {
          this.pending.delete(entry.idempotencyKey);
          this.bytes -= p.bytes;
        }
      }
      settled++;
    }
    await fsyncDir(this.pendingDir);
    this.lastDeliveredAt = new Date().toISOString();
    return settled;
  }

  /** One delivery round (one request, more if a refused entry is narrowed down); returns entries settled. */
  async deliverOnce(): Promise<number> {
    const batch = await this.nextBatch();
    if (!batch.length) return 0;
    return this.send(batch);
  }

  /** Delivers until empty; throws on the first failure that is not an entry's own. */
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

  /** Where an entry is: pending, delivered (the cloud's answer), parked (with why), or unknown to this process. */
  whereIs(idempotencyKey: string): EntryState {
    if (this.pending.has(idempotencyKey) || this.writing.has(idempotencyKey)) return { state: 'pending' };
    const answer = this.answered.get(idempotencyKey);
    if (answer) return { state: 'delivered', outcome: answer };
    const parked = this.parked.findLast((p) => p.idempotencyKey === idempotencyKey);
    return parked ? { state: 'parked', reason: parked.reason } : { state: 'unknown' };
  }

  async stats(): Promise<OutboxStats> {
    const oldest = [...this.pending.values()].map((p) => p.file).sort()[0];
    let oldestEnqueuedAt: string | null = null;
    if (oldest) oldestEnqueuedAt = new Date(Number(oldest.split('-')[0])).toISOString();
    const { discarded, ...counters } = this.counters;
    return {
      depth: this.pending.size,
      bytes: this.bytes,
      maxBytes: this.maxBytes,
      oldestEnqueuedAt,
      ...counters,
      lastRefusal: this.lastRefusal,
      lastDeliveredAt: this.lastDeliveredAt,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
      parked: {
        count: this.parked.length,
        bytes: this.parked.reduce((a, e) => a + e.bytes, 0),
        discarded,
        newest: this.parked.slice(-STATUS_PARKED).reverse().map(({ file: _f, ...p }) => p),
      },
    };
  }
}
