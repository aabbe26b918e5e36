/**
 * Single-component reads and edits: get, by MAC, patch, state changes, delete. Each names a
 * component by site (default: the caller's: an agent's own, else the deployment's) and xname.
 */
import { BadUserInputError, NotFoundError } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { applyChanges, readChanges, PATCH_FIELDS } from './componentInput.js';
import { assertVersion, componentSteps, getComponent, getComponents, requireComponent } from './componentStore.js';
import { mapLimit } from '../shared/concurrency.js';
import { FLAGS, STATES, enumValue, optionalEnum } from './enums.js';
import { groupMembershipCleanup } from './groups.js';
import { macOwner } from './interfaces.js';
import { componentJson, type ComponentJson, type ComponentRecord } from './model.js';
import { partitionMembershipCleanup } from './partitions.js';
import { canSee, resolveSite } from './sites.js';
import { assertTransition } from './stateTransitions.js';
import { transact, type Step } from '../shared/transact.js';
import { hardwareKey } from './keys.js';
import { list, mac, object, optionalBoolean, optionalInt, xname } from './validation.js';

/** Reads answer null for a component an agent may not see, as if it did not exist. */
export async function component(ctx: OperationContext, args: { xname: unknown; site?: unknown }): Promise<ComponentJson | null> {
  const x = xname(args.xname);
  const site = await resolveSite(ctx, args.site);
  const c = await getComponent(ctx, site, x, false);
  return c && canSee(ctx, c.site) ? componentJson(c) : null;
}

export async function componentByMac(ctx: OperationContext, args: { mac: unknown; site?: unknown }): Promise<ComponentJson | null> {
  const m = mac(args.mac);
  const site = await resolveSite(ctx, args.site);
  let owner: string;
  try {
    owner = await macOwner(ctx, site, m);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
  return component(ctx, { xname: owner, site });
}

export function expectedVersionArg(raw: unknown): number | undefined {
  return optionalInt(raw, 'expectedVersion', 1);
}

/**
 * Applies `change` to one component in a transaction conditional on the version read. With
 * an expectedVersion, a stale read is CONFLICT; without, a lost race re-reads and retries.
 */
export async function editComponent(
  ctx: OperationContext,
  site: string,
  x: string,
  expectedVersion: number | undefined,
  operation: string,
  change: (current: ComponentRecord, now: string) => ComponentRecord,
  extraSteps: (current: ComponentRecord) => Step[] = () => [],
): Promise<ComponentRecord> {
  let result: ComponentRecord | undefined;
  await transact(ctx, async () => {
    const current = await requireComponent(ctx, site, x);
    assertVersion(current, expectedVersion);
    const next = change(current, new Date().toISOString());
    result = next;
    return [...componentSteps(ctx, current, next, { operation, ...(expectedVersion !== undefined ? { expectedVersion } : {}) }), ...extraSteps(current)];
  });
  return result!;
}

export async function updateComponent(ctx: OperationContext, args: { xname: unknown; site?: unknown; patch: unknown; expectedVersion?: unknown }): Promise<ComponentJson> {
  const x = xname(args.xname);
  const patch = object(args.patch, 'patch');
  if (patch.site !== undefined && patch.site !== null) throw new BadUserInputError('patch.site', `"${String(patch.site)}": a component changes site only through moveComponent`);
  const changes = readChanges(patch, 'patch.', PATCH_FIELDS);
  const site = await resolveSite(ctx, args.site);
  const r = await editComponent(ctx, site, x, expectedVersionArg(args.expectedVersion), 'updateComponent', (cur, now) => applyChanges(cur, cur.xname, cur.type, cur.site, changes, now));
  return componentJson(r);
}

const MAX_STATE_BATCH = 1000;

/**
 * Every transition is checked before anything is written, so a refused one changes nothing;
 * then each component is written in its own transaction (re-checked against what it reads).
 * HSM resets the flag to OK on a state change unless one is given.
 */
export async function setComponentState(ctx: OperationContext, args: { xnames: unknown; site?: unknown; state: unknown; flag?: unknown; force?: unknown }): Promise<ComponentJson[]> {
  const raw = list(args.xnames, 'xnames');
  if (raw.length > MAX_STATE_BATCH) throw new BadUserInputError('xnames', `has ${raw.length} entries; at most ${MAX_STATE_BATCH}`);
  const xnames = [...new Set(raw.map((v, i) => xname(v, `xnames[${i}]`)))];
  const state = enumValue(STATES, args.state, 'state');
  const flag = optionalEnum(FLAGS, args.flag, 'flag');
  const force = optionalBoolean(args.force, 'force') ?? false;
  const site = await resolveSite(ctx, args.site);
  const current = await getComponents(ctx, xnames.map((x) => ({ site, xname: x })));
  current.forEach((c, i) => {
    if (!c || !canSee(ctx, c.site)) throw new NotFoundError('component', `${xnames[i]!} in site ${site}`, `xnames[${i}]`);
    assertTransition(c.xname, c.state, state, force);
  });
  const out = await mapLimit(xnames, 16, (x) =>
    editComponent(ctx, site, x, undefined, 'setComponentState', (cur, now) => {
      assertTransition(cur.xname, cur.state, state, force);
      return applyChanges(cur, cur.xname, cur.type, cur.site, { state, flag: flag ?? (cur.state === state ? cur.flag : 'OK') }, now);
    }),
  );
  return out.map(componentJson);
}

/** Deletes the component with its claims, memberships and hardware record. */
export async function deleteComponent(ctx: OperationContext, args: { xname: unknown; site?: unknown; expectedVersion?: unknown }): Promise<boolean> {
  const x = xname(args.xname);
  const expectedVersion = expectedVersionArg(args.expectedVersion);
  const site = await resolveSite(ctx, args.site);
  await transact(ctx, async () => {
    const current = await requireComponent(ctx, site, x);
    assertVersion(current, expectedVersion);
    const TableName = ctx.clients.config.tableName;
    return [
      ...componentSteps(ctx, current, undefined, { operation: 'deleteComponent', ...(expectedVersion !== undefined ? { expectedVersion } : {}) }),
      { item: { Delete: { TableName, Key: hardwareKey(site, x) } } },
      ...(await groupMembershipCleanup(ctx, current)),
      ...partitionMembershipCleanup(ctx, current),
    ];
  });
  return true;
}
