/**
 * deleteImage refuses while anything references the image (boot configurations, sessions),
 * naming each reference. Artifacts no other image or configuration uses are removed from S3.
 */
import { AbortMultipartUploadCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { logger } from '../shared/logger.js';
import { artifactImageKey, artifactKey, artifactPk, imageKey, imageLabelKey, imageNameKey, s3KeyFor } from './keys.js';
import { getArtifactItem, getImageItem, imageReferences } from './store.js';
import { rootfsSessionsPk } from '../orchestration/keys.js';

async function artifactInUse(ctx: OperationContext, sha256: string): Promise<boolean> {
  const c = ctx.clients;
  // The partition holds ARTIFACT (the record), IMAGE#<id> links and REF#… references, in that order.
  const out = await c.doc.send(
    new QueryCommand({
      TableName: c.config.tableName,
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':pk': artifactPk(sha256), ':a': 'IMAGE#', ':b': 'REF#\uffff' },
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).length > 0;
}

/** Removes the artifact's object and record when nothing links to it any more. */
async function collectArtifact(ctx: OperationContext, sha256: string): Promise<void> {
  const c = ctx.clients;
  if (await artifactInUse(ctx, sha256)) return;
  const art = await getArtifactItem(c, sha256);
  if (!art) return;
  await c.doc.send(new DeleteCommand({ TableName: c.config.tableName, Key: artifactKey(sha256), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': art.version } }));
  if (art.uploadId) {
    await c.s3.send(new AbortMultipartUploadCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(sha256), UploadId: art.uploadId })).catch(() => undefined);
  }
  await c.s3.send(new DeleteObjectCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(sha256) }));
}

/** Nodes logged in to a LUN of this image's root filesystem, as the agents last reported. */
async function iscsiSessionRefs(ctx: OperationContext, rootfsSha256: string | undefined): Promise<{ kind: string; id: string }[]> {
  if (!rootfsSha256) return [];
  const out = await ctx.clients.doc.send(
    new QueryCommand({
      TableName: ctx.clients.config.tableName,
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :p',
      ExpressionAttributeValues: { ':p': rootfsSessionsPk(rootfsSha256) },
      Limit: 20,
    }),
  );
  return (out.Items ?? []).map((i) => ({ kind: 'ISCSI_SESSION', id: `${String(i.xname ?? i.initiatorIqn)} on ${String(i.site)}/${String(i.agent)}` }));
}

export async function deleteImage(args: { id: string }, ctx: OperationContext): Promise<boolean> {
  const c = ctx.clients;
  const image = await getImageItem(c, args.id);
  if (!image) throw new NotFoundError('image', args.id, 'id');
  const rootfs = image.artifacts.find((a) => a.type === 'ROOTFS_SQUASHFS')?.sha256;
  const refs = [...(await imageReferences(c, image.id)), ...(await iscsiSessionRefs(ctx, rootfs))];
  if (refs.length) {
    const named = refs.map((r) => `${r.kind.toLowerCase().replace(/_/g, ' ')} ${r.id}`).join(', ');
    throw new ConflictError(`image ${image.name} ${image.imageVersion} (${image.id}) is in use by ${named}; change or remove ${refs.length === 1 ? 'it' : 'them'} first`, 'id');
  }
  const table = c.config.tableName;
  await c.doc.send(
    new TransactWriteCommand({
      TransactItems: [
        // Whoever adds a reference also bumps the image's version in its transaction (the boot domain
        // does), so a reference added since the check above makes this delete fail instead of dangle.
        { Delete: { TableName: table, Key: imageKey(image.id), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': image.version } } },
        { Delete: { TableName: table, Key: imageNameKey(image.name, image.imageVersion) } },
        ...(image.labels ?? []).map((l) => ({ Delete: { TableName: table, Key: imageLabelKey(image.id, l.key) } })),
        ...image.artifacts.map((a) => ({ Delete: { TableName: table, Key: artifactImageKey(a.sha256, image.id) } })),
        auditPut(ctx, { operation: 'deleteImage', target: `image:${image.id}`, before: { name: image.name, version: image.imageVersion, status: image.status } }),
      ],
    }),
  );
  for (const a of image.artifacts) {
    await collectArtifact(ctx, a.sha256).catch((error: Error) => logger.warn('artifact cleanup failed; it stays until the next delete', { sha256: a.sha256, error }));
  }
  return true;
}
