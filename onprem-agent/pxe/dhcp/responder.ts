/**
 * What the DHCP server answers, decided without sockets so every branch is testable:
 * a decoded request and where it came from in, a reply and where it goes out.
 *
 * The server binds the wildcard address (dgram cannot bind to a device, and a socket bound
 * to a unicast address misses broadcasts), so the arrival interface is unknown. The subnet
 * is therefore decided from giaddr (relayed), ciaddr (renewing), or else the subnet that
 * holds `dhcpAddress`: directly attached clients are on the agent's own segment.
 */
import { cidrContains, intToIPv4, parseCidr, type Cidr } from '../../../schema/ip.js';
import { archFromVendorClass, chooseBootFile, type ArchFamily, type BootFileChoice } from '../bootfile.js';
import { LeasePool } from './leases.js';
import { BootOp, macOf, type DhcpPacket } from './packet.js';
import {
  clientArchitectures, encodeSubOptions, ipBytes, ipOption, MessageType, messageType, Opt, PxeSub, stringOption, uint32Bytes, userClasses,
} from './options.js';

export type DhcpMode = 'proxy' | 'full' | 'off';

export interface DhcpSubnet {
  cidr: string;
  /** Dynamic pool for machines the inventory does not know, `A-B` or {start, end}. */
  range?: string | { start: string; end: string };
  router?: string;
  dns?: string[];
  domainName?: string;
  leaseSeconds?: number;
}

export interface StaticLease {
  ip: string;
  hostname?: string;
}

export type StaticLeaseLookup = (mac: string) => StaticLease | undefined | Promise<StaticLease | undefined>;

export interface ResponderConfig {
  mode: DhcpMode;
  /** The agent's address on the boot network: server identifier (54) and siaddr. */
  dhcpAddress: string;
  subnets?: DhcpSubnet[];
  lookupStaticLease?: StaticLeaseLookup;
  /** Next-server for TFTP; defaults to dhcpAddress. */
  tftpServer?: string;
  httpBaseUrl: string;
  bootFiles?: Partial<Record<ArchFamily, string>>;
  httpBootPrefix?: string;
  /** Where broadcast replies go; see the server for why this is configurable. */
  broadcastAddress?: string;
  clientPort?: number;
  relayPort?: number;
  now?: () => number;
}

export interface Arrival {
  /** Which listener got it: the DHCP port or the PXE boot-server port (4011). */
  listener: 'dhcp' | 'pxe';
  address: string;
  port: number;
}

export interface Reply {
  packet: DhcpPacket;
  address: string;
  port: number;
  kind: 'offer' | 'ack' | 'nak' | 'proxy-offer' | 'proxy-ack' | 'inform-ack';
  boot?: BootFileChoice;
}

const DEFAULT_LEASE_SECONDS = 3600;

interface PreparedSubnet {
  config: DhcpSubnet;
  cidr: Cidr;
  mask: string;
  broadcast: string;
  pool?: LeasePool;
}

function parseRange(range: DhcpSubnet['range']): { start: string; end: string } | undefined {
  if (range === undefined) return undefined;
  if (typeof range !== 'string') return range;
  const [start, end] = range.split('-').map((s) => s.trim());
  return start && end ? { start, end } : undefined;
}

export class DhcpResponder {
  private readonly subnets: PreparedSubnet[];
  private readonly broadcastAddress: string;
  // Constant reply fragments, built once: ProxyDHCP answers a rack's burst on one thread.
  private readonly serverId: Buffer;
  private readonly tftpName: Buffer;
  private readonly pxeVendor = Buffer.from('PXEClient', 'latin1');
  private readonly httpVendor = Buffer.from('HTTPClient', 'latin1');
  private readonly discoveryControl = encodeSubOptions(new Map([[PxeSub.DiscoveryControl, Buffer.from([0x08])]]));
  private readonly bootFileBytes = new Map<string, Buffer>();

  constructor(private readonly cfg: ResponderConfig) {
    const now = cfg.now ?? Date.now;
    this.subnets = (cfg.subnets ?? []).map((s) => {
      const cidr = parseCidr(s.cidr, 'dhcp.subnets.cidr');
      const range = parseRange(s.range);
      const reserved = new Set([cfg.dhcpAddress, ...(s.router ? [s.router] : []), intToIPv4(cidr.first), intToIPv4(cidr.last)]);
      const maskInt = cidr.prefix === 0 ? 0 : (0xffffffff << (32 - cidr.prefix)) >>> 0;
      return {
        config: s,
        cidr,
        mask: intToIPv4(maskInt),
        broadcast: intToIPv4(cidr.last),
        ...(range ? { pool: new LeasePool(range, reserved, now) } : {}),
      };
    });
    this.broadcastAddress = cfg.broadcastAddress ?? '255.255.255.255';
    this.serverId = ipBytes(cfg.dhcpAddress);
    this.tftpName = Buffer.from(cfg.tftpServer ?? cfg.dhcpAddress, 'latin1');
  }

  /** Boot file names repeat (one per architecture, one script URL per MAC): keep a few. */
  private bootFileBuffer(name: string): Buffer {
    let b = this.bootFileBytes.get(name);
    if (!b) {
      if (this.bootFileBytes.size > 4096) this.bootFileBytes.clear();
      b = Buffer.from(name, 'latin1');
      this.bootFileBytes.set(name, b);
    }
    return b;
  }

  leases(): Array<{ subnet: string; mac: string; ip: string; expiresAt: number; state: string }> {
    return this.subnets.flatMap((s) => (s.pool?.list() ?? []).map((l) => ({ subnet: s.config.cidr, ...l })));
  }

  private subnetFor(ip: string): PreparedSubnet | undefined {
    return this.subnets.find((s) => cidrContains(s.cidr, ip));
  }

  private clientSubnet(req: DhcpPacket): PreparedSubnet | undefined {
    if (req.giaddr !== '0.0.0.0') return this.subnetFor(req.giaddr);
    if (req.ciaddr !== '0.0.0.0') return this.subnetFor(req.ciaddr);
    return this.subnetFor(this.cfg.dhcpAddress);
  }

  /** Undefined when the client is not a network-boot client (or has no boot file here). */
  private bootChoice(req: DhcpPacket): BootFileChoice | undefined {
    const vendorClass = stringOption(req, Opt.VendorClass) ?? '';
    const ipxe = req.options.has(Opt.IpxeEncapsulated) || (userClasses(req) ?? []).includes('iPXE');
    if (!vendorClass.startsWith('PXEClient') && !vendorClass.startsWith('HTTPClient') && !ipxe) return undefined;
    const fromVendor = archFromVendorClass(vendorClass);
    const architectures = clientArchitectures(req) ?? (fromVendor === undefined ? undefined : [fromVendor]);
    return chooseBootFile({ architectures, ipxe, mac: macOf(req) }, this.cfg);
  }

  private base(req: DhcpPacket, type: MessageType): DhcpPacket {
    const options = new Map<number, Buffer>([[Opt.MessageType, Buffer.from([type])], [Opt.ServerId, this.serverId]]);
    return {
      op: BootOp.Reply, htype: req.htype, hlen: req.hlen, hops: 0, xid: req.xid, secs: 0, flags: req.flags,
      ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: req.giaddr, chaddr: req.chaddr, sname: '', file: '', options,
    };
  }

  private addBoot(reply: DhcpPacket, req: DhcpPacket, boot: BootFileChoice, proxy: boolean): void {
    const tftp = this.cfg.tftpServer ?? this.cfg.dhcpAddress;
    reply.siaddr = tftp;
    // URLs can outgrow the 128-byte file field; option 67 carries any length.
    if (boot.bootFile.length < 128) reply.file = boot.bootFile;
    reply.options.set(Opt.BootFileName, this.bootFileBuffer(boot.bootFile));
    if (boot.stage === 'firmware' && boot.vendorClass === 'PXEClient') reply.options.set(Opt.TftpServerName, this.tftpName);
    reply.options.set(Opt.VendorClass, boot.vendorClass === 'PXEClient' ? this.pxeVendor : this.httpVendor);
    const uuid = req.options.get(Opt.ClientUuid);
    if (uuid) reply.options.set(Opt.ClientUuid, uuid);
    if (proxy && boot.vendorClass === 'PXEClient') {
      // Discovery control bit 3: boot the file named in this offer, no menu, no discovery.
      reply.options.set(Opt.VendorSpecific, this.discoveryControl);
    }
  }

  private destination(req: DhcpPacket, forceBroadcast: boolean): { address: string; port: number } {
    if (req.giaddr !== '0.0.0.0') return { address: req.giaddr, port: this.cfg.relayPort ?? 67 };
    if (req.ciaddr !== '0.0.0.0' && !forceBroadcast) return { address: req.ciaddr, port: this.cfg.clientPort ?? 68 };
    // Unicast to yiaddr would need an ARP entry that user space cannot install: broadcast.
    return { address: this.broadcastAddress, port: this.cfg.clientPort ?? 68 };
  }

  async respond(req: DhcpPacket, from: Arrival): Promise<Reply | undefined> {
    if (this.cfg.mode === 'off' || req.op !== BootOp.Request) return undefined;
    const type = messageType(req);
    if (type === undefined) return undefined;
    if (from.listener === 'pxe') return this.bootServer(req, type, from);
    if (this.cfg.mode === 'proxy') return this.proxy(req, type);
    return this.full(req, type);
  }

  /** Port 4011: the PXE boot-server request, answered to where it came from. */
  private bootServer(req: DhcpPacket, type: MessageType, from: Arrival): Reply | undefined {
    if (type !== MessageType.Request && type !== MessageType.Discover && type !== MessageType.Inform) return undefined;
    const boot = this.bootChoice(req);
    if (!boot) return undefined;
    const reply = this.base(req, MessageType.Ack);
    this.addBoot(reply, req, boot, true);
    return { packet: reply, address: from.address, port: from.port, kind: 'proxy-ack', boot };
  }

  /** ProxyDHCP on port 67: boot information for PXE clients, never an address. */
  private proxy(req: DhcpPacket, type: MessageType): Reply | undefined {
    if (type !== MessageType.Discover) return undefined;
    const boot = this.bootChoice(req);
    if (!boot) return undefined;
    const reply = this.base(req, MessageType.Offer);
    this.addBoot(reply, req, boot, true);
    return { packet: reply, ...this.destination(req, true), kind: 'proxy-offer', boot };
  }

  private async addressFor(req: DhcpPacket, subnet: PreparedSubnet, wanted: string | undefined): Promise<{ ip: string; hostname?: string } | undefined> {
    const mac = macOf(req);
    const fixed = await this.cfg.lookupStaticLease?.(mac);
    if (fixed && cidrContains(subnet.cidr, fixed.ip)) return fixed;
    if (fixed) return undefined; // known machine, but its address belongs to another subnet
    const lease = subnet.pool?.offer(mac, wanted);
    return lease ? { ip: lease.ip } : undefined;
  }

  private leaseOptions(reply: DhcpPacket, subnet: PreparedSubnet, hostname: string | undefined): void {
    const s = subnet.config;
    const seconds = s.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    reply.options.set(Opt.LeaseTime, uint32Bytes(seconds));
    reply.options.set(Opt.RenewalTime, uint32Bytes(Math.floor(seconds / 2)));
    reply.options.set(Opt.RebindingTime, uint32Bytes(Math.floor((seconds * 7) / 8)));
    reply.options.set(Opt.SubnetMask, ipBytes(subnet.mask));
    reply.options.set(Opt.BroadcastAddress, ipBytes(subnet.broadcast));
    if (s.router) reply.options.set(Opt.Router, ipBytes(s.router));
    if (s.dns?.length) reply.options.set(Opt.DnsServers, Buffer.concat(s.dns.map(ipBytes)));
    if (s.domainName) reply.options.set(Opt.DomainName, Buffer.from(s.domainName, 'latin1'));
    if (hostname) reply.options.set(Opt.HostName, Buffer.from(hostname, 'latin1'));
  }

  private nak(req: DhcpPacket, reason: string): Reply {
    const reply = this.base(req, MessageType.Nak);
    reply.options.set(Opt.Message, Buffer.from(reason, 'latin1'));
    return { packet: reply, ...this.destination(req, true), kind: 'nak' };
  }

  private async full(req: DhcpPacket, type: MessageType): Promise<Reply | undefined> {
    const subnet = this.clientSubnet(req);
    if (!subnet) return undefined; // not a subnet we are authoritative for
    const mac = macOf(req);
    const boot = this.bootChoice(req);
    switch (type) {
      case MessageType.Discover: {
        const addr = await this.addressFor(req, subnet, ipOption(req, Opt.RequestedIp));
        if (!addr) return undefined;
        const reply = this.base(req, MessageType.Offer);
        reply.yiaddr = addr.ip;
        this.leaseOptions(reply, subnet, addr.hostname);
        if (boot) this.addBoot(reply, req, boot, false);
        return { packet: reply, ...this.destination(req, false), kind: 'offer', ...(boot ? { boot } : {}) };
      }
      case MessageType.Request: {
        const serverId = ipOption(req, Opt.ServerId);
        if (serverId && serverId !== this.cfg.dhcpAddress) {
          subnet.pool?.withdraw(mac);
          return undefined; // the client chose another server's offer
        }
        const asked = ipOption(req, Opt.RequestedIp) ?? (req.ciaddr !== '0.0.0.0' ? req.ciaddr : undefined);
        if (!asked) return this.nak(req, 'no requested address');
        if (!cidrContains(subnet.cidr, asked)) return this.nak(req, `${asked} is not on this network`);
        // Confirming never allocates: the address must be this client's static one, or a
        // pool address nobody else holds.
        const fixed = await this.cfg.lookupStaticLease?.(macOf(req));
        if (fixed && fixed.ip !== asked) return this.nak(req, `${asked} is not this client's address`);
        if (!fixed && !subnet.pool?.bind(mac, asked, subnet.config.leaseSeconds ?? DEFAULT_LEASE_SECONDS)) return this.nak(req, `${asked} is not available to this client`);
        const addr = { hostname: fixed?.hostname };
        const reply = this.base(req, MessageType.Ack);
        reply.yiaddr = asked;
        reply.ciaddr = req.ciaddr;
        this.leaseOptions(reply, subnet, addr.hostname);
        if (boot) this.addBoot(reply, req, boot, false);
        return { packet: reply, ...this.destination(req, false), kind: 'ack', ...(boot ? { boot } : {}) };
      }
      case MessageType.Inform: {
        const reply = this.base(req, MessageType.Ack);
        reply.ciaddr = req.ciaddr;
        this.leaseOptions(reply, subnet, undefined);
        for (const o of [Opt.LeaseTime, Opt.RenewalTime, Opt.RebindingTime]) reply.options.delete(o);
        if (boot) this.addBoot(reply, req, boot, false);
        return { packet: reply, ...this.destination(req, false), kind: 'inform-ack', ...(boot ? { boot } : {}) };
      }
      case MessageType.Release:
        if (ipOption(req, Opt.ServerId) === this.cfg.dhcpAddress) subnet.pool?.release(mac, req.ciaddr);
        return undefined;
      case MessageType.Decline: {
        const ip = ipOption(req, Opt.RequestedIp);
        if (ip && ipOption(req, Opt.ServerId) === this.cfg.dhcpAddress) subnet.pool?.decline(ip);
        return undefined;
      }
      default:
        return undefined;
    }
  }
}
