/**
 * One read transfer on its own ephemeral socket (its TID, RFC 1350). Sends a window of
 * blocks (RFC 7440; window 1 is classic lock-step), advances only on an ACK that moves the
 * window, and resends only on timeout, with the timeout doubling per attempt. A duplicate
 * ACK never triggers a resend: that is what breaks the Sorcerer's Apprentice cascade.
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

export type TransferOutcome = { ok: true; bytes: number; retransmits: number } | { ok: false; reason: string; retransmits: number };

export function runTransfer(bindAddress: string, peer: TransferPeer, source: FileSource, params: TransferParams, signal?: AbortSignal): Promise<TransferOutcome> {
  return new Promise((resolve) => {
    const sock: Socket = createSocket('udp4');
    const lastBlock = Math.floor(source.size / params.blksize) + 1;
    // Absolute block numbers; the wire carries them modulo 2^16 (rolling over to 0).
    let base = params.oack.size > 0 ? 0 : 1;
    let timer: NodeJS.Timeout | undefined;
    let attempt = 0;
    let retransmits = 0;
    let finished = false;
    let sending = false;

    const finish = (outcome: TransferOutcome): void => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      sock.close();
      void source.close();
      resolve(outcome);
    };

    const send = (buf: Buffer | Buffer[]): void => {
      sock.send(buf, peer.port, peer.address, (err) => { if (err) finish({ ok: false, reason: `send failed: ${err.message}`, retransmits }); });
    };

    const arm = (): void => {
      if (timer) clearTimeout(timer);
      const wait = Math.min(params.timeoutMs * 2 ** attempt, params.maxTimeoutMs);
      timer = setTimeout(() => {
        if (attempt >= params.retries) {
          finish({ ok: false, reason: `no ACK after ${params.retries} retransmissions`, retransmits });
          return;
        }
        attempt++;
        retransmits++;
        void sendWindow();
      }, wait);
    };

    const sendWindow = async (): Promise<void> => {
      if (finished || sending) return;
      if (base === 0) {
        send(encodeOack(params.oack));
        arm();
        return;
      }
      sending = true;
      const last = Math.min(base + params.windowsize - 1, lastBlock);
      try {
        for (let block = base; block <= last; block++) {
          const data = await source.read((block - 1) * params.blksize, params.blksize);
          if (finished) return;
          send([dataHeader(block), data]);
        }
      } catch (err) {
        send(encodeError(TftpErrorCode.NotDefined, 'read error'));
        finish({ ok: false, reason: `read failed: ${(err as Error).message}`, retransmits });
        return;
      } finally {
        sending = false;
      }
      arm();
    };

    sock.on('message', (msg, rinfo) => {
      if (rinfo.address !== peer.address || rinfo.port !== peer.port) {
        sock.send(encodeError(TftpErrorCode.UnknownTid, 'unknown transfer ID'), rinfo.port, rinfo.address);
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
      if (pkt.op !== TftpOp.ACK) {
        send(encodeError(TftpErrorCode.IllegalOperation, 'only ACK is expected on a read transfer'));
        finish({ ok: false, reason: `unexpected opcode ${pkt.op}`, retransmits });
        return;
      }
      // Map the 16-bit ACK to the absolute block in [base - 1, base + windowsize - 1].
      const acked = base - 1 + ((pkt.block - ((base - 1) & 0xffff) + 0x10000) & 0xffff);
      if (acked < base || acked > Math.min(base + params.windowsize - 1, lastBlock)) return; // stale or duplicate
      if (acked === lastBlock) {
        finish({ ok: true, bytes: source.size, retransmits });
        return;
      }
      base = acked + 1;
      attempt = 0;
      void sendWindow();
    });
    const onAbort = (): void => finish({ ok: false, reason: 'server closing', retransmits });
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => finish({ ok: false, reason: `socket error: ${err.message}`, retransmits }));
    sock.bind(0, bindAddress, () => { void sendWindow(); });
  });
}
