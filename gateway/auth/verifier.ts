/**
 * Bearer-token verification. One code path for AWS and local: a JWKS (Cognito's URL in AWS,
 * the data dir's key set locally), an issuer, and the claims Cognito puts in its tokens:
 * `cognito:groups` for people, `scope` for agents' client-credentials tokens, where
 * `skyboot/agent` marks an agent and `skyboot/site.<name>` binds it to its one site.
 * A group `operator` or `viewer` holds at every site; `operator@lab-a` / `viewer@lab-a` only at
 * site lab-a (a site role never widens into a deployment-wide one; `admin` is deployment-wide only).
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { remoteKeySet } from './remoteKeySet.js';
import { UnauthenticatedError } from '../../schema/errors.js';
import { AGENT_SCOPE, SITE_ROLES, SITE_SCOPE_PREFIX, type Identity, type Role, type SiteRole } from '../../functions/shared/identity.js';

const HUMAN_ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];
/** `<role>@<site>`, the site spelled as site names are (functions/sites/siteName.ts). */
const SITE_GROUP = /^(operator|viewer)@([a-z](?:[a-z0-9-]{0,30}[a-z0-9])?)$/;

/** The per-site roles among a token's groups, by site; groups of another shape are not Skyboot's and are ignored. */
export function siteRolesFromGroups(groups: readonly string[]): Record<string, SiteRole[]> {
  const bySite: Record<string, SiteRole[]> = {};
  for (const g of groups) {
    const m = SITE_GROUP.exec(g);
    if (!m) continue;
    const role = m[1] as SiteRole;
    const roles = (bySite[m[2]!] ??= []);
    if (!roles.includes(role)) roles.push(role);
  }
  for (const roles of Object.values(bySite)) roles.sort((a, b) => SITE_ROLES.indexOf(a) - SITE_ROLES.indexOf(b));
  return bySite;
}

export interface VerifierOptions {
  issuer: string;
  jwks: { url: string } | { keys: JSONWebKeySet };
  /** Accepted `aud` (ID tokens) or `client_id` (access tokens); empty accepts any client. */
  clientIds?: string[];
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Identity>;

export function identityFromClaims(claims: JWTPayload): Identity {
  const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as unknown[]).map(String) : [];
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  const roles: Role[] = HUMAN_ROLES.filter((r) => groups.includes(r));
  let site: string | null = null;
  if (scopes.includes(AGENT_SCOPE)) {
    const siteScopes = scopes.filter((s) => s.startsWith(SITE_SCOPE_PREFIX));
    if (siteScopes.length !== 1) throw new UnauthenticatedError('agent token must carry exactly one site scope');
    site = siteScopes[0]!.slice(SITE_SCOPE_PREFIX.length);
    roles.push('agent');
  }
  const subject = String(claims.username ?? claims['cognito:username'] ?? claims.sub ?? claims.client_id ?? 'unknown');
  const siteRoles = site === null ? siteRolesFromGroups(groups) : {};
  return Object.keys(siteRoles).length ? { subject, roles, site, siteRoles } : { subject, roles, site };
}

export function createTokenVerifier(opts: VerifierOptions): TokenVerifier {
  const keySet = 'url' in opts.jwks ? remoteKeySet(new URL(opts.jwks.url)) : createLocalJWKSet(opts.jwks.keys);
  const clientIds = opts.clientIds ?? [];
  return async (authorization) => {
    if (!authorization) throw new UnauthenticatedError('missing bearer token: send Authorization: Bearer <JWT>');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new UnauthenticatedError('Authorization header must be "Bearer <JWT>"');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, keySet, { issuer: opts.issuer, algorithms: ['RS256'] }));
    } catch (err) {
      throw new UnauthenticatedError(`invalid token: ${(err as Error).message}`);
    }
    if (clientIds.length > 0) {
      const aud = Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
      const client = typeof payload.client_id === 'string' ? payload.client_id : undefined;
      const isAgent = typeof payload.scope === 'string' && payload.scope.split(' ').includes(AGENT_SCOPE);
      if (!isAgent && !aud.some((a) => clientIds.includes(a)) && !(client && clientIds.includes(client))) {
        throw new UnauthenticatedError('token was issued to a client this API does not accept');
      }
    }
    const identity = identityFromClaims(payload);
    if (identity.roles.length === 0 && !identity.siteRoles) throw new UnauthenticatedError('token carries no Skyboot role (cognito:groups such as operator or operator@<site>, or the agent scope)');
    return identity;
  };
}
