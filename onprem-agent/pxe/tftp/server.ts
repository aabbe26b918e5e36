/**
 * Read-only TFTP server for the iPXE binaries (RFC 1350, 2347-2349, 7440). Requests arrive
 * on the well-known port; each accepted read runs on its own ephemeral socket bound to the
 * address the request arrived on. Node's dgram cannot tell which local address a datagram to
 * a wildcard socket was sent to (no IP_PKTINFO), so a wildcard address is served as one
 * listening socket per local IPv4 address, each knowing its own (as dnsmasq's
 * bind-interfaces does).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { setMaxListeners } from 'node:events';
import { networkInterfaces } from 'node:os';
import { log } from '../../logger.js';
import { FileCache } from './fileSource.js';
import { IPXE_LINK_TARGET_DIRS } from './ipxeBinaries.js';
import { decodeTftp, encodeError, TftpErrorCode, TftpOp, type TftpRequest } from './packet.js';
import { resolveInRoot, tftpRootPolicy, TftpPathError } from './paths.js';
import { runTransfer, type TransferParams } from './transfer.js';

export interface TftpServerOptions {
  root: string;
  /**
   * Default 0.0.0.0 (every local IPv4 address present at start, each its own socket); the demo
   * and tests use 127.0.0.1 or a namespace address.
   */
  address?: string;
  /** Default 69; 0 picks a free port (read it back from `address()`). */
  port?: number;
  /** Concurrent transfers; a request beyond the cap gets ERROR 0 "server busy". Default 4096: a boot storm of 2,000 nodes asks at once (bench/bootstorm), and a transfer costs a socket and a timer. */
  maxTransfers?: number;
  /** Largest blksize granted (RFC 2348 allows up to 65464). */
  maxBlksize?: number;
  maxWindowsize?: number;
  /** Retransmission timeout when the client proposes none (RFC 2349 `timeout`). */
  timeoutMs?: number;
  maxTimeoutMs?: number;
  retries?: number;
  /**
   * Directories a link in the root may point into (each such link allows its one file).
   * Default: where Debian's ipxe package links (`/boot`).
   */
  linkTargetDirs?: readonly string[];
  /** Files up to this size are served from memory (default 16 MiB). */
  cacheFileBytes?: number;
  /** Called when a transfer ends (the agent's boot timeline names the client's node). */
  onTransfer?: (t: TftpTransferEnded) => void;
}

export interface TftpTransferEnded {
  client: string;
  file: string;
  ok: boolean;
  bytes: number;
  reason?: string;
}

export interface TftpStats {
  active: number;
  started: number;
  completed: number;
  failed: number;
  refused: number;
  busy: number;
  retransmits: number;
  bytesSent: number;
  /** Packets from an unknown transfer ID, answered with ERROR 5 (RFC 1350). */
  strays: number;
}

export interface TftpServer {
  address(): { address: string; port: number };
  stats(): TftpStats;
  close(): Promise<void>;
}

const BLKSIZE_MIN = 8;
const BLKSIZE_MAX = 65464;

/** A TFTP option the server refuses (ERROR 8, RFC 2347). */
export class OptionError extends Error {}

/** RFC 2347: an option the server cannot honour is left out of the OACK, not fatal. */
export function negotiate(req: TftpRequest, fileSize: number, opts: Required<Pick<TftpServerOptions, 'maxBlksize' | 'maxWindowsize' | 'timeoutMs' | 'maxTimeoutMs' | 'retries'>>): TransferParams {
  const oack = new Map<string, string>();
  let blksize = 512;
  let windowsize = 1;
  let timeoutMs = opts.timeoutMs;
  const int = (name: string): number | undefined => {
    const raw = req.options.get(name);
    if (raw === undefined) return undefined;
    if (!/^\d{1,10}$/.test(raw)) throw new OptionError(`${name} "${raw}" is not a number`);
    return Number(raw);
  };
  const b = int('blksize');
  if (b !== undefined) {
    if (b < BLKSIZE_MIN || b > BLKSIZE_MAX) throw new OptionError(`blksize ${b} is outside ${BLKSIZE_MIN}-${BLKSIZE_MAX}`);
    blksize = Math.min(b, opts.maxBlksize);
    oack.set('blksize', String(blksize));
  }
  const t = int('timeout');
  if (t !== undefined) {
    if (t < 1 || t > 255) throw new OptionError(`timeout ${t} is outside 1-255`);
    timeoutMs = t * 1000;
    oack.set('timeout', String(t));
  }
  if (int('tsize') !== undefined) oack.set('tsize', String(fileSize));
  const w = int('windowsize');
  if (w !== undefined) {
    if (w < 1 || w > 65535) throw new OptionError(`windowsize ${w} is outside 1-65535`);
    windowsize = Math.min(w, opts.maxWindowsize);
    oack.set('windowsize', String(windowsize));
  }
  return { blksize, windowsize, timeoutMs, maxTimeoutMs: Math.max(opts.maxTimeoutMs, timeoutMs), retries: opts.retries, oack };
}

export async function createTftpServer(options: TftpServerOptions): Promise<TftpServer> {
  const address = options.address ?? '0.0.0.0';
  const maxTransfers = options.maxTransfers ?? 4096;
  const limits = {
    maxBlksize: options.maxBlksize ?? BLKSIZE_MAX,
    maxWindowsize: options.maxWindowsize ?? 64,
    timeoutMs: options.timeoutMs ?? 1000,
    maxTimeoutMs: options.maxTimeoutMs ?? 8000,
    retries: options.retries ?? 5,
  };
  const { policy, ignored } = await tftpRootPolicy(options.root, options.linkTargetDirs ?? IPXE_LINK_TARGET_DIRS);
  for (const link of ignored) log.warn({ root: policy.root, ...link }, 'tftp root link serves nothing');
  const cache = new FileCache(options.cacheFileBytes);
  const stats: TftpStats = { active: 0, started: 0, completed: 0, failed: 0, refused: 0, busy: 0, retransmits: 0, bytesSent: 0, strays: 0 };
  const running = new Set<Promise<unknown>>();
  const peers = new Set<string>();
  const closing = new AbortController();
  // Every transfer listens for shutdown; hundreds at once are normal, not a leak.
  setMaxListeners(0, closing.signal);

  const serve = async (local: string, refuse: Refuse, req: TftpRequest, rinfo: RemoteInfo): Promise<void> => {
    let path: string;
    try {
      path = await resolveInRoot(policy, req.filename);
    } catch (err) {
      const e = err as TftpPathError;
      log.info({ file: req.filename, client: rinfo.address, reason: e.message }, 'tftp request refused');
      refuse(e.kind === 'not-found' ? TftpErrorCode.FileNotFound : TftpErrorCode.AccessViolation, e.message);
      return;
    }
    const source = await cache.open(path, req.mode === 'netascii');
    let params: TransferParams;
    try {
      params = negotiate(req, source.size, limits);
    } catch (err) {
      await source.close();
      refuse(TftpErrorCode.OptionRefused, (err as Error).message);
      return;
    }
    stats.started++;
    const outcome = await runTransfer(local, { address: rinfo.address, port: rinfo.port }, source, params, closing.signal, {
      onStray: (from) => {
        stats.strays++;
        log.info({ file: req.filename, client: rinfo.address, from }, 'tftp packet from an unknown transfer ID answered with ERROR 5');
      },
    });
    stats.retransmits += outcome.retransmits;
    options.onTransfer?.({ client: rinfo.address, file: req.filename, ok: outcome.ok, bytes: outcome.ok ? outcome.bytes : 0, ...(outcome.ok ? {} : { reason: outcome.reason }) });
    if (outcome.ok) {
      stats.completed++;
      stats.bytesSent += outcome.bytes;
    } else {
      stats.failed++;
      log.warn({ file: req.filename, client: rinfo.address, reason: outcome.reason }, 'tftp transfer failed');
    }
  };

  const onRequest = (sock: Socket, local: string, msg: Buffer, rinfo: RemoteInfo): void => {
    const refuse: Refuse = (code, message) => {
      stats.refused++;
      sock.send(encodeError(code, message), rinfo.port, rinfo.address);
    };
    let pkt;
    try {
      pkt = decodeTftp(msg);
    } catch (err) {
      refuse(TftpErrorCode.IllegalOperation, (err as Error).message);
      return;
    }
    if (pkt.op === TftpOp.WRQ) {
      refuse(TftpErrorCode.AccessViolation, 'this server is read-only');
      return;
    }
    if (pkt.op === TftpOp.ERROR) return; // an ERROR is never answered (RFC 1350), so nothing can loop
    if (pkt.op !== TftpOp.RRQ) {
      // DATA/ACK/OACK on the well-known port belong to no transfer: not a TID we gave out.
      stats.strays++;
      sock.send(encodeError(TftpErrorCode.UnknownTid, 'unknown transfer ID'), rinfo.port, rinfo.address);
      return;
    }
    if (pkt.mode !== 'octet' && pkt.mode !== 'netascii') {
      refuse(TftpErrorCode.IllegalOperation, `transfer mode "${pkt.mode}" is not supported`);
      return;
    }
    // A client that saw no answer in time resends its RRQ from the same port. A second
    // transfer would race the first and be orphaned once the client picks one TID.
    const peerKey = `${rinfo.address}:${rinfo.port}`;
    if (peers.has(peerKey)) return;
    if (stats.active >= maxTransfers) {
      stats.busy++;
      refuse(TftpErrorCode.NotDefined, `server busy: ${maxTransfers} transfers in progress`);
      return;
    }
    stats.active++;
    peers.add(peerKey);
    const job = serve(local, refuse, pkt, rinfo)
      .catch((err: unknown) => {
        stats.failed++;
        log.error({ err, file: pkt.filename }, 'tftp request failed');
        refuse(TftpErrorCode.NotDefined, 'internal error');
      })
      .finally(() => {
        stats.active--;
        peers.delete(peerKey);
        running.delete(job);
      });
    running.add(job);
  };

  const sockets: Socket[] = [];
  let port = options.port ?? 69;
  try {
    for (const local of listenAddresses(address)) {
      // A rack powering on sends hundreds of RRQs in one burst; the default buffer drops some,
      // and each drop costs the client a full retransmission timeout.
      const sock: Socket = createSocket({ type: 'udp4', reuseAddr: false, recvBufferSize: 4 * 2 ** 20 });
      sock.on('message', (msg, rinfo) => onRequest(sock, local, msg, rinfo));
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(port, local, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      sock.on('error', (err) => log.error({ err, address: local }, 'tftp socket error'));
      sockets.push(sock);
      // Port 0: every address shares the port the first one was given.
      port = sock.address().port;
    }
  } catch (err) {
    for (const sock of sockets) sock.close();
    throw err;
  }
  log.info({ address, addresses: sockets.map((s) => s.address().address), port, root: policy.root, linkedFiles: [...policy.linkedFiles] }, 'tftp server listening');

  return {
    address: () => ({ address, port }),
    stats: () => ({ ...stats }),
    close: async () => {
      closing.abort();
      await Promise.all(sockets.map((sock) => new Promise<void>((resolve) => sock.close(() => resolve()))));
      await Promise.allSettled([...running]);
    },
  };
}

type Refuse = (code: TftpErrorCode, message: string) => void;

/** The addresses to listen on: the one given, or for the wildcard every local IPv4 address. */
function listenAddresses(address: string): string[] {
  if (address !== '0.0.0.0') return [address];
  const all = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((i) => i.family === 'IPv4').map((i) => i.address));
  if (all.length === 0) throw new Error('tftp address 0.0.0.0: this host has no IPv4 address to serve on');
  return [...new Set(all)];
}
