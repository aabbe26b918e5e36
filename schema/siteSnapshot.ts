/**
 * The site snapshot: what an agent needs to boot its site with the cloud unreachable. Types and
 * the content hash only (no I/O), so the agent imports the same definitions it stores and serves.
 */
import { createHash } from 'node:crypto';
import type { BootPayload } from './bootPayload.js';

export type SnapshotArch = 'X86' | 'ARM' | 'OTHER';

export interface SnapshotBoot extends BootPayload {
  configId: string;
  matchedSelector: string;
  /**
   * The node's boot script holds secrets (e.g. per-node iSCSI CHAP): the agent serves it only to
   * that node's own address. Absent (not hashed) for a plain script.
   */
  carriesSecrets?: boolean;
}

export interface SnapshotInterface {
  mac: string;
  ipAddresses: string[];
  network: string;
}

export interface SnapshotCloudInit {
  metaData: Record<string, unknown> | null;
  userData: string | null;
  vendorData: Record<string, unknown> | null;
}

export interface SnapshotNode {
  xname: string;
  nid: number | null;
  role: string | null;
  subRole: string | null;
  arch: SnapshotArch | null;
  groups: string[];
  interfaces: SnapshotInterface[];
  boot: SnapshotBoot | null;
  cloudInit: SnapshotCloudInit | null;
  /** Held busy by hand (setWorkloadHold): the `none` workload manager reports it not idle. Absent when not held. */
  workloadHold?: boolean;
}

export interface SnapshotDiscovery {
  arch: SnapshotArch;
  boot: SnapshotBoot;
}

export interface SnapshotArtifact {
  sha256: string;
  size: number;
  type: string;
  status: string;
  url: string | null;
  urlExpiresAt: string | null;
}

/** A BMC the inventory knows for the site, so re-discovery keeps its xname. */
export interface SnapshotRedfishEndpoint {
  xname: string;
  /** host or host:port, as the inventory stores it. */
  address: string;
}

export interface SnapshotImage {
  id: string;
  name: string;
  version: string;
  arch: SnapshotArch;
  status: string;
}

/** The iSCSI portals one agent of the site advertises (its `agent.portals` observation). */
export interface SnapshotAgentPortals {
  agent: string;
  /** `ADDR:PORT`, sorted. */
  portals: string[];
}

/** The hashed content: everything but the presigned URLs, which change on every pull. */
export interface SnapshotContent {
  site: string;
  siteDomain: string | null;
  nodes: SnapshotNode[];
  discovery: SnapshotDiscovery[];
  artifacts: SnapshotArtifact[];
  images: SnapshotImage[];
  redfishEndpoints: SnapshotRedfishEndpoint[];
  /**
   * Sorted by agent; part of the hash, so a changed portal set bumps the revision. Absent (not
   * hashed) while no agent advertises any, so sites without iSCSI keep their content hash.
   */
  iscsiPortals?: SnapshotAgentPortals[];
}

export interface SiteSnapshot extends Partial<Omit<SnapshotContent, 'site' | 'siteDomain'>> {
  site: string;
  siteDomain?: string | null;
  revision: number;
  unchanged: boolean;
  contentHash: string;
  generatedAt: string;
}

/** JSON with object keys sorted, so equal content always hashes equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** The content but its nodes: the sections a delta replaces whole. */
export type SnapshotSections = Omit<SnapshotContent, 'nodes'>;
export const SECTION_NAMES = ['site', 'siteDomain', 'discovery', 'artifacts', 'images', 'redfishEndpoints', 'iscsiPortals'] as const satisfies readonly (keyof SnapshotSections)[];

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** One node's hash: the unit the cloud diffs revisions by and a delta replaces. */
export function nodeHash(n: SnapshotNode): string {
  return sha256(canonicalJson(n));
}

/** The sections as hashed: presigned URLs out (they change on every pull). */
export function hashedSections(content: SnapshotContent): SnapshotSections {
  const { nodes: _nodes, ...sections } = content;
  return { ...sections, artifacts: content.artifacts.map((a) => ({ ...a, url: null, urlExpiresAt: null })) };
}

/**
 * The content hash from its parts: the canonical sections, then each node's xname and hash in
 * xname order. Built from per-node hashes so the cloud re-hashes only what changed between
 * revisions and the agent checks a delta-built snapshot with the same function.
 */
export function contentHashOf(sectionsJson: string, nodes: Iterable<readonly [xname: string, hash: string]>): string {
  const h = createHash('sha256').update(sectionsJson);
  for (const [xname, hash] of nodes) h.update(`\n${xname} ${hash}`);
  return h.digest('hex');
}

export const byXname = <T extends { xname: string }>(a: T, b: T) => (a.xname < b.xname ? -1 : a.xname > b.xname ? 1 : 0);

export function contentHash(content: SnapshotContent): string {
  const nodes = [...content.nodes].sort(byXname).map((n) => [n.xname, nodeHash(n)] as const);
  return contentHashOf(canonicalJson(hashedSections(content)), nodes);
}
