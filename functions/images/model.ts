/** The images domain's stored shapes, their decoders, and the status rules between artifacts and images. */
import { int, list, object, oneOf, optional, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';

export const ARTIFACT_TYPES = ['KERNEL', 'INITRD', 'ROOTFS_SQUASHFS', 'BOOT_PARAMETERS'] as const;
export type ArtifactType = (typeof ARTIFACT_TYPES)[number];
export type Status = 'UPLOADING' | 'VERIFYING' | 'READY' | 'FAILED';
export type Arch = 'X86' | 'ARM' | 'OTHER';

export interface Label {
  key: string;
  value: string;
}

export interface DeclaredArtifact {
  type: ArtifactType;
  size: number;
  sha256: string;
}

export interface ImageItem {
  PK: string;
  SK: string;
  id: string;
  name: string;
  /** The image's own version string; `version` is the item's optimistic-lock counter. */
  imageVersion: string;
  arch: Arch;
  labels: Label[];
  status: Status;
  reason?: string;
  artifacts: DeclaredArtifact[];
  fingerprint: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ArtifactItem {
  PK: string;
  SK: string;
  sha256: string;
  size: number;
  status: Status;
  reason?: string;
  s3Key: string;
  etag?: string;
  uploadId?: string;
  partSize?: number;
  partCount?: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const STATUSES = ['UPLOADING', 'VERIFYING', 'READY', 'FAILED'] as const satisfies readonly Status[];
const ARCHES = ['X86', 'ARM', 'OTHER'] as const satisfies readonly Arch[];

const imageDecoder: Decoder<ImageItem> = object({
  PK: str,
  SK: str,
  id: str,
  name: str,
  imageVersion: str,
  arch: oneOf(ARCHES),
  labels: withDefault(list(object({ key: str, value: str })), []),
  status: oneOf(STATUSES),
  reason: optional(str),
  artifacts: list(object({ type: oneOf(ARTIFACT_TYPES), size: int, sha256: str })),
  fingerprint: str,
  version: int,
  createdAt: str,
  updatedAt: str,
});

const artifactDecoder: Decoder<ArtifactItem> = object({
  PK: str,
  SK: str,
  sha256: str,
  size: int,
  status: oneOf(STATUSES),
  reason: optional(str),
  s3Key: str,
  etag: optional(str),
  uploadId: optional(str),
  partSize: optional(int),
  partCount: optional(int),
  version: int,
  createdAt: str,
  updatedAt: str,
});

/** The stored Image item (SK IMAGE); StoredItemError if it is malformed. */
export const decodeImage = storedDecoder('Image', imageDecoder);
/** The stored Artifact item (SK ARTIFACT); StoredItemError if it is malformed. */
export const decodeArtifact = storedDecoder('Artifact', artifactDecoder);

/** FAILED if any artifact failed, else the least advanced state; READY only when every artifact is. */
export function imageStatusOf(artifacts: { type: string; status: Status; reason?: string | undefined }[]): { status: Status; reason?: string } {
  const failed = artifacts.find((a) => a.status === 'FAILED');
  if (failed) return { status: 'FAILED', reason: `${failed.type}: ${failed.reason ?? 'verification failed'}` };
  for (const s of ['UPLOADING', 'VERIFYING'] as const) if (artifacts.some((a) => a.status === s)) return { status: s };
  return { status: 'READY' };
}
