/**
 * What the DHCP server answers, decided without sockets so every branch is testable:
 * a decoded request and where it came from in, a reply and where it goes out.
 *
 * The server tells which boot interface a request concerns (`Arrival.via`, see server.ts);
 * the subnet is decided from giaddr (relayed), ciaddr (renewing), or else the configured
 * subnet that holds that interface's address: directly attached clients are on its segment.
 * A broadcast heard while several boot interfaces are served cannot be placed by the
 * kernel's help alone (Node has no IP_PKTINFO), so it is offered to each of them
 * (`Arrival.heardOn`), and each stays silent where the request shows the client is elsewhere.
 *
 * RFC 2131 §4.3.2: a REQUEST is NAKed only when this server is responsible for the client
 * (its server identifier is ours, or it holds a lease or inventory address for it); a
 * client it has no record of gets silence, so a second DHCP server on the segment keeps
 * working. RFC 3046: option 82 from a relay is echoed, last, in every reply.
 */
import { cidrContains, intToIPv4, parseCidr, type Cidr } from '../../../schema/ip.js';
import { archFromVendorClass, chooseBootFile, type ArchFamily, type BootFileChoice, type BootFileConfig } from '../bootfile.js';
import { log } from '../../logger.js';
import { LeasePool } from './leases.js';
import type { DhcpLeaseStore, LeaseSource } from './leaseStore.js';
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
  /** The agent's other boot-interface addresses; like dhcpAddress, never in a pool. */
  ownAddresses?: string[];
  subnets?: DhcpSubnet[];
  lookupStaticLease?: StaticLeaseLookup;
  /** Next-server for TFTP; defaults to the address of the interface the reply leaves from. */
  tftpServer?: string;
  /** The agent's HTTP base URL, or one per boot-interface address (each segment reaches its own). */
  httpBaseUrl: string | ((serverAddress: string) => string);
  /** Addresses the inventory assigns to machines: the pool never hands them out. */
  isInventoryIp?: (ip: string) => boolean;
  /** Where pool leases survive restarts; without one they live in memory only (tests). */
  leaseStore?: DhcpLeaseStore;
  bootFiles?: Partial<Record<ArchFamily, string>>;
  httpBootPrefix?: string;
  /** Where broadcast replies go; default 255.255.255.255, which needs no route (server.ts). */
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
  /** The boot interface the reply would leave from; default: `dhcpAddress` and its subnet. */
  via?: { address: string; subnet: Cidr };
  /** A broadcast heard with several boot interfaces served: all of their subnets. */
  heardOn?: readonly Cidr[];
}

export interface Reply {
  packet: DhcpPacket;
  address: string;
  port: number;
  kind: 'offer' | 'ack' | 'nak' | 'proxy-offer' | 'proxy-ack' | 'inform-ack';
  boot?: BootFileChoice;
}

const DEFAULT_LEASE_SECONDS = 3600;
const RELAY_AGENT_INFO = 82;

/** What a reply carries of the interface it leaves from; built once per address. */
interface Identity {
  address: string;
  serverId: Buffer;
  tftp: string;
  tftpName: Buffer;
  boot: BootFileConfig;
}

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
  private readonly identities = new Map<string, Identity>();
  private readonly defaultVia: { address: string; subnet: Cidr };
  private readonly pxeVendor = Buffer.from('PXEClient', 'latin1');
  private readonly httpVendor = Buffer.from('HTTPClient', 'latin1');
  private readonly discoveryControl = encodeSubOptions(new Map([[PxeSub.DiscoveryControl, Buffer.from([0x08])]]));
  private readonly bootFileBytes = new Map<string, Buffer>();

  constructor(private readonly cfg: ResponderConfig) {
    const now = cfg.now ?? Date.now;
    this.subnets = (cfg.subnets ?? []).map((s) => {
      const cidr = parseCidr(s.cidr, 'dhcp.subnets.cidr');
      const range = parseRange(s.range);
      const reserved = new Set([cfg.dhcpAddress, ...(cfg.ownAddresses ?? []), ...(s.router ? [s.router] : []), intToIPv4(cidr.first), intToIPv4(cidr.last)]);
      const maskInt = cidr.prefix === 0 ? 0 : (0xffffffff << (32 - cidr.prefix)) >>> 0;
      return {
        config: s,
        cidr,
        mask: intToIPv4(maskInt),
        broadcast: intToIPv4(cidr.last),
        ...(range ? { pool: new LeasePool(range, reserved, now, (ip) => cfg.isInventoryIp?.(ip) ?? false) } : {}),
      };
    });
    this.broadcastAddress = cfg.broadcastAddress ?? '255.255.255.255';
    this.defaultVia = { address: cfg.dhcpAddress, subnet: this.subnetFor(cfg.dhcpAddress)?.cidr ?? parseCidr(`${cfg.dhcpAddress}/32`, 'dhcpAddress') };
  }

  /** Reads the stored pool leases back; call once before the first request. */
  async restoreLeases(): Promise<void> {
    if (!this.cfg.leaseStore) return;
    const stored = await this.cfg.leaseStore.load();
    for (const s of this.subnets) s.pool?.restore(stored[s.config.cidr] ?? []);
  }

  /** What the lease file reads: each pool's changes, and the whole table when it compacts. */
  private readonly leaseSource: LeaseSource = {
    changes: () => this.subnets.filter((s) => s.pool).map((s) => [s.config.cidr, s.pool!.takeChanges()]),
    table: () => Object.fromEntries(this.subnets.filter((s) => s.pool).map((s) => [s.config.cidr, s.pool!.list()])),
    size: () => this.subnets.reduce((n, s) => n + (s.pool?.size() ?? 0), 0),
  };

  /** Pool changed: write it down. An ACK waits for this; an offer or a release does not need to. */
  private persist(): Promise<void> {
    return this.cfg.leaseStore?.save(this.leaseSource) ?? Promise.resolve();
  }

  /** Writes what offers and releases changed since the last write (on shutdown). */
  async flushLeases(): Promise<void> {
    await this.persist();
  }

  private persistLater(): void {
    this.persist().catch((err: Error) => log.error({ err: err.message, file: this.cfg.leaseStore?.path }, 'dhcp lease file not written'));
  }

  private identity(address: string): Identity {
    let id = this.identities.get(address);
    if (!id) {
      const tftp = this.cfg.tftpServer ?? address;
      const httpBaseUrl = typeof this.cfg.httpBaseUrl === 'function' ? this.cfg.httpBaseUrl(address) : this.cfg.httpBaseUrl;
      id = { address, serverId: ipBytes(address), tftp, tftpName: Buffer.from(tftp, 'latin1'), boot: { ...this.cfg, httpBaseUrl } };
      this.identities.set(address, id);
    }
    return id;
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

  private clientSubnet(req: DhcpPacket, via: { address: string; subnet: Cidr }, ambiguous: boolean): PreparedSubnet | undefined {
    if (req.giaddr !== '0.0.0.0') return this.subnetFor(req.giaddr);
    if (req.ciaddr !== '0.0.0.0') {
      const s = this.subnetFor(req.ciaddr);
      // A rebinding broadcast heard on several segments belongs to the one that holds ciaddr.
      return ambiguous && s && !cidrContains(via.subnet, req.ciaddr) ? undefined : s;
    }
    return this.subnetFor(via.address);
  }

  /** Undefined when the client is not a network-boot client (or has no boot file here). */
  private bootChoice(req: DhcpPacket, id: Identity): BootFileChoice | undefined {
    const vendorClass = stringOption(req, Opt.VendorClass) ?? '';
    const ipxe = req.options.has(Opt.IpxeEncapsulated) || (userClasses(req) ?? []).includes('iPXE');
    if (!vendorClass.startsWith('PXEClient') && !vendorClass.startsWith('HTTPClient') && !ipxe) return undefined;
    const fromVendor = archFromVendorClass(vendorClass);
    const architectures = clientArchitectures(req) ?? (fromVendor === undefined ? undefined : [fromVendor]);
    return chooseBootFile({ architectures, ipxe, mac: macOf(req) }, id.boot);
  }

  private base(req: DhcpPacket, type: MessageType, id: Identity): DhcpPacket {
    const options = new Map<number, Buffer>([[Opt.MessageType, Buffer.from([type])], [Opt.ServerId, id.serverId]]);
    return {
      op: BootOp.Reply, htype: req.htype, hlen: req.hlen, hops: 0, xid: req.xid, secs: 0, flags: req.flags,
      ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: req.giaddr, chaddr: req.chaddr, sname: '', file: '', options,
    };
  }

  private addBoot(reply: DhcpPacket, req: DhcpPacket, boot: BootFileChoice, proxy: boolean, id: Identity): void {
    reply.siaddr = id.tftp;
    // URLs can outgrow the 128-byte file field; option 67 carries any length.
    if (boot.bootFile.length < 128) reply.file = boot.bootFile;
    reply.options.set(Opt.BootFileName, this.bootFileBuffer(boot.bootFile));
    if (boot.stage === 'firmware' && boot.vendorClass === 'PXEClient') reply.options.set(Opt.TftpServerName, id.tftpName);
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
    const via = from.via ?? this.defaultVia;
    const id = this.identity(via.address);
    const heardOn = from.heardOn && from.heardOn.length > 1 ? from.heardOn : undefined;
    let reply: Reply | undefined;
    if (from.listener === 'pxe') reply = this.bootServer(req, type, from, id);
    else if (this.cfg.mode === 'proxy') reply = await this.proxy(req, type, id, via, heardOn);
    else reply = await this.full(req, type, id, via, heardOn !== undefined);
    const agentInfo = req.options.get(RELAY_AGENT_INFO);
    if (reply && agentInfo) {
      // RFC 3046 §2.2: echoed whole, as the last option, in all replies.
      reply.packet.options.delete(RELAY_AGENT_INFO);
      reply.packet.options.set(RELAY_AGENT_INFO, agentInfo);
    }
    return reply;
  }

  /** Port 4011: the PXE boot-server request, answered to where it came from. */
  private bootServer(req: DhcpPacket, type: MessageType, from: Arrival, id: Identity): Reply | undefined {
    if (type !== MessageType.Request && type !== MessageType.Discover && type !== MessageType.Inform) return undefined;
    const boot = this.bootChoice(req, id);
    if (!boot) return undefined;
    const reply = this.base(req, MessageType.Ack, id);
    this.addBoot(reply, req, boot, true, id);
    return { packet: reply, address: from.address, port: from.port, kind: 'proxy-ack', boot };
  }

  /** ProxyDHCP on port 67: boot information for PXE clients, never an address. */
  private async proxy(req: DhcpPacket, type: MessageType, id: Identity, via: { subnet: Cidr }, heardOn: readonly Cidr[] | undefined): Promise<Reply | undefined> {
    if (type !== MessageType.Discover) return undefined;
    const boot = this.bootChoice(req, id);
    if (!boot) return undefined;
    if (heardOn && req.giaddr === '0.0.0.0') {
      // Heard on several segments: a machine the inventory places on one of them is answered there only.
      const known = await this.cfg.lookupStaticLease?.(macOf(req));
      if (known && !cidrContains(via.subnet, known.ip) && heardOn.some((c) => cidrContains(c, known.ip))) return undefined;
    }
    const reply = this.base(req, MessageType.Offer, id);
    this.addBoot(reply, req, boot, true, id);
    return { packet: reply, ...this.destination(req, true), kind: 'proxy-offer', boot };
  }

  private async addressFor(req: DhcpPacket, subnet: PreparedSubnet, wanted: string | undefined): Promise<{ ip: string; hostname?: string; pooled?: true } | undefined> {
    const mac = macOf(req);
    const fixed = await this.cfg.lookupStaticLease?.(mac);
    if (fixed && cidrContains(subnet.cidr, fixed.ip)) return fixed;
    if (fixed) return undefined; // known machine, but its address belongs to another subnet
    const lease = subnet.pool?.offer(mac, wanted);
    return lease ? { ip: lease.ip, pooled: true } : undefined;
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

  private nak(req: DhcpPacket, reason: string, id: Identity): Reply {
    const reply = this.base(req, MessageType.Nak, id);
    reply.options.set(Opt.Message, Buffer.from(reason, 'latin1'));
    return { packet: reply, ...this.destination(req, true), kind: 'nak' };
  }

  private async ack(req: DhcpPacket, subnet: PreparedSubnet, ip: string, hostname: string | undefined, boot: BootFileChoice | undefined, id: Identity): Promise<Reply> {
    const reply = this.base(req, MessageType.Ack, id);
    reply.yiaddr = ip;
    reply.ciaddr = req.ciaddr;
    this.leaseOptions(reply, subnet, hostname);
    if (boot) this.addBoot(reply, req, boot, false, id);
    return { packet: reply, ...this.destination(req, false), kind: 'ack', ...(boot ? { boot } : {}) };
  }

  /**
   * RFC 2131 §4.3.2. SELECTING (server identifier present): ours → ACK or NAK, another
   * server's → silence. INIT-REBOOT (requested address, no ciaddr) and RENEWING/REBINDING
   * (ciaddr): NAK only a client this server has a record of (inventory address or pool
   * lease) asking for another address, or one on the wrong network; no record → silence.
   */
  private async request(req: DhcpPacket, subnet: PreparedSubnet, id: Identity, ambiguous: boolean, boot: BootFileChoice | undefined): Promise<Reply | undefined> {
    const mac = macOf(req);
    const serverId = ipOption(req, Opt.ServerId);
    const requested = ipOption(req, Opt.RequestedIp);
    const seconds = subnet.config.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    const fixed = await this.cfg.lookupStaticLease?.(mac);
    if (serverId !== undefined) {
      if (serverId !== id.address) {
        if (subnet.pool?.withdraw(mac)) this.persistLater();
        log.debug({ mac, serverId, interface: id.address }, 'dhcp request for another server: silent');
        return undefined; // the client chose another server's offer
      }
      if (!requested) return undefined; // SELECTING without option 50 is malformed
      if (!cidrContains(subnet.cidr, requested)) return this.nak(req, `${requested} is not on this network`, id);
      if (fixed) return fixed.ip === requested ? this.ack(req, subnet, requested, fixed.hostname, boot, id) : this.nak(req, `${requested} is not this client's address`, id);
      if (!subnet.pool?.bind(mac, requested, seconds)) return this.nak(req, `${requested} is not available to this client`, id);
      await this.persist();
      return this.ack(req, subnet, requested, undefined, boot, id);
    }
    const renewing = req.ciaddr !== '0.0.0.0';
    const asked = renewing ? req.ciaddr : requested;
    if (!asked) return undefined;
    // Heard on several segments, from a machine the inventory places on another one: not ours to NAK.
    if (ambiguous && fixed && !cidrContains(subnet.cidr, fixed.ip)) return undefined;
    if (!cidrContains(subnet.cidr, asked)) {
      // Wrong network: NAK is allowed only when this server knows which network the client is on.
      return ambiguous || renewing ? undefined : this.nak(req, `${asked} is not on this network`, id);
    }
    const lease = fixed ? undefined : subnet.pool?.current(mac);
    const recorded = fixed?.ip ?? lease?.ip;
    if (recorded === undefined) {
      log.debug({ mac, asked, interface: id.address }, 'dhcp request from a client without a record here: silent (RFC 2131 4.3.2)');
      return undefined;
    }
    if (recorded !== asked) return this.nak(req, `${asked} is not this client's address`, id);
    if (fixed) return this.ack(req, subnet, asked, fixed.hostname, boot, id);
    if (!subnet.pool?.bind(mac, asked, seconds)) return this.nak(req, `${asked} is not available to this client`, id);
    await this.persist();
    return this.ack(req, subnet, asked, undefined, boot, id);
  }

  private async full(req: DhcpPacket, type: MessageType, id: Identity, via: { address: string; subnet: Cidr }, ambiguous: boolean): Promise<Reply | undefined> {
    const subnet = this.clientSubnet(req, via, ambiguous);
    if (!subnet) return undefined; // not a subnet we are authoritative for
    const mac = macOf(req);
    const boot = this.bootChoice(req, id);
    switch (type) {
      case MessageType.Discover: {
        const addr = await this.addressFor(req, subnet, ipOption(req, Opt.RequestedIp));
        if (!addr) return undefined;
        if (addr.pooled) this.persistLater();
        const reply = this.base(req, MessageType.Offer, id);
        reply.yiaddr = addr.ip;
        this.leaseOptions(reply, subnet, addr.hostname);
        if (boot) this.addBoot(reply, req, boot, false, id);
        return { packet: reply, ...this.destination(req, false), kind: 'offer', ...(boot ? { boot } : {}) };
      }
      case MessageType.Request:
        return this.request(req, subnet, id, ambiguous, boot);
      case MessageType.Inform: {
        const reply = this.base(req, MessageType.Ack, id);
        reply.ciaddr = req.ciaddr;
        this.leaseOptions(reply, subnet, undefined);
        for (const o of [Opt.LeaseTime, Opt.RenewalTime, Opt.RebindingTime]) reply.options.delete(o);
        if (boot) this.addBoot(reply, req, boot, false, id);
        return { packet: reply, ...this.destination(req, false), kind: 'inform-ack', ...(boot ? { boot } : {}) };
      }
      case MessageType.Release:
        if (ipOption(req, Opt.ServerId) === id.address && subnet.pool?.release(mac, req.ciaddr)) this.persistLater();
        return undefined;
      case MessageType.Decline: {
        const ip = ipOption(req, Opt.RequestedIp);
        if (ip && ipOption(req, Opt.ServerId) === id.address && subnet.pool?.contains(ip)) {
          subnet.pool.decline(ip);
          this.persistLater();
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }
}
