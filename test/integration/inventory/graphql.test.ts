import { startTestGateway, type TestGateway } from '../../support/gateway.js';

/** The inventory contract through the real gateway: SDL, scalars, enums, type fields, errors. */
describe('inventory through the GraphQL gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  const upsert = `mutation($input: [ComponentInput!]!) { upsertComponents(input: $input) { created updated unchanged failed components { xname type version } errors { index path xname code message } } }`;

  it('upserts, lists with nested interfaces, groups and hardware, and pages with cursors', async () => {
    const up = await gw.gql(upsert, {
      input: [
        { xname: 'x1000c0s0b0n0', nid: 1, role: 'COMPUTE', arch: 'X86', interfaces: [{ mac: 'AA-BB-CC-00-00-01', ipAddresses: ['10.0.0.1'] }] },
        { xname: 'x1000c0s0b0n1', nid: 2, interfaces: [{ mac: 'aabb.cc00.0002' }] },
        { xname: 'x1000c0s0b0' },
      ],
    }, gw.tokens.operator);
    expect(up.errors).toBeUndefined();
    expect(up.data).toEqual({
      upsertComponents: {
        components: [
          { xname: 'x1000c0s0b0n0', type: 'Node', version: 1 },
          { xname: 'x1000c0s0b0n1', type: 'Node', version: 1 },
          { xname: 'x1000c0s0b0', type: 'NodeBMC', version: 1 },
        ],
        created: 3,
        updated: 0,
        unchanged: 0,
        failed: 0,
        errors: [],
      },
    });
    await gw.gql(`mutation { createGroup(input: { label: "g1", exclusiveGroup: "ex" }) { label } }`, undefined, gw.tokens.operator);
    await gw.gql(`mutation { addGroupMembers(label: "g1", xnames: ["x1000c0s0b0n0"]) { changed } }`, undefined, gw.tokens.operator);
    await gw.gql(`mutation { setHardwareInventory(xname: "x1000c0s0b0n0", inventory: { serialNumber: "SN1", memory: [{ capacityMiB: 4096 }] }) { version } }`, undefined, gw.tokens.operator);

    const q = `query($after: String) { components(filter: { type: "Node" }, first: 1, after: $after) {
      edges { cursor node { xname type state flag role nid arch version site groups partition interfaces { mac ipAddresses network componentXname } hardware { serialNumber totalMemoryMiB } } }
      pageInfo { hasNextPage endCursor } } }`;
    const p1 = await gw.gql<{ components: { edges: { node: Record<string, unknown> }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(q, {}, gw.tokens.viewer);
    expect(p1.errors).toBeUndefined();
    expect(p1.data!.components.edges[0]!.node).toEqual({
      xname: 'x1000c0s0b0n0',
      type: 'Node',
      state: 'UNKNOWN',
      flag: 'OK',
      role: 'COMPUTE',
      nid: 1,
      arch: 'X86',
      version: 2,
      site: 'local',
      groups: ['g1'],
      partition: null,
      interfaces: [{ mac: 'aa:bb:cc:00:00:01', ipAddresses: ['10.0.0.1'], network: 'default', componentXname: 'x1000c0s0b0n0' }],
      hardware: { serialNumber: 'SN1', totalMemoryMiB: 4096 },
    });
    expect(p1.data!.components.pageInfo.hasNextPage).toBe(true);
    const p2 = await gw.gql<{ components: { edges: { node: { xname: string; hardware: unknown } }[]; pageInfo: { hasNextPage: boolean } } }>(q, { after: p1.data!.components.pageInfo.endCursor }, gw.tokens.viewer);
    expect(p2.data!.components.edges.map((e) => [e.node.xname, e.node.hardware])).toEqual([['x1000c0s0b0n1', null]]);
    expect(p2.data!.components.pageInfo.hasNextPage).toBe(false);

    const byMac = await gw.gql(`{ componentByMac(mac: "AA:BB:CC:00:00:02") { xname } group(label: "g1") { label exclusiveGroup members(first: 10) { edges { node { xname } } } } }`, undefined, gw.tokens.viewer);
    expect(byMac.data).toEqual({ componentByMac: { xname: 'x1000c0s0b0n1' }, group: { label: 'g1', exclusiveGroup: 'ex', members: { edges: [{ node: { xname: 'x1000c0s0b0n0' } }] } } });
  });

  it('errors carry extensions.code and name the field', async () => {
    const dupe = await gw.gql(upsert, { input: [{ xname: 'x1000c0s1b0n0', interfaces: [{ mac: 'aa:bb:cc:00:00:01' }] }] }, gw.tokens.operator);
    expect((dupe.data as { upsertComponents: { errors: unknown[] } }).upsertComponents.errors).toEqual([
      { index: 0, path: 'input[0].interfaces[0].mac', xname: 'x1000c0s1b0n0', code: 'CONFLICT', message: expect.stringContaining('interfaces[0].mac') },
    ]);
    const badMac = await gw.gql(`{ componentByMac(mac: "zz") { xname } }`, undefined, gw.tokens.viewer);
    expect(badMac.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(badMac.errors?.[0]?.message).toMatch(/MAC/);
    const stale = await gw.gql(`mutation { updateComponent(xname: "x1000c0s0b0n1", patch: { enabled: false }, expectedVersion: 9) { version } }`, undefined, gw.tokens.operator);
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(stale.errors?.[0]?.message).toMatch(/expectedVersion/);
    const refused = await gw.gql(`mutation { setComponentState(xnames: ["x1000c0s0b0n1"], state: READY) { state } }`, undefined, gw.tokens.operator);
    expect(refused.errors).toBeUndefined();
    const empty = await gw.gql(`mutation { setComponentState(xnames: ["x1000c0s0b0n1"], state: EMPTY) { state } }`, undefined, gw.tokens.operator);
    expect(empty.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(empty.errors?.[0]?.message).toContain('from READY to EMPTY');
  });

  it('viewer mutating is FORBIDDEN, no token is UNAUTHENTICATED, audit log is for admins', async () => {
    const v = await gw.gql(upsert, { input: [{ xname: 'x1000c0s2b0n0' }] }, gw.tokens.viewer);
    expect(v.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const none = await gw.gql(`{ components(first: 1) { edges { cursor } } }`, undefined, null);
    expect(none.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const op = await gw.gql(`{ auditLog(first: 1) { edges { node { operation } } } }`, undefined, gw.tokens.operator);
    expect(op.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ad = await gw.gql<{ auditLog: { edges: { node: { operation: string; actor: string } }[] } }>(`{ auditLog(first: 1) { edges { node { operation target actor at } } } }`);
    expect(ad.errors).toBeUndefined();
    expect(ad.data!.auditLog.edges[0]!.node.operation).toBe('setComponentState');
  });

  it('an agent reports discovery for its own site and sees only that site', async () => {
    const agent = await gw.agentToken('lab');
    const rep = await gw.gql(
      `mutation($i: DiscoveryReportInput!) { reportDiscovery(input: $i) { replayed components endpoints errors { xname code } } }`,
      { i: { idempotencyKey: 'k1', endpoints: [{ xname: 'x9c0s0b0', address: '10.9.0.1', discoveryStatus: 'OK' }], components: [{ xname: 'x9c0s0b0n0', state: 'ON' }] } },
      agent,
    );
    expect(rep.errors).toBeUndefined();
    expect(rep.data).toEqual({ reportDiscovery: { replayed: false, components: 1, endpoints: 1, errors: [] } });
    const mine = await gw.gql<{ components: { edges: { node: { xname: string; site: string } }[] } }>(`{ components(first: 100) { edges { node { xname site } } } }`, undefined, agent);
    expect(mine.errors).toBeUndefined();
    expect(mine.data!.components.edges.map((e) => e.node)).toEqual([{ xname: 'x9c0s0b0n0', site: 'lab' }]);
  });

  it('answers counts without components unless selected (also through a fragment), and refuses components for more than 1,000 inputs before writing', async () => {
    const input = [{ xname: 'x1000c0s2b0n0' }, { xname: 'x1000c0s2b0n1' }];
    const counts = await gw.gql(`mutation($input: [ComponentInput!]!) { upsertComponents(input: $input) { created updated unchanged failed errorsOmitted } }`, { input }, gw.tokens.operator);
    expect(counts.data).toEqual({ upsertComponents: { created: 2, updated: 0, unchanged: 0, failed: 0, errorsOmitted: 0 } });
    const viaFragment = await gw.gql(
      `mutation($input: [ComponentInput!]!) { upsertComponents(input: $input) { ...R } } fragment R on UpsertComponentsResult { unchanged components { xname version } }`,
      { input },
      gw.tokens.operator,
    );
    expect(viaFragment.data).toEqual({ upsertComponents: { unchanged: 2, components: [{ xname: 'x1000c0s2b0n0', version: 1 }, { xname: 'x1000c0s2b0n1', version: 1 }] } });
    const many = Array.from({ length: 1001 }, (_, i) => ({ xname: `x1001c0s${i % 64}b${i >> 6}n0` }));
    const refused = await gw.gql(`mutation($input: [ComponentInput!]!) { upsertComponents(input: $input) { created components { xname } } }`, { input: many }, gw.tokens.operator);
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input' }, message: expect.stringMatching(/^input: has 1001 components; `components` may be selected for at most 1000 per call/) });
    expect((await gw.gql(`{ component(xname: "x1001c0s0b0n0") { xname } }`, undefined, gw.tokens.viewer)).data).toEqual({ component: null });
  });

  it('a 5,000-item upsert (the most one call takes) answers under the 6 MB limit and the 25 s timeout through the limit-enforcing invoker (all but one refused: the largest answer); 5,001 are refused', async () => {
    // Every item claims one MAC, so all but the first are errors naming their index, path and
    // the holder: the answer an input can make largest. One component is written.
    const input = Array.from({ length: 5_000 }, (_, i) => ({ xname: `x${2000 + (i >> 10)}c0s${(i >> 4) & 63}b0n${i & 15}`, interfaces: [{ mac: '02:00:00:99:99:99' }] }));
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.tokens.operator}` },
      body: JSON.stringify({ query: `mutation($input: [ComponentInput!]!) { upsertComponents(input: $input) { created updated unchanged failed errorsOmitted errors { index path xname code message } } }`, variables: { input } }),
    });
    const text = await res.text();
    expect([res.status, res.status === 200 ? '' : text.slice(0, 300)]).toEqual([200, '']);
    expect(Buffer.byteLength(text)).toBeLessThan(6_291_456);
    const body = JSON.parse(text) as { errors?: unknown; data: { upsertComponents: { created: number; failed: number; errorsOmitted: number; errors: { index: number; path: string; code: string }[] } } };
    expect(body.errors).toBeUndefined();
    const r = body.data.upsertComponents;
    expect(r).toMatchObject({ created: 1, updated: 0, unchanged: 0, failed: 4_999, errorsOmitted: 0 });
    expect(r.errors).toHaveLength(4_999);
    r.errors.forEach((e, i) => expect(e).toMatchObject({ index: i + 1, path: `input[${i + 1}].interfaces[0].mac`, code: 'CONFLICT' }));
    process.stderr.write(`5,000-item upsert answer: ${Buffer.byteLength(text)} bytes, ${r.errors.length} errors listed, ${r.errorsOmitted} omitted\n`);
    const tooMany = Array.from({ length: 5_001 }, (_, i) => ({ xname: `x${2100 + (i >> 10)}c0s${(i >> 4) & 63}b0n${i & 15}` }));
    const over = await gw.gql(`mutation($input: [ComponentInput!]!) { upsertComponents(input: $input) { created } }`, { input: tooMany }, gw.tokens.operator);
    expect(over.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input' }, message: 'input: has 5001 components; at most 5000 per call' });
  }, 120_000);
});
