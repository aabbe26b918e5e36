import { freshAws, type TestAws } from '../../support/aws.js';
import { admin, agentOf, createSites, fails, ok, operator, viewer } from './call.js';

describe('inventory site scoping for agents, and the audit log', () => {
  let aws: TestAws;
  beforeAll(async () => {
    aws = await freshAws('inv-sites');
    await createSites('a', 'b');
    const res = await ok(operator, 'upsertComponents', {
      input: [
        { xname: 'x1c0s0b0n0', site: 'a', interfaces: [{ mac: '02:0a:00:00:00:01' }] },
        { xname: 'x1c0s1b0n0', site: 'a' },
        { xname: 'x2c0s0b0n0', site: 'b', interfaces: [{ mac: '02:0b:00:00:00:01' }] },
        { xname: 'x9c0s0b0n0' },
      ],
    });
    expect(res.errors).toEqual([]);
  });
  afterAll(() => aws.dispose());

  it('an input without a site gets the deployment default site', async () => {
    expect((await ok(viewer, 'component', { xname: 'x9c0s0b0n0' })).site).toBe('local');
  });

  it('an agent of site A reads site A and cannot read site B components', async () => {
    const agentA = agentOf('a');
    expect(await ok(agentA, 'component', { xname: 'x1c0s0b0n0' })).toMatchObject({ site: 'a' });
    expect(await ok(agentA, 'component', { xname: 'x2c0s0b0n0' })).toBeNull();
    expect(await fails(agentA, 'component', { xname: 'x2c0s0b0n0', site: 'b' })).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('site b') });
    expect(await ok(agentA, 'componentByMac', { mac: '02:0b:00:00:00:01' })).toBeNull();
    expect((await ok(agentA, 'componentByMac', { mac: '02:0a:00:00:00:01' })).xname).toBe('x1c0s0b0n0');
    const page = await ok(agentA, 'components', { first: 100 });
    expect(page.edges.map((e: { node: { xname: string } }) => e.node.xname).sort()).toEqual(['x1c0s0b0n0', 'x1c0s1b0n0']);
    expect(await fails(agentA, 'components', { filter: { site: 'b' } })).toMatchObject({ code: 'FORBIDDEN' });
    // A human sees every site.
    const all = await ok(viewer, 'components', { first: 100 });
    expect(all.edges).toHaveLength(4);
  });

  it('an agent identity that names no site is refused everything', async () => {
    const lost = { subject: 'agent-x', roles: ['agent' as const], site: null };
    expect(await fails(lost, 'reportDiscovery', { input: { idempotencyKey: 'k1' } })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(lost, 'component', { xname: 'x9c0s0b0n0' })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(lost, 'components', { first: 100 })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(lost, 'components', { filter: { site: 'local' } })).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('every mutation writes an audit record, newest first, readable by admin and not by operator or viewer', async () => {
    await ok(operator, 'updateComponent', { xname: 'x1c0s1b0n0', site: 'a', patch: { subRole: 'audited' } });
    await ok(operator, 'setComponentState', { xnames: ['x1c0s1b0n0'], site: 'a', state: 'ON' });
    await ok(operator, 'createGroup', { input: { label: 'audit-g' } });
    await ok(operator, 'addGroupMembers', { label: 'audit-g', xnames: ['x1c0s1b0n0'], site: 'a' });
    await ok(operator, 'upsertRedfishEndpoints', { input: [{ xname: 'x1c0s1b0', address: '10.0.0.9' }] });
    expect(await fails(operator, 'auditLog', {})).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(viewer, 'auditLog', {})).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(agentOf('a'), 'auditLog', {})).toMatchObject({ code: 'FORBIDDEN' });

    const records: { operation: string; target: string; actor: string; at: string; before: string | null; after: string | null }[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { edges: { node: (typeof records)[number] }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = await ok(admin, 'auditLog', { first: 2, after });
      records.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const ops = records.map((r) => r.operation);
    expect(ops.slice(0, 5)).toEqual(['upsertRedfishEndpoints', 'addGroupMembers', 'createGroup', 'setComponentState', 'updateComponent']);
    expect(ops.filter((o) => o !== 'createSite').pop()).toBe('upsertComponents');
    expect(new Set(records.map((r) => r.at + r.operation + r.target)).size).toBe(records.length);
    const sorted = [...records].sort((x, y) => (x.at < y.at ? 1 : -1));
    expect(records.map((r) => r.at)).toEqual(sorted.map((r) => r.at));
    const state = records.find((r) => r.operation === 'setComponentState')!;
    expect(state).toMatchObject({ target: 'x1c0s1b0n0', actor: 'olga-operator' });
    expect(JSON.parse(state.before!).state).toBe('UNKNOWN');
    expect(JSON.parse(state.after!).state).toBe('ON');
    // The bulk load is audited with every component it touched.
    expect(records.find((r) => r.operation === 'upsertComponents')!.target.split(',').sort()).toEqual(['x1c0s0b0n0', 'x1c0s1b0n0', 'x2c0s0b0n0', 'x9c0s0b0n0']);
  });

  it('a refused mutation writes no audit record', async () => {
    const before = (await ok(admin, 'auditLog', { first: 1 })).edges[0].node.id;
    await fails(operator, 'setComponentState', { xnames: ['x1c0s1b0n0'], site: 'a', state: 'EMPTY' });
    await fails(viewer, 'updateComponent', { xname: 'x1c0s1b0n0', patch: { enabled: false } });
    expect((await ok(admin, 'auditLog', { first: 1 })).edges[0].node.id).toBe(before);
  });
});
