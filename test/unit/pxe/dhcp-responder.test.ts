import { DhcpResponder, type Arrival, type ResponderConfig } from '../../../onprem-agent/pxe/dhcp/responder.js';
import { pxeRequest } from '../../../onprem-agent/pxe/dhcp/clientPacket.js';
import { MessageType, messageType, Opt, ipOption, stringOption } from '../../../onprem-agent/pxe/dhcp/options.js';
import { decodePacket, encodePacket, type DhcpPacket } from '../../../onprem-agent/pxe/dhcp/packet.js';
import { LeasePool } from '../../../onprem-agent/pxe/dhcp/leases.js';
import { DhcpLeaseFileError, DhcpLeaseStore } from '../../../onprem-agent/pxe/dhcp/leaseStore.js';
import { DhcpInterfaceError, resolveDhcpInterfaces, type HostInterface } from '../../../onprem-agent/pxe/dhcp/interfaces.js';
import { parseCidr } from '../../../schema/ip.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dhcp = { listener: 'dhcp' as const, address: '0.0.0.0', port: 68 };
const base: ResponderConfig = {
  mode: 'full',
  dhcpAddress: '10.0.0.1',
  httpBaseUrl: 'http://10.0.0.1:8080',
  subnets: [{ cidr: '10.0.0.0/24', range: '10.0.0.10-10.0.0.12', router: '10.0.0.254', dns: ['10.0.0.1', '10.0.0.2'], leaseSeconds: 120 }],
  lookupStaticLease: async (mac) => (mac === '52:54:00:00:00:aa' ? { ip: '10.0.0.50', hostname: 'n50' } : undefined),
};

/** Every reply goes through the wire format, as it would on the network. */
async function ask(r: DhcpResponder, req: DhcpPacket, from: Arrival = dhcp) {
  const reply = await r.respond(decodePacket(encodePacket(req)), from);
  return reply && { ...reply, packet: decodePacket(encodePacket(reply.packet)) };
}

describe('DHCP responder', () => {
  it('gives HTTP-boot firmware an HTTP URL and option 60 HTTPClient', async () => {
    const r = new DhcpResponder({ ...base, mode: 'proxy' });
    const reply = await ask(r, pxeRequest({ mac: '52:54:00:00:00:01', arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003000' }));
    expect(reply?.packet.file).toBe('http://10.0.0.1:8080/boot/v1/ipxe/ipxe.efi');
    expect(stringOption(reply!.packet, Opt.VendorClass)).toBe('HTTPClient');
  });

  it('stays silent for architectures without a boot file, in off mode, and for REQUESTs on 67 in proxy mode', async () => {
    expect(await ask(new DhcpResponder({ ...base, mode: 'proxy' }), pxeRequest({ mac: '52:54:00:00:00:02', arch: 12 }))).toBeUndefined();
    expect(await ask(new DhcpResponder({ ...base, mode: 'off' }), pxeRequest({ mac: '52:54:00:00:00:02', arch: 7 }))).toBeUndefined();
    expect(await ask(new DhcpResponder({ ...base, mode: 'proxy' }), pxeRequest({ mac: '52:54:00:00:00:02', arch: 7, type: MessageType.Request }))).toBeUndefined();
  });

  it('reads the architecture from option 60 when option 93 is missing', async () => {
    const req = pxeRequest({ mac: '52:54:00:00:00:03', arch: null, vendorClass: 'PXEClient:Arch:00007:UNDI:003016' });
    expect((await ask(new DhcpResponder({ ...base, mode: 'proxy' }), req))?.packet.file).toBe('ipxe.efi');
  });

  it('hands out the pool in order, keeps an address per MAC, reuses released ones, and skips declined ones', async () => {
    const r = new DhcpResponder(base);
    const a = await ask(r, pxeRequest({ mac: '52:54:00:00:01:01' }));
    const again = await ask(r, pxeRequest({ mac: '52:54:00:00:01:01' }));
    const b = await ask(r, pxeRequest({ mac: '52:54:00:00:01:02' }));
    expect([a?.packet.yiaddr, again?.packet.yiaddr, b?.packet.yiaddr]).toEqual(['10.0.0.10', '10.0.0.10', '10.0.0.11']);
    expect(ipOption(a!.packet, Opt.Router)).toBe('10.0.0.254');
    expect(a!.packet.options.get(Opt.DnsServers)).toEqual(Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]));
    expect(a!.packet.options.get(Opt.LeaseTime)?.readUInt32BE(0)).toBe(120);
    const ack = await ask(r, pxeRequest({ mac: '52:54:00:00:01:01', type: MessageType.Request, requestedIp: '10.0.0.10', serverId: '10.0.0.1' }));
    expect(ack && messageType(ack.packet)).toBe(MessageType.Ack);
    await ask(r, pxeRequest({ mac: '52:54:00:00:01:02', type: MessageType.Decline, requestedIp: '10.0.0.11', serverId: '10.0.0.1' }));
    const c = await ask(r, pxeRequest({ mac: '52:54:00:00:01:03' }));
    expect(c?.packet.yiaddr).toBe('10.0.0.12');
    await ask(r, pxeRequest({ mac: '52:54:00:00:01:03', type: MessageType.Request, requestedIp: '10.0.0.12', serverId: '10.0.0.1' }));
    expect(await ask(r, pxeRequest({ mac: '52:54:00:00:01:04' }))).toBeUndefined(); // pool exhausted: all bound or declined
    await ask(r, pxeRequest({ mac: '52:54:00:00:01:01', type: MessageType.Release, ciaddr: '10.0.0.10', serverId: '10.0.0.1' }));
    expect((await ask(r, pxeRequest({ mac: '52:54:00:00:01:04' })))?.packet.yiaddr).toBe('10.0.0.10');
  });

  it('gives a known machine its static address and hostname, and NAKs any other', async () => {
    const r = new DhcpResponder(base);
    const offer = await ask(r, pxeRequest({ mac: '52:54:00:00:00:aa', arch: 0 }));
    expect(offer?.packet.yiaddr).toBe('10.0.0.50');
    expect(stringOption(offer!.packet, Opt.HostName)).toBe('n50');
    expect(offer?.packet.file).toBe('undionly.kpxe');
    const nak = await ask(r, pxeRequest({ mac: '52:54:00:00:00:aa', type: MessageType.Request, requestedIp: '10.0.0.10' }));
    expect(nak && messageType(nak.packet)).toBe(MessageType.Nak);
    expect(nak?.address).toBe('255.255.255.255');
  });

  it('answers a renewal by unicast to ciaddr and forgets offers the client turned down', async () => {
    const r = new DhcpResponder(base);
    const renew = await ask(r, pxeRequest({ mac: '52:54:00:00:00:aa', type: MessageType.Request, ciaddr: '10.0.0.50', broadcast: false }));
    expect(renew).toMatchObject({ kind: 'ack', address: '10.0.0.50', port: 68 });
    await ask(r, pxeRequest({ mac: '52:54:00:00:02:01' }));
    expect(r.leases()).toHaveLength(1);
    await ask(r, pxeRequest({ mac: '52:54:00:00:02:01', type: MessageType.Request, requestedIp: '10.0.0.10', serverId: '10.9.9.9' }));
    expect(r.leases()).toHaveLength(0);
  });

  it('ignores clients on subnets it is not authoritative for', async () => {
    const r = new DhcpResponder(base);
    expect(await ask(r, pxeRequest({ mac: '52:54:00:00:03:01', giaddr: '192.168.7.1' }))).toBeUndefined();
  });

  it('expires pool leases with time', () => {
    let now = 0;
    const pool = new LeasePool({ start: '10.0.0.10', end: '10.0.0.10' }, new Set(), () => now);
    expect(pool.bind('m1', '10.0.0.10', 10)).toBeDefined();
    expect(pool.offer('m2')).toBeUndefined();
    now = 11_000;
    expect(pool.offer('m2')?.ip).toBe('10.0.0.10');
  });

  it('a flood of one-off MACs cannot exhaust the pool: a full pool withdraws its oldest offer, never a bound lease', () => {
    const pool = new LeasePool({ start: '10.0.0.10', end: '10.0.0.13' }, new Set());
    expect(pool.offer('real-1')?.ip).toBe('10.0.0.10');
    expect(pool.bind('real-1', '10.0.0.10', 600)).toBeDefined();
    // 1,000 machines DISCOVER once each and never REQUEST.
    const flood = Array.from({ length: 1000 }, (_, i) => pool.offer(`flood-${i}`)?.ip);
    expect(flood.every((ip) => ip !== undefined && ip !== '10.0.0.10')).toBe(true);
    // A real machine arriving during the flood still gets an address and can bind it.
    const offered = pool.offer('real-2');
    expect(offered?.ip).toMatch(/^10\.0\.0\.1[1-3]$/);
    expect(pool.bind('real-2', offered!.ip, 600)).toBeDefined();
    expect(pool.current('real-1')?.ip).toBe('10.0.0.10');
    // Bound leases are never taken: with every address bound, a new machine gets none.
    for (const m of ['real-3', 'real-4']) pool.bind(m, pool.offer(m)!.ip, 600);
    expect(pool.offer('late')).toBeUndefined();
  });

  it('RFC 2131 §4.3.2: silence without a record, NAK only for its own clients', async () => {
    const r = new DhcpResponder(base);
    const unknown = '52:54:00:00:05:01';
    // INIT-REBOOT and RENEWING from a machine it never served: another server's client.
    expect(await ask(r, pxeRequest({ mac: unknown, type: MessageType.Request, requestedIp: '10.0.0.11' }))).toBeUndefined();
    expect(await ask(r, pxeRequest({ mac: unknown, type: MessageType.Request, ciaddr: '10.0.0.11', broadcast: false }))).toBeUndefined();
    // SELECTING another server's offer, and a REQUEST with neither address: silence too.
    expect(await ask(r, pxeRequest({ mac: unknown, type: MessageType.Request, requestedIp: '10.0.0.11', serverId: '10.0.0.99' }))).toBeUndefined();
    expect(await ask(r, pxeRequest({ mac: unknown, type: MessageType.Request }))).toBeUndefined();
    // Its own offer: ACK; then the same client asking for another address: NAK.
    const offer = await ask(r, pxeRequest({ mac: unknown }));
    expect((await ask(r, pxeRequest({ mac: unknown, type: MessageType.Request, requestedIp: offer!.packet.yiaddr })))?.kind).toBe('ack');
    expect((await ask(r, pxeRequest({ mac: unknown, type: MessageType.Request, requestedIp: '10.0.0.12' })))?.kind).toBe('nak');
    // INIT-REBOOT on the wrong network: NAK when the arrival interface is known, silence when not.
    const wrongNet = pxeRequest({ mac: '52:54:00:00:00:aa', type: MessageType.Request, requestedIp: '192.168.1.5' });
    expect((await ask(r, wrongNet))?.kind).toBe('nak');
    const twoNics = [parseCidr('10.0.0.0/24'), parseCidr('10.9.0.0/24')];
    expect(await ask(r, wrongNet, { ...dhcp, via: { address: '10.0.0.1', subnet: twoNics[0]! }, heardOn: twoNics })).toBeUndefined();
  });

  it('RFC 3046: echoes option 82 whole and as the last option, and adds none when the request had none', async () => {
    const r = new DhcpResponder(base);
    const info = Buffer.from([1, 4, 0, 1, 0, 2, 2, 2, 0xab, 0xcd]);
    const req = pxeRequest({ mac: '52:54:00:00:06:01', arch: 7, giaddr: '10.0.0.254' });
    req.options.set(82, info);
    const reply = await r.respond(decodePacket(encodePacket(req)), dhcp);
    const wire = encodePacket(reply!.packet);
    const codes: number[] = [];
    for (let i = 240; wire[i] !== 255; i += 2 + wire[i + 1]!) codes.push(wire[i]!);
    expect(codes.at(-1)).toBe(82);
    expect(decodePacket(wire).options.get(82)).toEqual(info);
    expect((await ask(r, pxeRequest({ mac: '52:54:00:00:06:02', arch: 7 })))?.packet.options.has(82)).toBe(false);
  });

  it('never pools an address the inventory assigns, even one it had handed out before the inventory took it', async () => {
    const inventory = new Set(['10.0.0.10']);
    const r = new DhcpResponder({ ...base, isInventoryIp: (ip) => inventory.has(ip) });
    expect((await ask(r, pxeRequest({ mac: '52:54:00:00:07:01' })))?.packet.yiaddr).toBe('10.0.0.11');
    inventory.add('10.0.0.11');
    expect((await ask(r, pxeRequest({ mac: '52:54:00:00:07:01' })))?.packet.yiaddr).toBe('10.0.0.12');
    // The pool's one address left is 07:01's outstanding offer: a full pool withdraws it for the new client.
    expect((await ask(r, pxeRequest({ mac: '52:54:00:00:07:02', requestedIp: '10.0.0.10' })))?.packet.yiaddr).toBe('10.0.0.12');
    expect((await ask(r, pxeRequest({ mac: '52:54:00:00:07:03', type: MessageType.Request, requestedIp: '10.0.0.11', serverId: '10.0.0.1' })))?.kind).toBe('nak');
  });

  it('writes a pool lease to disk before its ACK, and a new responder on the same file keeps it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyboot-leases-'));
    try {
      const file = join(dir, 'dhcp-leases.json');
      const r1 = new DhcpResponder({ ...base, leaseStore: new DhcpLeaseStore(file) });
      await r1.restoreLeases();
      const offer = await ask(r1, pxeRequest({ mac: '52:54:00:00:08:01' }));
      const ack = await ask(r1, pxeRequest({ mac: '52:54:00:00:08:01', type: MessageType.Request, requestedIp: offer!.packet.yiaddr, serverId: '10.0.0.1' }));
      expect(ack?.kind).toBe('ack');
      const [header, ...records] = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(header).toMatchObject({ version: 2 });
      // The journal's last line about the address is the bound lease the ACK waited for.
      expect(records.filter((r) => r.ip === '10.0.0.10').pop()).toEqual(expect.objectContaining({ subnet: '10.0.0.0/24', mac: '52:54:00:00:08:01', ip: '10.0.0.10', state: 'bound' }));

      const r2 = new DhcpResponder({ ...base, leaseStore: new DhcpLeaseStore(file) });
      await r2.restoreLeases();
      expect((await ask(r2, pxeRequest({ mac: '52:54:00:00:08:02' })))?.packet.yiaddr).toBe('10.0.0.11');
      expect((await ask(r2, pxeRequest({ mac: '52:54:00:00:08:01', type: MessageType.Request, ciaddr: '10.0.0.10', broadcast: false })))?.kind).toBe('ack');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the lease file as a journal: appends per ACK, replays the last line per address, drops a torn last line, compacts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyboot-leases-'));
    try {
      const file = join(dir, 'dhcp-leases.json');
      const big: ResponderConfig = { ...base, subnets: [{ cidr: '10.0.0.0/16', range: '10.0.1.0-10.0.255.250', router: '10.0.0.254', leaseSeconds: 600 }] };
      const store = () => new DhcpLeaseStore(file, { compactMinLines: 200 });
      const r1 = new DhcpResponder({ ...big, leaseStore: store() });
      await r1.restoreLeases();
      const bindOne = async (r: DhcpResponder, i: number): Promise<string> => {
        const mac = `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
        const offer = await ask(r, pxeRequest({ mac }));
        expect((await ask(r, pxeRequest({ mac, type: MessageType.Request, requestedIp: offer!.packet.yiaddr, serverId: '10.0.0.1' })))?.kind).toBe('ack');
        return mac;
      };
      const macs: string[] = [];
      for (let i = 0; i < 300; i++) macs.push(await bindOne(r1, i));
      // 300 ACKs, each on disk before it was sent; the file has grown by lines, not by rewrites.
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(301);
      expect(lines.length).toBeLessThanOrEqual(1 + 2 * 300);
      // A crash mid-append leaves a torn last line: it is dropped, the rest replays.
      writeFileSync(file, `${readFileSync(file, 'utf8')}{"subnet":"10.0.0.0/16","mac":"52:54`, { flag: 'w' });
      const r2 = new DhcpResponder({ ...big, leaseStore: store() });
      await r2.restoreLeases();
      const held = (await ask(r2, pxeRequest({ mac: macs[123]! })))?.packet.yiaddr;
      expect(held).toBe((await ask(r1, pxeRequest({ mac: macs[123]! })))?.packet.yiaddr);
      // Appends after a torn line start on a line of their own (the next write compacts).
      for (let i = 300; i < 320; i++) macs.push(await bindOne(r2, i));
      // Past four times the live table, the journal is compacted to one line per lease.
      // 1 + 600 + 40 + 1,200 lines were appended in all: without compaction the file would hold them all.
      for (let round = 0; round < 12; round++) for (let i = 0; i < 100; i++) await bindOne(r2, i);
      const after = readFileSync(file, 'utf8').trim().split('\n');
      expect(after.length).toBeLessThanOrEqual(4 * 320 + 1);
      expect(after.length).toBeLessThan(1 + 600 + 40 + 1200);
      const r3 = new DhcpResponder({ ...big, leaseStore: store() });
      await r3.restoreLeases();
      expect((await ask(r3, pxeRequest({ mac: macs[42]! })))?.packet.yiaddr).toBe((await ask(r2, pxeRequest({ mac: macs[42]! })))?.packet.yiaddr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a lease file written by earlier versions (one JSON document) and rewrites it as a journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyboot-leases-'));
    try {
      const file = join(dir, 'dhcp-leases.json');
      writeFileSync(file, JSON.stringify({ version: 1, leases: [{ subnet: '10.0.0.0/24', mac: '52:54:00:00:09:01', ip: '10.0.0.11', expiresAt: Date.now() + 600_000, state: 'bound' }] }));
      const r = new DhcpResponder({ ...base, leaseStore: new DhcpLeaseStore(file) });
      await r.restoreLeases();
      expect((await ask(r, pxeRequest({ mac: '52:54:00:00:09:01' })))?.packet.yiaddr).toBe('10.0.0.11');
      const offer = await ask(r, pxeRequest({ mac: '52:54:00:00:09:02' }));
      await ask(r, pxeRequest({ mac: '52:54:00:00:09:02', type: MessageType.Request, requestedIp: offer!.packet.yiaddr, serverId: '10.0.0.1' }));
      const [header, ...records] = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(header).toMatchObject({ version: 2 });
      expect(records.map((x) => x.mac)).toEqual(expect.arrayContaining(['52:54:00:00:09:01', '52:54:00:00:09:02']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a journal damaged before its last line, naming the file and the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyboot-leases-'));
    try {
      const file = join(dir, 'dhcp-leases.json');
      const text = `{"version":2}\n{"subnet":"10.0.0.0/24","mac":"m","ip":"10.0.0.11","expiresAt":1,"state":"bound"}\nnot json\n{"subnet":"10.0.0.0/24","ip":"10.0.0.11","removed":true}\n`;
      writeFileSync(file, text);
      const err = await new DhcpLeaseStore(file).load().catch((e: Error) => e);
      expect(err).toBeInstanceOf(DhcpLeaseFileError);
      expect((err as Error).message).toContain(`${file}: line 3 is not JSON`);
      expect(readFileSync(file, 'utf8')).toBe(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a damaged lease file, naming the file, the entry and the reason, and leaves it as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyboot-leases-'));
    try {
      const file = join(dir, 'dhcp-leases.json');
      const text = JSON.stringify({ version: 1, leases: [{ subnet: '10.0.0.0/24', mac: 'm', ip: '10.0.0.300', expiresAt: 1, state: 'bound' }] });
      writeFileSync(file, text);
      const r = new DhcpResponder({ ...base, leaseStore: new DhcpLeaseStore(file) });
      const err = await r.restoreLeases().catch((e: Error) => e);
      expect(err).toBeInstanceOf(DhcpLeaseFileError);
      expect((err as Error).message).toMatch(new RegExp(`${file}: .*leases\\[0\\]\\.ip.*10\\.0\\.0\\.300`));
      expect(readFileSync(file, 'utf8')).toBe(text);
      writeFileSync(file, '{"version":1,');
      await expect(new DhcpLeaseStore(file).load()).rejects.toThrow(/not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ProxyDHCP heard on two boot NICs answers a known machine only on the NIC of its inventory subnet', async () => {
    const r = new DhcpResponder({ ...base, mode: 'proxy', httpBaseUrl: (a) => `http://${a}:8080` });
    const nics = [parseCidr('10.0.0.0/24'), parseCidr('10.9.0.0/24')];
    const on = (address: string, subnet: number) => ({ ...dhcp, via: { address, subnet: nics[subnet]! }, heardOn: nics });
    const known = pxeRequest({ mac: '52:54:00:00:00:aa', arch: 7, ipxe: true }); // inventory: 10.0.0.50
    expect((await ask(r, known, on('10.0.0.1', 0)))?.packet.file).toBe('http://10.0.0.1:8080/boot/v1/bootscript?mac=52%3A54%3A00%3A00%3A00%3Aaa');
    expect(await ask(r, known, on('10.9.0.1', 1))).toBeUndefined();
    const unknown = pxeRequest({ mac: '52:54:00:00:09:01', arch: 7 });
    const answers = [await ask(r, unknown, on('10.0.0.1', 0)), await ask(r, unknown, on('10.9.0.1', 1))];
    expect(answers.map((a) => a?.packet.siaddr)).toEqual(['10.0.0.1', '10.9.0.1']);
  });

  it('resolves boot interfaces and names what is wrong with them', () => {
    const host: HostInterface[] = [
      { name: 'lo', up: true, ipv4: [{ address: '127.0.0.1', cidr: '127.0.0.1/8' }] },
      { name: 'eno1', up: true, ipv4: [{ address: '192.168.1.5', cidr: '192.168.1.5/24' }] },
      { name: 'ens2', up: true, ipv4: [{ address: '10.0.0.1', cidr: '10.0.0.1/24' }, { address: '10.0.0.2', cidr: '10.0.0.2/24' }] },
      { name: 'ens3', up: true, ipv4: [] },
      { name: 'ens4', up: false, ipv4: [{ address: '10.4.0.1', cidr: '10.4.0.1/24' }] },
    ];
    expect(resolveDhcpInterfaces([], '10.0.0.2', host)).toEqual([{ name: 'ens2', carrier: true, address: '10.0.0.2', subnet: parseCidr('10.0.0.0/24') }]);
    expect(resolveDhcpInterfaces(['ens2'], undefined, host).map((i) => i.address)).toEqual(['10.0.0.1']);
    const fails = (names: string[], address?: string): string => {
      try {
        resolveDhcpInterfaces(names, address, host);
      } catch (err) {
        expect(err).toBeInstanceOf(DhcpInterfaceError);
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(fails(['eth0'])).toMatch(/no interface "eth0" on this host \(present: lo, eno1, ens2, ens3, ens4\)/);
    expect(fails(['ens3'])).toMatch(/"ens3" has no IPv4 address/);
    expect(fails(['ens4'])).toMatch(/"ens4" is down/);
    expect(fails(['ens2'], '192.168.1.5')).toMatch(/dhcpAddress 192\.168\.1\.5 is not an address of ens2/);
    expect(fails([], '10.9.9.9')).toMatch(/no interface of this host has the dhcpAddress 10\.9\.9\.9/);
    expect(fails([])).toMatch(/set dhcpInterface/);
    expect(fails(['ens2', 'ens2'])).toMatch(/named twice/);
  });
});
