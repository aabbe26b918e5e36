/**
 * Which sites a caller may see, and the registry of sites that hold inventory. Agents act for
 * exactly their own site; humans see all, and a list naming no site walks the registry.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ForbiddenError } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { isAgent, siteScope } from '../shared/identity.js';
import { SITES_PK, siteMarkerKey } from './keys.js';
import { name } from './validation.js';

/**
 * An agent token that names no site must see no site at all (siteScope alone would read its
 * null as "every site", which is what null means for humans).
 */
const NO_SITE = '\u0000no-site';

function scope(ctx: OperationContext): string | null {
  return isAgent(ctx.identity) ? (siteScope(ctx.identity) ?? NO_SITE) : null;
}

/** The site a write lands in: the input's, else the deployment default; agents only their own. */
export function writeSite(ctx: OperationContext, raw: unknown, field = 'site'): string {
  const scoped = scope(ctx);
  if (scoped === NO_SITE) throw new ForbiddenError(`${field}: this agent's identity names no site`);
  const site = raw === undefined || raw === null ? (scoped ?? ctx.clients.config.defaultSite) : name(raw, field);
  if (scoped !== null && site !== scoped) throw new ForbiddenError(`${field}: an agent of site ${scoped} cannot act on site ${site}`);
  return site;
}

/** True when the caller may see an item of `site`. */
export function canSee(ctx: OperationContext, site: unknown): boolean {
  const scoped = scope(ctx);
  return scoped === null || (scoped !== NO_SITE && scoped === site);
}

/** Throws FORBIDDEN when an agent touches another site's item (reads answer NOT_FOUND instead). */
export function assertSiteAccess(ctx: OperationContext, site: unknown, what: string): void {
  if (!canSee(ctx, site)) throw new ForbiddenError(`${what} belongs to site ${String(site)}; this agent acts for site ${String(siteScope(ctx.identity) ?? 'none')}`);
}

/** The sites a list covers: the filter's (checked against the agent's scope), else all the caller may see. */
export async function listSites(ctx: OperationContext, filterSite: unknown): Promise<string[]> {
  const scoped = scope(ctx);
  if (scoped === NO_SITE) return [];
  if (filterSite !== undefined && filterSite !== null) {
    const site = name(filterSite, 'filter.site');
    if (scoped !== null && site !== scoped) throw new ForbiddenError(`filter.site: an agent of site ${scoped} cannot list site ${site}`);
    return [site];
  }
  if (scoped !== null) return [scoped];
  return knownSites(ctx);
}

/**
 * The registry changes only when a site gets its first inventory, so each process keeps it for
 * a few seconds (and adds the sites it registers itself at once): a list then costs one Query,
 * not two. Another process's new site shows up within SITES_TTL_MS.
 */
const SITES_TTL_MS = 5000;
const siteCache = new Map<string, { sites: Set<string>; at: number }>();

export async function knownSites(ctx: OperationContext): Promise<string[]> {
  const table = ctx.clients.config.tableName;
  const cached = siteCache.get(table);
  if (cached && Date.now() - cached.at < SITES_TTL_MS) return [...cached.sites].sort();
  const sites = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const res = await ctx.clients.doc.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': SITES_PK }, ExclusiveStartKey: start }),
    );
    for (const item of res.Items ?? []) sites.add(String(item.site));
    start = res.LastEvaluatedKey;
  } while (start);
  siteCache.set(table, { sites, at: Date.now() });
  return [...sites].sort();
}

const registered = new Set<string>();

/**
 * Records that `site` holds inventory. Outside the item transactions on purpose: every
 * transaction of a bulk load putting the same marker would collide with each other, and a
 * marker without components only costs an empty Query.
 */
export async function registerSite(ctx: OperationContext, site: string): Promise<void> {
  const table = ctx.clients.config.tableName;
  const memo = `${table}#${site}`;
  if (!registered.has(memo)) {
    await ctx.clients.doc.send(new PutCommand({ TableName: table, Item: { ...siteMarkerKey(site), entity: 'InventorySite', site } }));
    registered.add(memo);
  }
  siteCache.get(table)?.sites.add(site);
}
