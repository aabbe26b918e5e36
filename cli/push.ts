/**
 * `skyboot image push`: hash → createImage (idempotent: a re-run resumes) → PUT the missing parts,
 * 4 at a time, with a progress bar → completeArtifactUpload → wait for the S3-event verification.
 */
import { CliError, type Gql } from './client.js';
import { formatBytes, progressBar } from './progress.js';
import { hashFile, uploadArtifact, type ArtifactUploadPlan, type FileDigest } from './upload.js';

export interface PushOptions {
  name: string;
  version: string;
  arch: string;
  files: { type: 'KERNEL' | 'INITRD' | 'ROOTFS_SQUASHFS' | 'BOOT_PARAMETERS'; path: string }[];
  labels: { key: string; value: string }[];
  concurrency?: number;
  /** Draw progress bars (stderr is a TTY and not --json). */
  progress: boolean;
  /** Status lines on stderr; silent in tests. */
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Called after each part S3 accepted (tests interrupt a push with it). */
  onPart?: (bytes: number) => void;
  waitTimeoutSeconds?: number;
  pollIntervalMs?: number;
}

export interface PushResult {
  id: string;
  name: string;
  version: string;
  arch: string;
  status: string;
  reason: string | null;
  resumed: boolean;
  partsUploaded: number;
  partsSkipped: number;
  bytesUploaded: number;
  seconds: number;
  artifacts: { type: string; size: number; sha256: string; status: string }[];
}

const ARCH: Record<string, string> = { x86_64: 'X86', amd64: 'X86', x86: 'X86', aarch64: 'ARM', arm64: 'ARM', arm: 'ARM', other: 'OTHER' };

export function mapArch(raw: string): string {
  const a = ARCH[raw.toLowerCase()] ?? (['X86', 'ARM', 'OTHER'].includes(raw) ? raw : undefined);
  if (!a) throw new CliError(`--arch: "${raw}" is not x86_64, aarch64/arm64 or other`, { exitCode: 2 });
  return a;
}

const IMAGE_FIELDS = 'id name version arch status reason artifacts { type size sha256 status reason }';

interface CreateResult {
  image: { id: string; status: string };
  uploads: ArtifactUploadPlan[];
  resumed: boolean;
}

/** An image as `image(id)` returns it; `skyboot image show` asks for more fields. */
export interface ImageJson {
  id: string;
  name: string;
  version: string;
  arch: string;
  status: string;
  reason: string | null;
  artifacts: { type: string; size: number; sha256: string; status: string; reason: string | null }[];
}

export async function pushImage(gql: Gql, opts: PushOptions): Promise<PushResult> {
  const started = Date.now();
  const arch = mapArch(opts.arch);
  const digests: (FileDigest & { type: string })[] = [];
  for (const f of opts.files) {
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(f.path)).catch((err: Error) => {
      throw new CliError(`${f.type.toLowerCase()}: cannot read ${f.path}: ${err.message}`, { exitCode: 2, cause: err });
    });
    const bar = progressBar(`hashing ${f.type.toLowerCase()}`, size, opts.progress);
    const d = await hashFile(f.path, (n) => bar.add(n));
    bar.done();
    digests.push({ ...d, type: f.type });
  }
  const mutation = `mutation($input: CreateImageInput!) { createImage(input: $input) { resumed image { id status }
    uploads { type sha256 uploadId partSize partCount parts { partNumber url } uploadedParts { partNumber etag size } } } }`;
  const input = { name: opts.name, version: opts.version, arch, labels: opts.labels, artifacts: digests.map((d) => ({ type: d.type, size: d.size, sha256: d.sha256 })) };
  const created = (await gql<{ createImage: CreateResult }>(mutation, { input })).createImage;
  const id = created.image.id;
  const skipped = created.uploads.reduce((n, u) => n + u.uploadedParts.length, 0);
  const total = created.uploads.reduce((n, u) => n + u.partCount, 0);
  const reused = digests.length - created.uploads.length;
  if (created.resumed && total > 0) opts.log(`resuming image ${id}: ${skipped} of ${total} parts already uploaded, skipping them`);
  else if (created.resumed) opts.log(`image ${id} was already uploaded; waiting for its verification`);
  if (reused > 0) opts.log(`${reused} artifact(s) already stored with the same sha256: reused, not uploaded`);

  const toSend = created.uploads.reduce((n, u) => {
    const last = u.partCount;
    const size = digests.find((d) => d.type === u.type)!.size;
    return n + u.parts.reduce((m, p) => m + (p.partNumber === last ? size - u.partSize * (last - 1) : u.partSize), 0);
  }, 0);
  const bar = progressBar(`uploading ${opts.name} ${opts.version}`, toSend, opts.progress && toSend > 0);
  let partsUploaded = 0;
  let bytesUploaded = 0;
  for (const u of created.uploads) {
    const file = digests.find((d) => d.type === u.type)!;
    const parts = await uploadArtifact(file.path, u, {
      concurrency: opts.concurrency ?? 4,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onPart: (_n, bytes) => {
        partsUploaded++;
        bytesUploaded += bytes;
        bar.add(bytes);
        opts.onPart?.(bytes);
      },
    });
    await gql(`mutation($id: ID!, $type: ArtifactType!, $uploadId: String!, $parts: [CompletedPartInput!]!) {
      completeArtifactUpload(imageId: $id, type: $type, uploadId: $uploadId, parts: $parts) { id } }`, { id, type: u.type, uploadId: u.uploadId, parts });
  }
  bar.done();
  if (created.uploads.length) opts.log(`uploaded ${partsUploaded} part(s), ${formatBytes(bytesUploaded)}${skipped ? `; skipped ${skipped} part(s) already in S3` : ''}`);

  // Verification runs on the S3 event: poll until the image settles.
  const deadline = Date.now() + (opts.waitTimeoutSeconds ?? 3600) * 1000;
  let image: ImageJson | null;
  for (;;) {
    image = (await gql<{ image: ImageJson | null }>(`query($id: ID!) { image(id: $id) { ${IMAGE_FIELDS} } }`, { id })).image;
    if (!image) throw new CliError(`image ${id} disappeared while waiting for it`);
    if (image.status === 'READY' || image.status === 'FAILED') break;
    if (Date.now() > deadline) throw new CliError(`image ${id} is still ${image.status} after ${opts.waitTimeoutSeconds ?? 3600} s`);
    await new Promise((r) => setTimeout(r, opts.pollIntervalMs ?? 1000));
  }
  const result: PushResult = {
    id,
    name: image.name,
    version: image.version,
    arch: image.arch,
    status: image.status,
    reason: image.reason,
    resumed: created.resumed,
    partsUploaded,
    partsSkipped: skipped,
    bytesUploaded,
    seconds: (Date.now() - started) / 1000,
    artifacts: image.artifacts.map((a) => ({ type: a.type, size: a.size, sha256: a.sha256, status: a.status })),
  };
  if (image.status === 'FAILED') throw Object.assign(new CliError(`image ${id} FAILED verification: ${image.reason ?? 'no reason given'}`), { result });
  return result;
}
