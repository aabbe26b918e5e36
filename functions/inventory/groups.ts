/**
 * Groups: label, description, tags and an optional exclusive-group name. Groups sharing an
 * exclusiveGroup hold disjoint members; that is enforced by a claim item per
 * (exclusiveGroup, component) created in the membership transaction.
 */
import { ConflictError, NotFoundError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { batchGet } from '../shared/batchGet.js';
import { collectionOperations, requireCollection, type CollectionKind } from './collections.js';
import { componentKey, exclusiveKey, groupKey, groupMemberKey, GROUPS_PK } from './keys.js';
import { changeMembers, componentMembershipUpdate } from './membership.js';
import type { ComponentRecord } from './model.js';
import type { Step } from '../shared/transact.js';
import { name, optionalName } from './validation.js';
import { nullable, str } from '../shared/storedItem.js';

export const GROUP: CollectionKind = { noun: 'group', nameField: 'label', entity: 'Group', key: groupKey, listPk: GROUPS_PK, fields: { exclusiveGroup: nullable(str) } };

function memberSteps(ctx: OperationContext, label: string, exclusiveGroup: string | null, c: ComponentRecord, now: string, adding: boolean): Step[] {
  const TableName = ctx.clients.config.tableName;
  const steps: Step[] = [
    {
      item: adding
        ? { Put: { TableName, Item: { ...groupMemberKey(label, c.site, c.xname), entity: 'GroupMember', label, site: c.site, xname: c.xname }, ConditionExpression: 'attribute_not_exists(PK)' } }
        : { Delete: { TableName, Key: groupMemberKey(label, c.site, c.xname), ConditionExpression: 'attribute_exists(PK)' } },
      onConditionFailed: () => new ConflictError(`xnames: ${c.xname} membership of group ${label} changed concurrently`, 'xnames'),
    },
    {
      item: componentMembershipUpdate(ctx, componentKey(c.site, c.xname), { clause: adding ? 'ADD groups :g' : 'DELETE groups :g', values: { ':g': new Set([label]) }, condition: 'attribute_exists(PK)' }, now),
      onConditionFailed: () => new NotFoundError('component', c.xname, 'xnames'),
    },
  ];
  if (exclusiveGroup) {
    const key = exclusiveKey(exclusiveGroup, c.site, c.xname);
    steps.push({
      item: adding
        ? { Put: { TableName, Item: { ...key, entity: 'ExclusiveClaim', exclusiveGroup, label, site: c.site, xname: c.xname }, ConditionExpression: 'attribute_not_exists(PK) OR label = :l', ExpressionAttributeValues: { ':l': label } } }
        : { Delete: { TableName, Key: key } },
      onConditionFailed: () => new ConflictError(`xnames: ${c.xname} is already in another group of exclusive group ${exclusiveGroup}`, 'xnames'),
    });
  }
  steps.push({ item: auditPut(ctx, { operation: adding ? 'addGroupMembers' : 'removeGroupMembers', target: c.xname, site: c.site, before: { groups: c.groups }, after: { group: label } }) });
  return steps;
}

async function changeGroupMembers(ctx: OperationContext, rawLabel: unknown, xnames: unknown, site: unknown, adding: boolean) {
  const label = name(rawLabel, 'label');
  const g = await requireCollection(ctx, GROUP, label);
  const ex = (g.exclusiveGroup as string | null | undefined) ?? null;
  return changeMembers(ctx, label, xnames, site, (c) => c.groups.includes(label) !== adding, (c, now) => memberSteps(ctx, label, ex, c, now, adding));
}

export const addGroupMembers = (ctx: OperationContext, args: { label: unknown; xnames: unknown; site?: unknown }) => changeGroupMembers(ctx, args.label, args.xnames, args.site, true);
export const removeGroupMembers = (ctx: OperationContext, args: { label: unknown; xnames: unknown; site?: unknown }) => changeGroupMembers(ctx, args.label, args.xnames, args.site, false);

const ops = collectionOperations(
  GROUP,
  (ctx, label, site, xnames) => changeGroupMembers(ctx, label, xnames, site, false),
  (o) => ({ exclusiveGroup: optionalName(o.exclusiveGroup, 'input.exclusiveGroup') ?? null }),
);
export const { get: group, list: groups, create: createGroup, update: updateGroup, members: groupMembers, remove: deleteGroup } = ops;

/** Steps deleting a component's group memberships and exclusive claims (component deletion). */
export async function groupMembershipCleanup(ctx: OperationContext, c: ComponentRecord): Promise<Step[]> {
  if (!c.groups.length) return [];
  const TableName = ctx.clients.config.tableName;
  const gs = await batchGet(ctx.clients, c.groups.map(groupKey));
  return c.groups.flatMap((label, i) => {
    const ex = gs[i]?.exclusiveGroup as string | null | undefined;
    const steps: Step[] = [{ item: { Delete: { TableName, Key: groupMemberKey(label, c.site, c.xname) } } }];
    if (ex) steps.push({ item: { Delete: { TableName, Key: exclusiveKey(ex, c.site, c.xname) } } });
    return steps;
  });
}
