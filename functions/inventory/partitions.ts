/**
 * Partitions: a component is in at most one, recorded as the component's `partition`
 * attribute (set only when absent or equal, in the membership transaction) plus a member item
 * so a partition's members are one Query.
 */
import { ConflictError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import {
  allMembers,
  collectionJson,
  createCollection,
  deleteCollectionItem,
  getCollection,
  listCollections,
  memberPage,
  requireCollection,
  updateCollection,
  type CollectionKind,
} from './collections.js';
import { componentKey, partitionKey, partitionMemberKey, PARTITIONS_PK } from './keys.js';
import { changeMembers, componentMembershipUpdate } from './membership.js';
import type { ComponentRecord } from './model.js';
import type { Step } from './transact.js';
import { name } from './validation.js';

export const PARTITION: CollectionKind = { noun: 'partition', nameField: 'name', entity: 'Partition', key: partitionKey, listPk: PARTITIONS_PK };

export const partition = async (ctx: OperationContext, args: { name: unknown }) => {
  const item = await getCollection(ctx, PARTITION, name(args.name, 'name'));
  return item ? collectionJson(item) : null;
};
export const partitions = (ctx: OperationContext, args: { first?: unknown; after?: unknown }) => listCollections(ctx, PARTITION, args);
export const createPartition = (ctx: OperationContext, args: { input: unknown }) => createCollection(ctx, PARTITION, args.input);
export const updatePartition = (ctx: OperationContext, args: { name: unknown; patch: unknown; expectedVersion?: unknown }) => updateCollection(ctx, PARTITION, args.name, args.patch, args.expectedVersion);
export const partitionMembers = (ctx: OperationContext, args: { first?: unknown; after?: unknown }, source?: Record<string, unknown>) =>
  memberPage(ctx, PARTITION, name(source?.name, 'name'), args);

export async function addPartitionMembers(ctx: OperationContext, args: { name: unknown; xnames: unknown }) {
  const p = name(args.name, 'name');
  await requireCollection(ctx, PARTITION, p);
  const TableName = ctx.clients.config.tableName;
  return changeMembers(
    ctx,
    p,
    args.xnames,
    (c) => {
      if (c.partition !== undefined && c.partition !== p) throw new ConflictError(`xnames: ${c.xname} is already in partition ${c.partition}`, 'xnames');
      return c.partition !== p;
    },
    (c, now): Step[] => [
      {
        item: componentMembershipUpdate(ctx, componentKey(c.xname), { set: '#p = :p', values: { ':p': p }, condition: 'attribute_exists(PK) AND (attribute_not_exists(#p) OR #p = :p)' }, now),
        onConditionFailed: () => new ConflictError(`xnames: ${c.xname} joined another partition concurrently`, 'xnames'),
      },
      { item: { Put: { TableName, Item: { ...partitionMemberKey(p, c.xname), entity: 'PartitionMember', name: p, xname: c.xname } } } },
      { item: auditPut(ctx, { operation: 'addPartitionMembers', target: c.xname, before: { partition: c.partition ?? null }, after: { partition: p } }) },
    ],
  );
}

export async function removePartitionMembers(ctx: OperationContext, args: { name: unknown; xnames: unknown }) {
  const p = name(args.name, 'name');
  await requireCollection(ctx, PARTITION, p);
  const TableName = ctx.clients.config.tableName;
  return changeMembers(
    ctx,
    p,
    args.xnames,
    (c) => c.partition === p,
    (c, now): Step[] => [
      {
        item: componentMembershipUpdate(ctx, componentKey(c.xname), { clause: 'REMOVE #p', values: { ':p': p }, condition: '#p = :p' }, now),
        onConditionFailed: () => new ConflictError(`xnames: ${c.xname} left partition ${p} concurrently`, 'xnames'),
      },
      { item: { Delete: { TableName, Key: partitionMemberKey(p, c.xname) } } },
      { item: auditPut(ctx, { operation: 'removePartitionMembers', target: c.xname, before: { partition: p }, after: { partition: null } }) },
    ],
  );
}

export async function deletePartition(ctx: OperationContext, args: { name: unknown }): Promise<boolean> {
  const p = name(args.name, 'name');
  await requireCollection(ctx, PARTITION, p);
  const members = await allMembers(ctx, PARTITION, p);
  for (let i = 0; i < members.length; i += 1000) await removePartitionMembers(ctx, { name: p, xnames: members.slice(i, i + 1000) });
  await deleteCollectionItem(ctx, PARTITION, p);
  return true;
}

export function partitionMembershipCleanup(ctx: OperationContext, c: ComponentRecord): Step[] {
  return c.partition ? [{ item: { Delete: { TableName: ctx.clients.config.tableName, Key: partitionMemberKey(c.partition, c.xname) } } }] : [];
}
