/**
 * The DHCP server in full and proxy mode, inside a private LAN of network namespaces:
 *   srv   10.60.0.1/24  our server (a child process; in full mode it runs the agent program's DHCP
 *                       process, as `skyboot-agent run` does), on :67 and :4011 in its namespace
 *   cli   no address    busybox udhcpc as the PXE client, plus a probe socket on :68
 *   relay 10.60.0.2/24  a DHCP relay for 10.61.5.0/24 (hand-built packets with giaddr)
 *   site  10.60.0.3/24  dnsmasq as the site's ordinary DHCP server (proxy-mode tests)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createLan, type Lan, type NetnsHost } from '../../support/netns.js';
import { pxeRequest } from '../../../onprem-agent/pxe/dhcp/clientPacket.js';
import { MessageType, messageType, Opt, ipOption, stringOption, decodeSubOptions } from '../../../onprem-agent/pxe/dhcp/options.js';
import { macOf, type DhcpPacket } from '../../../onprem-agent/pxe/dhcp/packet.js';
import { DhcpLeaseStore } from '../../../onprem-agent/pxe/dhcp/leaseStore.js';
import { probe, pxeArgs, startDhcp, udhcpc, type Captured, type RunningDhcp, type ServerConfig } from './dhcpHarness.js';
import { requireTool } from './tools.js';
import { pidsMatching } from '../../support/pids.js';

const HTTP = 'http://10.60.0.1:8080';
let lan: Lan;
let srv: NetnsHost;
let cli: NetnsHost;
let relay: NetnsHost;
let site: NetnsHost;

beforeAll(async () => {
  requireTool('busybox', 'busybox');
  lan = await createLan([{ name: 'srv', cidr: '10.60.0.1/24' }, { name: 'cli' }, { name: 'relay', cidr: '10.60.0.2/24' }, { name: 'site', cidr: '10.60.0.3/24' }]);
  const h = lan.hosts;
  [srv, cli, relay, site] = [h.srv!, h.cli!, h.relay!, h.site!];
  await relay.exec('ip', ['addr', 'add', '10.61.5.1/24', 'dev', 'eth0']);
  await srv.exec('ip', ['route', 'add', '10.61.5.0/24', 'via', '10.60.0.2']);
}, 60000);

afterAll(async () => {
  await lan?.destroy();
});

function scriptUrl(mac: string): string {
  return `${HTTP}/boot/v1/bootscript?mac=${encodeURIComponent(mac)}`;
}

// Full mode runs as `skyboot-agent run` runs it: the agent program's DHCP process.
describe('full mode', () => {
  let server: RunningDhcp;
  const config = (): ServerConfig => ({
    process: true,
    mode: 'full',
    dhcpAddress: '10.60.0.1',
    httpBaseUrl: HTTP,
    subnets: [
      { cidr: '10.60.0.0/24', range: '10.60.0.100-10.60.0.120', router: '10.60.0.1', dns: ['10.60.0.1'], leaseSeconds: 600 },
      { cidr: '10.61.5.0/24', range: '10.61.5.100-10.61.5.110', router: '10.61.5.1' },
    ],
    // 10.61.5.100, the first pool address, is a node's in the inventory: never pooled.
    staticLeases: { [cli.mac]: { ip: '10.60.0.42', hostname: 'x1000c0s0b0n0' }, '52:54:00:be:ef:99': { ip: '10.61.5.100', hostname: 'x1000c0s9b0n0' } },
    leaseFile: join(leaseDir, 'dhcp-leases.json'),
  });

  let leaseDir: string;
  beforeAll(async () => {
    leaseDir = mkdtempSync(join(tmpdir(), 'skyboot-dhcp-leases-'));
    server = await startDhcp(srv, config());
  });
  afterAll(async () => {
    await server?.stop();
    if (leaseDir) rmSync(leaseDir, { recursive: true, force: true });
  });

  /** Sends hand-built relayed packets from the relay host and returns what came back to it on :67. */
  async function relayed(...packets: DhcpPacket[]): Promise<DhcpPacket[]> {
    const p = await probe(relay, { port: 67, listenMs: 1500, send: packets.map((packet) => ({ packet, address: '10.60.0.1', port: 67 })) });
    return (await p.done).map((c) => c.packet);
  }

  it.each([
    ['BIOS', pxeArgs(0), 'undionly.kpxe'],
    ['EFI x64', pxeArgs(7), 'ipxe.efi'],
    ['EFI x64 (type 9)', pxeArgs(9), 'ipxe.efi'],
  ])('udhcpc as %s gets its static lease and the right boot file', async (_name, args, file) => {
    const { env, log } = await udhcpc(cli, args);
    expect(env).toBeDefined();
    expect({ log, ...env }).toMatchObject({ ip: '10.60.0.42', boot_file: file, siaddr: '10.60.0.1', serverid: '10.60.0.1', router: '10.60.0.1', hostname: 'x1000c0s0b0n0', lease: '600' });
  });

  it('udhcpc with user class iPXE gets the boot script URL for its own MAC', async () => {
    const { env, log } = await udhcpc(cli, pxeArgs(7, true));
    expect({ log, boot_file: env?.boot_file }).toMatchObject({ boot_file: scriptUrl(cli.mac) });
  });

  it('a plain (non-PXE) client gets an address and no boot file', async () => {
    const { env, log } = await udhcpc(cli, []);
    expect({ log, ip: env?.ip, boot_file: env?.boot_file }).toEqual({ log, ip: '10.60.0.42', boot_file: undefined });
  });

  it('serves a relayed subnet from its pool, answers to giaddr:67, and NAKs a wrong address', async () => {
    const mac = '52:54:00:be:ef:01';
    const discover = pxeRequest({ mac, arch: 7, giaddr: '10.61.5.1', xid: 0x1234 });
    const p1 = await probe(relay, { port: 67, listenMs: 1500, send: [{ packet: discover, address: '10.60.0.1', port: 67 }] });
    const offers = (await p1.done).filter((c) => c.packet.xid === 0x1234);
    expect(offers).toHaveLength(1);
    const offer = offers[0]!.packet;
    expect(messageType(offer)).toBe(MessageType.Offer);
    expect(offer.yiaddr).toMatch(/^10\.61\.5\.1(0[1-9]|10)$/); // not .100: the inventory's
    expect(offer.giaddr).toBe('10.61.5.1');
    expect(offer.file).toBe('ipxe.efi');
    expect(ipOption(offer, Opt.Router)).toBe('10.61.5.1');
    expect(ipOption(offer, Opt.SubnetMask)).toBe('255.255.255.0');

    const request = pxeRequest({ mac, arch: 7, giaddr: '10.61.5.1', xid: 0x1235, type: MessageType.Request, requestedIp: offer.yiaddr, serverId: '10.60.0.1' });
    const wrong = pxeRequest({ mac: '52:54:00:be:ef:02', arch: 7, giaddr: '10.61.5.1', xid: 0x1236, type: MessageType.Request, requestedIp: offer.yiaddr, serverId: '10.60.0.1' });
    const p2 = await probe(relay, { port: 67, listenMs: 1500, send: [{ packet: request, address: '10.60.0.1', port: 67 }, { packet: wrong, address: '10.60.0.1', port: 67 }] });
    const got = await p2.done;
    const ack = got.find((c) => c.packet.xid === 0x1235)?.packet;
    const nak = got.find((c) => c.packet.xid === 0x1236)?.packet;
    expect(ack && messageType(ack)).toBe(MessageType.Ack);
    expect(ack?.yiaddr).toBe(offer.yiaddr);
    expect(nak && messageType(nak)).toBe(MessageType.Nak);
    const stats = await server.stats();
    expect(stats).toMatchObject({ mode: 'full', leases: 1 });
    expect(stats.naks).toBeGreaterThanOrEqual(1);
  });

  it('stays silent for a REQUEST that chose another server and for an INIT-REBOOT it has no record of, and NAKs only its own client', async () => {
    const before = await server.stats();
    const otherServer = pxeRequest({ mac: '52:54:00:be:ef:10', giaddr: '10.61.5.1', xid: 0x5101, type: MessageType.Request, requestedIp: '10.61.5.105', serverId: '10.61.5.250' });
    const unknownReboot = pxeRequest({ mac: '52:54:00:be:ef:11', giaddr: '10.61.5.1', xid: 0x5102, type: MessageType.Request, requestedIp: '10.61.5.106' });
    const unknownRenew = pxeRequest({ mac: '52:54:00:be:ef:12', giaddr: '10.61.5.1', xid: 0x5103, type: MessageType.Request, ciaddr: '10.61.5.107' });
    const knownWrong = pxeRequest({ mac: '52:54:00:be:ef:99', giaddr: '10.61.5.1', xid: 0x5104, type: MessageType.Request, requestedIp: '10.61.5.108' });
    const got = await relayed(otherServer, unknownReboot, unknownRenew, knownWrong);
    expect(got.map((p) => [p.xid, messageType(p)])).toEqual([[0x5104, MessageType.Nak]]);
    const after = await server.stats();
    expect({ ignored: after.ignored - before.ignored, naks: after.naks - before.naks }).toEqual({ ignored: 3, naks: 1 });
  });

  it('echoes the relay agent information (option 82) in offers, ACKs and NAKs to a relay', async () => {
    const agentInfo = Buffer.from([1, 6, 0, 4, 0, 0x0a, 0, 7, 2, 6, 0x52, 0x54, 0, 0xaa, 0xbb, 0xcc]); // circuit id, remote id
    const with82 = (p: DhcpPacket): DhcpPacket => { p.options.set(82, agentInfo); return p; };
    const mac = '52:54:00:be:ef:20';
    const [offer] = await relayed(with82(pxeRequest({ mac, arch: 7, giaddr: '10.61.5.1', xid: 0x8201 })));
    expect(offer && messageType(offer)).toBe(MessageType.Offer);
    expect(offer!.options.get(82)).toEqual(agentInfo);
    const got = await relayed(
      with82(pxeRequest({ mac, giaddr: '10.61.5.1', xid: 0x8202, type: MessageType.Request, requestedIp: offer!.yiaddr, serverId: '10.60.0.1' })),
      with82(pxeRequest({ mac: '52:54:00:be:ef:99', giaddr: '10.61.5.1', xid: 0x8203, type: MessageType.Request, requestedIp: offer!.yiaddr })),
    );
    const byXid = new Map(got.map((p) => [p.xid, p]));
    expect(messageType(byXid.get(0x8202)!)).toBe(MessageType.Ack);
    expect(messageType(byXid.get(0x8203)!)).toBe(MessageType.Nak);
    expect([byXid.get(0x8202)!.options.get(82), byXid.get(0x8203)!.options.get(82)]).toEqual([agentInfo, agentInfo]);
  });

  it('keeps pool leases across a restart: the same machine gets its address back, another one does not get it', async () => {
    const mac = '52:54:00:be:ef:30';
    const [offer] = await relayed(pxeRequest({ mac, giaddr: '10.61.5.1', xid: 0x3001 }));
    const [ack] = await relayed(pxeRequest({ mac, giaddr: '10.61.5.1', xid: 0x3002, type: MessageType.Request, requestedIp: offer!.yiaddr, serverId: '10.60.0.1' }));
    expect(ack && messageType(ack)).toBe(MessageType.Ack);
    // On disk before the ACK, as the agent's own reader replays the file.
    const stored = await new DhcpLeaseStore(join(leaseDir, 'dhcp-leases.json')).load();
    expect(stored['10.61.5.0/24']).toContainEqual(expect.objectContaining({ mac, ip: ack!.yiaddr, state: 'bound' }));

    await server.stop();
    server = await startDhcp(srv, config());
    const [other] = await relayed(pxeRequest({ mac: '52:54:00:be:ef:31', giaddr: '10.61.5.1', xid: 0x3003 }));
    const [again] = await relayed(pxeRequest({ mac, giaddr: '10.61.5.1', xid: 0x3004 }));
    expect(other!.yiaddr).not.toBe(ack!.yiaddr);
    expect(other!.yiaddr).not.toBe('10.61.5.100');
    expect(again!.yiaddr).toBe(ack!.yiaddr);
    // Renewing after the restart: the server has the record, so it ACKs rather than staying silent.
    const [renewed] = await relayed(pxeRequest({ mac, giaddr: '10.61.5.1', xid: 0x3005, type: MessageType.Request, ciaddr: ack!.yiaddr }));
    expect(renewed && messageType(renewed)).toBe(MessageType.Ack);
  });

  it('the DHCP process learns a new snapshot\'s leases, and its parent knows each pool lease before the ACK leaves', async () => {
    const mac = '52:54:00:be:ef:40';
    // Unknown: a pool address, in the parent's copy by the time the ACK is heard.
    const [offer] = await relayed(pxeRequest({ mac, giaddr: '10.61.5.1', xid: 0x4001 }));
    expect(offer!.yiaddr).not.toBe('10.61.5.50');
    const [ack] = await relayed(pxeRequest({ mac, giaddr: '10.61.5.1', xid: 0x4002, type: MessageType.Request, requestedIp: offer!.yiaddr, serverId: '10.60.0.1' }));
    expect(ack && messageType(ack)).toBe(MessageType.Ack);
    expect(await server.leases()).toContainEqual(expect.objectContaining({ mac, ip: ack!.yiaddr, state: 'bound' }));

    // The inventory now names the machine: its next DISCOVER gets the inventory's address and name.
    const { staticLeases } = config();
    await server.inventory({ ...staticLeases, [mac]: { ip: '10.61.5.50', hostname: 'x1000c0s4b0n0' } });
    const [known] = await relayed(pxeRequest({ mac, giaddr: '10.61.5.1', xid: 0x4003 }));
    expect(known!.yiaddr).toBe('10.61.5.50');
    expect(stringOption(known!, Opt.HostName)).toBe('x1000c0s4b0n0');
    await server.inventory(staticLeases!);
  });

  it('a DHCP process that is killed is started again on the same port, its counters kept', async () => {
    const before = await server.stats();
    const pids = (): number[] => pidsMatching(`dhcp-serve .*${leaseDir}`);
    const [pid] = pids();
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    let again: number[] = [];
    for (let i = 0; i < 100 && !again.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = pids().filter((p) => p !== pid);
    }
    expect(again).toHaveLength(1);
    // Started again: it answers on port 67 with the inventory it was greeted with.
    let offer: DhcpPacket | undefined;
    for (let i = 0; i < 20 && !offer; i++) [offer] = await relayed(pxeRequest({ mac: '52:54:00:be:ef:99', giaddr: '10.61.5.1', xid: 0x4100 + i }));
    expect(offer!.yiaddr).toBe('10.61.5.100');
    const after = await server.stats();
    expect(after.offers).toBeGreaterThan(before.offers);
    expect(after.received).toBeGreaterThan(before.received);
  });
});

describe('proxy mode beside the site DHCP server (dnsmasq)', () => {
  let server: RunningDhcp;
  let dnsmasq: ChildProcess;
  let dir: string;

  beforeAll(async () => {
    requireTool('dnsmasq', 'dnsmasq');
    dir = mkdtempSync(join(tmpdir(), 'skyboot-dnsmasq-'));
    dnsmasq = site.spawn('dnsmasq', ['--keep-in-foreground', '--no-resolv', '--no-hosts', '--port=0', '--user=root', '--bind-interfaces', '--interface=eth0',
      '--dhcp-range=10.60.0.50,10.60.0.60,1h', `--dhcp-leasefile=${dir}/leases`, `--pid-file=${dir}/pid`, '--log-facility=-']);
    server = await startDhcp(srv, { mode: 'proxy', dhcpAddress: '10.60.0.1', httpBaseUrl: HTTP });
  });

  afterAll(async () => {
    await server?.stop();
    if (dnsmasq && dnsmasq.exitCode === null) {
      const exited = new Promise((r) => dnsmasq.once('exit', r));
      dnsmasq.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs udhcpc while a probe on :68 records every reply its DISCOVER drew. */
  async function discoverWith(args: string[]): Promise<{ proxy: Captured[]; site: Captured[] }> {
    const p = await probe(cli, { port: 68, listenMs: 3500 });
    await udhcpc(cli, args, { tries: 1 });
    const seen = (await p.done).filter((c) => macOf(c.packet) === cli.mac && c.packet.op === 2);
    return { proxy: seen.filter((c) => c.from === '10.60.0.1'), site: seen.filter((c) => c.from === '10.60.0.3') };
  }

  it.each([
    ['BIOS', pxeArgs(0), 'undionly.kpxe'],
    ['EFI x64', pxeArgs(7), 'ipxe.efi'],
    ['iPXE', pxeArgs(7, true), 'SCRIPT'],
  ])('udhcpc as %s draws a ProxyDHCP offer with boot info and no address, next to the site\'s offer', async (_name, args, file) => {
    const { proxy, site: siteOffers } = await discoverWith(args);
    expect(siteOffers.length).toBeGreaterThanOrEqual(1);
    expect(siteOffers[0]!.packet.yiaddr).toMatch(/^10\.60\.0\.(5\d|60)$/);
    expect(proxy).toHaveLength(1);
    const offer = proxy[0]!.packet;
    expect(messageType(offer)).toBe(MessageType.Offer);
    expect(offer.yiaddr).toBe('0.0.0.0');
    expect(offer.siaddr).toBe('10.60.0.1');
    expect(offer.file).toBe(file === 'SCRIPT' ? scriptUrl(cli.mac) : file);
    expect(stringOption(offer, Opt.BootFileName)).toBe(offer.file);
    expect(stringOption(offer, Opt.VendorClass)).toBe('PXEClient');
    expect(ipOption(offer, Opt.ServerId)).toBe('10.60.0.1');
    expect(offer.options.has(Opt.LeaseTime)).toBe(false);
    expect(decodeSubOptions(offer.options.get(Opt.VendorSpecific)!, 'option43').get(6)).toEqual(Buffer.from([8]));
    expect(proxy[0]!.port).toBe(67);
  });

  it('stays silent for a client that is not PXE', async () => {
    const { proxy, site: siteOffers } = await discoverWith(['-B']);
    expect(siteOffers.length).toBeGreaterThanOrEqual(1);
    expect(proxy).toHaveLength(0);
  });

  it('answers the PXE boot-server REQUEST on port 4011 by unicast, iPXE with the script URL', async () => {
    const mac = '52:54:00:be:ef:03';
    const firmware = pxeRequest({ mac, arch: 7, ciaddr: '10.60.0.2', type: MessageType.Request, xid: 0x4011 });
    const ipxe = pxeRequest({ mac, arch: 7, ipxe: true, ciaddr: '10.60.0.2', type: MessageType.Request, xid: 0x4012 });
    const p = await probe(relay, { port: 68, listenMs: 1500, send: [{ packet: firmware, address: '10.60.0.1', port: 4011 }, { packet: ipxe, address: '10.60.0.1', port: 4011 }] });
    const got = await p.done;
    const a = got.find((c) => c.packet.xid === 0x4011);
    const b = got.find((c) => c.packet.xid === 0x4012);
    expect(a?.port).toBe(4011);
    expect(a && messageType(a.packet)).toBe(MessageType.Ack);
    expect(a?.packet.file).toBe('ipxe.efi');
    expect(b?.packet.file).toBe(scriptUrl(mac));
    const stats = await server.stats();
    expect(stats.proxyAcks).toBeGreaterThanOrEqual(2);
    expect(stats.proxyOffers).toBeGreaterThanOrEqual(3);
    expect(stats.offers).toBe(0);
  });
});
