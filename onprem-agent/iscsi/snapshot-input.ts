/**
 * The desired-state input from the agent's stored site snapshot and its verified cache, so
 * reconcile runs from what sync keeps in the data dir without a hand-written file.
 */
import type { SiteSnapshot } from '../../schema/siteSnapshot.js';
import { BadUserInputError } from '../../schema/errors.js';
import type { ChapPolicy, DesiredImageInput, DesiredStateInput, NodeBootInput } from './desired.js';

/** What the cache offers: the path of a verified artifact or null (ArtifactCache.verifiedPath). */
export interface VerifiedCache {
  verifiedPath(sha256: string): Promise<string | null>;
}

export async function desiredInputFromSnapshot(
  snapshot: SiteSnapshot,
  opts: { agentName: string; cache: VerifiedCache; chap?: ChapPolicy | null },
): Promise<DesiredStateInput> {
  if (!snapshot.siteDomain) throw new BadUserInputError('siteDomain', `site ${snapshot.site} has no DNS domain; iSCSI target names need one`);
  const nodes: NodeBootInput[] = [];
  // An image's rootfs digest is on the boot entries that use it, not on the image record.
  const rootfsOf = new Map<string, string>();
  for (const n of snapshot.nodes ?? []) {
    const b = n.boot;
    if (!b?.imageId || !b.rootfs || b.rootfsProvider !== 'ISCSI') continue;
    // Two digests under one image id would be two different roots; key them apart.
    const key = rootfsOf.get(b.imageId) && rootfsOf.get(b.imageId) !== b.rootfs ? `${b.imageId}@${b.rootfs}` : b.imageId;
    rootfsOf.set(key, b.rootfs);
    nodes.push({ xname: n.xname, imageId: key, rootfsProvider: 'ISCSI' });
  }
  const artifacts = new Map((snapshot.artifacts ?? []).map((a) => [a.sha256, a]));
  const records = new Map((snapshot.images ?? []).map((i) => [i.id, i]));
  const images: DesiredImageInput[] = [];
  const paths = new Map<string, string>();
  for (const [key, sha] of rootfsOf) {
    const record = records.get(key.split('@')[0]!);
    const artifact = artifacts.get(sha);
    if (!record || !artifact) continue;
    images.push({
      imageId: key, imageName: record.name, version: record.version,
      // The image may be READY while this one artifact is not (a re-upload in progress).
      status: record.status === 'READY' && artifact.status === 'READY' ? 'READY' : `${record.status}/${artifact.status}`,
      rootfsSha256: sha, rootfsSize: artifact.size,
    });
    const path = await opts.cache.verifiedPath(sha);
    if (path) paths.set(sha, path);
  }
  return {
    agentName: opts.agentName,
    siteDomain: snapshot.siteDomain,
    images,
    nodes,
    cachedPath: (sha) => paths.get(sha),
    chap: opts.chap ?? null,
  };
}
