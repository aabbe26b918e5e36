/**
 * HTTP requests from a chosen source address, as a node on the site LAN makes them: the client
 * socket binds `from` (any 127.x.y.z works on Linux, which routes all of 127/8 to lo), so the
 * agent sees that address as the TCP peer. fetch() cannot choose its source address. The
 * simulated OS boots through it, and tests use it to ask as a node.
 */
import { request } from 'node:http';

export interface ResponseFrom {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text(): string;
}

export function httpFrom(from: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean; timeoutMs?: number } = {}): Promise<ResponseFrom> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, localAddress: from, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: () => body.toString('utf8') });
      });
    });
    req.on('error', reject);
    if (init.timeoutMs) req.setTimeout(init.timeoutMs, () => req.destroy(new Error(`${init.method ?? 'GET'} ${url} from ${from}: no answer within ${init.timeoutMs} ms`)));
    if (!init.chunked || init.body === undefined) return void req.end(init.body);
    // Written in pieces, so Node sends Transfer-Encoding: chunked and no Content-Length.
    const b = Buffer.from(init.body);
    for (let i = 0; i < b.length; i += 16 * 1024) req.write(b.subarray(i, i + 16 * 1024));
    req.end();
  });
}
