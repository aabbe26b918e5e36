/**
 * The authorization matrix, derived from the domain manifests: which roles may call each
 * GraphQL field. docs/authorization.md is generated from it (`npm run docs:authz`) and the
 * matrix test checks every field against it, so the document and the behaviour agree.
 */
import { ALLOWED_ROLES, type Access, type Role } from '../functions/shared/identity.js';
import type { DomainRegistration } from './domains.js';

export interface FieldRule {
  field: string;
  domain: string;
  access: Access | 'any';
  roles: readonly Role[];
}

export function authorizationRules(domains: DomainRegistration[]): FieldRule[] {
  const rules: FieldRule[] = [{ field: 'Query.whoami', domain: 'gateway', access: 'any', roles: ['admin', 'operator', 'viewer', 'agent'] }];
  for (const { manifest } of domains) {
    for (const spec of Object.values(manifest.operations)) {
      if (spec.field) rules.push({ field: spec.field, domain: manifest.domain, access: spec.access, roles: ALLOWED_ROLES[spec.access] });
    }
  }
  return rules.sort((a, b) => a.field.localeCompare(b.field));
}

export function authorizationMarkdown(domains: DomainRegistration[]): string {
  const roles: Role[] = ['admin', 'operator', 'viewer', 'agent'];
  const head = [
    '# Authorization matrix',
    '',
    'Generated from the domain manifests by `npm run docs:authz`; `test/integration/gateway/authorizationMatrix.test.ts` checks every row.',
    '',
    'Every operation needs a valid bearer token: no token, an expired token, a token signed by another key or issued by another issuer all get `UNAUTHENTICATED`.',
    'A role outside the row gets `FORBIDDEN` before any domain code runs. Agents act only for their own site: reads return nothing of other sites, and agent mutations apply to their site.',
    '',
    `| field | domain | access | ${roles.join(' | ')} |`,
    `| --- | --- | --- | ${roles.map(() => '---').join(' | ')} |`,
  ];
  const rows = authorizationRules(domains).map((r) => `| \`${r.field}\` | ${r.domain} | ${r.access} | ${roles.map((role) => (r.roles.includes(role) ? 'yes' : 'FORBIDDEN')).join(' | ')} |`);
  return `${[...head, ...rows].join('\n')}\n`;
}
