/**
 * Node-scoped serving beyond the inventory address: a node the inventory gives no IP is reached
 * at the address this agent's DHCP pool bound to its MAC (a real LeasePool behind the agent's
 * lease adapter), a machine the inventory does not know may report only from the address it was
 * leased, and a boot script that carries secrets goes only to its node while a plain one is
 * served by MAC to anyone. Real HTTP server and client sockets from distinct loopback addresses;
 * the snapshot is built here (the cloud does not mark scripts as carrying secrets yet) and the
 * outbox is the real one, offline.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHash, type SiteSnapshot, type SnapshotContent, type SnapshotNode } from '../../../schema/siteSnapshot.js';
import { ArtifactCache } from '../../../onprem-agent/cache/artifactCache.js';
import { Outbox } from '../../../onprem-agent/outbox/outbox.js';
import { LeasePool } from '../../../onprem-agent/pxe/dhcp/leases.js';
import { dhcpLeaseTable } from '../../../onprem-agent/pxe/http/dhcpLeases.js';
import { createAgentHttpServer } from '../../../onprem-agent/pxe/http/server.js';
import { CloudUnreachableError } from '../../../onprem-agent/sync/cloudClient.js';
import { SnapshotIndex, saveSnapshot } from '../../../onprem-agent/sync/snapshotStore.js';
import { httpFrom } from '../../support/httpFrom.js';

const K = 'a'.repeat(64);
const SECRET = { xname: 'x1c0s0b0n0', mac: '02:00:00:00:01:01', ip: '127.0.0.12' };
const LEASED = { xname: 'x1c0s1b0n0', mac: '02:00:00:00:01:02' };
const UNKNOWN_MAC = '02:00:00:00:01:99';
const STRANGER = '127.0.0.19';

const node = (xname: string, mac: string, ips: string[], carriesSecrets: boolean): SnapshotNode => ({
  xname, nid: null, role: 'COMPUTE', subRole: null, arch: 'X86', groups: [],
  interfaces: [{ mac, ipAddresses: ips, network: 'boot' }],
  boot: { configId: 'bc-1', matchedSelector: 'role:COMPUTE', imageId: null, kernel: K, initrd: null, rootfs: null, kernelParameters: 'console=ttyS0', rootfsProvider: null, ...(carriesSecrets ? { carriesSecrets } : {}) },
  cloudInit: { metaData: null, userData: `#cloud-config\n# for ${xname}\n`, vendorData: null },
});

describe('node-scoped serving: DHCP leases, unknown machines, boot scripts with secrets', () => {
  let dir: string;
  let pool: LeasePool;
  let outbox: Outbox;
  const servers: ReturnType<typeof createAgentHttpServer>[] = [];
  let index: SnapshotIndex;

  const listen = async (host: string, extra: Partial<Parameters<typeof createAgentHttpServer>[0]> = {}): Promise<{ base: string; server: ReturnType<typeof createAgentHttpServer> }> => {
    const server = createAgentHttpServer({
      index: () => index,
      cache: await new ArtifactCache(join(dir, 'cache')).init(),
      outbox,
      status: async () => ({}),
      leases: dhcpLeaseTable(() => ({ leases: () => pool.list() })),
      ...extra,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    servers.push(server);
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyboot-node-scope-'));
    const content: SnapshotContent = {
      site: 'scope', siteDomain: null, discovery: [], artifacts: [], images: [], redfishEndpoints: [],
      nodes: [node(SECRET.xname, SECRET.mac, [SECRET.ip], true), node(LEASED.xname, LEASED.mac, [], false)],
    };
    const snap: SiteSnapshot = { ...content, revision: 1, unchanged: false, contentHash: contentHash(content), generatedAt: new Date().toISOString() };
    index = new SnapshotIndex(await saveSnapshot(dir, snap));
    outbox = await new Outbox(join(dir, 'outbox'), { reportObservations: async () => { throw new CloudUnreachableError('offline in this test'); } }).init();
    pool = new LeasePool({ start: '127.0.0.13', end: '127.0.0.18' }, new Set());
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches a node without an inventory IP at the address this agent leased to its MAC, and only while bound', async () => {
    const { base, server } = await listen('127.0.0.1');
    const url = `${base}/cloud-init/${LEASED.xname}/user-data`;
    // Offered is not yet the client's address.
    const offered = pool.offer(LEASED.mac)!;
    expect((await httpFrom(offered.ip, url)).status).toBe(403);
    pool.bind(LEASED.mac, offered.ip, 3600);
    const own = await httpFrom(offered.ip, url);
    expect(own.status).toBe(200);
    expect(own.text()).toContain(`# for ${LEASED.xname}`);
    expect((await httpFrom(STRANGER, url)).status).toBe(403);
    // The leased address is not the other node's, whose inventory address is fixed.
    expect((await httpFrom(offered.ip, `${base}/cloud-init/${SECRET.xname}/user-data`)).status).toBe(403);
    const hb = await httpFrom(offered.ip, `${base}/heartbeat`, { method: 'POST', body: JSON.stringify({ mac: LEASED.mac, stage: 'booted' }) });
    expect(hb.status).toBe(202);
    pool.release(LEASED.mac, offered.ip);
    expect((await httpFrom(offered.ip, url)).status).toBe(403);
    expect(server.counters.refused).toMatchObject({ 'requester-unknown': 4, 'requester-is-another-node': 0 });
  });

  it('accepts a heartbeat for a MAC the inventory does not know only from the address leased to it', async () => {
    const { base, server } = await listen('127.0.0.1');
    const lease = pool.bind(UNKNOWN_MAC, '127.0.0.17', 3600)!;
    const body = JSON.stringify({ mac: UNKNOWN_MAC, stage: 'discovery', idempotencyKey: 'hb-discovery-1' });
    expect((await httpFrom(STRANGER, `${base}/heartbeat`, { method: 'POST', body })).status).toBe(403);
    expect((await httpFrom(lease.ip, `${base}/heartbeat`, { method: 'POST', body })).status).toBe(202);
    expect(server.counters.refused['unknown-node']).toBe(1);
    const pending = readdirSync(join(dir, 'outbox', 'pending')).map((f) => JSON.parse(readFileSync(join(dir, 'outbox', 'pending', f), 'utf8')) as { idempotencyKey: string; payload: Record<string, unknown> });
    expect(pending.find((e) => e.idempotencyKey === 'hb-discovery-1')?.payload).toMatchObject({ xname: null, mac: UNKNOWN_MAC, remoteAddress: lease.ip, stage: 'discovery' });
  });

  it('serves a boot script that carries secrets only to its node; a plain script to anyone by MAC', async () => {
    const { base, server } = await listen('127.0.0.1');
    const secret = `${base}/boot/v1/bootscript?mac=${SECRET.mac}`;
    const own = await httpFrom(SECRET.ip, secret);
    expect(own.status).toBe(200);
    expect(own.text()).toContain(`xname=${SECRET.xname}`);
    const refused = await httpFrom(STRANGER, secret);
    expect(refused.status).toBe(403);
    expect(refused.text()).toContain(`the boot script of ${SECRET.xname} carries secrets and is answered only for requests from ${SECRET.xname}`);
    expect((await httpFrom(STRANGER, `${base}/boot/v1/bootscript?mac=${LEASED.mac}`)).status).toBe(200);
    expect(server.counters).toMatchObject({ bootScripts: 2, refused: { 'requester-unknown': 1 } });

    // The hook decides when given (the iSCSI module marks its CHAP-carrying scripts this way).
    const hooked = await listen('127.0.0.1', { bootScriptCarriesSecrets: (n) => n.xname === LEASED.xname });
    expect((await httpFrom(STRANGER, `${hooked.base}/boot/v1/bootscript?mac=${LEASED.mac}`)).status).toBe(403);
    expect((await httpFrom(STRANGER, `${hooked.base}/boot/v1/bootscript?mac=${SECRET.mac}`)).status).toBe(200);
  });

  it('reads the peer address of a dual-stack listener as IPv4 (::ffff:a.b.c.d), and never X-Forwarded-For', async () => {
    // Needs IPv6 on lo (the agent's default 0.0.0.0 is IPv4-only; `::` is what a site might set).
    const { base } = await listen('::');
    const url = `${base}/cloud-init/${SECRET.xname}/meta-data`;
    expect((await httpFrom(SECRET.ip, url)).status).toBe(200);
    expect((await httpFrom(STRANGER, url, { headers: { 'x-forwarded-for': SECRET.ip, forwarded: `for=${SECRET.ip}` } })).status).toBe(403);
  });
});
