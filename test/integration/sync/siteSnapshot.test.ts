/** siteSnapshot and reportObservations through the real gateway, with an agent token. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { TestGateway } from '../../support/gateway.js';
import { pullSnapshot, startTestCloud, type TestCloud } from './cloud.js';
import { SNAPSHOT_QUERY } from '../../../onprem-agent/sync/cloudClient.js';
import { siteFixture, type SiteFixture } from './siteFixture.js';

describe('siteSnapshot / reportObservations (gateway, agent token)', () => {
  let cloud: TestCloud;
  let gw: TestGateway;
  let fx: SiteFixture;
  beforeAll(async () => {
    cloud = await startTestCloud();
    gw = cloud.gw;
    fx = await siteFixture(gw, 'snap');
  });
  afterAll(() => cloud.close());

  const pull = (since: number | null, token = fx.agentToken) => pullSnapshot(gw, token, since);

  it('returns nodes with resolved boot configuration and presigned READY artifacts', async () => {
    const s = await pull(null);
    expect(s.site).toBe('snap');
    expect(s.unchanged).toBe(false);
    expect(s.revision).toBe(1);
    expect(s.nodes!.map((n) => n.xname)).toEqual(['x1000c0s0b0n0', 'x1000c0s1b0n0']);
    const n0 = s.nodes![0]!;
    expect(n0.interfaces).toEqual([{ mac: '02:00:00:00:00:01', ipAddresses: ['10.1.0.1'], network: 'hsn' }]);
    expect(n0.boot).toMatchObject({ kernel: fx.kernel.sha256, initrd: fx.initrd.sha256, kernelParameters: 'console=ttyS0', matchedSelector: 'role:COMPUTE', imageId: fx.imageId });
    expect(s.artifacts!.map((a) => [a.sha256, a.size, a.type, a.status])).toEqual(
      [[fx.kernel.sha256, fx.kernel.size, 'KERNEL', 'READY'], [fx.initrd.sha256, fx.initrd.size, 'INITRD', 'READY']].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    const k = s.artifacts!.find((a) => a.sha256 === fx.kernel.sha256)!;
    const got = Buffer.from(await (await fetch(k.url!)).arrayBuffer());
    expect(got.equals(fx.kernel.bytes)).toBe(true);
    expect(s.images).toEqual([{ id: fx.imageId, name: 'compute', version: '1', arch: 'X86', status: 'READY' }]);
  });

  it('keeps the revision while nothing changes and answers unchanged without a body', async () => {
    const a = await pull(null);
    const b = await pull(a.revision);
    expect(b).toMatchObject({ revision: a.revision, unchanged: true, content: null, deltas: null, artifacts: null, contentHash: a.contentHash });
    expect(b.nodes).toBeUndefined();
    // A stale revision gets the whole body again.
    expect((await pull(a.revision - 1)).nodes).toHaveLength(2);
  });

  it('bumps the revision exactly once per change, also under concurrent pulls', async () => {
    const before = (await pull(null)).revision;
    await fx.setBoot({ selector: { xnames: ['x1000c0s0b0n0'] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 quiet' });
    const pulls = await Promise.all(Array.from({ length: 6 }, () => pull(before)));
    expect(new Set(pulls.map((p) => p.revision))).toEqual(new Set([before + 1]));
    expect(pulls.every((p) => !p.unchanged)).toBe(true);
    expect(pulls[0]!.nodes![0]!.boot).toMatchObject({ matchedSelector: 'xname:x1000c0s0b0n0', kernelParameters: 'console=ttyS0 quiet' });
    expect((await pull(before + 1)).unchanged).toBe(true);
    const item = await gw.aws.clients.doc.send(new GetCommand({ TableName: gw.aws.tableName, Key: { PK: 'SITE#snap', SK: 'SITE' } }));
    expect(item.Item!.snapshotRevision).toBe(before + 1);
  });

  it('does not rebuild for a write the build already read, within the commit margin; does for one after it', async () => {
    const siteState = async () => (await gw.aws.clients.doc.send(new GetCommand({ TableName: gw.aws.tableName, Key: { PK: 'SITE#snap', SK: 'SITE' }, ConsistentRead: true }))).Item!;
    // A write, then a build at once: its audit record lies inside the build's look-back margin.
    await fx.setBoot({ selector: { xnames: ['x1000c0s1b0n0'] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 margin=1' });
    const built = await pull(null);
    const afterBuild = await siteState();
    expect(afterBuild.snapshotBuiltSeen).toEqual(expect.arrayContaining([expect.stringMatching(/^audit:/)]));
    // Pulls within the margin answer from the stored revision: no build moved snapshotBuiltFrom.
    for (let i = 0; i < 3; i++) expect((await pull(built.revision)).unchanged).toBe(true);
    expect((await siteState()).snapshotBuiltFrom).toBe(afterBuild.snapshotBuiltFrom);
    // A write after the build's reads began is a mark it did not list: the next pull builds it.
    await fx.setBoot({ selector: { xnames: ['x1000c0s1b0n0'] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 margin=2' });
    const next = await pull(built.revision);
    expect(next).toMatchObject({ unchanged: false, revision: built.revision + 1 });
    expect(next.nodes!.find((n) => n.xname === 'x1000c0s1b0n0')!.boot).toMatchObject({ kernelParameters: 'console=ttyS0 margin=2' });
  });

  it('is for agents only, scoped to their own site', async () => {
    const r = await gw.gql(SNAPSHOT_QUERY, { since: null }, gw.tokens.admin);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const other = await gw.agentToken('nosuchsite');
    const r2 = await gw.gql(SNAPSHOT_QUERY, { since: null }, other);
    expect(r2.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('stores observations once per idempotency key and rejects invalid ones for good', async () => {
    const m = `mutation($b: [ObservationInput!]!) { reportObservations(batch: $b) { idempotencyKey outcome error } }`;
    const batch = [
      { idempotencyKey: 'hb-1', kind: 'heartbeat', at: new Date().toISOString(), payload: { xname: 'x1000c0s0b0n0', stage: 'initramfs' } },
      { idempotencyKey: 'bad-1', kind: 'nonsense', payload: {} },
    ];
    const first = await gw.gql<{ reportObservations: { idempotencyKey: string; outcome: string; error: string | null }[] }>(m, { b: batch }, fx.agentToken);
    expect(first.data!.reportObservations.map((r) => r.outcome)).toEqual(['STORED', 'REJECTED']);
    expect(first.data!.reportObservations[1]!.error).toMatch(/kind/);
    const again = await gw.gql<{ reportObservations: { outcome: string }[] }>(m, { b: batch.slice(0, 1) }, fx.agentToken);
    expect(again.data!.reportObservations[0]!.outcome).toBe('DUPLICATE');
    // The same key with other content is refused for good, and the stored observation stays.
    const reused = await gw.gql<{ reportObservations: { outcome: string; error: string | null }[] }>(m, { b: [{ ...batch[0], payload: { xname: 'x1000c0s0b0n0', stage: 'booted' } }] }, fx.agentToken);
    expect(reused.data!.reportObservations[0]).toMatchObject({ outcome: 'REJECTED', error: 'idempotencyKey: hb-1 was already used for a different payload (observation#snap); use a new key for new content' });
    const item = await gw.aws.clients.doc.send(new GetCommand({ TableName: gw.aws.tableName, Key: { PK: 'OBS#snap#hb-1', SK: 'OBS' } }));
    expect(item.Item).toMatchObject({ kind: 'heartbeat', site: 'snap', payload: { stage: 'initramfs' } });
  });

  it('forwards discovery reports to the inventory once', async () => {
    const m = `mutation($b: [ObservationInput!]!) { reportObservations(batch: $b) { outcome error } }`;
    const payload = {
      endpoints: [{ xname: 'x1000c0s2b0', address: '10.254.0.5', discoveryStatus: 'OK' }],
      components: [{ xname: 'x1000c0s2b0n0', interfaces: [{ mac: '02:00:00:00:00:33' }] }],
    };
    const b = [{ idempotencyKey: 'disco-1', kind: 'inventory.reportDiscovery', payload }];
    const r1 = await gw.gql<{ reportObservations: { outcome: string; error: string | null }[] }>(m, { b }, fx.agentToken);
    expect(r1.data!.reportObservations[0]).toEqual({ outcome: 'STORED', error: null });
    const r2 = await gw.gql<{ reportObservations: { outcome: string }[] }>(m, { b }, fx.agentToken);
    expect(r2.data!.reportObservations[0]!.outcome).toBe('DUPLICATE');
    const comp = await gw.gql<{ component: { xname: string; site: string } | null }>(`{ component(xname: "x1000c0s2b0n0", site: "snap") { xname site } }`);
    expect(comp.data!.component).toEqual({ xname: 'x1000c0s2b0n0', site: 'snap' });
    // The snapshot now carries the BMC, so the agent's next discovery keeps its xname.
    const s = await pull(null);
    expect(s.redfishEndpoints).toEqual([{ xname: 'x1000c0s2b0', address: '10.254.0.5' }]);
  });
});
