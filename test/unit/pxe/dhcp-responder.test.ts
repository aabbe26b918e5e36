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
    expect(await ask(r, pxeRequest({ mac: '52:54:00:00:01:04' }))).toBeUndefined(); // pool exhausted
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
    expect((await ask(r, pxeRequest({ mac: '52:54:00:00:07:02', requestedIp: '10.0.0.10' })))).toBeUndefined(); // pool left: none
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
      const onDisk = JSON.parse(readFileSync(file, 'utf8')) as { leases: unknown[] };
      expect(onDisk.leases).toEqual([expect.objectContaining({ subnet: '10.0.0.0/24', mac: '52:54:00:00:08:01', ip: '10.0.0.10', state: 'bound' })]);

      const r2 = new DhcpResponder({ ...base, leaseStore: new DhcpLeaseStore(file) });
      await r2.restoreLeases();
      expect((await ask(r2, pxeRequest({ mac: '52:54:00:00:08:02' })))?.packet.yiaddr).toBe('10.0.0.11');
      expect((await ask(r2, pxeRequest({ mac: '52:54:00:00:08:01', type: MessageType.Request, ciaddr: '10.0.0.10', broadcast: false })))?.kind).toBe('ack');
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
