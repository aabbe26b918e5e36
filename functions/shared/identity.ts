/** Who is calling, and what each role may do. One policy, checked by the gateway and again by each domain. */
import { ForbiddenError } from '../../schema/errors.js';

export type Role = 'admin' | 'operator' | 'viewer' | 'agent';

/** OAuth scopes of agent tokens: the first marks an agent, the second binds it to its site. */
export const AGENT_SCOPE = 'skyboot/agent';
export const SITE_SCOPE_PREFIX = 'skyboot/site.';
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer', 'agent'];

/** The human roles a token may hold for one site only (Cognito group `operator@lab-a`). */
export type SiteRole = 'operator' | 'viewer';
export const SITE_ROLES: readonly SiteRole[] = ['operator', 'viewer'];

export interface Identity {
  subject: string;
  /** Deployment-wide roles: they hold at every site. */
  roles: Role[];
  /** Set for agents: the one site they act for. */
  site: string | null;
  /** Human roles limited to one site each, by site name (absent: none). */
  siteRoles?: Record<string, SiteRole[]>;
}

/**
 * - `read`: viewers and up; agents too, but domains must scope what they return to the agent's site.
 * - `write`: operators and admins (inventory, boot configuration, images, sessions).
 * - `admin`: admins only (sites, credentials, the audit log).
 * - `agent`: agents only (sync, observations), scoped to their site.
 */
export type Access = 'read' | 'write' | 'admin' | 'agent';

export const ALLOWED_ROLES: Record<Access, readonly Role[]> = {
  read: ['admin', 'operator', 'viewer', 'agent'],
  write: ['admin', 'operator'],
  admin: ['admin'],
  agent: ['agent'],
};

/**
 * Whether an operation's scope lets the caller in at all. A `site` operation checks the caller's
 * role at the site it addresses itself (rolesAt), so any site's role passes this gate; a
 * `deployment` operation (images, sites, the audit log) acts on no one site, so only
 * deployment-wide roles may change it, while site roles may read it.
 */
export type OperationScope = 'site' | 'deployment';

export function allows(identity: Identity, access: Access, scope: OperationScope = 'deployment'): boolean {
  const held = scope === 'site' || access === 'read' ? allRoles(identity) : identity.roles;
  return held.some((r) => ALLOWED_ROLES[access].includes(r));
}

export function assertAllowed(identity: Identity, access: Access, operation: string, scope: OperationScope = 'deployment'): void {
  if (!allows(identity, access, scope)) {
    const need = ALLOWED_ROLES[access].join(' or ');
    throw new ForbiddenError(`${operation} needs the ${need} role${scope === 'deployment' && access !== 'read' ? ' for the whole deployment' : ''}; caller has ${describeRoles(identity)}`);
  }
}

/** Every role the caller holds anywhere: deployment-wide and per site. */
function allRoles(identity: Identity): Role[] {
  return [...identity.roles, ...Object.values(identity.siteRoles ?? {}).flat()];
}

/** The roles the caller holds at `site`: deployment-wide human roles, its roles for that site, and `agent` at the agent's own site. */
export function rolesAt(identity: Identity, site: string): Role[] {
  const human = identity.roles.filter((r) => r !== 'agent');
  const agent = identity.roles.includes('agent') && identity.site === site ? (['agent'] as Role[]) : [];
  return [...human, ...(identity.siteRoles?.[site] ?? []), ...agent];
}

export function allowsAt(identity: Identity, access: Access, site: string): boolean {
  return rolesAt(identity, site).some((r) => ALLOWED_ROLES[access].includes(r));
}

/** FORBIDDEN naming the site and the role needed there, unless the caller holds it. */
export function assertAllowedAt(identity: Identity, access: Access, site: string, what: string): void {
  if (allowsAt(identity, access, site)) return;
  const need = ALLOWED_ROLES[access].map((r) => (SITE_ROLES.includes(r as SiteRole) ? `${r} (or ${r}@${site})` : r)).join(' or ');
  throw new ForbiddenError(`${what}: site ${site} needs the ${need} role; caller has ${describeRoles(identity)}`);
}

/** The sites whose items the caller may read; null when it may read every site's. */
export function readableSites(identity: Identity): Set<string> | null {
  if (identity.roles.some((r) => r !== 'agent')) return null;
  const sites = new Set(Object.keys(identity.siteRoles ?? {}).filter((s) => (identity.siteRoles?.[s] ?? []).length > 0));
  if (identity.roles.includes('agent') && identity.site) sites.add(identity.site);
  return sites;
}

export function canRead(identity: Identity, site: unknown): boolean {
  const sites = readableSites(identity);
  return sites === null || (typeof site === 'string' && sites.has(site));
}

/** `operator, viewer@lab-a`: what a refusal says the caller has. */
export function describeRoles(identity: Identity): string {
  const site = Object.entries(identity.siteRoles ?? {}).flatMap(([s, rs]) => rs.map((r) => `${r}@${s}`));
  const all = [...identity.roles.map((r) => (r === 'agent' && identity.site ? `agent of site ${identity.site}` : r)), ...site];
  return all.join(', ') || 'none';
}

export function isAgent(identity: Identity): boolean {
  return identity.roles.includes('agent') && !identity.roles.some((r) => r !== 'agent');
}

/** The site an agent acts for; null for people (agent-only operations refuse them). */
export function siteScope(identity: Identity): string | null {
  return isAgent(identity) ? identity.site : null;
}
