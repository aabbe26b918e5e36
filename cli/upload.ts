/**
 * The client half of an image upload: hash files (streaming sha256) and PUT their parts to
 * presigned URLs, a few at a time. Shared by `skyboot image push`, the upload bench and tests.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export interface PartUrl {
  partNumber: number;
  url: string;
}

export interface ArtifactUploadPlan {
  type: string;
  sha256: string;
  uploadId: string;
  partSize: number;
  partCount: number;
  parts: PartUrl[];
  uploadedParts: { partNumber: number; etag: string; size: number }[];
}

export interface FileDigest {
  path: string;
  size: number;
  sha256: string;
}

export async function hashFile(path: string, onBytes?: (n: number) => void): Promise<FileDigest> {
  const { size } = await stat(path);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return { path, size, sha256: hash.digest('hex') };
}

export interface UploadOptions {
  concurrency?: number;
  /** Called with the byte count of each part once S3 accepted it. */
  onPart?: (partNumber: number, bytes: number) => void;
  /** Retries per part on network errors or 5xx (parts are idempotent to re-send). */
  retries?: number;
  /** Stops taking new parts and cancels the ones in flight (an interrupted push). */
  signal?: AbortSignal;
}

async function putPart(url: string, body: Buffer, retries: number, signal?: AbortSignal): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, { method: 'PUT', body, headers: { 'content-length': String(body.length) }, ...(signal ? { signal } : {}) });
      if (res.ok) {
        await res.arrayBuffer();
        const etag = res.headers.get('etag');
        if (!etag) throw new Error('S3 answered without an ETag');
        return etag;
      }
      const text = await res.text();
      // 4xx other than throttling will not get better by retrying (expired URL, bad signature).
      if (res.status < 500 && res.status !== 429) throw Object.assign(new Error(`PUT part: HTTP ${res.status} ${text.slice(0, 300)}`), { fatal: true });
      if (attempt >= retries) throw new Error(`PUT part: HTTP ${res.status} after ${attempt + 1} tries`);
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal || signal?.aborted) throw err;
      if (attempt >= retries) {
        // fetch's own message is just "fetch failed"; the cause says what the socket did.
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`PUT part failed after ${attempt + 1} tries: ${(err as Error).message}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})`.replace('( ', '(') : ''}`, { cause: err });
      }
    }
    await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
  }
}

/**
 * Uploads the parts the plan lists as missing and returns every part (already held + new) with
 * its ETag, ready for completeArtifactUpload.
 */
export async function uploadArtifact(path: string, plan: ArtifactUploadPlan, opts: UploadOptions = {}): Promise<{ partNumber: number; etag: string }[]> {
  const { size } = await stat(path);
  const fh = await open(path, 'r');
  const done = new Map<number, string>(plan.uploadedParts.map((p) => [p.partNumber, p.etag]));
  const queue = [...plan.parts];
  try {
    const worker = async () => {
      for (let next = queue.shift(); next && !opts.signal?.aborted; next = queue.shift()) {
        const start = (next.partNumber - 1) * plan.partSize;
        const length = Math.min(plan.partSize, size - start);
        const buf = Buffer.allocUnsafe(length);
        let read = 0;
        while (read < length) {
          const { bytesRead } = await fh.read(buf, read, length - read, start + read);
          if (bytesRead === 0) throw new Error(`${path} is shorter than declared (changed while uploading?)`);
          read += bytesRead;
        }
        done.set(next.partNumber, await putPart(next.url, buf, opts.retries ?? 3, opts.signal));
        opts.onPart?.(next.partNumber, length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  } finally {
    await fh.close();
  }
  opts.signal?.throwIfAborted();
  return [...done.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
}
