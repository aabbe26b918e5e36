/**
 * Turns siteSnapshot's answer (references: schema/snapshotDelta.ts) into the whole snapshot the
 * agent stores: the same content with new URLs when only those changed; the stored content with
 * the deltas applied when they chain from the stored revision; else the whole content. A
 * delta-built result must hash to the revision's content hash, else it is dropped (logged) and
 * the whole content fetched; the whole content must hash to it too, or nothing is stored.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { contentHash, type SiteSnapshot, type SnapshotArtifact, type SnapshotContent } from '../../schema/siteSnapshot.js';
import { applySnapshotDelta, type SiteSnapshotAnswer, type SnapshotDelta } from '../../schema/snapshotDelta.js';
import { log } from '../logger.js';
import { CloudUnreachableError, SnapshotHashMismatchError } from './errors.js';

const gunzipAsync = promisify(gunzip);
const OBJECT_TIMEOUT_MS = 120_000;

export interface SnapshotTransfer {
  /** same: only URLs changed; delta: deltas applied; full: the whole content fetched. */
  mode: 'same' | 'delta' | 'full';
  /** Compressed bytes fetched from object storage. */
  bytes: number;
  /** Why deltas were not used, when they were offered. */
  deltaRefused: string | null;
}

/** Transport failures tried again: a kept-alive connection the object store closed meanwhile resets on reuse. */
const OBJECT_ATTEMPTS = 3;

/** A gzip JSON object by presigned URL, and the bytes it cost. */
export async function fetchGzipJson<T>(url: string): Promise<{ value: T; bytes: number }> {
  let res: Response | undefined;
  for (let attempt = 1; !res; attempt++) {
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(OBJECT_TIMEOUT_MS) });
    } catch (err) {
      if (attempt < OBJECT_ATTEMPTS) continue;
      throw new CloudUnreachableError(`snapshot object: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`);
    }
  }
  if (!res.ok) throw new CloudUnreachableError(`snapshot object: HTTP ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  return { value: JSON.parse((await gunzipAsync(body)).toString('utf8')) as T, bytes: body.length };
}

export function contentOf(s: SiteSnapshot): SnapshotContent {
  const { revision: _r, unchanged: _u, contentHash: _h, generatedAt: _g, ...content } = s;
  return { ...content, siteDomain: content.siteDomain ?? null, nodes: content.nodes ?? [], discovery: content.discovery ?? [], artifacts: content.artifacts ?? [], images: content.images ?? [], redfishEndpoints: content.redfishEndpoints ?? [] };
}

function withUrls(artifacts: SnapshotArtifact[], fresh: SnapshotArtifact[] | null): SnapshotArtifact[] {
  const bySha = new Map((fresh ?? []).map((a) => [a.sha256, a]));
  return artifacts.map((a) => {
    const f = bySha.get(a.sha256);
    return f ? { ...a, url: f.url, urlExpiresAt: f.urlExpiresAt } : { ...a, url: null, urlExpiresAt: null };
  });
}

/** `spent.bytes` counts what was fetched even when the result is refused. */
async function applyDeltas(answer: SiteSnapshotAnswer, current: SiteSnapshot, spent: { bytes: number }): Promise<SnapshotContent> {
  let content = contentOf(current);
  let hash = current.contentHash;
  for (const ref of answer.deltas ?? []) {
    const got = await fetchGzipJson<SnapshotDelta>(ref.url);
    spent.bytes += got.bytes;
    if (got.value.fromHash !== hash) throw new SnapshotHashMismatchError(`delta ${ref.fromRevision}→${ref.toRevision} starts from ${got.value.fromHash}, the stored content is ${hash}`);
    content = applySnapshotDelta(content, got.value);
    hash = got.value.toHash;
  }
  const actual = contentHash(content);
  if (actual !== answer.contentHash) throw new SnapshotHashMismatchError(`deltas to revision ${answer.revision} give content hashing to ${actual}, not ${answer.contentHash}`);
  return content;
}

export async function resolveSnapshot(answer: SiteSnapshotAnswer, current: SiteSnapshot | null): Promise<{ snapshot: SiteSnapshot; transfer: SnapshotTransfer }> {
  const stamp = { revision: answer.revision, unchanged: false, contentHash: answer.contentHash, generatedAt: answer.generatedAt };
  const finish = (content: SnapshotContent, transfer: SnapshotTransfer) => ({ snapshot: { ...content, artifacts: withUrls(content.artifacts, answer.artifacts), ...stamp }, transfer });
  if (current && current.contentHash === answer.contentHash) return finish(contentOf(current), { mode: 'same', bytes: 0, deltaRefused: null });
  let deltaRefused: string | null = null;
  const spent = { bytes: 0 };
  if (current && answer.deltas?.length) {
    if (answer.deltas[0]!.fromRevision !== current.revision) deltaRefused = `deltas start at revision ${answer.deltas[0]!.fromRevision}, the stored one is ${current.revision}`;
    else {
      try {
        return finish(await applyDeltas(answer, current, spent), { mode: 'delta', bytes: spent.bytes, deltaRefused: null });
      } catch (err) {
        if (!(err instanceof SnapshotHashMismatchError) && !(err instanceof SyntaxError) && !((err as { code?: string }).code ?? '').startsWith('Z_')) throw err;
        deltaRefused = (err as Error).message;
        log.warn({ revision: answer.revision, err: deltaRefused }, 'snapshot delta refused; fetching the whole content');
      }
    }
  }
  if (!answer.content) throw new SnapshotHashMismatchError(`revision ${answer.revision}: the answer names no content to fetch`);
  const got = await fetchGzipJson<SnapshotContent>(answer.content.url);
  spent.bytes += got.bytes;
  const actual = contentHash(got.value);
  if (actual !== answer.contentHash) throw new SnapshotHashMismatchError(`revision ${answer.revision}: the content hashes to ${actual}, not ${answer.contentHash}`);
  return finish(got.value, { mode: 'full', bytes: spent.bytes, deltaRefused });
}
