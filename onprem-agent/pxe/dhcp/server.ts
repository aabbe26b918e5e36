/**
 * The agent's DHCP listener: ProxyDHCP (default), full DHCP, or off.
 *
 * Both sockets bind the wildcard address: dgram cannot bind to a device, and a socket
 * bound to a unicast address never sees the broadcasts clients send before they have an
 * address. Which requests to answer is decided by the responder from giaddr, ciaddr and
 * `dhcpAddress`. Replies to clients without an address go to `broadcastAddress`
 * (255.255.255.255 by default); on a multi-homed host the kernel routes that out of the
 * interface its table names, so set the boot network's directed broadcast address (or add
 * `ip route add 255.255.255.255 dev IFACE`) when the boot network is not the default route.
 *
 * Ports 67/68 must never be bound on a developer's or CI host: tests run this server
 * inside network namespaces, and `port`/`pxePort`/`clientPort` let benches move it.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { log } from '../../logger.js';
import { DhcpPacketError } from './errors.js';
import { decodePacket, encodePacket, macOf } from './packet.js';
import { DhcpResponder, type Arrival, type ResponderConfig } from './responder.js';

export interface DhcpServerOptions extends ResponderConfig {
  /** Default 0.0.0.0; see above for why a unicast address is wrong in production. */
  bindAddress?: string;
  /** Default 67; 0 picks a free port (tests and benches). */
  port?: number;
  /** PXE boot-server port, default 4011; null to not listen (full mode without PXE). */
  pxePort?: number | null;
}

export interface DhcpStats {
  mode: string;
  received: number;
  malformed: number;
  ignored: number;
  offers: number;
  acks: number;
  naks: number;
  proxyOffers: number;
  proxyAcks: number;
  sendErrors: number;
  leases: number;
}

export interface DhcpServer {
  /** The bound ports; `pxe` is undefined when the PXE port is not served. */
  ports(): { dhcp: number | undefined; pxe: number | undefined };
  stats(): DhcpStats;
  leases(): ReturnType<DhcpResponder['leases']>;
  close(): Promise<void>;
}

function bind(sock: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port, address, exclusive: true }, () => {
      sock.off('error', reject);
      sock.setBroadcast(true);
      resolve();
    });
  });
}

export async function createDhcpServer(options: DhcpServerOptions): Promise<DhcpServer> {
  const mode = options.mode ?? 'proxy';
  const responder = new DhcpResponder({ ...options, mode });
  const stats: DhcpStats = { mode, received: 0, malformed: 0, ignored: 0, offers: 0, acks: 0, naks: 0, proxyOffers: 0, proxyAcks: 0, sendErrors: 0, leases: 0 };
  const sockets: Socket[] = [];
  const bindAddress = options.bindAddress ?? '0.0.0.0';

  const handle = (sock: Socket, listener: Arrival['listener']) => async (msg: Buffer, rinfo: RemoteInfo): Promise<void> => {
    stats.received++;
    try {
      const req = decodePacket(msg);
      const reply = await responder.respond(req, { listener, address: rinfo.address, port: rinfo.port });
      if (!reply) {
        stats.ignored++;
        return;
      }
      const counter = ({ offer: 'offers', ack: 'acks', 'inform-ack': 'acks', nak: 'naks', 'proxy-offer': 'proxyOffers', 'proxy-ack': 'proxyAcks' } as const)[reply.kind];
      stats[counter]++;
      if (log.isLevelEnabled('debug')) log.debug({ mac: macOf(req), kind: reply.kind, to: reply.address, bootFile: reply.boot?.bootFile }, 'dhcp reply');
      sock.send(encodePacket(reply.packet), reply.port, reply.address, (err) => {
        if (!err) return;
        stats.sendErrors++;
        log.warn({ err: err.message, to: reply.address }, 'dhcp send failed');
      });
    } catch (err) {
      if (err instanceof DhcpPacketError) {
        stats.malformed++;
        log.debug({ from: rinfo.address, reason: err.message }, 'dhcp packet dropped');
        return;
      }
      stats.ignored++;
      log.error({ err }, 'dhcp request failed');
    }
  };

  if (mode !== 'off') {
    // A rack powering on at once bursts DISCOVERs; the default buffer would drop some.
    const dhcp = createSocket({ type: 'udp4', reuseAddr: false, recvBufferSize: 4 * 2 ** 20 });
    dhcp.on('message', (m, r) => void handle(dhcp, 'dhcp')(m, r));
    await bind(dhcp, options.port ?? 67, bindAddress);
    sockets.push(dhcp);
    if (options.pxePort !== null) {
      const pxe = createSocket({ type: 'udp4', reuseAddr: false });
      pxe.on('message', (m, r) => void handle(pxe, 'pxe')(m, r));
      try {
        await bind(pxe, options.pxePort ?? 4011, bindAddress);
      } catch (err) {
        dhcp.close();
        throw err;
      }
      sockets.push(pxe);
    }
    for (const s of sockets) s.on('error', (err) => log.error({ err }, 'dhcp socket error'));
    log.info({ mode, bindAddress, dhcpAddress: options.dhcpAddress, ports: sockets.map((s) => s.address().port) }, 'dhcp server listening');
  }

  return {
    ports: () => ({ dhcp: sockets[0]?.address().port, pxe: sockets[1]?.address().port }),
    stats: () => ({ ...stats, leases: responder.leases().length }),
    leases: () => responder.leases(),
    close: async () => {
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
