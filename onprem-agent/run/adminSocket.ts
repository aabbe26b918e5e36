/**
 * How one-shot commands talk to a running agent instead of touching its files: HTTP over the
 * unix socket `<dataDir>/agent.sock` (mode 0600: only the agent's user, never the site LAN).
 * - `GET /status`: the agent's status;
 * - `POST /observations` `{ kind, idempotencyKey, payload }`: enqueued in the agent's outbox
 *   (202; 503 when the outbox is full, 413 when the entry is larger than a request may carry);
 * - `GET /observations/<key>`: where that entry is (pending, delivered, parked with its reason).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_REQUEST_BODY_BYTES } from '../../schema/requestLimits.js';
import { log } from '../logger.js';
import type { Outbox } from '../outbox/outbox.js';

export const SOCKET_FILE = 'agent.sock';
/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export const adminSocketPath = (dataDir: string): string => join(dataDir, SOCKET_FILE);

export class AgentUnreachableError extends Error {}

export interface AdminSocketOptions {
  dataDir: string;
  outbox: Pick<Outbox, 'enqueue' | 'whereIs' | 'depth'>;
  status: () => Promise<unknown>;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_REQUEST_BODY_BYTES) throw Object.assign(new Error(`body larger than ${MAX_REQUEST_BODY_BYTES} bytes`), { httpStatus: 413 });
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/**
 * Listens on the data dir's socket; the caller holds the data dir lock, so a socket file left
 * by a crashed agent is removed first. Returns null (and says why) when the path is too long.
 */
export async function startAdminSocket(opts: AdminSocketOptions): Promise<{ path: string; close(): Promise<void> } | null> {
  const path = adminSocketPath(opts.dataDir);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    log.warn({ path, maxBytes: MAX_SOCKET_PATH }, 'admin socket path too long for a unix socket; one-shot commands cannot reach this agent (use a shorter --data-dir)');
    return null;
  }
  await rm(path, { force: true });
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://agent');
        if (req.method === 'GET' && url.pathname === '/status') return reply(res, 200, await opts.status());
        if (req.method === 'POST' && url.pathname === '/observations') {
          const b = (await body(req)) as { kind?: unknown; idempotencyKey?: unknown; payload?: unknown };
          if (typeof b.kind !== 'string' || typeof b.idempotencyKey !== 'string') return reply(res, 400, { error: 'body: give { kind, idempotencyKey, payload }' });
          await opts.outbox.enqueue(b.kind, b.payload, b.idempotencyKey);
          return reply(res, 202, { queued: true, depth: opts.outbox.depth });
        }
        const m = /^\/observations\/([\w.:-]{1,128})$/.exec(url.pathname);
        if (req.method === 'GET' && m) return reply(res, 200, opts.outbox.whereIs(m[1]!));
        return reply(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
      } catch (err) {
        const status = (err as { httpStatus?: number }).httpStatus ?? (err instanceof SyntaxError || /idempotency key/.test((err as Error).message) ? 400 : 500);
        if (status >= 500) log.error({ url: req.url, err: (err as Error).message }, 'admin request failed');
        return reply(res, status, { error: (err as Error).message });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return {
    path,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      await rm(path, { force: true });
    },
  };
}

/** One request to the agent on `socket`; the answer's status and JSON body. */
export function agentRequest(socket: string, method: 'GET' | 'POST', path: string, value?: unknown, timeoutMs = 30_000): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = value === undefined ? undefined : Buffer.from(JSON.stringify(value));
    const req = request({ socketPath: socket, method, path, timeout: timeoutMs, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: { error: text } });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new AgentUnreachableError(`agent socket ${socket}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
    req.end(data);
  });
}
