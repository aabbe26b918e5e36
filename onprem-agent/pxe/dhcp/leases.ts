/**
 * The dynamic pool of one subnet in full mode. Static leases come from the inventory and
 * are not stored here; this table only remembers what it handed to unknown machines, so
 * a rebooting machine gets its address back and two machines never share one. `excluded`
 * is asked at every allocation (not copied at start), so an address the inventory assigns
 * after the pool was built is never offered either. The table survives restarts through
 * `leaseStore.ts`.
 */
import { intToIPv4, ipv4ToInt } from '../../../schema/ip.js';

export interface Lease {
  mac: string;
  ip: string;
  /** Epoch milliseconds. An offer holds its address briefly until the REQUEST arrives. */
  expiresAt: number;
  state: 'offered' | 'bound' | 'declined';
}

/** How long an OFFER reserves its address when the client does not follow up. */
export const OFFER_HOLD_MS = 60_000;
/** An address a client DECLINEd (someone else answers ARP for it) stays out this long. */
export const DECLINE_HOLD_MS = 600_000;

/** What changed at one address since the last `takeChanges()`: its lease now, or null (gone). */
export type LeaseChanges = Map<string, Lease | null>;

export class LeasePool {
  private readonly byMac = new Map<string, Lease>();
  private readonly byIp = new Map<string, Lease>();
  /** Outstanding offers, oldest first: what a full pool takes back first (never a bound lease). */
  private readonly offers = new Map<string, Lease>();
  /** Addresses whose lease changed since the lease file last took them (the file appends these). */
  private changed: LeaseChanges = new Map();
  private readonly first: number;
  private readonly last: number;
  private cursor: number;

  constructor(
    range: { start: string; end: string },
    private readonly reserved: ReadonlySet<string>,
    private readonly now: () => number = Date.now,
    private readonly excluded: (ip: string) => boolean = () => false,
  ) {
    this.first = ipv4ToInt(range.start);
    this.last = ipv4ToInt(range.end);
    this.cursor = this.first;
  }

  contains(ip: string): boolean {
    const n = ipv4ToInt(ip);
    return n >= this.first && n <= this.last;
  }

  private live(lease: Lease | undefined): Lease | undefined {
    if (lease && lease.expiresAt <= this.now()) {
      this.drop(lease);
      return undefined;
    }
    return lease;
  }

  private drop(lease: Lease): void {
    if (this.byMac.get(lease.mac) === lease) this.byMac.delete(lease.mac);
    if (this.byIp.get(lease.ip) === lease) {
      this.byIp.delete(lease.ip);
      this.changed.set(lease.ip, null);
    }
    if (this.offers.get(lease.ip) === lease) this.offers.delete(lease.ip);
  }

  private hold(lease: Lease, byMac = true): Lease {
    const before = this.byIp.get(lease.ip);
    if (before && before !== lease) this.drop(before);
    if (byMac) this.byMac.set(lease.mac, lease);
    this.byIp.set(lease.ip, lease);
    if (lease.state === 'offered') this.offers.set(lease.ip, lease);
    this.changed.set(lease.ip, lease);
    return lease;
  }

  /**
   * A full pool withdraws its oldest outstanding offer for a new client, so a flood of one-off
   * MACs (each DISCOVERs once and never REQUESTs) cannot hold every address for the offer's
   * whole hold time; bound and declined addresses are never taken.
   */
  private reclaimOldestOffer(): string | undefined {
    for (const lease of this.offers.values()) {
      this.drop(lease);
      if (this.usable(lease.ip)) return lease.ip;
    }
    return undefined;
  }

  /** The changes since the last call, for the lease file to append. */
  takeChanges(): LeaseChanges {
    const out = this.changed;
    this.changed = new Map();
    return out;
  }

  /** Addresses with a record (live or not yet swept): what a compacted lease file would hold, at most. */
  size(): number {
    return this.byIp.size;
  }

  current(mac: string): Lease | undefined {
    const l = this.live(this.byMac.get(mac));
    return l?.state === 'declined' ? undefined : l;
  }

  /** Not reserved, not the inventory's, not held by anyone. */
  private usable(ip: string): boolean {
    return this.contains(ip) && !this.reserved.has(ip) && !this.excluded(ip);
  }

  holderOf(ip: string): Lease | undefined {
    return this.live(this.byIp.get(ip));
  }

  /** The client's current address, the one it asks for if free, or the next free one. */
  offer(mac: string, wanted?: string): Lease | undefined {
    const existing = this.current(mac);
    if (existing && this.usable(existing.ip)) return existing;
    if (existing) this.drop(existing); // the inventory has since assigned it to a machine
    let ip: string | undefined;
    if (wanted && this.usable(wanted) && !this.holderOf(wanted)) ip = wanted;
    const size = this.last - this.first + 1;
    for (let i = 0; ip === undefined && i < size; i++) {
      const candidate = intToIPv4(this.cursor);
      this.cursor = this.cursor >= this.last ? this.first : this.cursor + 1;
      if (this.usable(candidate) && !this.holderOf(candidate)) ip = candidate;
    }
    ip ??= this.reclaimOldestOffer();
    if (ip === undefined) return undefined;
    return this.hold({ mac, ip, expiresAt: this.now() + OFFER_HOLD_MS, state: 'offered' });
  }

  bind(mac: string, ip: string, seconds: number): Lease | undefined {
    const holder = this.holderOf(ip);
    if (holder && holder.mac !== mac) return undefined;
    if (!this.usable(ip)) return undefined;
    const old = this.byMac.get(mac);
    if (old && old.ip !== ip) this.drop(old);
    return this.hold({ mac, ip, expiresAt: this.now() + seconds * 1000, state: 'bound' });
  }

  /** True when the client held that address (so the table changed). */
  release(mac: string, ip: string): boolean {
    const l = this.byMac.get(mac);
    if (!l || l.ip !== ip) return false;
    this.drop(l);
    return true;
  }

  decline(ip: string): void {
    const l = this.byIp.get(ip);
    if (l) this.drop(l);
    this.hold({ mac: '', ip, expiresAt: this.now() + DECLINE_HOLD_MS, state: 'declined' }, false);
  }

  /** Forgets an offer the client turned down by choosing another server; true if there was one. */
  withdraw(mac: string): boolean {
    const l = this.byMac.get(mac);
    if (l?.state !== 'offered') return false;
    this.drop(l);
    return true;
  }

  list(): Lease[] {
    return [...this.byIp.values()].filter((l) => this.live(l) !== undefined);
  }

  /** Puts back leases read from the lease file; expired ones and ones outside the range are dropped. */
  restore(leases: readonly Lease[]): void {
    for (const l of leases) {
      if (l.expiresAt <= this.now() || !this.contains(l.ip) || this.reserved.has(l.ip) || this.byIp.has(l.ip)) continue;
      const lease = { ...l };
      this.byIp.set(l.ip, lease);
      if (l.state !== 'declined') this.byMac.set(l.mac, lease);
      if (l.state === 'offered') this.offers.set(l.ip, lease);
    }
  }
}
