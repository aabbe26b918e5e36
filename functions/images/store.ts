/** Reads of images and artifacts, and their GraphQL shape (artifact status joined in). */
import { BatchGetCommand, GetCommand, QueryCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../shared/clients.js';
import { artifactKey, imageKey, imagePk, REF_PREFIX, s3KeyFor } from './keys.js';
import type { ArtifactItem, ImageItem } from './model.js';

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
  return out.Item as ImageItem | undefined;
}

export async function getArtifactItem(c: Clients, sha256: string): Promise<ArtifactItem | undefined> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: artifactKey(sha256), ConsistentRead: true }));
  return out.Item as ArtifactItem | undefined;
}

/** Artifact items by sha256, in batches of 100 (BatchGetItem's limit), retrying unprocessed keys. */
export async function getArtifactItems(c: Clients, shas: string[]): Promise<Map<string, ArtifactItem>> {
  const found = new Map<string, ArtifactItem>();
  const unique = [...new Set(shas)];
  for (let i = 0; i < unique.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = unique.slice(i, i + 100).map(artifactKey);
    while (keys && keys.length) {
      const out: BatchGetCommandOutput = await c.doc.send(new BatchGetCommand({ RequestItems: { [c.config.tableName]: { Keys: keys, ConsistentRead: true } } }));
      for (const item of out.Responses?.[c.config.tableName] ?? []) found.set(item.sha256 as string, item as ArtifactItem);
      keys = out.UnprocessedKeys?.[c.config.tableName]?.Keys;
    }
  }
  return found;
}

export async function getImageItems(c: Clients, ids: string[]): Promise<Map<string, ImageItem>> {
  const found = new Map<string, ImageItem>();
  for (let i = 0; i < ids.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = ids.slice(i, i + 100).map(imageKey);
    while (keys && keys.length) {
      const out: BatchGetCommandOutput = await c.doc.send(new BatchGetCommand({ RequestItems: { [c.config.tableName]: { Keys: keys } } }));
      for (const item of out.Responses?.[c.config.tableName] ?? []) found.set(item.id as string, item as ImageItem);
      keys = out.UnprocessedKeys?.[c.config.tableName]?.Keys;
    }
  }
  return found;
}

export async function imageReferences(c: Clients, id: string): Promise<{ kind: string; id: string }[]> {
  const out = await c.doc.send(
    new QueryCommand({
      TableName: c.config.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :ref)',
      ExpressionAttributeValues: { ':pk': imagePk(id), ':ref': REF_PREFIX },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((i) => {
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

export async function imageViews(c: Clients, items: ImageItem[]): Promise<ImageView[]> {
  const artifacts = await getArtifactItems(c, items.flatMap((i) => i.artifacts.map((a) => a.sha256)));
  return Promise.all(items.map(async (i) => toImageView(i, artifacts, await imageReferences(c, i.id))));
}

export async function loadImageView(c: Clients, id: string): Promise<ImageView | null> {
  const item = await getImageItem(c, id);
  if (!item) return null;
  return (await imageViews(c, [item]))[0]!;
}
