/** Who is calling, and what each role may do. One policy, checked by the gateway and again by each domain. */
import { ForbiddenError } from '../../schema/errors.js';

export type Role = 'admin' | 'operator' | 'viewer' | 'agent';

/** OAuth scopes of agent tokens: the first marks an agent, the second binds it to its site. */
export const AGENT_SCOPE = 'skyboot/agent';
export const SITE_SCOPE_PREFIX = 'skyboot/site.';
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer', 'agent'];

export interface Identity {
  subject: string;
  roles: Role[];
  /** Set for agents: the one site they act for. */
  site: string | null;
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

export function allows(identity: Identity, access: Access): boolean {
  return identity.roles.some((r) => ALLOWED_ROLES[access].includes(r));
}

export function assertAllowed(identity: Identity, access: Access, operation: string): void {
  if (!allows(identity, access)) {
    throw new ForbiddenError(`${operation} needs the ${ALLOWED_ROLES[access].join(' or ')} role; caller has ${identity.roles.join(', ') || 'none'}`);
  }
}

export function isAgent(identity: Identity): boolean {
  return identity.roles.includes('agent') && !identity.roles.some((r) => r !== 'agent');
}

/** The site an agent may see; null for human roles, who see every site. */
export function siteScope(identity: Identity): string | null {
  return isAgent(identity) ? identity.site : null;
}
