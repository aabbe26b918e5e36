/**
 * HTTP(S) to one BMC: a kept-alive agent with at most two sockets (BMCs are small computers and
 * fall over under parallel load), a per-request deadline, and the TLS policy applied before any
 * byte of a request (credentials included) leaves the agent.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { RequestOptions } from 'node:https';
import type { PinStore } from './pins.js';

export interface BmcAddress {
  host: string;
  port: number;
  scheme: 'http' | 'https';
}

export type TlsPolicy =
  | { mode: 'insecure' }
  | { mode: 'ca'; ca: string }
  | { mode: 'pin'; pins: PinStore };

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export const MAX_SOCKETS_PER_BMC = 2;
/**
 * The largest answer read from a BMC. Real resources are a few KiB (a $expand of a big
 * collection a few hundred); a BMC that streams without end must not fill the agent's memory.
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export function bmcKey(a: Pick<BmcAddress, 'host' | 'port'>): string {
  return `${a.host}:${a.port}`;
}

export class RequestTimeoutError extends Error {
  constructor(readonly bmc: string, method: string, path: string, timeoutMs: number) {
    super(`${method} ${path} on ${bmc} got no answer within ${timeoutMs / 1000}s`);
    this.name = 'RequestTimeoutError';
  }
}

export class ResponseTooLargeError extends Error {
  constructor(readonly bmc: string, method: string, path: string, limit: number) {
    super(`${method} ${path} on ${bmc} answered more than ${limit} bytes; the answer was dropped`);
    this.name = 'ResponseTooLargeError';
  }
}

/** Fingerprint in the colon-separated upper-case form `openssl x509 -fingerprint -sha256` prints. */
export function certificateFingerprint(socket: TLSSocket): string {
  return socket.getPeerCertificate().fingerprint256 ?? '';
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

/** Checks the pin once the handshake is done and before the HTTP layer can write to the socket. */
class PinningAgent extends HttpsAgent {
  constructor(private readonly key: string, private readonly pins: PinStore, keepAlive: boolean) {
    super({ keepAlive, maxSockets: MAX_SOCKETS_PER_BMC, rejectUnauthorized: false });
  }

  override createConnection(options: RequestOptions, callback?: ConnectCallback): undefined {
    const socket = tlsConnect({ host: options.host ?? undefined, port: Number(options.port), rejectUnauthorized: false });
    const onError = (err: Error): void => callback?.(err, socket);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      try {
        this.pins.check(this.key, certificateFingerprint(socket));
        callback?.(null, socket);
      } catch (err) {
        socket.destroy();
        callback?.(err as Error, socket);
      }
    });
    return undefined;
  }
}

/** Reads, which may be repeated, reuse kept-alive connections; see BmcTransport.request. */
const REUSES_CONNECTIONS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class BmcTransport {
  readonly key: string;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly writeAgent: HttpAgent | HttpsAgent;

  constructor(readonly address: BmcAddress, tls: TlsPolicy | undefined, private readonly timeoutMs: number) {
    this.key = bmcKey(address);
    const make = (keepAlive: boolean): HttpAgent | HttpsAgent => {
      if (address.scheme === 'http') return new HttpAgent({ keepAlive, maxSockets: MAX_SOCKETS_PER_BMC });
      if (!tls || tls.mode === 'pin') {
        if (!tls) throw new Error(`BMC ${this.key} uses HTTPS but no TLS policy was given`);
        return new PinningAgent(this.key, tls.pins, keepAlive);
      }
      if (tls.mode === 'ca') return new HttpsAgent({ keepAlive, maxSockets: MAX_SOCKETS_PER_BMC, ca: tls.ca, rejectUnauthorized: true });
      return new HttpsAgent({ keepAlive, maxSockets: MAX_SOCKETS_PER_BMC, rejectUnauthorized: false });
    };
    this.agent = make(true);
    this.writeAgent = make(false);
  }

  /**
   * Writes (POST actions, PATCH, session creation) go on a fresh connection: on a kept-alive one
   * the BMC may have closed meanwhile, the write fails with ECONNRESET before the BMC saw it,
   * indistinguishable from a BMC that acted and then dropped the connection. Since a write is
   * never resent blindly, that race would turn into a false "outcome unknown".
   */
  request(method: string, path: string, headers: OutgoingHttpHeaders, body?: string): Promise<HttpResult> {
    const send = this.address.scheme === 'https' ? httpsRequest : httpRequest;
    const agent = REUSES_CONNECTIONS.has(method) ? this.agent : this.writeAgent;
    return new Promise((resolve, reject) => {
      const req = send({
        host: this.address.host, port: this.address.port, method, path, agent,
        headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}), ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received > MAX_RESPONSE_BYTES) {
            res.destroy(new ResponseTooLargeError(this.key, method, path, MAX_RESPONSE_BYTES));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      const timer = setTimeout(() => req.destroy(new RequestTimeoutError(this.key, method, path, this.timeoutMs)), this.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
    this.writeAgent.destroy();
  }
}
