/**
 * completeArtifactUpload: the client has PUT every part; S3 assembles them. The artifact turns
 * VERIFYING *before* CompleteMultipartUpload, because S3 (and s3rver) may deliver the
 * ObjectCreated event to the finalizer before this call returns.
 */
import { CompleteMultipartUploadCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, NotFoundError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { artifactKey, s3KeyFor } from './keys.js';
import type { ArtifactType } from './model.js';
import { getArtifactItem, getImageItem, loadImageView, type ImageView } from './store.js';
import { refreshImagesOf } from './status.js';

export interface CompleteArgs {
  imageId: string;
  type: ArtifactType;
  uploadId: string;
  parts: { partNumber: number; etag: string }[];
}

export async function completeArtifactUpload(args: CompleteArgs, ctx: OperationContext): Promise<ImageView> {
  const c = ctx.clients;
  const image = await getImageItem(c, args.imageId);
  if (!image) throw new NotFoundError('image', args.imageId, 'imageId');
  const declared = image.artifacts.find((a) => a.type === args.type);
  if (!declared) throw new BadUserInputError('type', `image ${image.name} ${image.imageVersion} has no ${args.type} artifact`);
  const art = await getArtifactItem(c, declared.sha256);
  if (!art) throw new NotFoundError('artifact', declared.sha256, 'type');
  // Already past this step (a retried call, or another image sharing the content): nothing to do.
  if (art.status === 'VERIFYING' || art.status === 'READY') return (await loadImageView(c, image.id))!;
  if (art.status !== 'UPLOADING' || art.uploadId !== args.uploadId) {
    throw new ConflictError(`upload ${args.uploadId} is not the current upload of ${args.type} (${declared.sha256}, status ${art.status}); run resumeImageUpload for the current one`, 'uploadId');
  }
  const parts = [...args.parts].sort((a, b) => a.partNumber - b.partNumber);
  if (parts.length !== art.partCount || parts.some((p, i) => p.partNumber !== i + 1)) {
    throw new BadUserInputError('parts', `expected parts 1..${art.partCount} exactly once each, got ${parts.length} (${parts.map((p) => p.partNumber).join(',')})`);
  }
  const table = c.config.tableName;
  await c.doc.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: table,
            Key: artifactKey(art.sha256),
            UpdateExpression: 'SET #s = :verifying, updatedAt = :now, version = version + :one',
            ConditionExpression: '#s = :uploading AND uploadId = :u',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':verifying': 'VERIFYING', ':uploading': 'UPLOADING', ':u': args.uploadId, ':now': new Date().toISOString(), ':one': 1 },
          },
        },
        auditPut(ctx, { operation: 'completeArtifactUpload', target: `image:${image.id}`, after: { type: args.type, sha256: art.sha256, parts: parts.length } }),
      ],
    }),
  );
  try {
    const out = await c.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: c.config.bucketName,
        Key: s3KeyFor(art.sha256),
        UploadId: args.uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
    await c.doc.send(
      new UpdateCommand({ TableName: table, Key: artifactKey(art.sha256), UpdateExpression: 'SET etag = :e REMOVE uploadId', ExpressionAttributeValues: { ':e': out.ETag ?? '' } }),
    );
  } catch (err) {
    // Back to UPLOADING so the client can fix the part list or re-send parts and call again.
    await c.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: artifactKey(art.sha256),
        UpdateExpression: 'SET #s = :uploading',
        ConditionExpression: '#s = :verifying',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':uploading': 'UPLOADING', ':verifying': 'VERIFYING' },
      }),
    ).catch(() => undefined);
    const e = err as { name?: string; message?: string };
    throw new BadUserInputError('parts', `S3 refused to complete the upload: ${e.name ?? 'Error'} ${e.message ?? ''}`.trim());
  }
  await refreshImagesOf(c, art.sha256);
  return (await loadImageView(c, image.id))!;
}
