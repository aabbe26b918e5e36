/**
 * components(filter, first, after). The narrowest key serves each request: a partition's or
 * group's member items; else, per site, the role index (GSI2: one role, optionally one state by
 * sort-key prefix; a state alone is one Query per role) or the site index (GSI1). Remaining filter fields are checked on the items read; pages are filled
 * across Queries and sites (see paging.ts).
 */
import { BadUserInputError } from '../../schema/errors.js';
import { XNAME_TYPES } from '../../schema/xname.js';
import type { OperationContext } from '../shared/handler.js';
import type { Page } from '../shared/pagination.js';
import { memberPage } from './collections.js';
import { ARCHES, FLAGS, ROLES, STATES, optionalEnum } from './enums.js';
import { GROUP } from './groups.js';
import { NO_ROLE, siteComponentsPk, siteRolePk } from './keys.js';
import { componentFromItem, componentJson, type ComponentJson } from './model.js';
import { pageAcross, type PartitionQuery } from './paging.js';
import { PARTITION } from './partitions.js';
import { listSites } from './sites.js';
import { object, optionalBoolean, optionalName, optionalString } from './validation.js';

type Item = Record<string, unknown>;

const TYPES = new Set<string>(Object.values(XNAME_TYPES));

export interface ComponentFilter {
  type?: string;
  state?: string;
  flag?: string;
  role?: string;
  subRole?: string;
  arch?: string;
  enabled?: boolean;
  group?: string;
  partition?: string;
  site?: string;
}

export function readFilter(raw: unknown): ComponentFilter {
  if (raw === undefined || raw === null) return {};
  const o = object(raw, 'filter');
  const f: ComponentFilter = {};
  const type = optionalString(o.type, 'filter.type', 64);
  if (type !== undefined) {
    if (!TYPES.has(type)) throw new BadUserInputError('filter.type', `"${type}" is not an HSM type (${[...TYPES].join(', ')})`);
    f.type = type;
  }
  const set = <K extends keyof ComponentFilter>(k: K, v: ComponentFilter[K] | undefined) => {
    if (v !== undefined) f[k] = v;
  };
  set('state', optionalEnum(STATES, o.state, 'filter.state'));
  set('flag', optionalEnum(FLAGS, o.flag, 'filter.flag'));
  set('role', optionalEnum(ROLES, o.role, 'filter.role'));
  set('subRole', optionalName(o.subRole, 'filter.subRole'));
  set('arch', optionalEnum(ARCHES, o.arch, 'filter.arch'));
  set('enabled', optionalBoolean(o.enabled, 'filter.enabled'));
  set('group', optionalName(o.group, 'filter.group'));
  set('partition', optionalName(o.partition, 'filter.partition'));
  set('site', optionalName(o.site, 'filter.site'));
  return f;
}

/** The filter fields as a predicate on stored items (the key already guarantees some of them). */
function matcher(f: ComponentFilter, sites: string[] | null): (c: Item) => boolean {
  const groupsOf = (c: Item): string[] => (c.groups instanceof Set ? [...(c.groups as Set<string>)] : ((c.groups as string[] | undefined) ?? []));
  return (c) =>
    (sites === null || sites.includes(c.site as string)) &&
    (f.type === undefined || c.type === f.type) &&
    (f.state === undefined || c.state === f.state) &&
    (f.flag === undefined || c.flag === f.flag) &&
    (f.role === undefined || c.role === f.role) &&
    (f.subRole === undefined || c.subRole === f.subRole) &&
    (f.arch === undefined || c.arch === f.arch) &&
    (f.enabled === undefined || c.enabled === f.enabled) &&
    (f.group === undefined || groupsOf(c).includes(f.group)) &&
    (f.partition === undefined || c.partition === f.partition);
}

/** The fields no key serves, as a FilterExpression on the Query (DynamoDB drops non-matches before returning them). */
const UNKEYED = ['type', 'flag', 'subRole', 'arch', 'enabled'] as const;

function filterExpression(f: ComponentFilter) {
  const fields = UNKEYED.filter((k) => f[k] !== undefined);
  if (!fields.length) return undefined;
  return {
    FilterExpression: fields.map((k) => `#f_${k} = :f_${k}`).join(' AND '),
    ExpressionAttributeNames: Object.fromEntries(fields.map((k) => [`#f_${k}`, k])),
    ExpressionAttributeValues: Object.fromEntries(fields.map((k) => [`:f_${k}`, f[k]])),
  };
}

export async function components(ctx: OperationContext, args: { filter?: unknown; first?: unknown; after?: unknown }): Promise<Page<ComponentJson>> {
  const f = readFilter(args.filter);
  const sites = await listSites(ctx, f.site);
  const paging = { first: args.first as number | undefined, after: args.after as string | undefined };
  if (f.partition !== undefined || f.group !== undefined) {
    const siteLimited = f.site !== undefined ? sites : null;
    const byPartition = f.partition !== undefined;
    return memberPage(ctx, byPartition ? PARTITION : GROUP, (byPartition ? f.partition : f.group)!, paging, matcher(f, siteLimited));
  }
  const partitions: PartitionQuery[] = sites.flatMap((site) => {
    if (f.role === undefined && f.state === undefined) {
      return [{ tag: site, input: { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': siteComponentsPk(site) } } }];
    }
    // Tags sort as the partitions are walked (site, then role), so a cursor can always resume.
    const roles = f.role !== undefined ? [f.role] : [...ROLES, NO_ROLE].sort();
    return roles.map((role) => ({
      tag: `${site}#${role}`,
      input: {
        IndexName: 'GSI2',
        KeyConditionExpression: f.state !== undefined ? 'GSI2PK = :pk AND begins_with(GSI2SK, :state)' : 'GSI2PK = :pk',
        ExpressionAttributeValues: { ':pk': siteRolePk(site, role === NO_ROLE ? undefined : role), ...(f.state !== undefined ? { ':state': `${f.state}#` } : {}) },
      },
    }));
  });
  const filter = filterExpression(f);
  return pageAcross(
    ctx.clients,
    filter ? partitions.map((p) => ({ ...p, input: { ...p.input, ...filter, ExpressionAttributeValues: { ...p.input.ExpressionAttributeValues, ...filter.ExpressionAttributeValues } } })) : partitions,
    { ...paging, serverFiltered: filter !== undefined, toNode: (item) => componentJson(componentFromItem(item)) },
  );
}
