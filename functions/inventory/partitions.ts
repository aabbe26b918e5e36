/**
 * Partitions: a component is in at most one, recorded as the component's `partition`
 * attribute (set only when absent or equal, in the membership transaction) plus a member item
 * so a partition's members are one Query.
 */
import { ConflictError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { collectionOperations, requireCollection, type CollectionKind } from './collections.js';
import { componentKey, partitionKey, partitionMemberKey, PARTITIONS_PK } from './keys.js';
import { changeMembers, componentMembershipUpdate } from './membership.js';
import type { ComponentRecord } from './model.js';
import type { Step } from '../shared/transact.js';
import { name } from './validation.js';

export const PARTITION: CollectionKind = { noun: 'partition', nameField: 'name', entity: 'Partition', key: partitionKey, listPk: PARTITIONS_PK };

function memberSteps(ctx: OperationContext, p: string, c: ComponentRecord, now: string, adding: boolean): Step[] {
  const TableName = ctx.clients.config.tableName;
  const update = adding
    ? { set: '#p = :p', values: { ':p': p }, condition: 'attribute_exists(PK) AND (attribute_not_exists(#p) OR #p = :p)' }
    : { clause: 'REMOVE #p', values: { ':p': p }, condition: '#p = :p' };
  return [
    {
      item: componentMembershipUpdate(ctx, componentKey(c.site, c.xname), update, now),
      onConditionFailed: () => new ConflictError(`xnames: ${c.xname} ${adding ? 'joined another partition' : `left partition ${p}`} concurrently`, 'xnames'),
    },
    adding
      ? { item: { Put: { TableName, Item: { ...partitionMemberKey(p, c.site, c.xname), entity: 'PartitionMember', name: p, site: c.site, xname: c.xname } } } }
      : { item: { Delete: { TableName, Key: partitionMemberKey(p, c.site, c.xname) } } },
    {
      item: auditPut(ctx, {
        operation: adding ? 'addPartitionMembers' : 'removePartitionMembers',
        target: c.xname,
        before: { partition: c.partition ?? null },
        after: { partition: adding ? p : null },
      }),
    },
  ];
}

async function changePartitionMembers(ctx: OperationContext, rawName: unknown, xnames: unknown, site: unknown, adding: boolean) {
  const p = name(rawName, 'name');
  await requireCollection(ctx, PARTITION, p);
  const needsChange = (c: ComponentRecord) => {
    if (adding && c.partition !== undefined && c.partition !== p) throw new ConflictError(`xnames: ${c.xname} is already in partition ${c.partition}`, 'xnames');
    return (c.partition === p) !== adding;
  };
  return changeMembers(ctx, p, xnames, site, needsChange, (c, now) => memberSteps(ctx, p, c, now, adding));
}

export const addPartitionMembers = (ctx: OperationContext, args: { name: unknown; xnames: unknown; site?: unknown }) => changePartitionMembers(ctx, args.name, args.xnames, args.site, true);
export const removePartitionMembers = (ctx: OperationContext, args: { name: unknown; xnames: unknown; site?: unknown }) => changePartitionMembers(ctx, args.name, args.xnames, args.site, false);

const ops = collectionOperations(PARTITION, (ctx, p, site, xnames) => changePartitionMembers(ctx, p, xnames, site, false));
export const { get: partition, list: partitions, create: createPartition, update: updatePartition, members: partitionMembers, remove: deletePartition } = ops;

export function partitionMembershipCleanup(ctx: OperationContext, c: ComponentRecord): Step[] {
  return c.partition ? [{ item: { Delete: { TableName: ctx.clients.config.tableName, Key: partitionMemberKey(c.partition, c.site, c.xname) } } }] : [];
}
