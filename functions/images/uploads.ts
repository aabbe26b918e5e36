/**
 * The upload side of an artifact: one multipart upload per content-addressed key, shared by
 * every image that declares the same sha256. What a client gets is always "the parts S3 does
 * not hold yet" (ListParts), so a re-run after an interruption uploads only what is missing.
 */
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, ListPartsCommand, UploadPartCommand, type Part } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../shared/clients.js';
import { artifactKey, s3KeyFor } from './keys.js';
import type { ArtifactItem, ArtifactType } from './model.js';
import { planParts } from './partPlan.js';
import { getArtifactItem } from './store.js';
import { isConditionFailure } from './status.js';
import { logger } from '../shared/logger.js';

/** Presigned URLs live long enough for a slow link to push a large rootfs; resume re-issues them. */
export const URL_TTL_SECONDS = 6 * 3600;

export interface ArtifactUploadView {
  type: ArtifactType;
  sha256: string;
  uploadId: string;
  partSize: number;
  partCount: number;
  parts: { partNumber: number; url: string }[];
  uploadedParts: { partNumber: number; etag: string; size: number }[];
  expiresAt: string;
}

async function startMultipart(c: Clients, art: ArtifactItem): Promise<ArtifactItem> {
  const plan = planParts(art.size);
  const created = await c.s3.send(new CreateMultipartUploadCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(art.sha256), ContentType: 'application/octet-stream' }));
  const uploadId = created.UploadId!;
  try {
    await c.doc.send(
      new UpdateCommand({
        TableName: c.config.tableName,
        Key: artifactKey(art.sha256),
        UpdateExpression: 'SET uploadId = :u, partSize = :ps, partCount = :pc, updatedAt = :now, version = version + :one',
        ConditionExpression: 'version = :v AND #s = :uploading',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':u': uploadId, ':ps': plan.partSize, ':pc': plan.partCount, ':now': new Date().toISOString(), ':one': 1, ':v': art.version, ':uploading': 'UPLOADING' },
      }),
    );
    return { ...art, uploadId, partSize: plan.partSize, partCount: plan.partCount, version: art.version + 1 };
  } catch (err) {
    // Another createImage for the same content won the race: use its upload, drop ours.
    await c.s3.send(new AbortMultipartUploadCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(art.sha256), UploadId: uploadId })).catch(() => undefined);
    if (!isConditionFailure(err)) throw err;
    const again = await getArtifactItem(c, art.sha256);
    if (!again?.uploadId) throw new Error(`artifact ${art.sha256}: upload claim lost and no upload recorded`, { cause: err });
    return again;
  }
}

function isMissingUpload(err: unknown): boolean {
  const name = (err as { name?: string; Code?: string }).name;
  return name === 'NoSuchUpload' || name === 'NotFound';
}

/** Parts S3 already holds for the upload, or null when the upload is gone (aborted, expired). */
export async function listUploadedParts(c: Clients, sha256: string, uploadId: string): Promise<Part[] | null> {
  const parts: Part[] = [];
  let marker: string | undefined;
  try {
    for (;;) {
      const out = await c.s3.send(new ListPartsCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(sha256), UploadId: uploadId, PartNumberMarker: marker }));
      parts.push(...(out.Parts ?? []));
      if (!out.IsTruncated) break;
      marker = out.NextPartNumberMarker;
    }
  } catch (err) {
    if (isMissingUpload(err)) return null;
    // An S3 emulator without ListParts (plain s3rver, outside deliverS3rverEvents) still uploads:
    // every part counts as missing, so a resume re-sends them instead of failing.
    const name = (err as { name?: string }).name;
    if (name === 'MethodNotAllowed' || name === 'NotImplemented') {
      logger.warn('ListParts is not supported by this S3 endpoint; resuming re-sends every part', { sha256 });
      return [];
    }
    throw err;
  }
  return parts;
}

async function forgetUpload(c: Clients, art: ArtifactItem): Promise<ArtifactItem> {
  await c.doc.send(
    new UpdateCommand({
      TableName: c.config.tableName,
      Key: artifactKey(art.sha256),
      UpdateExpression: 'REMOVE uploadId SET version = version + :one',
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':one': 1, ':v': art.version },
    }),
  );
  const { uploadId: _dropped, ...rest } = art;
  return { ...rest, version: art.version + 1 };
}

/** The upload instructions for one UPLOADING artifact: starts its multipart upload if needed. */
export async function uploadFor(c: Clients, type: ArtifactType, artifact: ArtifactItem): Promise<ArtifactUploadView> {
  let art = artifact;
  let uploaded: Part[] | null = null;
  for (let attempt = 0; attempt < 3 && uploaded === null; attempt++) {
    if (!art.uploadId) art = await startMultipart(c, art);
    uploaded = await listUploadedParts(c, art.sha256, art.uploadId!);
    if (uploaded === null) art = await forgetUpload(c, art);
  }
  if (uploaded === null) throw new Error(`artifact ${art.sha256}: could not start a multipart upload`);
  const plan = { partSize: art.partSize!, partCount: art.partCount! };
  const expected = (n: number) => (n < plan.partCount ? plan.partSize : art.size - plan.partSize * (plan.partCount - 1));
  // A part counts as held only when its size is what this plan expects; anything else is re-sent.
  const held = new Map(uploaded.filter((p) => p.PartNumber && p.ETag && p.Size === expected(p.PartNumber)).map((p) => [p.PartNumber!, p]));
  const key = s3KeyFor(art.sha256);
  const parts: { partNumber: number; url: string }[] = [];
  for (let n = 1; n <= plan.partCount; n++) {
    if (held.has(n)) continue;
    const url = await getSignedUrl(c.s3, new UploadPartCommand({ Bucket: c.config.bucketName, Key: key, UploadId: art.uploadId!, PartNumber: n }), { expiresIn: URL_TTL_SECONDS });
    parts.push({ partNumber: n, url });
  }
  return {
    type,
    sha256: art.sha256,
    uploadId: art.uploadId!,
    partSize: plan.partSize,
    partCount: plan.partCount,
    parts,
    uploadedParts: [...held.values()].sort((a, b) => a.PartNumber! - b.PartNumber!).map((p) => ({ partNumber: p.PartNumber!, etag: p.ETag!, size: p.Size! })),
    expiresAt: new Date(Date.now() + URL_TTL_SECONDS * 1000).toISOString(),
  };
}
