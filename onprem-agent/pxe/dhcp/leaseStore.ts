/**
 * The pool leases on disk (`<dataDir>/dhcp-leases.json`), so a restarted agent does not hand
 * an address that a running machine still holds to another one.
 *
 * The file is a journal, as Kea's memfile is: a header line, then one JSON line per change of
 * one address (its lease, or `removed`). A change is appended and fsynced before the ACK that
 * depends on it; appends are group-committed (one write in flight, at most one queued, each
 * taking every change made before it starts), so a burst of ACKs shares one fsync and an ACK's
 * cost does not grow with the size of the pool. When the journal holds several times more
 * lines than there are leases, it is compacted: the live table is written afresh with the
 * agent's one atomic-write helper. A file written by earlier versions (one JSON document,
 * version 1) is read and replaced by a compacted journal on the first write.
 */
import { open, readFile } from 'node:fs/promises';
import { BadUserInputError } from '../../../schema/errors.js';
import { normaliseIPv4 } from '../../../schema/ip.js';
import { writeFileAtomic } from '../../sync/atomicFile.js';
import type { Lease, LeaseChanges } from './leases.js';

export class DhcpLeaseFileError extends BadUserInputError {
  constructor(path: string, reason: string) {
    super('dhcpLeaseFile', `${path}: ${reason}`);
  }
}

/** Subnet CIDR (as configured) → its pool's leases. */
export type StoredLeases = Record<string, Lease[]>;

/** What the store reads from the responder: the changes to append, and the table to compact to. */
export interface LeaseSource {
  /** Subnet CIDR → the changes of its pool since the last call. */
  changes(): Array<[string, LeaseChanges]>;
  table(): StoredLeases;
  /** How many leases a compacted file would hold, at most. */
  size(): number;
}

interface LeaseFileV1 {
  version: 1;
  leases: Array<Lease & { subnet: string }>;
}
const HEADER = JSON.stringify({ version: 2, format: 'one lease change per line' });
/** Compact when the journal is this many times the live table (and at least `compactMinLines` lines). */
const COMPACT_FACTOR = 4;
const COMPACT_MIN_LINES = 4096;

export interface LeaseStoreOptions {
  /** No compaction below this many journal lines (default 4,096). */
  compactMinLines?: number;
}

const STATES = new Set(['offered', 'bound', 'declined']);

/** One stored lease, checked; `at` names it in errors (`leases[3]`, `line 7`). */
function checkLease(path: string, at: string, l: Partial<Lease & { subnet: string }>): Lease & { subnet: string } {
  if (!l || typeof l !== 'object') throw new DhcpLeaseFileError(path, `${at} is not an object`);
  if (typeof l.subnet !== 'string' || typeof l.mac !== 'string') throw new DhcpLeaseFileError(path, `${at}: subnet and mac must be strings`);
  try {
    normaliseIPv4(l.ip ?? '', `${at}.ip`);
  } catch (err) {
    throw new DhcpLeaseFileError(path, (err as Error).message);
  }
  if (!Number.isFinite(l.expiresAt)) throw new DhcpLeaseFileError(path, `${at}.expiresAt ${JSON.stringify(l.expiresAt)} is not a time in epoch milliseconds`);
  if (!STATES.has(l.state ?? '')) throw new DhcpLeaseFileError(path, `${at}.state ${JSON.stringify(l.state)} is not one of offered, bound, declined`);
  return { subnet: l.subnet, mac: l.mac, ip: l.ip!, expiresAt: l.expiresAt!, state: l.state! };
}

function group(leases: Iterable<Lease & { subnet: string }>): StoredLeases {
  const out: StoredLeases = {};
  for (const { subnet, ...l } of leases) (out[subnet] ??= []).push(l);
  return out;
}

function parseV1(path: string, raw: unknown): StoredLeases {
  const file = raw as Partial<LeaseFileV1> | null;
  if (!file || typeof file !== 'object' || file.version !== 1 || !Array.isArray(file.leases)) {
    throw new DhcpLeaseFileError(path, 'expected {"version": 1, "leases": [...]} or a version 2 journal');
  }
  return group(file.leases.map((l, i) => checkLease(path, `leases[${i}]`, l)));
}

/** Replays the journal: the last line about an address wins. A torn last line (a crash mid-append) is dropped. */
function parseV2(path: string, lines: string[]): { leases: StoredLeases; lines: number; torn: boolean } {
  const byAddress = new Map<string, Lease & { subnet: string }>();
  let count = 0;
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i]!;
    if (text === '') continue;
    let rec: Partial<Lease & { subnet: string; removed: boolean }>;
    try {
      rec = JSON.parse(text) as typeof rec;
    } catch (err) {
      if (i === lines.length - 1) return { leases: group(byAddress.values()), lines: count, torn: true };
      throw new DhcpLeaseFileError(path, `line ${i + 1} is not JSON (${(err as Error).message}); move the file aside to start with an empty pool`);
    }
    count++;
    if (rec?.removed === true && typeof rec.subnet === 'string' && typeof rec.ip === 'string') {
      byAddress.delete(`${rec.subnet} ${rec.ip}`);
      continue;
    }
    const lease = checkLease(path, `line ${i + 1}`, rec);
    byAddress.set(`${lease.subnet} ${lease.ip}`, lease);
  }
  return { leases: group(byAddress.values()), lines: count, torn: false };
}

export class DhcpLeaseStore {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** Change lines in the file since it was last compacted; null until the file is a journal. */
  private journalLines: number | null = null;

  private readonly compactMinLines: number;

  constructor(readonly path: string, options: LeaseStoreOptions = {}) {
    this.compactMinLines = options.compactMinLines ?? COMPACT_MIN_LINES;
  }

  /** The stored leases; none when the file does not exist yet. A damaged file stops the start. */
  async load(): Promise<StoredLeases> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new DhcpLeaseFileError(this.path, (err as Error).message);
    }
    const lines = text.split('\n');
    let header: unknown;
    try {
      header = JSON.parse(lines[0] ?? '');
    } catch {
      header = undefined;
    }
    if ((header as { version?: unknown } | undefined)?.version === 2) {
      const { leases, lines: count, torn } = parseV2(this.path, lines);
      // After a torn last line an append would continue it: the first write compacts instead.
      this.journalLines = torn ? null : count;
      return leases;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new DhcpLeaseFileError(this.path, `not JSON (${(err as Error).message}); move it aside to start with an empty pool`);
    }
    return parseV1(this.path, raw);
  }

  /**
   * Resolves once a write that started after this call (so holding every change made before it)
   * is on disk.
   */
  save(source: LeaseSource): Promise<void> {
    if (this.queued) return this.queued;
    const before = this.running ?? Promise.resolve();
    const run: Promise<void> = before.catch(() => undefined).then(async () => {
      this.queued = null;
      this.running = run;
      try {
        await this.write(source);
      } finally {
        if (this.running === run) this.running = null;
      }
    });
    this.queued = run;
    return run;
  }

  private async write(source: LeaseSource): Promise<void> {
    const changes = source.changes();
    const lines: string[] = [];
    for (const [subnet, pool] of changes) {
      for (const [ip, lease] of pool) lines.push(JSON.stringify(lease ? { subnet, ...lease } : { subnet, ip, removed: true }));
    }
    const total = (this.journalLines ?? Infinity) + lines.length;
    if (total > Math.max(this.compactMinLines, COMPACT_FACTOR * source.size())) {
      const live = Object.entries(source.table()).flatMap(([subnet, ls]) => ls.map((l) => JSON.stringify({ subnet, ...l })));
      await writeFileAtomic(this.path, `${[HEADER, ...live].join('\n')}\n`, 0o640);
      this.journalLines = live.length;
      return;
    }
    if (lines.length === 0) return;
    const fh = await open(this.path, 'a', 0o640);
    try {
      await fh.write(`${lines.join('\n')}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    this.journalLines = total;
  }
}
