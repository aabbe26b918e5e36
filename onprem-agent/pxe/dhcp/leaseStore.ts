/**
 * The pool leases on disk (`<dataDir>/dhcp-leases.json`), so a restarted agent does not hand
 * an address that a running machine still holds to another one. Written with the agent's one
 * atomic-write helper; writes are coalesced (one in flight, at most one queued, each taking
 * the table as it is when it starts), and a pool address is ACKed only once its lease is on
 * disk.
 */
import { readFile } from 'node:fs/promises';
import { BadUserInputError } from '../../../schema/errors.js';
import { normaliseIPv4 } from '../../../schema/ip.js';
import { writeFileAtomic } from '../../sync/atomicFile.js';
import type { Lease } from './leases.js';

export class DhcpLeaseFileError extends BadUserInputError {
  constructor(path: string, reason: string) {
    super('dhcpLeaseFile', `${path}: ${reason}`);
  }
}

/** Subnet CIDR (as configured) → its pool's leases. */
export type StoredLeases = Record<string, Lease[]>;

interface LeaseFile {
  version: 1;
  leases: Array<Lease & { subnet: string }>;
}

const STATES = new Set(['offered', 'bound', 'declined']);

function parse(path: string, text: string): StoredLeases {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DhcpLeaseFileError(path, `not JSON (${(err as Error).message}); move it aside to start with an empty pool`);
  }
  const file = raw as Partial<LeaseFile> | null;
  if (!file || typeof file !== 'object' || file.version !== 1 || !Array.isArray(file.leases)) {
    throw new DhcpLeaseFileError(path, 'expected {"version": 1, "leases": [...]}');
  }
  const out: StoredLeases = {};
  file.leases.forEach((l, i) => {
    const at = `leases[${i}]`;
    if (!l || typeof l !== 'object') throw new DhcpLeaseFileError(path, `${at} is not an object`);
    if (typeof l.subnet !== 'string' || typeof l.mac !== 'string') throw new DhcpLeaseFileError(path, `${at}: subnet and mac must be strings`);
    try {
      normaliseIPv4(l.ip, `${at}.ip`);
    } catch (err) {
      throw new DhcpLeaseFileError(path, (err as Error).message);
    }
    if (!Number.isFinite(l.expiresAt)) throw new DhcpLeaseFileError(path, `${at}.expiresAt ${JSON.stringify(l.expiresAt)} is not a time in epoch milliseconds`);
    if (!STATES.has(l.state)) throw new DhcpLeaseFileError(path, `${at}.state ${JSON.stringify(l.state)} is not one of offered, bound, declined`);
    (out[l.subnet] ??= []).push({ mac: l.mac, ip: l.ip, expiresAt: l.expiresAt, state: l.state });
  });
  return out;
}

export class DhcpLeaseStore {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(readonly path: string) {}

  /** The stored leases; none when the file does not exist yet. A damaged file stops the start. */
  async load(): Promise<StoredLeases> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new DhcpLeaseFileError(this.path, (err as Error).message);
    }
    return parse(this.path, text);
  }

  /** Resolves once a write that started after this call (so holding `table()`'s state now) is on disk. */
  save(table: () => StoredLeases): Promise<void> {
    if (this.queued) return this.queued;
    const before = this.running ?? Promise.resolve();
    const run: Promise<void> = before.catch(() => undefined).then(async () => {
      this.queued = null;
      this.running = run;
      try {
        const leases = Object.entries(table()).flatMap(([subnet, ls]) => ls.map((l) => ({ subnet, ...l })));
        await writeFileAtomic(this.path, `${JSON.stringify({ version: 1, leases } satisfies LeaseFile)}\n`, 0o640);
      } finally {
        if (this.running === run) this.running = null;
      }
    });
    this.queued = run;
    return run;
  }
}
