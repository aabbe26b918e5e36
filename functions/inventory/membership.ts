/** Adding and removing members, one component per transaction, for groups and partitions alike. */
import { BadUserInputError, NotFoundError } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { getComponents } from './componentStore.js';
import { mapLimit } from '../shared/concurrency.js';
import type { ComponentRecord } from './model.js';
import { canSee, resolveSite } from './sites.js';
import { transact, type Step } from '../shared/transact.js';
import { list, xname } from './validation.js';

const MAX_MEMBERS_PER_CALL = 1000;

export interface MembershipResult {
  name: string;
  changed: string[];
}

/**
 * For each named component (all of one site) that `needsChange`, runs the transaction `steps` builds. Every
 * component is checked to exist (and be visible) before anything is written.
 */
export async function changeMembers(
  ctx: OperationContext,
  n: string,
  rawXnames: unknown,
  rawSite: unknown,
  needsChange: (c: ComponentRecord) => boolean,
  steps: (c: ComponentRecord, now: string) => Step[],
): Promise<MembershipResult> {
  const raw = list(rawXnames, 'xnames');
  if (raw.length > MAX_MEMBERS_PER_CALL) throw new BadUserInputError('xnames', `has ${raw.length} entries; at most ${MAX_MEMBERS_PER_CALL}`);
  const xnames = [...new Set(raw.map((v, i) => xname(v, `xnames[${i}]`)))];
  const site = await resolveSite(ctx, rawSite);
  const current = await getComponents(ctx, xnames.map((x) => ({ site, xname: x })));
  current.forEach((c, i) => {
    if (!c || !canSee(ctx, c.site)) throw new NotFoundError('component', `${xnames[i]!} in site ${site}`, `xnames[${i}]`);
  });
  const todo = (current as ComponentRecord[]).filter(needsChange);
  await mapLimit(todo, 16, (c) => transact(ctx, () => steps(c, new Date().toISOString())));
  return { name: n, changed: todo.map((c) => c.xname) };
}

export interface MembershipUpdate {
  /** Extra assignments for the SET clause. */
  set?: string;
  /** A whole ADD / DELETE / REMOVE clause. */
  clause?: string;
  values?: Record<string, unknown>;
  condition: string;
}

/** The component-side update: bump version (so a concurrent full rewrite re-reads) plus the membership change. */
export function componentMembershipUpdate(ctx: OperationContext, key: Record<string, string>, u: MembershipUpdate, now: string) {
  const set = ['version = version + :one', 'updatedAt = :now', ...(u.set ? [u.set] : [])].join(', ');
  return {
    Update: {
      TableName: ctx.clients.config.tableName,
      Key: key,
      UpdateExpression: `SET ${set}${u.clause ? ` ${u.clause}` : ''}`,
      ConditionExpression: u.condition,
      ...(/#p\b/.test(`${u.set ?? ''} ${u.clause ?? ''} ${u.condition}`) ? { ExpressionAttributeNames: { '#p': 'partition' } } : {}),
      ExpressionAttributeValues: { ...u.values, ':one': 1, ':now': now },
    },
  };
}
