/** Reads of images and artifacts, and their GraphQL shape (artifact status joined in). */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { batchGet } from '../shared/batchGet.js';
import type { Clients } from '../shared/clients.js';
import { artifactKey, imageKey, imagePk, REF_PREFIX, s3KeyFor } from './keys.js';
import { decodeArtifact, decodeImage, type ArtifactItem, type ImageItem } from './model.js';

export interface ImageView {
  id: string;
  name: string;
  version: string;
  arch: string;
  labels: { key: string; value: string }[];
  status: string;
  reason: string | null;
  artifacts: { type: string; size: number; sha256: string; status: string; reason: string | null; s3Key: string; etag: string | null }[];
  references: { kind: string; id: string }[];
  createdAt: string;
  updatedAt: string;
}

export async function getImageItem(c: Clients, id: string): Promise<ImageItem | undefined> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: imageKey(id), ConsistentRead: true }));
  return out.Item ? decodeImage(out.Item) : undefined;
}

export async function getArtifactItem(c: Clients, sha256: string): Promise<ArtifactItem | undefined> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: artifactKey(sha256), ConsistentRead: true }));
  return out.Item ? decodeArtifact(out.Item) : undefined;
}

/** Artifact items by sha256, in batches of 100 (BatchGetItem's limit), retrying unprocessed keys. */
export async function getArtifactItems(c: Clients, shas: string[]): Promise<Map<string, ArtifactItem>> {
  const items = await batchGet(c, [...new Set(shas)].map(artifactKey), true);
  return new Map(items.filter((i) => i !== undefined).map((i) => decodeArtifact(i)).map((a) => [a.sha256, a]));
}

export async function getImageItems(c: Clients, ids: string[]): Promise<Map<string, ImageItem>> {
  const items = await batchGet(c, [...new Set(ids)].map(imageKey));
  return new Map(items.filter((i) => i !== undefined).map((i) => decodeImage(i)).map((m) => [m.id, m]));
}

/** What may be shown of a reference: a boot configuration of a site the caller may not read is not (images span sites, their users do not). */
export type ReferenceFilter = (site: unknown) => boolean;
const everyReference: ReferenceFilter = () => true;

export async function imageReferences(c: Clients, id: string, shown: ReferenceFilter = everyReference): Promise<{ kind: string; id: string }[]> {
  const out = await c.doc.send(
    new QueryCommand({
      TableName: c.config.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :ref)',
      ExpressionAttributeValues: { ':pk': imagePk(id), ':ref': REF_PREFIX },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).filter((i) => shown(i.site)).map((i) => {
    const [, kind, ...rest] = (i.SK as string).split('#');
    return { kind: kind!, id: rest.join('#') };
  });
}

export function toImageView(item: ImageItem, artifacts: Map<string, ArtifactItem>, references: { kind: string; id: string }[]): ImageView {
  return {
    id: item.id,
    name: item.name,
    version: item.imageVersion,
    arch: item.arch,
    labels: item.labels ?? [],
    status: item.status,
    reason: item.reason ?? null,
    artifacts: item.artifacts.map((a) => {
      const stored = artifacts.get(a.sha256);
      return {
        type: a.type,
        size: a.size,
        sha256: a.sha256,
        // An artifact item vanishes only when GC ran after a failure; report what the image knew.
        status: stored?.status ?? 'FAILED',
        reason: stored ? (stored.reason ?? null) : 'artifact record missing',
        s3Key: s3KeyFor(a.sha256),
        etag: stored?.etag ?? null,
      };
    }),
    references,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

export async function imageViews(c: Clients, items: ImageItem[], shown: ReferenceFilter = everyReference): Promise<ImageView[]> {
  const artifacts = await getArtifactItems(c, items.flatMap((i) => i.artifacts.map((a) => a.sha256)));
  return Promise.all(items.map(async (i) => toImageView(i, artifacts, await imageReferences(c, i.id, shown))));
}

export async function loadImageView(c: Clients, id: string, shown: ReferenceFilter = everyReference): Promise<ImageView | null> {
  const item = await getImageItem(c, id);
  if (!item) return null;
  return (await imageViews(c, [item], shown))[0]!;
}
