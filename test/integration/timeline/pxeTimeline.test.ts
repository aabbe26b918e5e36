/**
 * What the TFTP and DHCP servers report lands on the right node's boot timeline: a real TFTP
 * server and client on loopback, the client binding a node's inventory address (or an address
 * this agent leased to the node's MAC), and the DHCP server's reply reports as the server emits
 * them. Machines that are no inventory node leave no trace.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tftpGet } from '../../../onprem-agent/pxe/tftp/client.js';
import { createTftpServer, type TftpServer } from '../../../onprem-agent/pxe/tftp/server.js';
import { InMemoryBootTimeline } from '../../../onprem-agent/timeline/bootTimeline.js';
import { recordDhcpReply, recordTftpTransfer } from '../../../onprem-agent/timeline/pxeEvents.js';
import { SnapshotIndex } from '../../../onprem-agent/sync/snapshotStore.js';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';

const A = { xname: 'x1c0s0b0n0', mac: '02:00:00:00:05:01', ip: '127.0.0.41' };
const B = { xname: 'x1c0s1b0n0', mac: '02:00:00:00:05:02', leased: '127.0.0.42' };
const STRANGER = '127.0.0.49';

const node = (xname: string, mac: string, ips: string[]): SnapshotNode => ({
  xname, nid: null, role: 'COMPUTE', subRole: null, arch: 'X86', groups: [], interfaces: [{ mac, ipAddresses: ips, network: 'boot' }], boot: null, cloudInit: null,
});

const index = new SnapshotIndex({
  revision: 1, contentHash: 'h', storedAt: '2026-01-01T00:00:00Z',
  snapshot: { site: 's', revision: 1, unchanged: false, contentHash: 'h', generatedAt: '2026-01-01T00:00:00Z', nodes: [node(A.xname, A.mac, [A.ip]), node(B.xname, B.mac, [])], discovery: [], artifacts: [], images: [] },
});
const leases = {
  boundAddresses: (mac: string) => (mac === B.mac ? [B.leased] : []),
  macAt: (address: string) => (address === B.leased ? B.mac : null),
};

describe('boot timeline from the PXE servers', () => {
  let root: string;
  let server: TftpServer;
  const timeline = new InMemoryBootTimeline();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'skyboot-timeline-tftp-'));
    writeFileSync(join(root, 'undionly.kpxe'), Buffer.alloc(3000, 7));
    server = await createTftpServer({ root, address: '127.0.0.1', port: 0, onTransfer: recordTftpTransfer(timeline, () => index, leases) });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('records a TFTP transfer on the node that owns the client address (inventory or lease), none for a stranger', async () => {
    const { port } = server.address();
    await tftpGet('127.0.0.1', port, 'undionly.kpxe', { localAddress: A.ip });
    await tftpGet('127.0.0.1', port, 'undionly.kpxe', { localAddress: B.leased });
    await tftpGet('127.0.0.1', port, 'undionly.kpxe', { localAddress: STRANGER });
    // onTransfer runs once the server has the final ACK, which may be just after the client returns.
    const deadline = Date.now() + 5000;
    while (timeline.events(B.xname).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(timeline.events(A.xname)).toEqual([expect.objectContaining({ stage: 'tftp', detail: 'undionly.kpxe, 3000 bytes' })]);
    expect(timeline.events(B.xname)).toEqual([expect.objectContaining({ stage: 'tftp', detail: 'undionly.kpxe, 3000 bytes' })]);
    expect(timeline.nodes().sort()).toEqual([A.xname, B.xname]);
  });

  it('maps DHCP replies to dhcp.offer and dhcp.ack for inventory MACs only', () => {
    const t = new InMemoryBootTimeline();
    const onReply = recordDhcpReply(t, () => index);
    onReply({ mac: A.mac, kind: 'offer', address: A.ip, bootFile: 'undionly.kpxe' });
    onReply({ mac: A.mac, kind: 'ack', address: A.ip, bootFile: 'undionly.kpxe' });
    onReply({ mac: A.mac, kind: 'nak', address: '0.0.0.0', bootFile: null });
    onReply({ mac: B.mac, kind: 'proxy-offer', address: '0.0.0.0', bootFile: 'ipxe.efi' });
    onReply({ mac: '02:00:00:00:05:99', kind: 'offer', address: '127.0.0.50', bootFile: null });
    expect(t.events(A.xname).map((e) => [e.stage, e.detail])).toEqual([
      ['dhcp.offer', `offer, ${A.ip}, boot file undionly.kpxe`],
      ['dhcp.ack', `ack, ${A.ip}, boot file undionly.kpxe`],
    ]);
    expect(t.events(B.xname).map((e) => [e.stage, e.detail])).toEqual([['dhcp.offer', 'proxy-offer, boot file ipxe.efi']]);
    expect(t.nodes().sort()).toEqual([A.xname, B.xname]);
  });
});
