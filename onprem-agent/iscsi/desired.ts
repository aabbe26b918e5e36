/**
 * What this agent should export, derived from one snapshot. The sync/cache modules hand over
 * plain data (images, node boot configurations, cached paths); this module knows nothing of
 * where those came from, so a JSON file or the snapshot feed it alike.
 */
import { BadUserInputError } from '../../schema/errors.js';
import { IMAGE_LUN, assertAgentName, assertSha256, exportTargetIqn, initiatorIqnFor, nodeChapUser, targetIqnFor, xnameOfInitiator } from './naming.js';

export type RootfsProvider = 'HTTP' | 'ISCSI' | 'NFS' | string;

export interface DesiredImageInput {
  imageId: string;
  imageName: string;
  version: string;
  /** Only READY images are exported; anything else is reported as skipped. */
  status: string;
  rootfsSha256: string;
  rootfsSize: number;
}

export interface NodeBootInput {
  xname: string;
  imageId: string;
  rootfsProvider: RootfsProvider;
}

/** CHAP user names; secrets never travel with the desired state or a plan (see chap.ts). */
export interface ChapPolicy {
  mode: 'one-way' | 'mutual';
  /** The site's CHAP user: each node logs in as this plus `.<xname>` (nodeChapUser), with its own secret. */
  user: string;
  /** The user the target answers as, for mutual CHAP (tgt OutgoingUser). */
  mutualUser?: string;
}

export interface IscsiExport {
  imageId: string;
  imageName: string;
  version: string;
  rootfsSha256: string;
  /** The cached file, already sha256-verified by the cache. */
  rootfsPath: string;
  size: number;
  targetIqn: string;
  lun: number;
  /** Initiator IQNs of the nodes whose boot configuration uses this image, sorted. */
  initiators: string[];
  /** With CHAP on: those nodes' own CHAP users (nodeChapUser), sorted; empty with CHAP off. */
  chapUsers: string[];
}

export interface IscsiDesiredState {
  agentName: string;
  /** The agent's target name; each export's target is this plus the image digest. */
  targetIqn: string;
  chap: ChapPolicy | null;
  exports: IscsiExport[];
  /** Images referenced over iSCSI that cannot be exported yet, with why (and the rootfs, when known). */
  skipped: Array<{ imageId: string; reason: string; rootfsSha256?: string }>;
}

export interface DesiredStateInput {
  agentName: string;
  siteDomain: string;
  images: DesiredImageInput[];
  nodes: NodeBootInput[];
  /** The verified cache path of an artifact, or undefined while it is not cached. */
  cachedPath: (sha256: string) => string | undefined;
  chap?: ChapPolicy | null;
}

export function buildIscsiDesiredState(input: DesiredStateInput): IscsiDesiredState {
  const agentName = assertAgentName(input.agentName);
  const targetIqn = targetIqnFor(agentName, input.siteDomain);
  const images = new Map(input.images.map((i) => [i.imageId, i]));
  const initiatorsByImage = new Map<string, Set<string>>();
  for (const node of input.nodes) {
    if (node.rootfsProvider !== 'ISCSI') continue;
    const set = initiatorsByImage.get(node.imageId) ?? new Set<string>();
    set.add(initiatorIqnFor(node.xname));
    initiatorsByImage.set(node.imageId, set);
  }
  const exports: IscsiExport[] = [];
  const skipped: IscsiDesiredState['skipped'] = [];
  for (const [imageId, initiators] of [...initiatorsByImage].sort(([a], [b]) => a.localeCompare(b))) {
    const image = images.get(imageId);
    if (!image) {
      skipped.push({ imageId, reason: 'image is not in the snapshot' });
      continue;
    }
    if (image.status !== 'READY') {
      skipped.push({ imageId, reason: `image status is ${image.status}, not READY`, rootfsSha256: image.rootfsSha256 });
      continue;
    }
    const sha = assertSha256(image.rootfsSha256, `images[${imageId}].rootfsSha256`);
    const rootfsPath = input.cachedPath(sha);
    if (!rootfsPath) {
      skipped.push({ imageId, reason: `rootfs sha256:${sha} is not in the cache yet`, rootfsSha256: sha });
      continue;
    }
    if (!Number.isSafeInteger(image.rootfsSize) || image.rootfsSize <= 0) {
      throw new BadUserInputError(`images[${imageId}].rootfsSize`, `${image.rootfsSize} is not a positive byte count`);
    }
    exports.push({
      imageId,
      imageName: image.imageName,
      version: image.version,
      rootfsSha256: sha,
      rootfsPath,
      size: image.rootfsSize,
      targetIqn: exportTargetIqn(targetIqn, sha),
      lun: IMAGE_LUN,
      initiators: [...initiators].sort(),
      chapUsers: chapUsersOf(input.chap ?? null, initiators),
    });
  }
  return mergeSameDigest({ agentName, targetIqn, chap: input.chap ?? null, exports, skipped });
}

function chapUsersOf(chap: ChapPolicy | null, initiators: Iterable<string>): string[] {
  if (!chap) return [];
  // Initiators come from initiatorIqnFor, so each maps back to its xname.
  return [...initiators].map((i) => nodeChapUser(chap.user, xnameOfInitiator(i)!)).sort();
}

/** Two image records with one rootfs digest are one LUN: their initiators share it. */
function mergeSameDigest(state: IscsiDesiredState): IscsiDesiredState {
  const byTarget = new Map<string, IscsiExport>();
  for (const e of state.exports) {
    const prev = byTarget.get(e.targetIqn);
    if (prev) {
      prev.initiators = [...new Set([...prev.initiators, ...e.initiators])].sort();
      prev.chapUsers = [...new Set([...prev.chapUsers, ...e.chapUsers])].sort();
    } else byTarget.set(e.targetIqn, { ...e });
  }
  return { ...state, exports: [...byTarget.values()] };
}
