import { identityFromClaims } from '../../../gateway/auth/verifier.js';
import { allows, assertAllowedAt, canRead, readableSites, rolesAt } from '../../../functions/shared/identity.js';

describe('per-site roles from cognito:groups', () => {
  it('operator@lab-a and viewer@lab-b hold at their site only; global roles hold everywhere; other shapes give nothing', () => {
    const id = identityFromClaims({ username: 'alice', 'cognito:groups': ['operator@lab-a', 'viewer@lab-b', 'admin@lab-a', 'operator@', 'viewer@Lab-C', 'staff'] });
    expect(id).toEqual({ subject: 'alice', roles: [], site: null, siteRoles: { 'lab-a': ['operator'], 'lab-b': ['viewer'] } });
    expect(rolesAt(id, 'lab-a')).toEqual(['operator']);
    expect(rolesAt(id, 'lab-c')).toEqual([]);
    expect([...readableSites(id)!].sort()).toEqual(['lab-a', 'lab-b']);
    expect(canRead(id, 'lab-c')).toBe(false);
    expect(() => assertAllowedAt(id, 'write', 'lab-b', 'input.site')).toThrow('input.site: site lab-b needs the admin or operator (or operator@lab-b) role; caller has operator@lab-a, viewer@lab-b');
    expect(() => assertAllowedAt(id, 'write', 'lab-a', 'input.site')).not.toThrow();
    // Site roles pass the gate of site operations and of deployment reads, never deployment writes.
    expect(allows(id, 'write', 'site')).toBe(true);
    expect(allows(id, 'read', 'deployment')).toBe(true);
    expect(allows(id, 'write', 'deployment')).toBe(false);
    const global = identityFromClaims({ username: 'olga', 'cognito:groups': ['operator'] });
    expect(readableSites(global)).toBeNull();
    expect(rolesAt(global, 'lab-z')).toEqual(['operator']);
  });

  it('an agent holds its role at its own site only, and groups never widen an agent token', () => {
    const agent = identityFromClaims({ client_id: 'c1', scope: 'skyboot/agent skyboot/site.lab-a', 'cognito:groups': ['operator@lab-b'] });
    expect(agent.siteRoles).toBeUndefined();
    expect(rolesAt(agent, 'lab-a')).toEqual(['agent']);
    expect(rolesAt(agent, 'lab-b')).toEqual([]);
    expect([...readableSites(agent)!]).toEqual(['lab-a']);
  });
});
