/** A node named in a URL or body, by MAC or xname, in the snapshot being served. */
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';
import { isMac, normaliseMac } from '../../../schema/mac.js';
import { isXName, normaliseXName } from '../../../schema/xname.js';
import type { SnapshotIndex } from '../../sync/snapshotStore.js';

export function nodeById(index: SnapshotIndex | null, id: string): SnapshotNode | null {
  if (!index) return null;
  if (isMac(id)) return index.byMac.get(normaliseMac(id)) ?? null;
  if (isXName(id)) return index.byXname.get(normaliseXName(id)) ?? null;
  return null;
}
