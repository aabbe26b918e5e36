/**
 * The authorization matrix, derived from the domain manifests: which roles may call each
 * GraphQL field, deployment-wide and with a role for one site only (`operator@lab-a`).
 * docs/authorization.md is generated from it (`npm run docs:authz`) and the matrix test checks
 * every field against it, so the document and the behaviour agree.
 */
import { ALLOWED_ROLES, type Access, type OperationScope, type Role, type SiteRole } from '../functions/shared/identity.js';
import type { RoutedDomain } from './manifests.js';

export interface FieldRule {
  field: string;
  domain: string;
  access: Access | 'any';
  scope: OperationScope;
  /** Deployment-wide roles that pass. */
  roles: readonly Role[];
  /** Roles held for one site that pass; at a `site` field they act on that site only. */
  siteRoles: readonly SiteRole[];
}

const SITE_ROLE_LIST: readonly SiteRole[] = ['operator', 'viewer'];

function siteRolesFor(access: Access, scope: OperationScope): SiteRole[] {
  if (scope === 'deployment' && access !== 'read') return [];
  return SITE_ROLE_LIST.filter((r) => ALLOWED_ROLES[access].includes(r));
}

export function authorizationRules(domains: readonly RoutedDomain[]): FieldRule[] {
  const rules: FieldRule[] = [
    { field: 'Query.whoami', domain: 'gateway', access: 'any', scope: 'deployment', roles: ['admin', 'operator', 'viewer', 'agent'], siteRoles: ['operator', 'viewer'] },
  ];
  for (const { manifest } of domains) {
    for (const spec of Object.values(manifest.operations)) {
      if (!spec.field) continue;
      const scope = spec.scope ?? manifest.scope;
      rules.push({ field: spec.field, domain: manifest.domain, access: spec.access, scope, roles: ALLOWED_ROLES[spec.access], siteRoles: siteRolesFor(spec.access, scope) });
    }
  }
  return rules.sort((a, b) => a.field.localeCompare(b.field));
}

export function authorizationMarkdown(domains: readonly RoutedDomain[]): string {
  const roles: Role[] = ['admin', 'operator', 'viewer', 'agent'];
  const head = [
    '# Authorization matrix',
    '',
    'Generated from the domain manifests by `npm run docs:authz`; `test/integration/gateway/authorizationMatrix.test.ts` checks every row, and checks on data that a caller limited to one site (an agent, or a person with only `operator@lab-a`) never reads or writes another site\'s items.',
    '',
    'Every operation needs a valid bearer token: no token, an expired token, a token signed by another key or issued by another issuer all get `UNAUTHENTICATED`.',
    'A role outside the row gets `FORBIDDEN` before any domain code runs.',
    '',
    '## Roles per site',
    '',
    'A person\'s roles come from the token\'s `cognito:groups`. `admin`, `operator` and `viewer` hold at every site. `operator@<site>` and `viewer@<site>` hold at that one site only (`admin` is deployment-wide only: sites, agent credentials and the audit log span sites). A person may be in several groups; the roles add up.',
    '',
    '- A **site** field addresses one site: the site it names (`site`, `input.site`, `fromSite`/`toSite`), else the deployment\'s default site, or the site of the item it names by id (a boot configuration, a power request). The caller must hold the field\'s role there, deployment-wide or for that site; otherwise `FORBIDDEN` naming the site and the role needed (`site: site lab-b needs the admin or operator (or operator@lab-b) role; caller has operator@lab-a`). Lists return only the sites the caller may read.',
    '- A **deployment** field acts on items that belong to no one site (images, sites, groups and partitions themselves — their members are site items and are checked at the members\' site). Any role may read them; changing them needs a deployment-wide role.',
    '- **Agents** act only for their own site (the `skyboot/site.<name>` scope of their token): reads return nothing of other sites, and agent mutations apply to their site.',
    '',
    `| field | domain | access | scope | ${roles.join(' | ')} | operator@site | viewer@site |`,
    `| --- | --- | --- | --- | ${roles.map(() => '---').join(' | ')} | --- | --- |`,
  ];
  const siteCell = (r: FieldRule, role: SiteRole) => (!r.siteRoles.includes(role) ? 'FORBIDDEN' : r.scope === 'site' ? 'its site' : 'yes');
  const rows = authorizationRules(domains).map(
    (r) => `| \`${r.field}\` | ${r.domain} | ${r.access} | ${r.scope} | ${roles.map((role) => (r.roles.includes(role) ? 'yes' : 'FORBIDDEN')).join(' | ')} | ${siteCell(r, 'operator')} | ${siteCell(r, 'viewer')} |`,
  );
  return `${[...head, ...rows].join('\n')}\n`;
}
