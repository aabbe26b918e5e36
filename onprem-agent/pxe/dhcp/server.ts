/**
 * The agent's DHCP listener: ProxyDHCP (default), full DHCP, or off.
 *
 * Sockets, per boot interface (`dhcpInterface`, or the one holding `dhcpAddress`):
 * - `<interface address>:67` (and `:4011`): every reply for that interface leaves from it.
 *   Linux sends a limited broadcast from a socket bound to a local address out of the
 *   interface holding that address, with no route for 255.255.255.255 and no default route
 *   (see interfaces.ts); a wildcard socket would need such a route, or follow the default
 *   route out of the wrong NIC. Unicast requests to that address (relays, renewals, PXE
 *   4011) arrive here too, so their interface is known.
 * - one `255.255.255.255:67` socket: what clients without an address send. It hears every
 *   interface alike (Node has no IP_PKTINFO or SO_BINDTODEVICE), so with one boot interface
 *   the broadcast is that interface's, and with several the responder is asked once per
 *   interface and answers only where the request does not place the client elsewhere.
 * Binding these two addresses instead of 0.0.0.0 needs no SO_REUSEADDR, so a second DHCP
 * server on this host still makes the start fail with EADDRINUSE.
 *
 * A reply is counted when the kernel accepted it; a failed send is counted in `sendErrors`,
 * logged with its reason, and kept as `lastSendError` for `skyboot-agent status`.
 *
 * Ports 67/68 must never be bound on a developer's or CI host: tests run this server
 * inside network namespaces, and `port`/`pxePort`/`clientPort` let benches move it.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { log } from '../../logger.js';
import { DhcpPacketError } from './errors.js';
import { resolveDhcpInterfaces, type DhcpInterface, type HostInterface } from './interfaces.js';
import { DhcpLeaseStore } from './leaseStore.js';
import { decodePacket, encodePacket, macOf, type DhcpPacket } from './packet.js';
import { DhcpResponder, type Arrival, type Reply, type ResponderConfig } from './responder.js';

export interface DhcpServerOptions extends Omit<ResponderConfig, 'dhcpAddress' | 'leaseStore' | 'ownAddresses'> {
  /** Server identifier on the interface that holds it; default: the first interface's address. */
  dhcpAddress?: string;
  /** Receive buffer of the DHCP sockets (default DHCP_RECEIVE_BUFFER_BYTES). */
  receiveBufferBytes?: number;
  /** Boot interfaces by name; default: the interface that holds `dhcpAddress`. */
  interfaces?: string[];
  /** Pool leases survive restarts here (the agent: `<dataDir>/dhcp-leases.json`). */
  leaseFile?: string;
  /** Default 67; 0 picks a free port (tests and benches). */
  port?: number;
  /** PXE boot-server port, default 4011; null to not listen (full mode without PXE). */
  pxePort?: number | null;
  /** The host's interfaces; default: read from this network namespace. */
  hostInterfaces?: HostInterface[];
  /** Called for each reply the kernel accepted (the agent's boot timeline). */
  onReply?: (sent: DhcpReplySent) => void;
  /**
   * Called with each ACK's MAC before the ACK is sent: a copy of the leases kept elsewhere (the
   * DHCP process's parent) is then current before the client can use its address.
   */
  onAck?: (mac: string) => void;
}

export interface DhcpReplySent {
  mac: string;
  kind: Reply['kind'];
  /** The address offered or acknowledged (yiaddr); 0.0.0.0 in ProxyDHCP replies. */
  address: string;
  bootFile: string | null;
}

export interface DhcpSendError {
  at: string;
  kind: Reply['kind'];
  interface: string;
  to: string;
  reason: string;
}

export interface DhcpStats {
  mode: string;
  interfaces: Array<{ name: string; address: string }>;
  received: number;
  malformed: number;
  ignored: number;
  offers: number;
  acks: number;
  naks: number;
  proxyOffers: number;
  proxyAcks: number;
  /** Requests whose answer could not be built, e.g. the lease file could not be written. */
  failures: number;
  sendErrors: number;
  lastSendError: DhcpSendError | null;
  leases: number;
}

export interface DhcpServer {
  /** The bound ports; `pxe` is undefined when the PXE port is not served. */
  ports(): { dhcp: number | undefined; pxe: number | undefined };
  stats(): DhcpStats;
  leases(): ReturnType<DhcpResponder['leases']>;
  close(): Promise<void>;
}

/** A DHCP port that could not be bound, named with its address. */
export class DhcpSocketError extends Error {
  constructor(address: string, port: number, cause: Error) {
    const inUse = (cause as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ' (another DHCP server on this host?)' : '';
    super(`cannot bind UDP ${address}:${port}: ${cause.message}${inUse}`, { cause });
    this.name = 'DhcpSocketError';
  }
}

/**
 * The DHCP sockets' receive buffer. Linux doubles it and charges each queued datagram about
 * 1-2 KiB, so 256 KiB queues a few hundred requests: a rack powering on at once (more than the
 * default ~200 KiB would drop) without letting a flood queue seconds of work. Past that the
 * kernel drops, which is what a server should do when it cannot answer in time: an OFFER that
 * arrives after the client's 4 s retransmission is useless and holds an address, and every
 * answer behind a deep queue is late. (4 MiB here made a flood's answers about 1 s late.)
 */
export const DHCP_RECEIVE_BUFFER_BYTES = 256 * 1024;

function bound(address: string, port: number, recvBufferSize?: number): Promise<Socket> {
  const sock = createSocket({ type: 'udp4', reuseAddr: false, ...(recvBufferSize ? { recvBufferSize } : {}) });
  return new Promise((resolve, reject) => {
    sock.once('error', (err) => {
      sock.close();
      reject(new DhcpSocketError(address, port, err));
    });
    sock.bind({ port, address, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.setBroadcast(true);
      resolve(sock);
    });
  });
}

const COUNTER = { offer: 'offers', ack: 'acks', 'inform-ack': 'acks', nak: 'naks', 'proxy-offer': 'proxyOffers', 'proxy-ack': 'proxyAcks' } as const;

interface Served {
  iface: DhcpInterface;
  dhcp: Socket;
  pxe?: Socket;
}

export async function createDhcpServer(options: DhcpServerOptions): Promise<DhcpServer> {
  const mode = options.mode ?? 'proxy';
  const stats: DhcpStats = { mode, interfaces: [], received: 0, malformed: 0, ignored: 0, offers: 0, acks: 0, naks: 0, proxyOffers: 0, proxyAcks: 0, failures: 0, sendErrors: 0, lastSendError: null, leases: 0 };
  if (mode === 'off') {
    return { ports: () => ({ dhcp: undefined, pxe: undefined }), stats: () => ({ ...stats }), leases: () => [], close: async () => undefined };
  }
  const ifaces = resolveDhcpInterfaces(options.interfaces ?? [], options.dhcpAddress, options.hostInterfaces);
  const primary = ifaces.find((i) => i.address === options.dhcpAddress) ?? ifaces[0]!;
  stats.interfaces = ifaces.map((i) => ({ name: i.name, address: i.address }));
  for (const i of ifaces.filter((x) => !x.carrier)) log.warn({ interface: i.name, address: i.address }, 'dhcp interface has no carrier yet; replies leave once its link is up');
  const responder = new DhcpResponder({
    ...options,
    mode,
    dhcpAddress: primary.address,
    ownAddresses: ifaces.map((i) => i.address),
    ...(options.leaseFile ? { leaseStore: new DhcpLeaseStore(options.leaseFile) } : {}),
  });
  await responder.restoreLeases();
  const allSubnets = ifaces.map((i) => i.subnet);

  const send = (served: Served, listener: Arrival['listener'], reply: Reply, req: DhcpPacket): Promise<void> => new Promise((resolve) => {
    const sock = listener === 'pxe' ? served.pxe! : served.dhcp;
    sock.send(encodePacket(reply.packet), reply.port, reply.address, (err) => {
      if (err) {
        stats.sendErrors++;
        stats.lastSendError = { at: new Date().toISOString(), kind: reply.kind, interface: served.iface.name, to: `${reply.address}:${reply.port}`, reason: err.message };
        log.warn({ mac: macOf(req), kind: reply.kind, interface: served.iface.name, from: served.iface.address, to: reply.address, err: err.message }, 'dhcp reply not sent');
      } else {
        stats[COUNTER[reply.kind]]++;
        if (log.isLevelEnabled('debug')) log.debug({ mac: macOf(req), kind: reply.kind, interface: served.iface.name, to: reply.address, bootFile: reply.boot?.bootFile }, 'dhcp reply');
        options.onReply?.({ mac: macOf(req), kind: reply.kind, address: reply.packet.yiaddr, bootFile: reply.boot?.bootFile ?? null });
      }
      resolve();
    });
  });

  /** `arrivedOn` is undefined for the broadcast socket: the request may concern any interface. */
  const handle = (listener: Arrival['listener'], arrivedOn: Served | undefined) => async (msg: Buffer, rinfo: RemoteInfo): Promise<void> => {
    stats.received++;
    let req: DhcpPacket;
    try {
      req = decodePacket(msg);
    } catch (err) {
      stats.malformed++;
      log.debug({ from: rinfo.address, reason: (err as Error).message }, 'dhcp packet dropped');
      return;
    }
    const candidates = arrivedOn ? [arrivedOn] : served;
    let answered = 0;
    for (const s of candidates) {
      try {
        const reply = await responder.respond(req, {
          listener,
          address: rinfo.address,
          port: rinfo.port,
          via: { address: s.iface.address, subnet: s.iface.subnet },
          ...(arrivedOn ? {} : { heardOn: allSubnets }),
        });
        if (!reply) continue;
        answered++;
        if (reply.kind === 'ack') options.onAck?.(macOf(req));
        await send(s, listener, reply, req);
      } catch (err) {
        const malformed = err instanceof DhcpPacketError;
        if (malformed) stats.malformed++;
        else stats.failures++;
        log[malformed ? 'debug' : 'error']({ mac: macOf(req), interface: s.iface.name, err: (err as Error).message }, 'dhcp request not answered');
        answered++; // counted as malformed or failed, not as ignored
      }
    }
    if (answered === 0) stats.ignored++;
  };

  const served: Served[] = [];
  const sockets: Socket[] = [];
  try {
    const buffer = options.receiveBufferBytes ?? DHCP_RECEIVE_BUFFER_BYTES;
    let port = options.port ?? 67;
    let pxePort = options.pxePort === null ? null : options.pxePort ?? 4011;
    for (const iface of ifaces) {
      const dhcp = await bound(iface.address, port, buffer);
      sockets.push(dhcp);
      port = dhcp.address().port;
      const s: Served = { iface, dhcp };
      if (pxePort !== null) {
        s.pxe = await bound(iface.address, pxePort);
        sockets.push(s.pxe);
        pxePort = s.pxe.address().port;
      }
      served.push(s);
    }
    const broadcast = await bound('255.255.255.255', port, buffer);
    sockets.push(broadcast);
    broadcast.on('message', (m, r) => void handle('dhcp', undefined)(m, r));
    for (const s of served) {
      s.dhcp.on('message', (m, r) => void handle('dhcp', s)(m, r));
      s.pxe?.on('message', (m, r) => void handle('pxe', s)(m, r));
    }
  } catch (err) {
    for (const s of sockets) s.close();
    throw err;
  }
  for (const s of sockets) s.on('error', (err) => log.error({ err }, 'dhcp socket error'));
  log.info({ mode, interfaces: stats.interfaces, ports: { dhcp: served[0]!.dhcp.address().port, pxe: served[0]!.pxe?.address().port ?? null } }, 'dhcp server listening');

  return {
    ports: () => ({ dhcp: served[0]?.dhcp.address().port, pxe: served[0]?.pxe?.address().port }),
    stats: () => ({ ...stats, leases: responder.leases().length }),
    leases: () => responder.leases(),
    close: async () => {
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await responder.flushLeases();
    },
  };
}
