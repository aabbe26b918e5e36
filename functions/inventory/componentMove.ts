/**
 * moveComponent: the one way a component changes site. Its identities (xname, NID, IPs, MACs)
 * are unique per site, so a move onto an identity the target site already holds is refused
 * (CONFLICT naming each held identity and its holder) and nothing changes. Otherwise one
 * transaction deletes the component in the old site and creates it in the new one, with its
 * claims, group and partition member items, exclusive claims and hardware record; the
 * conditions on each of them keep a concurrent writer from slipping in between the check and
 * the write. Boot configurations and cloud-init belong to a site and stay behind.
 */
import { BadUserInputError, ConflictError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { batchGet } from '../shared/batchGet.js';
import { assertVersion, componentItem, getComponent, requireComponent } from './componentStore.js';
import { expectedVersionArg } from './components.js';
import { claimLabel, claimSteps, claimsOf } from './interfaces.js';
import { componentKey, exclusiveKey, groupKey, groupMemberKey, hardwareKey, partitionMemberKey } from './keys.js';
import { componentJson, componentSummary, type ComponentJson, type ComponentRecord } from './model.js';
import { resolveSite } from './sites.js';
import { MAX_TRANSACTION_ITEMS, transact, type Step } from '../shared/transact.js';
import { xname as xnameArg } from './validation.js';

type Item = Record<string, unknown>;

/**
 * Every identity of `moved` (already re-sited) that its new site gives a component, as
 * "nid 1 (held by x…)". None of them can be its own: it is not in that site yet.
 */
async function heldIdentities(ctx: OperationContext, moved: ComponentRecord): Promise<string[]> {
  const claims = [...claimsOf(moved).values()];
  const items = await batchGet(ctx.clients, claims.map((c) => c.Key), true);
  return items.flatMap((item) => (item ? [`${claimLabel(item)} (held by ${String(item.xname)})`] : []));
}

/** Member items, exclusive claims and the hardware record, re-keyed from one site to the other. */
async function followerSteps(ctx: OperationContext, from: ComponentRecord, to: ComponentRecord): Promise<Step[]> {
  const TableName = ctx.clients.config.tableName;
  const x = from.xname;
  const move = (oldKey: { PK: string; SK: string }, newKey: { PK: string; SK: string }, item: Item): Step[] => [
    { item: { Delete: { TableName, Key: oldKey, ConditionExpression: 'attribute_exists(PK)' } }, retryOnConditionFailed: true },
    { item: { Put: { TableName, Item: { ...item, ...newKey, site: to.site }, ConditionExpression: 'attribute_not_exists(PK)' } }, retryOnConditionFailed: true },
  ];
  const steps: Step[] = [];
  const groups = await batchGet(ctx.clients, from.groups.map(groupKey), true);
  from.groups.forEach((label, i) => {
    steps.push(...move(groupMemberKey(label, from.site, x), groupMemberKey(label, to.site, x), { entity: 'GroupMember', label, xname: x }));
    const ex = groups[i]?.exclusiveGroup as string | null | undefined;
    if (ex) steps.push(...move(exclusiveKey(ex, from.site, x), exclusiveKey(ex, to.site, x), { entity: 'ExclusiveClaim', exclusiveGroup: ex, label, xname: x }));
  });
  if (from.partition) steps.push(...move(partitionMemberKey(from.partition, from.site, x), partitionMemberKey(from.partition, to.site, x), { entity: 'PartitionMember', name: from.partition, xname: x }));
  const [hardware] = await batchGet(ctx.clients, [hardwareKey(from.site, x)], true);
  if (hardware) {
    const { PK: _pk, SK: _sk, ...rest } = hardware;
    steps.push(
      { item: { Delete: { TableName, Key: hardwareKey(from.site, x), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': hardware.version } } }, retryOnConditionFailed: true },
      { item: { Put: { TableName, Item: { ...rest, ...hardwareKey(to.site, x), site: to.site }, ConditionExpression: 'attribute_not_exists(PK)' } }, retryOnConditionFailed: true },
    );
  }
  return steps;
}

export async function moveComponent(ctx: OperationContext, args: { xname: unknown; fromSite: unknown; toSite: unknown; expectedVersion?: unknown }): Promise<ComponentJson> {
  const x = xnameArg(args.xname);
  const expectedVersion = expectedVersionArg(args.expectedVersion);
  const fromSite = await resolveSite(ctx, args.fromSite, 'fromSite');
  const toSite = await resolveSite(ctx, args.toSite, 'toSite');
  if (fromSite === toSite) throw new BadUserInputError('toSite', `"${toSite}" is the site ${x} is already in`);
  let moved: ComponentRecord | undefined;
  await transact(ctx, async () => {
    const current = await requireComponent(ctx, fromSite, x);
    assertVersion(current, expectedVersion);
    const now = new Date().toISOString();
    const next: ComponentRecord = { ...current, site: toSite, version: current.version + 1, updatedAt: now };
    const held = (await getComponent(ctx, toSite, x)) ? [`xname ${x}`] : [];
    held.push(...(await heldIdentities(ctx, next)));
    if (held.length) throw new ConflictError(`toSite: site ${toSite} already holds ${held.join(', ')}; nothing was moved`, 'toSite');
    const TableName = ctx.clients.config.tableName;
    const stale = () => new ConflictError(`expectedVersion: component ${x} has changed since version ${expectedVersion}; read it again`, 'expectedVersion');
    const steps: Step[] = [
      {
        item: { Delete: { TableName, Key: componentKey(fromSite, x), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': current.version } } },
        retryOnConditionFailed: expectedVersion === undefined,
        ...(expectedVersion !== undefined ? { onConditionFailed: stale } : {}),
      },
      {
        item: { Put: { TableName, Item: componentItem(next), ConditionExpression: 'attribute_not_exists(PK)' } },
        onConditionFailed: () => new ConflictError(`toSite: site ${toSite} already holds xname ${x}; nothing was moved`, 'toSite'),
      },
      ...claimSteps(ctx, current, next),
      ...(await followerSteps(ctx, current, next)),
      { item: auditPut(ctx, { operation: 'moveComponent', target: x, before: componentSummary(current), after: componentSummary(next) }) },
    ];
    if (steps.length > MAX_TRANSACTION_ITEMS) {
      throw new BadUserInputError('xname', `moving ${x} needs ${steps.length} writes (claims, memberships, hardware); one transaction holds at most ${MAX_TRANSACTION_ITEMS}`);
    }
    moved = next;
    return steps;
  });
  return componentJson(moved!);
}
