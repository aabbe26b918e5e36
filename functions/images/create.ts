/**
 * createImage and resumeImageUpload. An image and its name claim, labels and artifact links are
 * written in one transaction; artifacts are content-addressed and shared, so one already READY
 * is reused without a byte moving. A second createImage with identical input is the resume path.
 */
import { randomUUID } from 'node:crypto';
import { TransactWriteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, NotFoundError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { artifactImageKey, artifactKey, imageKey, imageLabelKey, imageNameKey, imagesByLabelPk, imagesByNamePk, imagesByStatusPk, IMAGES_PK, s3KeyFor } from './keys.js';
import { imageStatusOf, type Arch, type ArtifactItem, type DeclaredArtifact, type ImageItem, type Label } from './model.js';
import { getArtifactItems, getImageItem, loadImageView, type ImageView } from './store.js';
import { refreshImage } from './status.js';
import { uploadFor, type ArtifactUploadView } from './uploads.js';
import { checkArch, checkArtifacts, checkLabels, checkName, fingerprint } from './validate.js';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';

export interface CreateImageArgs {
  input: { name: string; version: string; arch: string; labels?: Label[] | null; artifacts: DeclaredArtifact[] };
}

export interface CreateImageResult {
  image: ImageView;
  uploads: ArtifactUploadView[];
  resumed: boolean;
}

export function labelItems(image: Pick<ImageItem, 'id' | 'name' | 'createdAt'>, labels: Label[]) {
  return labels.map((l) => ({
    ...imageLabelKey(image.id, l.key),
    entity: 'ImageLabel',
    imageId: image.id,
    key: l.key,
    value: l.value,
    GSI1PK: imagesByLabelPk(l.key, l.value),
    GSI1SK: `${image.name}#${image.createdAt}#${image.id}`,
  }));
}

/** A FAILED artifact gets a fresh chance: back to UPLOADING, new multipart upload on demand. */
async function restartFailed(ctx: OperationContext, art: ArtifactItem): Promise<void> {
  const c = ctx.clients;
  await c.doc.send(
    new UpdateCommand({
      TableName: c.config.tableName,
      Key: artifactKey(art.sha256),
      UpdateExpression: 'SET #s = :up, updatedAt = :now, version = version + :one REMOVE reason, uploadId, etag',
      ConditionExpression: 'version = :v AND #s = :failed',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':up': 'UPLOADING', ':failed': 'FAILED', ':now': new Date().toISOString(), ':one': 1, ':v': art.version },
    }),
  ).catch(() => undefined); // someone else restarted it: fine, we read the result next
}

/** The uploads still needed for an image: one per artifact in UPLOADING (FAILED ones restarted). */
async function pendingUploads(ctx: OperationContext, image: ImageItem): Promise<ArtifactUploadView[]> {
  const c = ctx.clients;
  let arts = await getArtifactItems(c, image.artifacts.map((a) => a.sha256));
  const failed = image.artifacts.filter((a) => arts.get(a.sha256)?.status === 'FAILED');
  if (failed.length) {
    for (const a of failed) await restartFailed(ctx, arts.get(a.sha256)!);
    arts = await getArtifactItems(c, image.artifacts.map((a) => a.sha256));
  }
  const uploads: ArtifactUploadView[] = [];
  for (const a of image.artifacts) {
    const art = arts.get(a.sha256);
    if (art?.status === 'UPLOADING') uploads.push(await uploadFor(c, a.type, art));
  }
  return uploads;
}

async function resume(ctx: OperationContext, image: ImageItem): Promise<CreateImageResult> {
  const uploads = await pendingUploads(ctx, image);
  await refreshImage(ctx.clients, image.id);
  return { image: (await loadImageView(ctx.clients, image.id))!, uploads, resumed: true };
}

export async function createImage(args: CreateImageArgs, ctx: OperationContext): Promise<CreateImageResult> {
  const c = ctx.clients;
  const input = args.input;
  const name = checkName(input.name, 'input.name');
  const version = checkName(input.version, 'input.version');
  const arch: Arch = checkArch(input.arch, 'input.arch');
  const labels = checkLabels(input.labels, 'input.labels');
  const artifacts = checkArtifacts(input.artifacts, 'input.artifacts');
  const fp = fingerprint(name, version, arch, artifacts);

  const claim = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: imageNameKey(name, version), ConsistentRead: true }));
  if (claim.Item) {
    const existing = await getImageItem(c, claim.Item.imageId as string);
    if (existing && existing.fingerprint === fp) return resume(ctx, existing);
    throw new ConflictError(`image ${name} version ${version} already exists (id ${claim.Item.imageId as string}) with a different arch or artifacts; choose another version or delete it`, 'input.version');
  }

  const stored = await getArtifactItems(c, artifacts.map((a) => a.sha256));
  for (const a of artifacts) {
    const s = stored.get(a.sha256);
    if (s && s.size !== a.size) {
      throw new BadUserInputError(`input.artifacts.${a.type}.size`, `sha256 ${a.sha256} is already stored with ${s.size} bytes, not ${a.size}: the declared size or digest is wrong`);
    }
  }
  const now = new Date().toISOString();
  const id = randomUUID();
  const statuses = artifacts.map((a) => ({ type: a.type, status: stored.get(a.sha256)?.status === 'FAILED' ? ('UPLOADING' as const) : (stored.get(a.sha256)?.status ?? ('UPLOADING' as const)) }));
  const initial = imageStatusOf(statuses);
  const image: ImageItem = {
    ...imageKey(id),
    id,
    name,
    imageVersion: version,
    arch,
    labels,
    status: initial.status,
    artifacts,
    fingerprint: fp,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const table = c.config.tableName;
  const newArtifacts = artifacts.filter((a) => !stored.has(a.sha256));
  const items = [
    {
      Put: {
        TableName: table,
        Item: { ...image, entity: 'Image', GSI1PK: imagesByNamePk(name), GSI1SK: `${now}#${id}`, GSI2PK: IMAGES_PK, GSI2SK: `${arch}#${name}#${now}#${id}`, GSI3PK: imagesByStatusPk(initial.status), GSI3SK: `${name}#${now}#${id}` },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
    { Put: { TableName: table, Item: { ...imageNameKey(name, version), entity: 'ImageName', imageId: id }, ConditionExpression: 'attribute_not_exists(PK)' } },
    ...labelItems(image, labels).map((Item) => ({ Put: { TableName: table, Item } })),
    ...artifacts.map((a) => ({ Put: { TableName: table, Item: { ...artifactImageKey(a.sha256, id), entity: 'ArtifactImage', imageId: id, type: a.type } } })),
    ...newArtifacts.map((a) => ({
      Put: {
        TableName: table,
        Item: { ...artifactKey(a.sha256), entity: 'Artifact', sha256: a.sha256, size: a.size, status: 'UPLOADING', s3Key: s3KeyFor(a.sha256), version: 1, createdAt: now, updatedAt: now },
        // A concurrent push of the same content created it first: the transaction retries below.
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    })),
    auditPut(ctx, { operation: 'createImage', target: `image:${id}`, after: { name, version, arch, labels, artifacts } }),
  ];
  try {
    await c.doc.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (err) {
    const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
    if (reasons?.[1]?.Code === 'ConditionalCheckFailed') {
      const again = await c.doc.send(new GetCommand({ TableName: table, Key: imageNameKey(name, version), ConsistentRead: true }));
      const other = again.Item ? await getImageItem(c, again.Item.imageId as string) : undefined;
      if (other && other.fingerprint === fp) return resume(ctx, other);
      throw new ConflictError(`image ${name} version ${version} was created concurrently by another push`, 'input.version');
    }
    if (reasons?.some((r) => r.Code === 'ConditionalCheckFailed')) {
      throw new ConflictError('another push of the same artifact content started at the same moment; re-run the push to join it', 'input.artifacts');
    }
    throw err;
  }
  const uploads = await pendingUploads(ctx, image);
  await refreshImage(c, id);
  return { image: (await loadImageView(c, id))!, uploads, resumed: false };
}

export async function resumeImageUpload(args: { imageId: string }, ctx: OperationContext): Promise<CreateImageResult> {
  const image = await getImageItem(ctx.clients, args.imageId);
  if (!image) throw new NotFoundError('image', args.imageId, 'imageId');
  return resume(ctx, image);
}
