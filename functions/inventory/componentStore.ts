/**
 * Reading component items and writing one component change as transaction steps: the item
 * (conditional on the version read, so a concurrent writer makes this one retry or fail),
 * its uniqueness claims, and its audit record.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { batchGet } from '../shared/batchGet.js';
import { claimSteps } from './interfaces.js';
import { componentKey, roleStateSk, siteComponentsPk, siteRolePk } from './keys.js';
import { componentFromItem, componentSummary, type ComponentRecord } from './model.js';
import { canSee } from './sites.js';
import type { Step } from '../shared/transact.js';

/**
 * Reads that a conditional write builds on are strongly consistent (a stale version would only
 * fail and retry); plain API reads are eventually consistent like the index Queries, at half
 * the read capacity.
 */
export async function getComponent(ctx: OperationContext, site: string, xname: string, consistent = true): Promise<ComponentRecord | undefined> {
  const res = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: componentKey(site, xname), ConsistentRead: consistent }));
  return res.Item ? componentFromItem(res.Item) : undefined;
}

/** A component's address: xnames are unique within a site, not across sites. */
export interface ComponentRef {
  site: string;
  xname: string;
}

export async function getComponents(ctx: OperationContext, refs: ComponentRef[]): Promise<(ComponentRecord | undefined)[]> {
  const items = await batchGet(ctx.clients, refs.map((r) => componentKey(r.site, r.xname)), true);
  return items.map((i) => (i ? componentFromItem(i) : undefined));
}

/** For writes: the component, NOT_FOUND (naming the site) when absent or (for an agent) in another site. */
export async function requireComponent(ctx: OperationContext, site: string, xname: string, field = 'xname'): Promise<ComponentRecord> {
  const c = await getComponent(ctx, site, xname);
  if (!c || !canSee(ctx, c.site)) throw new NotFoundError('component', `${xname} in site ${site}`, field);
  return c;
}

/** The stored item: the record plus the keys of the indexes that list it. */
export function componentItem(r: ComponentRecord): Record<string, unknown> {
  const { groups, interfaces, ...rest } = r;
  return {
    ...componentKey(r.site, r.xname),
    entity: 'Component',
    ...rest,
    interfaces,
    // A string set so membership changes can ADD/DELETE one label without rewriting the item.
    ...(groups.length ? { groups: new Set(groups) } : {}),
    GSI1PK: siteComponentsPk(r.site),
    GSI1SK: r.xname,
    GSI2PK: siteRolePk(r.site, r.role),
    GSI2SK: roleStateSk(r.state, r.xname),
  };
}

export interface WriteOptions {
  operation: string;
  /** When the caller named a version: a mismatch is CONFLICT, never a silent retry. */
  expectedVersion?: number;
  /** False when the caller audits several components in one record (bulk packs). */
  audit?: boolean;
}

function stale(xname: string, expected: number | undefined): ConflictError {
  return new ConflictError(`expectedVersion: component ${xname} has changed since version ${expected}; read it again`, 'expectedVersion');
}

/** The steps that take a component from `before` (absent: create) to `after` (absent: delete). */
export function componentSteps(ctx: OperationContext, before: ComponentRecord | undefined, after: ComponentRecord | undefined, o: WriteOptions): Step[] {
  const TableName = ctx.clients.config.tableName;
  const xname = (after ?? before)!.xname;
  const named = o.expectedVersion !== undefined;
  const onConditionFailed = named ? () => stale(xname, o.expectedVersion) : undefined;
  const main: Step = after
    ? {
        item: {
          Put: {
            TableName,
            Item: componentItem(after),
            ...(before
              ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': before.version } }
              : { ConditionExpression: 'attribute_not_exists(PK)' }),
          },
        },
        retryOnConditionFailed: !named,
        ...(onConditionFailed ? { onConditionFailed } : {}),
      }
    : {
        item: { Delete: { TableName, Key: componentKey(before!.site, xname), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': before!.version } } },
        retryOnConditionFailed: !named,
        ...(onConditionFailed ? { onConditionFailed } : {}),
      };
  const steps = [main, ...claimSteps(ctx, before, after)];
  if (o.audit !== false) steps.push({ item: auditPut(ctx, { operation: o.operation, target: xname, site: (after ?? before)!.site, before: componentSummary(before), after: componentSummary(after) }) });
  return steps;
}

/** A version named by the caller must match the stored one before anything is attempted. */
export function assertVersion(current: ComponentRecord, expectedVersion: number | undefined): void {
  if (expectedVersion !== undefined && current.version !== expectedVersion) {
    throw new ConflictError(`expectedVersion: component ${current.xname} is at version ${current.version}, not ${expectedVersion}`, 'expectedVersion');
  }
}
