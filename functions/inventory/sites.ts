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

export async function knownSites(ctx: OperationContext): Promise<string[]> {
  const sites: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await ctx.clients.doc.send(
      new QueryCommand({ TableName: ctx.clients.config.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': SITES_PK }, ExclusiveStartKey: start }),
    );
    for (const item of res.Items ?? []) sites.push(String(item.site));
    start = res.LastEvaluatedKey;
  } while (start);
  return sites.sort();
}

const registered = new Set<string>();

/**
 * Records that `site` holds inventory. Outside the item transactions on purpose: every
 * transaction of a bulk load putting the same marker would collide with each other, and a
 * marker without components only costs an empty Query.
 */
export async function registerSite(ctx: OperationContext, site: string): Promise<void> {
  const memo = `${ctx.clients.config.tableName}#${site}`;
  if (registered.has(memo)) return;
  await ctx.clients.doc.send(new PutCommand({ TableName: ctx.clients.config.tableName, Item: { ...siteMarkerKey(site), entity: 'InventorySite', site } }));
  registered.add(memo);
}
