/**
 * The DHCP server under a site's routing, in network namespaces that hold only what a site
 * host has: connected subnets, and on the two-NIC host a default route on the other NIC.
 * No route for 255.255.255.255 anywhere.
 *   LAN A 10.82.0.0/24: srv eth0 10.82.0.1, cliA (udhcpc, no address), gw 10.82.0.254
 *   LAN B 10.83.0.0/24: srv eth1 10.83.0.1, cliB (udhcpc, no address), gw 10.83.0.254
 */
import { createLan, type Lan, type NetnsHost } from '../../support/netns.js';
import { pxeRequest } from '../../../onprem-agent/pxe/dhcp/clientPacket.js';
import { MessageType, messageType } from '../../../onprem-agent/pxe/dhcp/options.js';
import { probe, pxeArgs, startDhcp, udhcpc, type RunningDhcp, type ServerConfig } from './dhcpHarness.js';
import { requireTool } from './tools.js';

let lanA: Lan;
let lanB: Lan;
let srv: NetnsHost;
let cliA: NetnsHost;
let cliB: NetnsHost;
let gwA: NetnsHost;

beforeAll(async () => {
  requireTool('busybox', 'busybox');
  lanA = await createLan([{ name: 'srv', cidr: '10.82.0.1/24' }, { name: 'cliA' }, { name: 'gwA', cidr: '10.82.0.254/24' }]);
  lanB = await createLan([{ name: 'cliB' }, { name: 'gwB', cidr: '10.83.0.254/24' }]);
  [srv, cliA, gwA, cliB] = [lanA.hosts.srv!, lanA.hosts.cliA!, lanA.hosts.gwA!, lanB.hosts.cliB!];
}, 60000);

afterAll(async () => {
  await lanA?.destroy();
  await lanB?.destroy();
});

async function expectStartFails(host: NetnsHost, config: ServerConfig, message: RegExp): Promise<void> {
  let error: Error | undefined;
  try {
    const s = await startDhcp(host, config);
    await s.stop();
  } catch (err) {
    error = err as Error;
  }
  expect(error?.message).toMatch(message);
}

describe('one boot NIC with only its connected subnet', () => {
  let server: RunningDhcp;

  beforeAll(async () => {
    server = await startDhcp(srv, {
      mode: 'full',
      interfaces: ['eth0'],
      httpBaseUrl: 'http://10.82.0.1:8080',
      subnets: [{ cidr: '10.82.0.0/24', range: '10.82.0.100-10.82.0.120' }, { cidr: '10.84.0.0/24', range: '10.84.0.100-10.84.0.120' }],
      staticLeases: { [cliA.mac]: { ip: '10.82.0.42', hostname: 'x1000c0s0b0n0' } },
    });
  });
  afterAll(async () => { await server?.stop(); });

  it('the namespace really has no default route and no route for 255.255.255.255', async () => {
    const { stdout } = await srv.exec('ip', ['-4', 'route', 'show', 'table', 'main']);
    expect(stdout.trim()).toBe('10.82.0.0/24 dev eth0 proto kernel scope link src 10.82.0.1');
    await expect(srv.exec('ip', ['route', 'get', '255.255.255.255'])).rejects.toThrow(/unreachable/i);
  });

  it('udhcpc gets its offer and ack, from the address of eth0 (dhcpAddress derived from dhcpInterface)', async () => {
    const before = await server.stats();
    const { env, log } = await udhcpc(cliA, pxeArgs(7));
    expect({ log, ...env }).toMatchObject({ ip: '10.82.0.42', serverid: '10.82.0.1', siaddr: '10.82.0.1', boot_file: 'ipxe.efi' });
    const after = await server.stats();
    expect(after.interfaces).toEqual([{ name: 'eth0', address: '10.82.0.1' }]);
    expect({ offers: after.offers - before.offers, acks: after.acks - before.acks, sendErrors: after.sendErrors - before.sendErrors }).toEqual({ offers: 1, acks: 1, sendErrors: 0 });
  });

  it('counts a reply the kernel refused as a send error with its reason, not as an offer', async () => {
    // A relay for 10.84.0.0/24 that this host has no route to: the unicast to giaddr fails.
    const before = await server.stats();
    const discover = pxeRequest({ mac: '52:54:00:84:00:01', arch: 7, giaddr: '10.84.0.1', xid: 0x8401 });
    const p = await probe(gwA, { port: 67, listenMs: 1000, send: [{ packet: discover, address: '10.82.0.1', port: 67 }] });
    expect((await p.done).filter((c) => c.packet.xid === 0x8401)).toEqual([]);
    const after = await server.stats();
    expect({ offers: after.offers - before.offers, sendErrors: after.sendErrors - before.sendErrors }).toEqual({ offers: 0, sendErrors: 1 });
    expect(after.lastSendError).toMatchObject({ kind: 'offer', interface: 'eth0', to: '10.84.0.1:67' });
    expect(after.lastSendError?.reason).toMatch(/ENETUNREACH/);
  });
});

describe('start-up check', () => {
  beforeAll(async () => {
    // A veth pair left down: a NIC that exists but was never brought up.
    await srv.exec('ip', ['link', 'add', 'down0', 'type', 'veth', 'peer', 'name', 'down1']);
  });

  it.each([
    ['a missing interface', { interfaces: ['eth9'] }, /no interface "eth9" on this host \(present: .*eth0/],
    ['an interface that is down', { interfaces: ['down0'] }, /interface "down0" is down \(ip link set down0 up\)/],
    ['a dhcpAddress no interface holds', { dhcpAddress: '10.82.0.9' }, /no interface of this host has the dhcpAddress 10\.82\.0\.9 .*eth0 10\.82\.0\.1\/24/],
    ['a dhcpAddress on another interface than named', { interfaces: ['eth0'], dhcpAddress: '127.0.0.1' }, /dhcpAddress 127\.0\.0\.1 is not an address of eth0/],
  ])('names %s', async (_what, extra, message) => {
    await expectStartFails(srv, { mode: 'proxy', httpBaseUrl: 'http://10.82.0.1:8080', ...extra }, message);
  });

  it('starts on a boot NIC that has its address but no carrier yet (the switch port or the VM not up)', async () => {
    await srv.exec('ip', ['link', 'add', 'nc0', 'type', 'veth', 'peer', 'name', 'nc1']);
    await srv.exec('ip', ['addr', 'add', '10.85.0.1/24', 'dev', 'nc0']);
    await srv.exec('ip', ['link', 'set', 'nc0', 'up']);
    expect((await srv.exec('ip', ['link', 'show', 'nc0'])).stdout).toContain('NO-CARRIER');
    const s = await startDhcp(srv, { mode: 'proxy', httpBaseUrl: 'http://10.85.0.1:8080', dhcpAddress: '10.85.0.1' });
    try {
      expect((await s.stats()).interfaces).toEqual([{ name: 'nc0', address: '10.85.0.1' }]);
    } finally {
      await s.stop();
    }
  });

  it('names an interface without an IPv4 address', async () => {
    await expectStartFails(cliA, { mode: 'proxy', httpBaseUrl: 'http://10.82.0.1:8080', interfaces: ['eth0'] }, /interface "eth0" has no IPv4 address/);
  });
});

describe('a host with two boot NICs on two subnets, the default route on the second', () => {
  let server: RunningDhcp;

  beforeAll(async () => {
    await lanB.attach(srv, 'eth1', '10.83.0.1/24');
    await srv.exec('ip', ['route', 'add', 'default', 'via', '10.83.0.254', 'dev', 'eth1']);
    server = await startDhcp(srv, {
      mode: 'full',
      interfaces: ['eth0', 'eth1'],
      httpPort: 8080,
      subnets: [{ cidr: '10.82.0.0/24', range: '10.82.0.100-10.82.0.120' }, { cidr: '10.83.0.0/24', range: '10.83.0.100-10.83.0.120' }],
      staticLeases: {
        [cliA.mac]: { ip: '10.82.0.42', hostname: 'x1000c0s0b0n0' },
        [cliB.mac]: { ip: '10.83.0.42', hostname: 'x1000c0s1b0n0' },
      },
    });
  });
  afterAll(async () => { await server?.stop(); });

  it.each([
    ['A', () => cliA, () => cliB, { ip: '10.82.0.42', serverid: '10.82.0.1', siaddr: '10.82.0.1' }],
    ['B', () => cliB, () => cliA, { ip: '10.83.0.42', serverid: '10.83.0.1', siaddr: '10.83.0.1' }],
  ])('the client on LAN %s is answered on its own NIC, and nothing reaches the other LAN', async (_lan, client, other, expected) => {
    const c = client();
    const o = other();
    const before = await server.stats();
    const elsewhere = await probe(o, { port: 68, listenMs: 4000 });
    const { env, log } = await udhcpc(c, pxeArgs(7));
    expect({ log, ...env }).toMatchObject(expected);
    expect((await elsewhere.done).filter((p) => p.packet.op === 2)).toEqual([]);
    const after = await server.stats();
    expect({ offers: after.offers - before.offers, acks: after.acks - before.acks, sendErrors: after.sendErrors }).toEqual({ offers: 1, acks: 1, sendErrors: 0 });
  });

  it('a boot script URL names the address of the NIC the client is on', async () => {
    const { env, log } = await udhcpc(cliB, pxeArgs(7, true));
    expect({ log, boot_file: env?.boot_file }).toMatchObject({ boot_file: `http://10.83.0.1:8080/boot/v1/bootscript?mac=${encodeURIComponent(cliB.mac)}` });
  });

  it('a renewal unicast to the second NIC\'s address is ACKed from that address', async () => {
    await cliB.exec('ip', ['addr', 'add', '10.83.0.42/24', 'dev', 'eth0']);
    try {
      const req = pxeRequest({ mac: cliB.mac, type: MessageType.Request, ciaddr: '10.83.0.42', broadcast: false, xid: 0x8302 });
      const p = await probe(cliB, { port: 68, listenMs: 1200, send: [{ packet: req, address: '10.83.0.1', port: 67 }] });
      const acks = (await p.done).filter((c) => c.packet.xid === 0x8302);
      expect(acks.map((c) => ({ from: c.from, port: c.port, type: messageType(c.packet), yiaddr: c.packet.yiaddr }))).toEqual([{ from: '10.83.0.1', port: 67, type: MessageType.Ack, yiaddr: '10.83.0.42' }]);
    } finally {
      await cliB.exec('ip', ['addr', 'del', '10.83.0.42/24', 'dev', 'eth0']);
    }
  });
});
