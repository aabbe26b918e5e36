/**
 * Where a site's built snapshots live: gzip JSON objects under `snapshots/<site>/` in the
 * deployment's bucket, named by content hash so a rebuild of the same content writes the same
 * key and a revision never points at an object of other content.
 *
 * Stored as application/gzip (no Content-Encoding), so an HTTP client hands over the compressed
 * bytes and the transfer is what the object weighs.
 *
 * - `<hash>.json.gz`: the whole SnapshotContent (what an agent syncing from empty fetches).
 * - `<hash>.index.json.gz`: per-node and per-section hashes, what the next build diffs against.
 * - `<fromHash>.<toHash>.delta.json.gz`: SnapshotDelta between consecutive revisions.
 */
import { promisify } from 'node:util';
import { gunzip, gzip, constants } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Clients } from '../shared/clients.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const SNAPSHOT_PREFIX = 'snapshots/';
/** An agent fetches within seconds of the answer; a short life keeps a leaked URL short-lived. */
export const SNAPSHOT_OBJECT_URL_TTL_SECONDS = 15 * 60;

export const contentObjectKey = (site: string, hash: string) => `${SNAPSHOT_PREFIX}${site}/${hash}.json.gz`;
export const indexObjectKey = (site: string, hash: string) => `${SNAPSHOT_PREFIX}${site}/${hash}.index.json.gz`;
export const deltaObjectKey = (site: string, fromHash: string, toHash: string) => `${SNAPSHOT_PREFIX}${site}/${fromHash}.${toHash}.delta.json.gz`;

/** Stores `json` gzipped; returns the compressed size. Level 6: a 100,000-node content compresses in about a second. */
export async function putGzipJson(c: Clients, key: string, json: string): Promise<number> {
  const body = await gzipAsync(Buffer.from(json), { level: constants.Z_DEFAULT_COMPRESSION });
  await c.s3.send(new PutObjectCommand({ Bucket: c.config.bucketName, Key: key, Body: body, ContentType: 'application/gzip' }));
  return body.length;
}

/** The object's JSON, or null when it does not exist. */
export async function getGzipJson<T>(c: Clients, key: string): Promise<T | null> {
  try {
    const out = await c.s3.send(new GetObjectCommand({ Bucket: c.config.bucketName, Key: key }));
    const bytes = await out.Body!.transformToByteArray();
    return JSON.parse((await gunzipAsync(bytes)).toString('utf8')) as T;
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return null;
    throw err;
  }
}

export function presignObject(c: Clients, key: string): Promise<string> {
  return getSignedUrl(c.s3, new GetObjectCommand({ Bucket: c.config.bucketName, Key: key }), { expiresIn: SNAPSHOT_OBJECT_URL_TTL_SECONDS });
}
