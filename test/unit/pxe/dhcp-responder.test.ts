import { DhcpResponder, type ResponderConfig } from '../../../onprem-agent/pxe/dhcp/responder.js';
import { pxeRequest } from '../../../onprem-agent/pxe/dhcp/clientPacket.js';
import { MessageType, messageType, Opt, ipOption, stringOption } from '../../../onprem-agent/pxe/dhcp/options.js';
import { decodePacket, encodePacket, type DhcpPacket } from '../../../onprem-agent/pxe/dhcp/packet.js';
import { LeasePool } from '../../../onprem-agent/pxe/dhcp/leases.js';

const dhcp = { listener: 'dhcp' as const, address: '0.0.0.0', port: 68 };
const base: ResponderConfig = {
  mode: 'full',
  dhcpAddress: '10.0.0.1',
  httpBaseUrl: 'http://10.0.0.1:8080',
  subnets: [{ cidr: '10.0.0.0/24', range: '10.0.0.10-10.0.0.12', router: '10.0.0.254', dns: ['10.0.0.1', '10.0.0.2'], leaseSeconds: 120 }],
  lookupStaticLease: async (mac) => (mac === '52:54:00:00:00:aa' ? { ip: '10.0.0.50', hostname: 'n50' } : undefined),
};

/** Every reply goes through the wire format, as it would on the network. */
async function ask(r: DhcpResponder, req: DhcpPacket, from = dhcp) {
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
});
