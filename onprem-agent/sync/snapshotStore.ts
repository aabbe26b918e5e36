/**
 * The stored snapshot: <data-dir>/snapshot.json, replaced atomically. It is the only source the
 * PXE services answer from, so it is loaded whole and kept in memory with lookup indexes.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SiteSnapshot, SnapshotNode } from '../../schema/siteSnapshot.js';
import { TEMP_FILE, writeFileAtomic } from './atomicFile.js';

export interface StoredSnapshot {
  revision: number;
  contentHash: string;
  /** When this agent stored it. */
  storedAt: string;
  snapshot: SiteSnapshot;
}

export const SNAPSHOT_FILE = 'snapshot.json';

export async function loadSnapshot(dataDir: string): Promise<StoredSnapshot | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, SNAPSHOT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const stored = JSON.parse(text) as StoredSnapshot;
  if (typeof stored.revision !== 'number' || !stored.snapshot) throw new Error(`${join(dataDir, SNAPSHOT_FILE)} is not a stored snapshot`);
  return stored;
}

export async function saveSnapshot(dataDir: string, snapshot: SiteSnapshot): Promise<StoredSnapshot> {
  const stored: StoredSnapshot = { revision: snapshot.revision, contentHash: snapshot.contentHash, storedAt: new Date().toISOString(), snapshot };
  await writeFileAtomic(join(dataDir, SNAPSHOT_FILE), JSON.stringify(stored));
  return stored;
}

/** Leftover temp files of interrupted writes; the snapshot itself is always whole. */
export async function removeStaleTempFiles(dataDir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dataDir).catch(() => [] as string[])) {
    if (TEMP_FILE.test(f)) {
      await rm(join(dataDir, f), { force: true });
      n++;
    }
  }
  return n;
}

/** Lookup tables over one snapshot: MAC → node, xname → node, inventory IP → node. */
export class SnapshotIndex {
  readonly byMac = new Map<string, SnapshotNode>();
  readonly byXname = new Map<string, SnapshotNode>();
  /** Every address the inventory assigns: whose it is (node-scoped serving), and that the DHCP pool must not hand it out. */
  readonly byIp = new Map<string, SnapshotNode>();
  constructor(readonly stored: StoredSnapshot) {
    for (const n of stored.snapshot.nodes ?? []) {
      this.byXname.set(n.xname, n);
      for (const i of n.interfaces) {
        this.byMac.set(i.mac, n);
        for (const ip of i.ipAddresses) this.byIp.set(ip, n);
      }
    }
  }
  /** sha256s the snapshot references: what the cache must hold and GC must keep. */
  referenced(): Set<string> {
    return new Set((this.stored.snapshot.artifacts ?? []).map((a) => a.sha256));
  }
}
