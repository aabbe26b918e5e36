import { freshAws, type TestAws } from '../../support/aws.js';
import { fails, ok, okSelecting, operator, viewer, createSites, stopSitesAuth } from './call.js';

type Conn = { edges: { node: { xname: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

/** Every xname the filter lists, paging with a small page so fills across Queries are exercised. */
async function listAll(filter: Record<string, unknown>, first = 3): Promise<string[]> {
  const out: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Conn = await ok(viewer, 'components', { filter, first, after });
    out.push(...page.edges.map((e) => e.node.xname));
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor;
  }
}

describe('inventory filters, groups and partitions', () => {
  let aws: TestAws;
  beforeAll(async () => {
    aws = await freshAws('inv-filter');
    await createSites('other');
    const nodes = Array.from({ length: 12 }, (_, i) => ({
      xname: `x3000c0s${i}b0n0`,
      role: i % 3 === 0 ? 'SERVICE' : 'COMPUTE',
      arch: i % 4 === 0 ? 'ARM' : 'X86',
      enabled: i !== 5,
      state: i < 4 ? 'READY' : 'OFF',
      flag: i === 7 ? 'ALERT' : 'OK',
      subRole: i === 3 ? 'uan' : null,
    }));
    const res = await ok(operator, 'upsertComponents', {
      input: [...nodes, { xname: 'x3000c0s0b0' }, { xname: 'x3000c0' }, { xname: 'x3000c0s20b0n0', site: 'other' }],
    });
    expect(res.errors).toEqual([]);
  });
  afterAll(async () => {
    await aws.dispose();
    await stopSitesAuth();
  });

  const n = (...slots: number[]) => slots.map((s) => `x3000c0s${s}b0n0`).sort();

  it('filters by role, state, arch, enabled, flag, subRole, type and site, each alone and combined', async () => {
    expect((await listAll({ role: 'SERVICE', site: 'local' })).sort()).toEqual(n(0, 3, 6, 9));
    expect((await listAll({ state: 'READY' })).sort()).toEqual(n(0, 1, 2, 3));
    // A state alone spans every role, including components without one (BMC, chassis), and every site.
    expect((await listAll({ state: 'UNKNOWN' }, 1)).sort()).toEqual(['x3000c0', 'x3000c0s0b0', 'x3000c0s20b0n0']);
    expect((await listAll({ state: 'UNKNOWN', type: 'Chassis' }, 1)).sort()).toEqual(['x3000c0']);
    expect((await listAll({ arch: 'ARM' })).sort()).toEqual(n(0, 4, 8));
    expect((await listAll({ enabled: false })).sort()).toEqual(n(5));
    expect((await listAll({ flag: 'ALERT' })).sort()).toEqual(n(7));
    expect((await listAll({ subRole: 'uan' })).sort()).toEqual(n(3));
    expect(await listAll({ type: 'NodeBMC' })).toEqual(['x3000c0s0b0']);
    expect(await listAll({ type: 'Chassis' })).toEqual(['x3000c0']);
    expect(await listAll({ site: 'other' })).toEqual(['x3000c0s20b0n0']);
    expect((await listAll({ role: 'SERVICE', state: 'READY' })).sort()).toEqual(n(0, 3));
    expect((await listAll({ role: 'COMPUTE', arch: 'X86', state: 'OFF', enabled: true })).sort()).toEqual(n(7, 10, 11));
    // No site filter: every site the registry knows, in one ordered sequence.
    expect(await listAll({ type: 'Node' }, 5)).toHaveLength(13);
    expect(await fails(viewer, 'components', { filter: { type: 'Toaster' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.type' });
    expect(await fails(viewer, 'components', { first: 0 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(await fails(viewer, 'components', { after: 'garbage' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('groups: create, members, filter by group, exclusive groups keep members disjoint', async () => {
    const g = await ok(operator, 'createGroup', { input: { label: 'blue', description: 'blue team', tags: ['t1'], exclusiveGroup: 'colour' } });
    expect(g).toMatchObject({ label: 'blue', description: 'blue team', tags: ['t1'], exclusiveGroup: 'colour', version: 1 });
    await ok(operator, 'createGroup', { input: { label: 'red', exclusiveGroup: 'colour' } });
    await ok(operator, 'createGroup', { input: { label: 'gpu' } });
    expect(await fails(operator, 'createGroup', { input: { label: 'gpu' } })).toMatchObject({ code: 'CONFLICT', field: 'label' });

    const added = await ok(operator, 'addGroupMembers', { label: 'blue', xnames: n(1, 2, 3) });
    expect(added).toEqual({ name: 'blue', changed: n(1, 2, 3) });
    expect(await ok(operator, 'addGroupMembers', { label: 'blue', xnames: n(1) })).toEqual({ name: 'blue', changed: [] });
    const clash = await fails(operator, 'addGroupMembers', { label: 'red', xnames: n(2) });
    expect(clash).toMatchObject({ code: 'CONFLICT', field: 'xnames' });
    expect(clash.message).toContain('colour');
    await ok(operator, 'addGroupMembers', { label: 'red', xnames: n(4) });
    await ok(operator, 'addGroupMembers', { label: 'gpu', xnames: n(2, 4) });

    expect((await listAll({ group: 'blue' })).sort()).toEqual(n(1, 2, 3));
    expect((await listAll({ group: 'blue', role: 'SERVICE' })).sort()).toEqual(n(3));
    expect((await ok(viewer, 'component', { xname: n(2)[0] })).groups).toEqual(['blue', 'gpu']);
    const members = await ok(viewer, 'groupMembers', { first: 2 }, { label: 'blue' });
    expect(members.edges).toHaveLength(2);
    expect(members.pageInfo.hasNextPage).toBe(true);

    // Leaving blue frees the component for red.
    await ok(operator, 'removeGroupMembers', { label: 'blue', xnames: n(2) });
    await ok(operator, 'addGroupMembers', { label: 'red', xnames: n(2) });
    expect((await listAll({ group: 'red' })).sort()).toEqual(n(2, 4));

    const up = await ok(operator, 'updateGroup', { label: 'red', patch: { description: 'red team', tags: ['a', 'b'] }, expectedVersion: 1 });
    expect(up).toMatchObject({ description: 'red team', tags: ['a', 'b'], version: 2 });
    expect(await fails(operator, 'updateGroup', { label: 'red', patch: { description: 'x' }, expectedVersion: 1 })).toMatchObject({ code: 'CONFLICT' });
    const all = await ok(viewer, 'groups', {});
    expect(all.edges.map((e: { node: { label: string } }) => e.node.label)).toEqual(['blue', 'gpu', 'red']);

    expect(await ok(operator, 'deleteGroup', { label: 'red' })).toBe(true);
    expect(await ok(viewer, 'group', { label: 'red' })).toBeNull();
    expect((await ok(viewer, 'component', { xname: n(2)[0] })).groups).toEqual(['gpu']);
    // The exclusive claim went with the group: blue may take the component back.
    await ok(operator, 'addGroupMembers', { label: 'blue', xnames: n(2) });
    expect(await fails(operator, 'addGroupMembers', { label: 'nope', xnames: n(2) })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await fails(operator, 'addGroupMembers', { label: 'gpu', xnames: ['x3000c0s99b0n0'] })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('two concurrent joins of one component to two groups of one exclusive group: exactly one wins', async () => {
    await ok(operator, 'createGroup', { input: { label: 'even', exclusiveGroup: 'parity' } });
    await ok(operator, 'createGroup', { input: { label: 'odd', exclusiveGroup: 'parity' } });
    for (const slot of [8, 9, 10]) {
      const x = n(slot)[0];
      const results = await Promise.allSettled([ok(operator, 'addGroupMembers', { label: 'even', xnames: [x] }), ok(operator, 'addGroupMembers', { label: 'odd', xnames: [x] })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(String(rejected.reason)).toMatch(/CONFLICT/);
      const groups = (await ok(viewer, 'component', { xname: x })).groups.filter((g: string) => g === 'even' || g === 'odd');
      expect(groups).toHaveLength(1);
    }
  });

  it('partitions: a component is in at most one; filter by partition', async () => {
    await ok(operator, 'createPartition', { input: { name: 'p1', description: 'first' } });
    await ok(operator, 'createPartition', { input: { name: 'p2' } });
    await ok(operator, 'addPartitionMembers', { name: 'p1', xnames: n(0, 1) });
    const clash = await fails(operator, 'addPartitionMembers', { name: 'p2', xnames: n(1, 2) });
    expect(clash).toMatchObject({ code: 'CONFLICT', field: 'xnames' });
    expect(clash.message).toContain('p1');
    await ok(operator, 'addPartitionMembers', { name: 'p2', xnames: n(2) });
    expect((await listAll({ partition: 'p1' })).sort()).toEqual(n(0, 1));
    expect((await listAll({ partition: 'p1', role: 'SERVICE' })).sort()).toEqual(n(0));
    expect((await ok(viewer, 'component', { xname: n(0)[0] })).partition).toBe('p1');
    await ok(operator, 'removePartitionMembers', { name: 'p1', xnames: n(1) });
    await ok(operator, 'addPartitionMembers', { name: 'p2', xnames: n(1) });
    expect((await listAll({ partition: 'p2' })).sort()).toEqual(n(1, 2));
    expect(await ok(operator, 'deletePartition', { name: 'p2' })).toBe(true);
    expect((await ok(viewer, 'component', { xname: n(1)[0] })).partition).toBeNull();
    expect((await ok(viewer, 'partitions', {})).edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['p1']);
  });

  it('a component rewritten by upsert keeps its group and partition memberships', async () => {
    const before = await ok(viewer, 'component', { xname: n(0)[0] });
    const res = await okSelecting(operator, 'upsertComponents', { input: [{ xname: n(0)[0], subRole: 'gw' }] }, ['components']);
    expect(res.components[0]).toMatchObject({ partition: before.partition, groups: before.groups, subRole: 'gw', version: before.version + 1 });
  });
});
