/**
 * Sites are tenants, through the real gateway: two sites numbered alike (x1000c0s0b0n0, nid 1,
 * 10.0.0.10 and QEMU's default MAC in both) are both stored, each agent's snapshot holds its
 * own site only, an upsert in one never touches the other, moveComponent refuses a move onto an
 * identity the target holds, and an unknown site is BAD_USER_INPUT.
 */
import type { TestGateway } from '../../support/gateway.js';
import { pullSnapshot, startTestCloud, type TestCloud } from './cloud.js';
import { siteFixture, type SiteFixture } from './siteFixture.js';

const QEMU_MAC = '52:54:00:12:34:56';
const XN = 'x1000c0s0b0n0';
const COMPONENT = `query($x: XName!, $s: String) { component(xname: $x, site: $s) { xname site nid role subRole state version groups interfaces { mac ipAddresses network } } }`;
const UPSERT = `mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { components { xname site } errors { xname code message } } }`;
const MOVE = `mutation($x: XName!, $from: String!, $to: String!) { moveComponent(xname: $x, fromSite: $from, toSite: $to) { xname site nid groups version } }`;

describe('two sites with identical identities (gateway, agent tokens)', () => {
  let cloud: TestCloud;
  let gw: TestGateway;
  let a: SiteFixture;
  let b: SiteFixture;
  beforeAll(async () => {
    cloud = await startTestCloud();
    gw = cloud.gw;
    a = await siteFixture(gw, 'lab-a', { imageName: 'compute-a' });
    b = await siteFixture(gw, 'lab-b', { imageName: 'compute-b' });
  });
  afterAll(() => cloud.close());

  const gql = async <T = Record<string, unknown>>(q: string, v?: Record<string, unknown>, token?: string) => {
    const r = await gw.gql<T>(q, v, token);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!;
  };
  const component = async (site: string, xname = XN) => (await gql<{ component: Record<string, unknown> | null }>(COMPONENT, { x: xname, s: site })).component;
  const pull = (fx: SiteFixture, since: number | null = null) => pullSnapshot(gw, fx.agentToken, since);
  const identity = (site: string, role: string, extra: Record<string, unknown> = {}) => ({
    xname: XN,
    site,
    nid: 1,
    role,
    interfaces: [
      { mac: '02:00:00:00:00:01', ipAddresses: ['10.1.0.1'], network: 'hsn' },
      { mac: QEMU_MAC, ipAddresses: ['10.0.0.10'] },
    ],
    ...extra,
  });

  it('both sites hold x1000c0s0b0n0 with nid 1, 10.0.0.10 and the same MAC', async () => {
    const up = await gql<{ upsertComponents: { errors: unknown[] } }>(UPSERT, {
      in: [identity('lab-a', 'COMPUTE'), identity('lab-b', 'SERVICE'), { xname: 'x1000c0s5b0n0', site: 'lab-a', nid: 5 }, { xname: 'x2000c0s0b0n0', site: 'lab-b', nid: 9, interfaces: [{ mac: '02:bb:00:00:00:09' }] }],
    });
    expect(up.upsertComponents.errors).toEqual([]);
    const inA = await component('lab-a');
    const inB = await component('lab-b');
    expect(inA).toMatchObject({ site: 'lab-a', nid: 1, role: 'COMPUTE' });
    expect(inB).toMatchObject({ site: 'lab-b', nid: 1, role: 'SERVICE' });
    expect(inA!.interfaces).toEqual(inB!.interfaces);
    const byMac = `query($m: MAC!, $s: String) { componentByMac(mac: $m, site: $s) { xname site role } }`;
    expect((await gql<{ componentByMac: unknown }>(byMac, { m: QEMU_MAC, s: 'lab-b' })).componentByMac).toEqual({ xname: XN, site: 'lab-b', role: 'SERVICE' });
  });

  it("each agent's snapshot holds its own site's nodes, boots and artifacts only", async () => {
    const sa = await pull(a);
    const sb = await pull(b);
    expect(sa.nodes!.map((n) => n.xname)).toEqual(['x1000c0s0b0n0', 'x1000c0s1b0n0', 'x1000c0s5b0n0']);
    expect(sb.nodes!.map((n) => n.xname)).toEqual(['x1000c0s0b0n0', 'x1000c0s1b0n0', 'x2000c0s0b0n0']);
    expect(sa.nodes![0]).toMatchObject({ nid: 1, role: 'COMPUTE', boot: { kernel: a.kernel.sha256 } });
    expect(sb.nodes![0]).toMatchObject({ nid: 1, role: 'SERVICE', boot: null });
    expect(sa.nodes![1]!.boot).toMatchObject({ kernel: a.kernel.sha256 });
    expect(sb.nodes![1]!.boot).toMatchObject({ kernel: b.kernel.sha256 });
    expect(sa.artifacts!.map((x) => x.sha256).sort()).toEqual([a.kernel.sha256, a.initrd.sha256].sort());
    expect(sb.artifacts!.map((x) => x.sha256).sort()).toEqual([b.kernel.sha256, b.initrd.sha256].sort());
    // An agent reading inventory sees its own component under the shared xname, and may not name the other site.
    const own = await gw.gql<{ component: { site: string } }>(COMPONENT, { x: XN }, a.agentToken);
    expect(own.data!.component).toMatchObject({ site: 'lab-a', role: 'COMPUTE' });
    const other = await gw.gql(COMPONENT, { x: XN, s: 'lab-b' }, a.agentToken);
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("an upsert or a discovery report in one site never changes the other's component or snapshot", async () => {
    const before = await component('lab-b');
    const revB = (await pull(b)).revision;
    const up = await gql<{ upsertComponents: { errors: unknown[] } }>(UPSERT, {
      in: [identity('lab-a', 'COMPUTE', { subRole: 'gpu', state: 'READY', interfaces: [{ mac: QEMU_MAC, ipAddresses: ['10.0.0.10', '10.0.0.11'] }] })],
    });
    expect(up.upsertComponents.errors).toEqual([]);
    const report = `mutation($i: DiscoveryReportInput!) { reportDiscovery(input: $i) { components errors { xname } } }`;
    await gql(report, { i: { idempotencyKey: 'walk-a', components: [{ xname: XN, state: 'ON', interfaces: [{ mac: QEMU_MAC, ipAddresses: ['10.0.0.12'] }] }] } }, a.agentToken);
    expect(await component('lab-a')).toMatchObject({ subRole: 'gpu', state: 'ON', interfaces: [{ mac: QEMU_MAC, ipAddresses: ['10.0.0.12'] }] });
    expect(await component('lab-b')).toEqual(before);
    expect(await pull(b, revB)).toMatchObject({ revision: revB, unchanged: true });
    expect((await pull(a)).nodes![0]!.interfaces).toEqual([{ mac: QEMU_MAC, ipAddresses: ['10.0.0.12'], network: 'default' }]);
  });

  it('moveComponent refuses a move onto identities the target site holds, naming them; a free move carries the memberships', async () => {
    const refused = await gw.gql(MOVE, { x: XN, from: 'lab-a', to: 'lab-b' });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'toSite' });
    expect(refused.errors?.[0]?.message).toMatch(/site lab-b already holds xname x1000c0s0b0n0, MAC 52:54:00:12:34:56 \(held by x1000c0s0b0n0\), nid 1 \(held by x1000c0s0b0n0\)/);
    // x1000c0s5b0n0 is free in lab-b but for one MAC, which lab-b's x2000c0s0b0n0 has.
    const taken = await gql<{ upsertComponents: { errors: unknown[] } }>(UPSERT, { in: [{ xname: 'x1000c0s5b0n0', site: 'lab-a', interfaces: [{ mac: '02:bb:00:00:00:09', ipAddresses: ['10.5.0.5'] }] }] });
    expect(taken.upsertComponents.errors).toEqual([]);
    await gql(`mutation { createGroup(input: { label: "movers" }) { label } }`);
    await gql(`mutation { addGroupMembers(label: "movers", xnames: ["x1000c0s5b0n0"], site: "lab-a") { changed } }`);
    const held = await gw.gql(MOVE, { x: 'x1000c0s5b0n0', from: 'lab-a', to: 'lab-b' });
    expect(held.errors?.[0]?.message).toBe('toSite: site lab-b already holds MAC 02:bb:00:00:00:09 (held by x2000c0s0b0n0); nothing was moved');
    expect(await component('lab-a', 'x1000c0s5b0n0')).toMatchObject({ site: 'lab-a', groups: ['movers'] });
    expect(await component('lab-b', 'x1000c0s5b0n0')).toBeNull();

    expect((await gql<{ upsertComponents: { errors: unknown[] } }>(UPSERT, { in: [{ xname: 'x1000c0s5b0n0', site: 'lab-a', interfaces: [{ mac: '02:00:00:00:05:05', ipAddresses: ['10.5.0.5'] }] }] })).upsertComponents.errors).toEqual([]);
    const moved = await gql<{ moveComponent: Record<string, unknown> }>(MOVE, { x: 'x1000c0s5b0n0', from: 'lab-a', to: 'lab-b' });
    expect(moved.moveComponent).toMatchObject({ site: 'lab-b', nid: 5, groups: ['movers'] });
    expect(await component('lab-a', 'x1000c0s5b0n0')).toBeNull();
    const members = await gql<{ group: { members: { edges: { node: { site: string } }[] } } }>(`{ group(label: "movers") { members { edges { node { xname site } } } } }`);
    expect(members.group.members.edges.map((e) => e.node)).toEqual([{ xname: 'x1000c0s5b0n0', site: 'lab-b' }]);
    expect((await pull(a)).nodes!.map((n) => n.xname)).not.toContain('x1000c0s5b0n0');
    expect((await pull(b)).nodes!.map((n) => n.xname)).toContain('x1000c0s5b0n0');
    // Its old claims are free in lab-a again.
    expect((await gql<{ upsertComponents: { errors: unknown[] } }>(UPSERT, { in: [{ xname: 'x1000c0s6b0n0', site: 'lab-a', nid: 5, interfaces: [{ mac: '02:00:00:00:05:05' }] }] })).upsertComponents.errors).toEqual([]);
  });

  it('an input naming an unknown site is BAD_USER_INPUT naming the input path and the value', async () => {
    const up = await gql<{ upsertComponents: { components: unknown[]; errors: { code: string; message: string }[] } }>(UPSERT, { in: [{ xname: 'x3000c0s0b0n0', site: 'hcp1' }] });
    expect(up.upsertComponents).toEqual({ components: [], errors: [{ xname: 'x3000c0s0b0n0', code: 'BAD_USER_INPUT', message: expect.stringMatching(/^input\[0\]\.site: site "hcp1" does not exist/) }] });
    const malformed = await gql<{ upsertComponents: { errors: { code: string; message: string }[] } }>(UPSERT, { in: [{ xname: 'x3000c0s0b0n0', site: 'a#b' }] });
    expect(malformed.upsertComponents.errors).toEqual([{ xname: 'x3000c0s0b0n0', code: 'BAD_USER_INPUT', message: expect.stringMatching(/^input\[0\]\.site: "a#b" is not a valid name/) }]);
    const read = await gw.gql(COMPONENT, { x: XN, s: 'hcp1' });
    expect(read.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'site' });
    const move = await gw.gql(MOVE, { x: XN, from: 'lab-a', to: 'hcp1' });
    expect(move.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'toSite' });
    expect(move.errors?.[0]?.message).toContain('"hcp1"');
    const list = await gw.gql(`{ components(filter: { site: "hcp1" }) { edges { node { xname } } } }`);
    expect(list.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.site' });
    const power = await gw.gql(`mutation { requestPower(xnames: ["${XN}"], action: STATUS, site: "hcp1") { id } }`);
    expect(power.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'site' });
    const ep = await gw.gql(`mutation { upsertRedfishEndpoints(input: [{ xname: "x3000c0s0b0", address: "10.3.0.1", site: "hcp1" }]) { xname } }`);
    expect(ep.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input[0].site' });
    // Nothing was created for the unknown site, in the inventory or in the registry.
    expect((await gql<{ site: unknown }>(`{ site(name: "hcp1") { name } }`)).site).toBeNull();
  });
});
