/** The images domain's stored shapes and the status rules between artifacts and images. */
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

/** FAILED if any artifact failed, else the least advanced state; READY only when every artifact is. */
export function imageStatusOf(artifacts: { type: string; status: Status; reason?: string | undefined }[]): { status: Status; reason?: string } {
  const failed = artifacts.find((a) => a.status === 'FAILED');
  if (failed) return { status: 'FAILED', reason: `${failed.type}: ${failed.reason ?? 'verification failed'}` };
  for (const s of ['UPLOADING', 'VERIFYING'] as const) if (artifacts.some((a) => a.status === s)) return { status: s };
  return { status: 'READY' };
}
