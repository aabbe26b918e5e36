/**
 * What groups and partitions share: a named, versioned, tagged item listed on GSI1, with
 * member items in its own partition (PK <KIND>#<name>, SK MEMBER#<site>#<xname>) so its members
 * are one Query. Names are deployment-wide; members come from any site. How a member is recorded on the component (a set of labels, or one partition)
 * is each kind's own file.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import type { Page } from '../shared/pagination.js';
import { batchGet } from '../shared/batchGet.js';
import type { ComponentRef } from './componentStore.js';
import { componentKey, MEMBER_PREFIX } from './keys.js';
import { componentFromItem, componentJson, type ComponentJson } from './model.js';
import { pageAcross } from './paging.js';
import { canSee } from './sites.js';
import { transact } from '../shared/transact.js';
import { name, object, optionalInt, optionalString, stringList } from './validation.js';
import { decodeStored, int, list as listOf, nullable, object as shapeOf, str, withDefault, type Decoder } from '../shared/storedItem.js';

type Item = Record<string, unknown>;

export interface CollectionKind {
  /** "group" or "partition", for messages and audit operations. */
  noun: string;
  /** The attribute holding the name: label for groups, name for partitions. */
  nameField: string;
  entity: string;
  key: (n: string) => { PK: string; SK: string };
  listPk: string;
  /** The kind's own stored attributes beside name, description, tags and the bookkeeping (groups: exclusiveGroup). */
  fields?: Record<string, Decoder<unknown>>;
}

export interface CollectionJson {
  description: string | null;
  tags: string[];
  version: number;
  createdAt: string;
  updatedAt: string;
  [field: string]: unknown;
}

const collectionDecoder = shapeOf({ description: nullable(str), tags: withDefault(listOf(str), []), version: int, createdAt: str, updatedAt: str });

/** A stored Group or Partition item as the API returns it; StoredItemError if it is malformed. */
export function collectionJson(kind: CollectionKind, item: Item): CollectionJson {
  const own = decodeStored(kind.entity, shapeOf({ [kind.nameField]: str, ...kind.fields }), item);
  return { ...own, ...decodeStored(kind.entity, collectionDecoder, item) };
}

export async function getCollection(ctx: OperationContext, kind: CollectionKind, n: string): Promise<Item | undefined> {
  const res = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: kind.key(n), ConsistentRead: true }));
  return res.Item;
}

export async function requireCollection(ctx: OperationContext, kind: CollectionKind, n: string): Promise<Item> {
  const item = await getCollection(ctx, kind, n);
  if (!item) throw new NotFoundError(kind.noun, n, kind.nameField);
  return item;
}

export async function createCollection(ctx: OperationContext, kind: CollectionKind, raw: unknown, extra: (o: Record<string, unknown>) => Item = () => ({})): Promise<CollectionJson> {
  const o = object(raw, 'input');
  const n = name(o[kind.nameField], `input.${kind.nameField}`);
  const now = new Date().toISOString();
  const description = optionalString(o.description, 'input.description');
  const item: Item = {
    ...kind.key(n),
    entity: kind.entity,
    [kind.nameField]: n,
    ...(description !== undefined ? { description } : {}),
    tags: stringList(o.tags, 'input.tags'),
    ...extra(o),
    version: 1,
    createdAt: now,
    updatedAt: now,
    GSI1PK: kind.listPk,
    GSI1SK: n,
  };
  await transact(ctx, () => [
    {
      item: { Put: { TableName: ctx.clients.config.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } },
      onConditionFailed: () => new ConflictError(`${kind.nameField}: ${kind.noun} ${n} already exists`, kind.nameField),
    },
    { item: auditPut(ctx, { operation: `create${cap(kind.noun)}`, target: `${kind.noun}:${n}`, after: collectionJson(kind, item) }) },
  ]);
  return collectionJson(kind, item);
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

export async function updateCollection(ctx: OperationContext, kind: CollectionKind, rawName: unknown, rawPatch: unknown, rawExpected: unknown): Promise<CollectionJson> {
  const n = name(rawName, kind.nameField);
  const patch = object(rawPatch, 'patch');
  const expected = optionalInt(rawExpected, 'expectedVersion', 1);
  let after: Item | undefined;
  await transact(ctx, async () => {
    const cur = await requireCollection(ctx, kind, n);
    if (expected !== undefined && cur.version !== expected) throw new ConflictError(`expectedVersion: ${kind.noun} ${n} is at version ${String(cur.version)}, not ${expected}`, 'expectedVersion');
    const next: Item = { ...cur, version: Number(cur.version) + 1, updatedAt: new Date().toISOString() };
    if ('description' in patch) {
      const d = optionalString(patch.description, 'patch.description');
      if (d === undefined) delete next.description;
      else next.description = d;
    }
    if ('tags' in patch && patch.tags !== undefined) next.tags = stringList(patch.tags, 'patch.tags');
    after = next;
    return [
      {
        item: { Put: { TableName: ctx.clients.config.tableName, Item: next, ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': cur.version } } },
        retryOnConditionFailed: expected === undefined,
        onConditionFailed: () => new ConflictError(`expectedVersion: ${kind.noun} ${n} changed concurrently`, 'expectedVersion'),
      },
      { item: auditPut(ctx, { operation: `update${cap(kind.noun)}`, target: `${kind.noun}:${n}`, before: collectionJson(kind, cur), after: collectionJson(kind, next) }) },
    ];
  });
  return collectionJson(kind, after!);
}

export async function deleteCollectionItem(ctx: OperationContext, kind: CollectionKind, n: string): Promise<void> {
  await transact(ctx, async () => {
    const cur = await requireCollection(ctx, kind, n);
    return [
      { item: { Delete: { TableName: ctx.clients.config.tableName, Key: kind.key(n), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': cur.version } } }, retryOnConditionFailed: true },
      { item: auditPut(ctx, { operation: `delete${cap(kind.noun)}`, target: `${kind.noun}:${n}`, before: collectionJson(kind, cur) }) },
    ];
  });
}

export function listCollections(ctx: OperationContext, kind: CollectionKind, args: { first?: unknown; after?: unknown }): Promise<Page<CollectionJson>> {
  return pageAcross(
    ctx.clients,
    [{ tag: kind.listPk, input: { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': kind.listPk } } }],
    { first: args.first as number | undefined, after: args.after as string | undefined, toNode: (item) => collectionJson(kind, item) },
  );
}

export function membersQuery(kind: CollectionKind, n: string) {
  const pk = kind.key(n).PK;
  return { tag: pk, input: { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :m)', ExpressionAttributeValues: { ':pk': pk, ':m': MEMBER_PREFIX } } };
}

export async function hydrateMembers(ctx: OperationContext, members: Item[]): Promise<(Item | undefined)[]> {
  return batchGet(ctx.clients, members.map((m) => componentKey(String(m.site), String(m.xname))));
}

/** A page of members, resolved to components and limited to the sites the caller sees. */
export function memberPage(ctx: OperationContext, kind: CollectionKind, n: string, args: { first?: unknown; after?: unknown }, keep: (c: Item) => boolean = () => true): Promise<Page<ComponentJson>> {
  return pageAcross(ctx.clients, [membersQuery(kind, n)], {
    first: args.first as number | undefined,
    after: args.after as string | undefined,
    hydrate: (items) => hydrateMembers(ctx, items),
    keep: (c) => canSee(ctx, c.site) && keep(c),
    toNode: (c) => componentJson(componentFromItem(c)),
  });
}

/** All members of a collection (for deleting it). */
export async function allMembers(ctx: OperationContext, kind: CollectionKind, n: string): Promise<ComponentRef[]> {
  const q = membersQuery(kind, n);
  const out: ComponentRef[] = [];
  let start: Item | undefined;
  do {
    const res = await ctx.clients.doc.send(new QueryCommand({ ...q.input, TableName: ctx.clients.config.tableName, ExclusiveStartKey: start }));
    for (const i of res.Items ?? []) out.push({ site: String(i.site), xname: String(i.xname) });
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

type Args = Record<string, unknown>;

/**
 * The operations every collection kind exposes, taking the GraphQL arguments as named for the
 * kind (`label` or `name`). `removeMembers` empties the collection before it is deleted.
 */
export function collectionOperations(
  kind: CollectionKind,
  removeMembers: (ctx: OperationContext, n: string, site: string, xnames: string[]) => Promise<unknown>,
  extra?: (o: Record<string, unknown>) => Item,
) {
  const nameOf = (args: Args | undefined) => name(args?.[kind.nameField], kind.nameField);
  return {
    get: async (ctx: OperationContext, args: Args) => {
      const item = await getCollection(ctx, kind, nameOf(args));
      return item ? collectionJson(kind, item) : null;
    },
    list: (ctx: OperationContext, args: Args) => listCollections(ctx, kind, args),
    create: (ctx: OperationContext, args: Args) => createCollection(ctx, kind, args.input, extra),
    update: (ctx: OperationContext, args: Args) => updateCollection(ctx, kind, args[kind.nameField], args.patch, args.expectedVersion),
    members: (ctx: OperationContext, args: Args, source?: Args) => memberPage(ctx, kind, nameOf(source), args),
    remove: async (ctx: OperationContext, args: Args): Promise<boolean> => {
      const n = nameOf(args);
      await requireCollection(ctx, kind, n);
      const members = await allMembers(ctx, kind, n);
      for (const site of [...new Set(members.map((m) => m.site))]) {
        const xnames = members.filter((m) => m.site === site).map((m) => m.xname);
        for (let i = 0; i < xnames.length; i += 1000) await removeMembers(ctx, n, site, xnames.slice(i, i + 1000));
      }
      await deleteCollectionItem(ctx, kind, n);
      return true;
    },
  };
}
