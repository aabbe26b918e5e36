/**
 * Verification of an uploaded artifact: stream the object from S3, count and hash it, and only
 * then mark it READY. A mismatch marks it FAILED with the reason and deletes the object, so bad
 * bytes never sit under a content address that claims otherwise.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../shared/clients.js';
import { logger } from '../shared/logger.js';
import { artifactKey, s3KeyFor } from './keys.js';
import type { Status } from './model.js';
import { getArtifactItem } from './store.js';
import { refreshImagesOf } from './status.js';

export interface Verification {
  sha256: string;
  status: Status | 'IGNORED';
  reason?: string;
}

export async function verifyArtifact(c: Clients, bucket: string, sha256: string): Promise<Verification> {
  const key = s3KeyFor(sha256);
  const art = await getArtifactItem(c, sha256);
  if (!art) {
    logger.warn('object with no artifact record; deleting it', { bucket, key });
    await c.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return { sha256, status: 'IGNORED', reason: 'no artifact record' };
  }
  if (art.status === 'READY') return { sha256, status: 'READY' }; // a redelivered event
  const obj = await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of obj.Body as Readable) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const digest = hash.digest('hex');
  let reason: string | undefined;
  if (size !== art.size) reason = `size mismatch: declared ${art.size} bytes, S3 holds ${size}`;
  else if (digest !== sha256) reason = `sha256 mismatch: declared ${sha256}, content hashes to ${digest}`;
  const status: Status = reason ? 'FAILED' : 'READY';
  try {
    await c.doc.send(
      new UpdateCommand({
        TableName: c.config.tableName,
        Key: artifactKey(sha256),
        UpdateExpression: reason
          ? 'SET #s = :s, reason = :r, updatedAt = :now, verifiedAt = :now, version = version + :one REMOVE uploadId'
          : 'SET #s = :s, etag = :e, updatedAt = :now, verifiedAt = :now, version = version + :one REMOVE reason, uploadId',
        ConditionExpression: '#s IN (:uploading, :verifying)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':s': status,
          ':now': new Date().toISOString(),
          ':one': 1,
          ':uploading': 'UPLOADING',
          ':verifying': 'VERIFYING',
          ...(reason ? { ':r': reason } : { ':e': obj.ETag ?? art.etag ?? '' }),
        },
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
    return { sha256, status: 'IGNORED', reason: 'artifact changed state during verification' };
  }
  if (reason) {
    logger.warn('artifact failed verification', { sha256, reason });
    await c.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
  await refreshImagesOf(c, sha256);
  return reason ? { sha256, status, reason } : { sha256, status };
}
