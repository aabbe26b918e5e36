/**
 * Keeps each image's stored status (which the status index lists by) in step with its
 * artifacts. Every writer of an artifact status calls refreshImagesOf after its write, and the
 * update is conditional on the image's version, so two artifacts finishing at once cannot
 * leave an image behind: the later refresh re-reads and sees both.
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../shared/clients.js';
import { artifactPk, imageKey, imagesByStatusPk } from './keys.js';
import { imageStatusOf, type ImageItem } from './model.js';
import { getArtifactItems, getImageItem } from './store.js';
import { noteSnapshotInputChanged } from '../sites/snapshotChanges.js';

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string }).name === 'ConditionalCheckFailedException';
}

export async function refreshImage(c: Clients, id: string): Promise<ImageItem | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const image = await getImageItem(c, id);
    if (!image) return undefined;
    const artifacts = await getArtifactItems(c, image.artifacts.map((a) => a.sha256));
    const next = imageStatusOf(image.artifacts.map((a) => ({ type: a.type, status: artifacts.get(a.sha256)?.status ?? 'FAILED', reason: artifacts.get(a.sha256)?.reason })));
    if (next.status === image.status && (next.reason ?? null) === (image.reason ?? null)) return image;
    const now = new Date().toISOString();
    try {
      await c.doc.send(
        new UpdateCommand({
          TableName: c.config.tableName,
          Key: imageKey(id),
          UpdateExpression: next.reason
            ? 'SET #s = :s, reason = :r, GSI3PK = :g, updatedAt = :now, version = version + :one'
            : 'SET #s = :s, GSI3PK = :g, updatedAt = :now, version = version + :one REMOVE reason',
          ConditionExpression: 'version = :v',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':s': next.status,
            ':g': imagesByStatusPk(next.status),
            ':now': now,
            ':one': 1,
            ':v': image.version,
            ...(next.reason ? { ':r': next.reason } : {}),
          },
        }),
      );
      return { ...image, status: next.status, ...(next.reason ? { reason: next.reason } : {}), version: image.version + 1, updatedAt: now };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
  throw new Error(`image ${id}: status refresh kept conflicting`);
}

/** Every image that declares the artifact. */
export async function imagesOfArtifact(c: Clients, sha256: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await c.doc.send(
      new QueryCommand({
        TableName: c.config.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :img)',
        ExpressionAttributeValues: { ':pk': artifactPk(sha256), ':img': 'IMAGE#' },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    ids.push(...(out.Items ?? []).map((i) => i.imageId as string));
    start = out.LastEvaluatedKey;
  } while (start);
  return ids;
}

export async function refreshImagesOf(c: Clients, sha256: string): Promise<void> {
  // An artifact's status is in every site's snapshot and its writers carry no audit record.
  await noteSnapshotInputChanged(c, null);
  for (const id of await imagesOfArtifact(c, sha256)) await refreshImage(c, id);
}

export { isConditionFailure };
