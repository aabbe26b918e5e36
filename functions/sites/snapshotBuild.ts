/**
 * Builds a site's snapshot revision once and stores it in S3 (snapshotObjects.ts): the whole
 * content, the per-node/per-section hash index, and the delta from the previous revision,
 * found by diffing per-node hashes against the previous revision's index, so a change costs
 * its own nodes' bytes to ship, not the site's. The content hash is made of the same per-node
 * hashes (schema/siteSnapshot.ts contentHashOf), so the agent checks a delta-built snapshot
 * against it.
 */
import { createHash } from 'node:crypto';
import {
  SECTION_NAMES,
  canonicalJson,
  contentHashOf,
  hashedSections,
  nodeHash,
  type SnapshotContent,
  type SnapshotSections,
} from '../../schema/siteSnapshot.js';
import type { SnapshotDelta } from '../../schema/snapshotDelta.js';
import type { Clients } from '../shared/clients.js';
import { buildSnapshotContent } from './snapshotContent.js';
import { marksBeforeBuild } from './snapshotChanges.js';
import { contentObjectKey, deltaObjectKey, getGzipJson, indexObjectKey, putGzipJson } from './snapshotObjects.js';
import type { BuiltRevision } from './snapshotRevision.js';

/** What the next build diffs against. */
interface SnapshotIndexObject {
  contentHash: string;
  sections: Partial<Record<keyof SnapshotSections, string>>;
  /** [xname, node hash] in xname order. */
  nodes: [string, string][];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function diff(previous: SnapshotIndexObject, next: SnapshotIndexObject, content: SnapshotContent, sections: SnapshotSections): SnapshotDelta {
  const before = new Map(previous.nodes);
  const now = new Set(next.nodes.map(([x]) => x));
  const delta: SnapshotDelta = { fromHash: previous.contentHash, toHash: next.contentHash, put: [], remove: [], sections: {}, removedSections: [] };
  next.nodes.forEach(([x, h], i) => {
    if (before.get(x) !== h) delta.put.push(content.nodes[i]!);
  });
  for (const [x] of previous.nodes) if (!now.has(x)) delta.remove.push(x);
  const out = delta.sections as Record<string, unknown>;
  for (const name of SECTION_NAMES) {
    if (next.sections[name] === undefined) {
      if (previous.sections[name] !== undefined) delta.removedSections.push(name);
    } else if (previous.sections[name] !== next.sections[name]) out[name] = sections[name];
  }
  return delta;
}

export interface SnapshotBuild extends BuiltRevision {
  nodes: number;
  /** Nodes the delta carries (null without a delta). */
  changedNodes: number | null;
}

/**
 * Reads the site, hashes it and, when the hash is not `currentHash`, stores its objects (the
 * revision itself is recorded by the caller, after the objects exist).
 */
export async function buildSnapshot(c: Clients, site: string, siteDomain: string | null, currentHash: string | null): Promise<SnapshotBuild> {
  const builtFrom = new Date().toISOString();
  // Before the content reads: every mark listed here was committed before them.
  const seen = await marksBeforeBuild(c, site, builtFrom);
  const content = await buildSnapshotContent(c, site, siteDomain);
  const sections = hashedSections(content);
  const nodes = content.nodes.map((n) => [n.xname, nodeHash(n)] as [string, string]);
  const hash = contentHashOf(canonicalJson(sections), nodes);
  const base = { hash, builtFrom, seen, artifacts: sections.artifacts, nodes: nodes.length };
  if (hash === currentHash) return { ...base, bytes: 0, deltaFrom: null, deltaBytes: null, changedNodes: null };

  const sectionHashes: SnapshotIndexObject['sections'] = {};
  for (const name of SECTION_NAMES) if (sections[name] !== undefined) sectionHashes[name] = sha256(canonicalJson(sections[name]));
  const index: SnapshotIndexObject = { contentHash: hash, sections: sectionHashes, nodes };
  const previous = currentHash ? getGzipJson<SnapshotIndexObject>(c, indexObjectKey(site, currentHash)) : Promise.resolve(null);
  const [bytes] = await Promise.all([
    putGzipJson(c, contentObjectKey(site, hash), JSON.stringify({ ...content, artifacts: sections.artifacts })),
    putGzipJson(c, indexObjectKey(site, hash), JSON.stringify(index)),
  ]);
  const prev = await previous;
  if (!prev || !currentHash) return { ...base, bytes, deltaFrom: null, deltaBytes: null, changedNodes: null };
  const delta = diff(prev, index, content, sections);
  const deltaBytes = await putGzipJson(c, deltaObjectKey(site, currentHash, hash), JSON.stringify(delta));
  return { ...base, bytes, deltaFrom: currentHash, deltaBytes, changedNodes: delta.put.length + delta.remove.length };
}
