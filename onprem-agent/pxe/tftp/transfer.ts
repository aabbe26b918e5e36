/**
 * One read transfer on its own ephemeral socket (its TID, RFC 1350), bound to the address the
 * client sent its request to, so every packet of the transfer comes from the address the
 * client knows. Sends a window of blocks (RFC 7440; window 1 is classic lock-step), advances
 * only on an ACK that moves the window, and resends only on timeout, with the timeout
 * doubling per attempt. A duplicate ACK never triggers a resend: that is what breaks the
 * Sorcerer's Apprentice cascade.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { FileSource } from './fileSource.js';
import { dataHeader, decodeTftp, encodeError, encodeOack, TftpErrorCode, TftpOp } from './packet.js';

export interface TransferParams {
  blksize: number;
  windowsize: number;
  /** First retransmission timeout; doubles on each retry up to `maxTimeoutMs`. */
  timeoutMs: number;
  maxTimeoutMs: number;
  retries: number;
  /** Options to acknowledge with an OACK; empty means the client asked for none. */
  oack: Map<string, string>;
}

export interface TransferPeer {
  address: string;
  port: number;
}

type TransferEnd = { ok: true; bytes: number; retransmits: number } | { ok: false; reason: string; retransmits: number };
/** How a transfer ended, and how many packets of other TIDs it answered with ERROR 5. */
export type TransferOutcome = TransferEnd & { strays: number };

/** What a transfer reports while it runs, before its outcome. */
export interface TransferEvents {
  /** A packet from another address or port reached this transfer's socket (answered ERROR 5). */
  onStray?(from: TransferPeer): void;
}

export function runTransfer(bindAddress: string, peer: TransferPeer, source: FileSource, params: TransferParams, signal?: AbortSignal, events: TransferEvents = {}): Promise<TransferOutcome> {
  return new Promise((resolveOutcome) => {
    const sock: Socket = createSocket('udp4');
    let strays = 0;
    const resolve = (end: TransferEnd): void => resolveOutcome({ ...end, strays });
    const lastBlock = Math.floor(source.size / params.blksize) + 1;
    // Absolute block numbers; the wire carries them modulo 2^16 (rolling over to 0).
    let base = params.oack.size > 0 ? 0 : 1;
    let timer: NodeJS.Timeout | undefined;
    let attempt = 0;
    let retransmits = 0;
    let finished = false;
    let sending = false;

    const finish = (outcome: TransferEnd): void => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      sock.close();
      void source.close();
      resolve(outcome);
    };

    // Not connected: a connected socket never sees another source's packets (the kernel
    // answers them with ICMP), and RFC 1350 wants those answered with ERROR 5 instead.
    // Send errors surface as 'error'.
    const send = (buf: Buffer | Buffer[]): void => {
      sock.send(buf, peer.port, peer.address);
    };

    let armedWait = 0;
    const onTimeout = (): void => {
      if (attempt >= params.retries) {
        finish({ ok: false, reason: `no ACK after ${params.retries} retransmissions`, retransmits });
        return;
      }
      attempt++;
      retransmits++;
      sendWindow();
    };
    const arm = (): void => {
      const wait = Math.min(params.timeoutMs * 2 ** attempt, params.maxTimeoutMs);
      // Re-arming on every window is the hot path: refresh the timer rather than replace it.
      if (timer && wait === armedWait) timer.refresh();
      else {
        if (timer) clearTimeout(timer);
        timer = setTimeout(onTimeout, wait);
        armedWait = wait;
      }
    };

    const fail = (err: unknown): void => {
      send(encodeError(TftpErrorCode.NotDefined, 'read error'));
      finish({ ok: false, reason: `read failed: ${(err as Error).message}`, retransmits });
    };

    /** Sends blocks `from`..`last`; synchronous when the file is in memory. */
    const sendBlocks = (from: number, last: number): void => {
      for (let block = from; block <= last; block++) {
        let data: Buffer | Promise<Buffer>;
        try {
          data = source.read((block - 1) * params.blksize, params.blksize);
        } catch (err) {
          fail(err);
          return;
        }
        if (data instanceof Promise) {
          sending = true;
          data.then((d) => {
            sending = false;
            if (finished) return;
            send([dataHeader(block), d]);
            if (block < last) sendBlocks(block + 1, last);
            else arm();
          }, (err: unknown) => { sending = false; fail(err); });
          return;
        }
        send([dataHeader(block), data]);
      }
      arm();
    };

    const sendWindow = (): void => {
      if (finished || sending) return;
      if (base === 0) {
        send(encodeOack(params.oack));
        arm();
        return;
      }
      sendBlocks(base, Math.min(base + params.windowsize - 1, lastBlock));
    };

    sock.on('message', (msg, rinfo) => {
      if (rinfo.port !== peer.port || rinfo.address !== peer.address) {
        // RFC 1350: not this transfer's TID. Answer the sender, leave the transfer alone; an
        // ERROR is never answered, so two servers cannot ping-pong.
        strays++;
        events.onStray?.({ address: rinfo.address, port: rinfo.port });
        if (!(msg.length >= 2 && msg[0] === 0 && msg[1] === TftpOp.ERROR)) sock.send(encodeError(TftpErrorCode.UnknownTid, 'unknown transfer ID'), rinfo.port, rinfo.address);
        return;
      }
      // Fast path: an ACK is 4 bytes and is nearly every packet a transfer receives.
      if (msg.length >= 4 && msg[0] === 0 && msg[1] === TftpOp.ACK) {
        onAck(msg.readUInt16BE(2));
        return;
      }
      let pkt;
      try {
        pkt = decodeTftp(msg);
      } catch {
        return;
      }
      if (pkt.op === TftpOp.ERROR) {
        finish({ ok: false, reason: `client error ${pkt.code}: ${pkt.message}`, retransmits });
        return;
      }
      send(encodeError(TftpErrorCode.IllegalOperation, 'only ACK is expected on a read transfer'));
      finish({ ok: false, reason: `unexpected opcode ${pkt.op}`, retransmits });
    });

    const onAck = (block: number): void => {
      // Map the 16-bit ACK to the absolute block in [base - 1, base + windowsize - 1].
      const acked = base - 1 + ((block - ((base - 1) & 0xffff) + 0x10000) & 0xffff);
      if (acked < base || acked > Math.min(base + params.windowsize - 1, lastBlock)) return; // stale or duplicate
      if (acked === lastBlock) {
        finish({ ok: true, bytes: source.size, retransmits });
        return;
      }
      base = acked + 1;
      attempt = 0;
      sendWindow();
    };
    const onAbort = (): void => finish({ ok: false, reason: 'server closing', retransmits });
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => finish({ ok: false, reason: `socket error: ${err.message}`, retransmits }));
    // Exclusive: in a TFTP worker (tftpProcess.ts) a plain bind would be node:cluster's shared
    // socket, one for every transfer of every worker; each transfer needs its own port (TID).
    sock.bind({ port: 0, address: bindAddress, exclusive: true }, () => sendWindow());
  });
}
