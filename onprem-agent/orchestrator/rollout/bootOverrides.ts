/**
 * Per-node boot overrides the rollout operator installs: while a node is being rolled (or rolled
 * back), the PXE/HTTP serving answers it with the session's target (or its previous boot) instead
 * of what the snapshot says, so the node boots the target even before the next snapshot pull, and a
 * rollback works with the cloud unreachable. Journalled (one file per node), so a restart keeps
 * serving what a half-rolled node needs. An override goes once the snapshot itself carries that boot.
 */
import { bootTokenFor } from '../../../bootscript/bootToken.js';
import type { BootPayload } from '../../../schema/bootPayload.js';
import type { SnapshotBoot } from '../../../schema/siteSnapshot.js';
import { SnapshotIndex } from '../../sync/snapshotStore.js';
import { FileJournal } from '../journal.js';

export interface BootOverride {
  xname: string;
  sessionId: string;
  boot: BootPayload;
  token: string;
  setAt: string;
}

export class BootOverrides {
  private readonly journal: FileJournal<BootOverride>;
  private readonly byXname = new Map<string, BootOverride>();
  private version = 0;
  private cache: { source: SnapshotIndex; version: number; overlaid: SnapshotIndex } | null = null;

  constructor(dataDir: string) {
    this.journal = new FileJournal<BootOverride>(dataDir, 'boot-overrides', (o) => o.xname, (a, b) => a.xname.localeCompare(b.xname));
  }

  async init(): Promise<this> {
    await this.journal.init();
    for (const o of await this.journal.list()) this.byXname.set(o.xname, o);
    this.version++;
    return this;
  }

  get(xname: string): BootOverride | undefined {
    return this.byXname.get(xname);
  }

  async set(xname: string, sessionId: string, boot: BootPayload): Promise<void> {
    const o: BootOverride = { xname, sessionId, boot, token: bootTokenFor(xname, boot), setAt: new Date().toISOString() };
    await this.journal.write(o);
    this.byXname.set(xname, o);
    this.version++;
  }

  async remove(xname: string): Promise<void> {
    if (!this.byXname.has(xname)) return;
    await this.journal.remove(xname);
    this.byXname.delete(xname);
    this.version++;
  }

  /** Drops overrides the snapshot has caught up with (its node boots the same state), unless still in flight. */
  async settle(index: SnapshotIndex | null, inFlight: ReadonlySet<string>): Promise<void> {
    if (!index) return;
    for (const o of [...this.byXname.values()]) {
      if (inFlight.has(o.xname)) continue;
      const b = index.byXname.get(o.xname)?.boot;
      if (b && bootTokenFor(o.xname, b) === o.token) await this.remove(o.xname);
    }
  }

  /** The snapshot index as serving should see it: overridden nodes carry the override's boot. */
  overlay(index: SnapshotIndex | null): SnapshotIndex | null {
    if (!index || this.byXname.size === 0) return index;
    if (this.cache && this.cache.source === index && this.cache.version === this.version) return this.cache.overlaid;
    const snapshot = index.stored.snapshot;
    const nodes = (snapshot.nodes ?? []).map((n) => {
      const o = this.byXname.get(n.xname);
      if (!o) return n;
      const boot: SnapshotBoot = { ...o.boot, configId: `rollout:${o.sessionId}`, matchedSelector: `session:${o.sessionId}`, ...(n.boot?.carriesSecrets ? { carriesSecrets: true } : {}) };
      return { ...n, boot };
    });
    const overlaid = new SnapshotIndex({ ...index.stored, snapshot: { ...snapshot, nodes } });
    this.cache = { source: index, version: this.version, overlaid };
    return overlaid;
  }
}
