import { freshAws, type TestAws } from '../../support/aws.js';
import { admin, callMany, fails, ok, okSelecting, operator, viewer } from './call.js';

const WITH_COMPONENTS = ['created', 'updated', 'unchanged', 'failed', 'errors', 'components'];

/** Every audit record of `xname` (auditLog by target), newest first. */
async function auditFor(xname: string): Promise<{ id: string; operation: string }[]> {
  const page: { edges: { node: { id: string; operation: string } }[] } = await ok(admin, 'auditLog', { target: xname, first: 1000 });
  return page.edges.map((e) => ({ id: e.node.id, operation: e.node.operation }));
}

describe('inventory components (handler against DynamoDB Local)', () => {
  let aws: TestAws;
  beforeAll(async () => {
    aws = await freshAws('inv-comp');
  });
  afterAll(() => aws.dispose());

  it('upserts a node with defaults, normalises xname and MAC, and reads it by xname and by MAC', async () => {
    const res = await okSelecting(operator, 'upsertComponents', {
      input: [{ xname: 'X1000C0S0B0N0', nid: 1, interfaces: [{ mac: 'AA-BB-CC-00-00-01', ipAddresses: ['10.0.0.1'] }] }],
    }, WITH_COMPONENTS);
    expect(res).toMatchObject({ created: 1, updated: 0, unchanged: 0, failed: 0, errors: [], errorsOmitted: 0 });
    const c = res.components[0];
    expect(c).toMatchObject({ xname: 'x1000c0s0b0n0', type: 'Node', state: 'UNKNOWN', flag: 'OK', enabled: true, role: 'COMPUTE', arch: 'X86', nid: 1, site: 'local', version: 1 });
    expect(c.interfaces).toEqual([{ mac: 'aa:bb:cc:00:00:01', ipAddresses: ['10.0.0.1'], network: 'default', description: null, componentXname: 'x1000c0s0b0n0' }]);
    expect(await ok(viewer, 'component', { xname: 'x1000c0s0b0n0' })).toMatchObject({ xname: 'x1000c0s0b0n0', version: 1 });
    expect(await ok(viewer, 'componentByMac', { mac: 'aabb.cc00.0001' })).toMatchObject({ xname: 'x1000c0s0b0n0' });
    expect(await ok(viewer, 'component', { xname: 'x9c0s0b0n0' })).toBeNull();
    expect(await ok(viewer, 'componentByMac', { mac: '00:00:00:00:00:99' })).toBeNull();
  });

  it('re-upserting the same component with the same MAC writes nothing (no version bump, no audit); a moved MAC is released', async () => {
    const input = { xname: 'x1000c0s1b0n0', interfaces: [{ mac: '02:00:00:00:01:01' }] };
    const first = await okSelecting(operator, 'upsertComponents', { input: [input] }, WITH_COMPONENTS);
    const auditBefore = await auditFor('x1000c0s1b0n0');
    const again = await okSelecting(operator, 'upsertComponents', { input: [input] }, WITH_COMPONENTS);
    expect(first).toMatchObject({ created: 1, errors: [] });
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 1, failed: 0, errors: [] });
    expect(again.components[0]).toMatchObject({ version: 1, updatedAt: first.components[0].updatedAt });
    expect((await ok(viewer, 'component', { xname: 'x1000c0s1b0n0' })).version).toBe(1);
    expect(await auditFor('x1000c0s1b0n0')).toEqual(auditBefore);
    expect(auditBefore).toHaveLength(1);
    // A real change is written once and bumps the version.
    const changed = await okSelecting(operator, 'upsertComponents', { input: [{ ...input, subRole: 'login' }] }, WITH_COMPONENTS);
    expect(changed).toMatchObject({ updated: 1, unchanged: 0 });
    expect(changed.components[0].version).toBe(2);
    expect(await auditFor('x1000c0s1b0n0')).toHaveLength(2);
    // Move the MAC: the old component lists a new one, the MAC goes to another component.
    const moved = await ok(operator, 'upsertComponents', {
      input: [{ xname: 'x1000c0s1b0n0', interfaces: [{ mac: '02:00:00:00:01:02' }] }],
    });
    expect(moved.errors).toEqual([]);
    const taker = await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s1b0n1', interfaces: [{ mac: '02:00:00:00:01:01' }] }] });
    expect(taker.errors).toEqual([]);
    expect((await ok(viewer, 'componentByMac', { mac: '02:00:00:00:01:01' })).xname).toBe('x1000c0s1b0n1');
  });

  it('duplicate MAC in two components, sequentially: the second gets CONFLICT naming the MAC', async () => {
    await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s2b0n0', interfaces: [{ mac: '02:00:00:00:02:01' }] }] });
    const second = await okSelecting(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s2b0n1', interfaces: [{ mac: '02:00:00:00:02:01' }] }] }, WITH_COMPONENTS);
    expect(second.components).toEqual([]);
    expect(second).toMatchObject({ created: 0, failed: 1 });
    expect(second.errors).toEqual([{ index: 0, path: expect.stringMatching(/^input\[0\]/), xname: 'x1000c0s2b0n1', code: 'CONFLICT', message: expect.stringContaining('02:00:00:00:02:01') }]);
    expect(await ok(viewer, 'component', { xname: 'x1000c0s2b0n1' })).toBeNull();
  });

  it('duplicate MAC in two concurrent requests: exactly one wins, the other gets CONFLICT', async () => {
    for (let round = 0; round < 5; round++) {
      const mac = `02:00:00:00:03:0${round}`;
      const [a, b] = await Promise.all([
        okSelecting(operator, 'upsertComponents', { input: [{ xname: `x1000c0s3b${round}n0`, interfaces: [{ mac }] }] }, WITH_COMPONENTS),
        okSelecting(operator, 'upsertComponents', { input: [{ xname: `x1000c0s3b${round}n1`, interfaces: [{ mac }] }] }, WITH_COMPONENTS),
      ]);
      const wins = [a, b].filter((r) => r.components.length === 1);
      const losses = [a, b].filter((r) => r.errors.length === 1);
      expect(wins).toHaveLength(1);
      expect(losses).toHaveLength(1);
      expect(losses[0].errors[0].code).toBe('CONFLICT');
      expect((await ok(viewer, 'componentByMac', { mac })).xname).toBe(wins[0].components[0].xname);
    }
  });

  it('the same MAC twice in one request: the later element gets CONFLICT, the earlier one is stored', async () => {
    const res = await okSelecting(operator, 'upsertComponents', {
      input: [
        { xname: 'x1000c0s4b0n0', interfaces: [{ mac: '02:00:00:00:04:01' }] },
        { xname: 'x1000c0s4b0n1', interfaces: [{ mac: '02:00:00:00:04:01' }] },
      ],
    }, WITH_COMPONENTS);
    expect(res.components.map((c: { xname: string }) => c.xname)).toEqual(['x1000c0s4b0n0']);
    expect(res.errors).toEqual([{ index: 1, path: 'input[1].interfaces[0].mac', xname: 'x1000c0s4b0n1', code: 'CONFLICT', message: expect.stringMatching(/^input\[1\]\.interfaces\[0\]\.mac: /) }]);
  });

  it('NID and IP (per network) are unique; the same IP in another network is fine', async () => {
    await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s5b0n0', nid: 500, interfaces: [{ mac: '02:00:00:00:05:01', ipAddresses: ['10.5.0.1'] }] }] });
    const nid = await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s5b0n1', nid: 500 }] });
    expect(nid.errors[0]).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('nid') });
    const ip = await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s5b0n2', interfaces: [{ mac: '02:00:00:00:05:02', ipAddresses: ['10.5.0.1'] }] }] });
    expect(ip.errors[0]).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('10.5.0.1') });
    const other = await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s5b0n3', interfaces: [{ mac: '02:00:00:00:05:03', network: 'hsn', ipAddresses: ['10.5.0.1'] }] }] });
    expect(other.errors).toEqual([]);
    // The failed upserts claimed nothing: their MACs are free.
    expect(await ok(viewer, 'componentByMac', { mac: '02:00:00:00:05:02' })).toBeNull();
    // Releasing the NID by patch frees it for another component.
    await ok(operator, 'updateComponent', { xname: 'x1000c0s5b0n0', patch: { nid: 501 } });
    expect((await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s5b0n1', nid: 500 }] })).errors).toEqual([]);
  });

  it('invalid xname, MAC and IP are BAD_USER_INPUT naming the field', async () => {
    const res = await okSelecting(operator, 'upsertComponents', {
      input: [
        { xname: 'not-an-xname' },
        { xname: 'x1000c0s6b0n0', interfaces: [{ mac: 'zz:00:00:00:00:01' }] },
        { xname: 'x1000c0s6b0n1', interfaces: [{ mac: '02:00:00:00:06:01', ipAddresses: ['10.0.0.256'] }] },
        { xname: 'x1000c0s6b0n2', role: 'WIZARD' },
      ],
    }, WITH_COMPONENTS);
    expect(res.components).toEqual([]);
    expect(res).toMatchObject({ created: 0, failed: 4 });
    expect(res.errors.map((e: { code: string }) => e.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT']);
    expect(res.errors.map((e: { index: number; path: string }) => [e.index, e.path])).toEqual([
      [0, 'input[0].xname'],
      [1, 'input[1].interfaces[0].mac'],
      [2, 'input[2].interfaces[0].ipAddresses[0]'],
      [3, 'input[3].role'],
    ]);
    expect(res.errors[0].message).toMatch(/^input\[0\]\.xname: /);
    expect(res.errors[1].message).toMatch(/^input\[1\]\.interfaces\[0\]\.mac: /);
    expect(res.errors[2].message).toMatch(/^input\[2\]\.interfaces\[0\]\.ipAddresses\[0\]: /);
    expect(res.errors[3].message).toMatch(/^input\[3\]\.role: /);
    expect(await fails(viewer, 'component', { xname: 'x1000c0s6q0' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'xname' });
    expect(await fails(viewer, 'componentByMac', { mac: 'nope' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'mac' });
    expect(await fails(operator, 'addEthernetInterface', { xname: 'x1000c0s0b0n0', input: { mac: '02:00:00:00:06:02', ipAddresses: ['1.2.3'] } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.ipAddresses[0]',
    });
  });

  it('a viewer (and an agent) mutating gets FORBIDDEN and nothing is written', async () => {
    for (const [op, args] of [
      ['upsertComponents', { input: [{ xname: 'x1000c0s7b0n0' }] }],
      ['updateComponent', { xname: 'x1000c0s0b0n0', patch: { enabled: false } }],
      ['setComponentState', { xnames: ['x1000c0s0b0n0'], state: 'ON' }],
      ['createGroup', { input: { label: 'nope' } }],
    ] as const) {
      expect(await fails(viewer, op, args)).toMatchObject({ code: 'FORBIDDEN' });
      expect(await fails({ subject: 'agent', roles: ['agent'], site: 'local' }, op, args)).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(await ok(viewer, 'component', { xname: 'x1000c0s7b0n0' })).toBeNull();
  });

  it('50 concurrent updateComponent with the same expectedVersion: one succeeds, 49 CONFLICT', async () => {
    await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s8b0n0' }] });
    const v = (await ok(viewer, 'component', { xname: 'x1000c0s8b0n0' })).version;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => callMany(operator, [{ operation: 'updateComponent', args: { xname: 'x1000c0s8b0n0', patch: { subRole: `r${i}` }, expectedVersion: v } }])),
    );
    const flat = results.map((r) => r[0]!);
    expect(flat.filter((r) => r.ok)).toHaveLength(1);
    const errs = flat.filter((r) => !r.ok);
    expect(errs).toHaveLength(49);
    for (const e of errs) if (!e.ok) expect(e.error).toMatchObject({ code: 'CONFLICT', field: 'expectedVersion' });
    expect((await ok(viewer, 'component', { xname: 'x1000c0s8b0n0' })).version).toBe(v + 1);
  });

  it('updateComponent patches fields, clears a nullable one with null, and rejects a stale version', async () => {
    await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s9b0n0', subRole: 'uan' }] });
    const u = await ok(operator, 'updateComponent', { xname: 'x1000c0s9b0n0', patch: { role: 'SERVICE', subRole: null, enabled: false }, expectedVersion: 1 });
    expect(u).toMatchObject({ role: 'SERVICE', subRole: null, enabled: false, version: 2 });
    expect(await fails(operator, 'updateComponent', { xname: 'x1000c0s9b0n0', patch: { enabled: true }, expectedVersion: 1 })).toMatchObject({ code: 'CONFLICT' });
    expect(await fails(operator, 'updateComponent', { xname: 'x1000c0s9b9n0', patch: { enabled: true } })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('setComponentState follows the transition table; force overrides; a refused batch writes nothing', async () => {
    await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c1s0b0n0', state: 'EMPTY' }, { xname: 'x1000c1s0b0n1', state: 'OFF' }] });
    const refused = await fails(operator, 'setComponentState', { xnames: ['x1000c1s0b0n1', 'x1000c1s0b0n0'], state: 'READY' });
    expect(refused).toMatchObject({ code: 'CONFLICT', field: 'state' });
    expect(refused.message).toContain('from OFF to READY');
    expect((await ok(viewer, 'component', { xname: 'x1000c1s0b0n1' })).state).toBe('OFF');
    const on = await ok(operator, 'setComponentState', { xnames: ['x1000c1s0b0n1'], state: 'ON' });
    expect(on[0]).toMatchObject({ state: 'ON', flag: 'OK' });
    const ready = await ok(operator, 'setComponentState', { xnames: ['x1000c1s0b0n1'], state: 'READY', flag: 'WARNING' });
    expect(ready[0]).toMatchObject({ state: 'READY', flag: 'WARNING' });
    const forced = await ok(operator, 'setComponentState', { xnames: ['x1000c1s0b0n0'], state: 'READY', force: true });
    expect(forced[0].state).toBe('READY');
  });

  it('interfaces can be added and removed; removal releases the MAC', async () => {
    await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c1s1b0n0' }] });
    const added = await ok(operator, 'addEthernetInterface', { xname: 'x1000c1s1b0n0', input: { mac: '02:00:00:01:01:01', ipAddresses: ['10.1.1.1'], network: 'nmn' } });
    expect(added.interfaces).toEqual([{ mac: '02:00:00:01:01:01', ipAddresses: ['10.1.1.1'], network: 'nmn', description: null, componentXname: 'x1000c1s1b0n0' }]);
    const removed = await ok(operator, 'removeEthernetInterface', { mac: '02:00:00:01:01:01' });
    expect(removed.interfaces).toEqual([]);
    expect(await ok(viewer, 'componentByMac', { mac: '02:00:00:01:01:01' })).toBeNull();
    // The IP was released with it.
    await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c1s1b0n1', interfaces: [{ mac: '02:00:00:01:01:02', network: 'nmn', ipAddresses: ['10.1.1.1'] }] }] });
  });

  it('deleteComponent releases its claims', async () => {
    await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c1s2b0n0', nid: 1200, interfaces: [{ mac: '02:00:00:01:02:01' }] }] });
    expect(await ok(operator, 'deleteComponent', { xname: 'x1000c1s2b0n0' })).toBe(true);
    expect(await ok(viewer, 'component', { xname: 'x1000c1s2b0n0' })).toBeNull();
    const reuse = await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c1s2b0n1', nid: 1200, interfaces: [{ mac: '02:00:00:01:02:01' }] }] });
    expect(reuse.errors).toEqual([]);
  });
});
