/**
 * The client half of an image upload: hash files (streaming sha256) and PUT their parts to
 * presigned URLs, a few at a time. Shared by `skyboot image push`, the upload bench and tests.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

// Keep-alive pools sized for the part concurrency, shared by every upload of the process.
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16 });

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

interface PartSource {
  path: string;
  start: number;
  length: number;
}

/**
 * One PUT of a file range, streamed from disk (no part-sized buffer; reading overlaps sending).
 * Resolves with the ETag, rejects with `status` set on HTTP errors.
 */
function sendPart(url: string, src: PartSource, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: 'PUT', headers: { 'content-length': String(src.length) }, agent: u.protocol === 'https:' ? httpsAgent : httpAgent, ...(signal ? { signal } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d.length < 4096 ? d : ''));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const etag = res.headers.etag;
          if (status >= 200 && status < 300 && etag) return resolve(etag);
          reject(Object.assign(new Error(`PUT part: HTTP ${status} ${etag ? '' : 'without an ETag '}${text.slice(0, 300)}`.trim()), { status }));
        });
      },
    );
    req.on('error', reject);
    const body = createReadStream(src.path, { start: src.start, end: src.start + src.length - 1, highWaterMark: 1 << 20 });
    body.on('error', (err) => req.destroy(err));
    body.pipe(req);
  });
}

async function putPart(url: string, src: PartSource, retries: number, signal?: AbortSignal): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendPart(url, src, signal);
    } catch (err) {
      const status = (err as { status?: number }).status;
      // 4xx other than throttling will not get better by retrying (expired URL, bad signature).
      const fatal = status !== undefined && status < 500 && status !== 429;
      if (fatal || signal?.aborted) throw err;
      if (attempt >= retries) {
        const code = (err as { code?: string }).code;
        throw new Error(`PUT part failed after ${attempt + 1} tries: ${(err as Error).message}${code ? ` (${code})` : ''}`, { cause: err });
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
  const done = new Map<number, string>(plan.uploadedParts.map((p) => [p.partNumber, p.etag]));
  const queue = [...plan.parts];
  const worker = async () => {
    for (let next = queue.shift(); next && !opts.signal?.aborted; next = queue.shift()) {
      const start = (next.partNumber - 1) * plan.partSize;
      const length = Math.min(plan.partSize, size - start);
      if (length <= 0) throw new Error(`${path} is shorter than declared (changed while uploading?)`);
      done.set(next.partNumber, await putPart(next.url, { path, start, length }, opts.retries ?? 3, opts.signal));
      opts.onPart?.(next.partNumber, length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  opts.signal?.throwIfAborted();
  return [...done.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
}
