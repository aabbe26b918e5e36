/**
 * The site snapshot as the cloud hands it out: the GraphQL answer is small (revision, hash,
 * presigned artifact URLs, and presigned URLs of the content and of the deltas since the
 * caller's revision); the content itself is a gzip JSON object in S3, built once per revision.
 * A delta carries the nodes that changed (whole, keyed by xname), the xnames removed and the
 * sections that changed, so a one-node change costs bytes proportional to that node. Both
 * halves use these types; the cloud writes deltas with diffSnapshot, the agent applies them with
 * applySnapshotDelta and checks the result against the revision's content hash.
 */
import { SECTION_NAMES, byXname, type SnapshotArtifact, type SnapshotContent, type SnapshotNode, type SnapshotSections } from './siteSnapshot.js';

/** A presigned gzip JSON object. */
export interface SnapshotObjectRef {
  url: string;
  /** Compressed size: what fetching it costs. */
  bytes: number;
}

export interface SnapshotDeltaRef extends SnapshotObjectRef {
  fromRevision: number;
  toRevision: number;
}

/** siteSnapshot's answer. */
export interface SiteSnapshotAnswer {
  site: string;
  revision: number;
  unchanged: boolean;
  contentHash: string;
  generatedAt: string;
  /** The content's artifacts with fresh presigned URLs (bounded by the images the site boots, not by its nodes); null when unchanged. */
  artifacts: SnapshotArtifact[] | null;
  /** The whole content (null when unchanged). */
  content: SnapshotObjectRef | null;
  /** From the caller's revision to this one, in order (null when unchanged or no chain reaches back). */
  deltas: SnapshotDeltaRef[] | null;
}

/** Named by the content hashes it goes between; revisions are the site item's (SnapshotDeltaRef). */
export interface SnapshotDelta {
  fromHash: string;
  toHash: string;
  /** Nodes added or changed, whole. */
  put: SnapshotNode[];
  /** Xnames of nodes no longer in the site. */
  remove: string[];
  /** Sections whose content changed, whole. */
  sections: Partial<SnapshotSections>;
  /** Optional sections (iscsiPortals) that are now absent. */
  removedSections: (keyof SnapshotSections)[];
}

/** The content `delta` makes of `content`, nodes in xname order. Pure: `content` is not changed. */
export function applySnapshotDelta(content: SnapshotContent, delta: SnapshotDelta): SnapshotContent {
  const nodes = new Map(content.nodes.map((n) => [n.xname, n]));
  for (const x of delta.remove) nodes.delete(x);
  for (const n of delta.put) nodes.set(n.xname, n);
  const next: Record<string, unknown> = { ...content };
  for (const name of delta.removedSections) delete next[name];
  for (const name of SECTION_NAMES) if (delta.sections[name] !== undefined) next[name] = delta.sections[name];
  next.nodes = [...nodes.values()].sort(byXname);
  return next as unknown as SnapshotContent;
}
