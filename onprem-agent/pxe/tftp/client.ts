/**
 * A small TFTP read client with RFC 2347-2349 and 7440 options. The agent uses it for
 * self-checks; tests and `bench/pxe` use it to drive servers with options that stock
 * clients (tftp-hpa has no blksize or windowsize) cannot send.
 */
import { createSocket } from 'node:dgram';
import { decodeTftp, encodeAck, encodeRequest, TftpOp, type TftpPacket } from './packet.js';

export interface TftpGetOptions {
  blksize?: number;
  windowsize?: number;
  tsize?: boolean;
  /** Per-packet wait before re-ACKing; the whole get fails after `retries` silent waits. */
  timeoutMs?: number;
  retries?: number;
  /** Hard limit for the whole get, so a livelocked transfer cannot hang the caller. */
  deadlineMs?: number;
  /** Source address (a simulated node's own 127.x.y.z); default: any. */
  localAddress?: string;
}

export interface TftpGetResult {
  data: Buffer;
  /** What the server's OACK granted, if it sent one. */
  oack: Map<string, string> | undefined;
  /** The server's transfer port (its TID): never the port the request went to. */
  serverPort: number;
}

export class TftpRemoteError extends Error {
  constructor(readonly code: number, message: string) {
    super(`TFTP error ${code}: ${message}`);
  }
}

export function tftpGet(host: string, port: number, file: string, opts: TftpGetOptions = {}): Promise<TftpGetResult> {
  const options = new Map<string, string>();
  if (opts.blksize) options.set('blksize', String(opts.blksize));
  if (opts.tsize) options.set('tsize', '0');
  if (opts.windowsize) options.set('windowsize', String(opts.windowsize));
  const timeoutMs = opts.timeoutMs ?? 2000;
  const retries = opts.retries ?? 5;
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const chunks: Buffer[] = [];
    let blksize = 512;
    let windowsize = 1;
    let expected = 1;
    let inWindow = 0;
    let oack: Map<string, string> | undefined;
    let tid: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    let silent = 0;
    let lastSent = encodeRequest(TftpOp.RRQ, file, 'octet', options);
    let lastDest = port;

    let closed = false;
    const done = (err: Error | undefined, result?: TftpGetResult): void => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(result!);
    };
    const send = (buf: Buffer, to: number): void => {
      lastSent = buf;
      lastDest = to;
      sock.send(buf, to, host);
      arm();
    };
    const onSilence = (): void => {
      if (++silent > retries) return done(new Error(`TFTP get ${file}: no answer after ${retries} retries`));
      sock.send(lastSent, lastDest, host);
      arm();
    };
    // Armed once per packet: refreshing one timer is far cheaper than replacing it.
    const arm = (): void => {
      if (timer) timer.refresh();
      else timer = setTimeout(onSilence, timeoutMs);
    };

    sock.on('message', (msg, rinfo) => {
      if (tid === undefined) tid = rinfo.port;
      if (rinfo.port !== tid) return;
      let pkt: TftpPacket;
      // DATA is nearly every packet of a get; skip the general decoder for it.
      if (msg.length >= 4 && msg[0] === 0 && msg[1] === TftpOp.DATA) pkt = { op: TftpOp.DATA, block: msg.readUInt16BE(2), data: msg.subarray(4) };
      else {
        try {
          pkt = decodeTftp(msg);
        } catch (err) {
          return done(err as Error);
        }
      }
      silent = 0;
      if (pkt.op === TftpOp.ERROR) return done(new TftpRemoteError(pkt.code, pkt.message));
      if (pkt.op === TftpOp.OACK) {
        oack = pkt.options;
        blksize = Number(oack.get('blksize') ?? 512);
        windowsize = Number(oack.get('windowsize') ?? 1);
        return send(encodeAck(0), tid);
      }
      if (pkt.op !== TftpOp.DATA) return;
      if (pkt.block !== (expected & 0xffff)) {
        // Out of order or a resend of old data: ACK what we have so the server restarts there.
        inWindow = 0;
        return send(encodeAck(expected - 1), tid);
      }
      chunks.push(pkt.data);
      expected++;
      inWindow++;
      const last = pkt.data.length < blksize;
      if (last) {
        if (timer) clearTimeout(timer);
        // Close only once the final ACK is out, or the server keeps resending the last block.
        const result = { data: Buffer.concat(chunks), oack, serverPort: tid };
        sock.send(encodeAck(pkt.block), tid, host, () => done(undefined, result));
        return;
      }
      if (inWindow >= windowsize) {
        inWindow = 0;
        send(encodeAck(pkt.block), tid);
      } else arm();
    });
    const deadline = setTimeout(() => done(new Error(`TFTP get ${file}: not finished within ${opts.deadlineMs ?? 120000} ms`)), opts.deadlineMs ?? 120000);
    sock.on('error', (err) => done(err));
    sock.on('close', () => clearTimeout(deadline));
    sock.bind({ port: 0, ...(opts.localAddress ? { address: opts.localAddress } : {}) }, () => send(lastSent, port));
  });
}
