/**
 * Which site an inventory request addresses, and which sites a caller may see. Agents act for
 * exactly their own site (from the token); humans name a site or get the deployment's default,
 * and hold the operation's role there deployment-wide or for that site (`operator@lab-a`).
 * The sites domain's registry (functions/sites/registry.ts) is the one list of sites: an input
 * naming a site it does not hold is BAD_USER_INPUT, never a new site.
 */
import { ForbiddenError } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { assertAllowedAt, canRead, isAgent, readableSites } from '../shared/identity.js';
import { siteNames, unknownSiteError, unknownSites } from '../sites/registry.js';
import { name } from './validation.js';

/** The agent's own site; null for humans. An agent token that names no site may do nothing here. */
function agentSite(ctx: OperationContext, field: string): string | null {
  if (!isAgent(ctx.identity)) return null;
  if (!ctx.identity.site) throw new ForbiddenError(`${field}: this agent's identity names no site`);
  return ctx.identity.site;
}

/**
 * The site named by `raw` (else the caller's: the agent's own or the deployment default),
 * checked for form and for the caller's role there (FORBIDDEN naming the site and the role the
 * operation needs), but not yet against the registry: see assertKnownSites.
 */
export function requestedSite(ctx: OperationContext, raw: unknown, field = 'site'): string {
  const own = agentSite(ctx, field);
  const site = raw === undefined || raw === null ? (own ?? ctx.clients.config.defaultSite) : name(raw, field);
  if (own !== null && site !== own) throw new ForbiddenError(`${field}: an agent of site ${own} cannot act on site ${site}`);
  assertAllowedAt(ctx.identity, ctx.access, site, field);
  return site;
}

/** The sites among `sites` the registry does not hold. */
export async function unknownSitesOf(ctx: OperationContext, sites: string[]): Promise<Set<string>> {
  // An agent's own site comes from its token, which only the site's creation issues.
  return new Set(await unknownSites(ctx.clients, sites.filter((s) => !isAgent(ctx.identity) || s !== ctx.identity.site)));
}

/** BAD_USER_INPUT naming the field and value of the first site the registry does not hold. */
export async function assertKnownSites(ctx: OperationContext, sites: { site: string; field: string }[]): Promise<void> {
  const unknown = await unknownSitesOf(ctx, sites.map((s) => s.site));
  const bad = sites.find((s) => unknown.has(s.site));
  if (bad) throw unknownSiteError(bad.field, bad.site);
}

/** requestedSite, then the registry check: the site one request addresses. */
export async function resolveSite(ctx: OperationContext, raw: unknown, field = 'site'): Promise<string> {
  const site = requestedSite(ctx, raw, field);
  await assertKnownSites(ctx, [{ site, field }]);
  return site;
}

/** True when the caller may see an item of `site`. */
export function canSee(ctx: OperationContext, site: unknown): boolean {
  return canRead(ctx.identity, site);
}

/** The sites a list covers: the filter's (checked like any input), else all the caller may see. */
export async function listSites(ctx: OperationContext, filterSite: unknown): Promise<string[]> {
  if (filterSite !== undefined && filterSite !== null) return [await resolveSite(ctx, filterSite, 'filter.site')];
  agentSite(ctx, 'site');
  const readable = readableSites(ctx.identity);
  return readable === null ? siteNames(ctx.clients) : [...readable].sort();
}
