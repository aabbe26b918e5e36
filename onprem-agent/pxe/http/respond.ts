/** Small response helpers every route of the agent's HTTP server shares. */
import type { ServerResponse } from 'node:http';

/** A request the server answers with `status` and `message` as the plain-text body. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value) + '\n', 'application/json');
}

/** One URL path segment, percent-decoded; a malformed escape is the client's error. */
export function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, `"${s.slice(0, 64)}" is not a valid URL path segment`);
  }
}
