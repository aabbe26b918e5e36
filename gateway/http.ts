/**
 * The gateway's local HTTP entry: /graphql (API and, for browsers, the offline IDE),
 * /health, and the IDE's assets. Lambda uses gateway/lambda.ts instead; both run the same
 * Apollo server and the same context builder.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { buildContext, type GatewayContext } from './context.js';
import type { TokenVerifier } from './auth/verifier.js';
import type { Invoker } from './invoker.js';
import { ideAsset, ideHtml } from './ide.js';
import { LIMITS } from './server.js';

export interface HttpEntryOptions {
  apollo: ApolloServer<GatewayContext>;
  verify: TokenVerifier;
  invoker: Invoker;
  /** /health answers 503 until this returns true. */
  ready?: () => boolean;
  ide?: boolean;
}

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) return reject(new BodyTooLargeError());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLargeError());
        return;
      }
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function createGatewayHttpServer(opts: HttpEntryOptions): Server {
  return createServer((req, res) => {
    handle(opts, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, JSON.stringify({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      else res.destroy(err as Error);
    });
  });
}

async function handle(opts: HttpEntryOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/health') {
    const ok = opts.ready?.() ?? true;
    return send(res, ok ? 200 : 503, JSON.stringify({ status: ok ? 'ok' : 'starting' }));
  }
  if (url.pathname.startsWith('/ide/assets/') && opts.ide) {
    const asset = ideAsset(url.pathname.slice('/ide/assets/'.length));
    return asset ? send(res, 200, asset.body, asset.type) : send(res, 404, '{}');
  }
  if (url.pathname !== '/graphql') return send(res, 404, JSON.stringify({ error: 'not found' }));
  if (req.method === 'GET' && opts.ide && !url.search && (req.headers.accept ?? '').includes('text/html')) {
    return send(res, 200, ideHtml('/graphql'), 'text/html; charset=utf-8');
  }
  let raw = '';
  if (req.method === 'POST') {
    try {
      raw = await readBody(req, LIMITS.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        // Answer at once and close: the rest of the body is read into nothing, never stored.
        res.setHeader('connection', 'close');
        req.resume();
        return send(res, 413, JSON.stringify({ errors: [{ message: `request body exceeds ${LIMITS.maxBodyBytes} bytes`, extensions: { code: 'BAD_REQUEST' } }] }));
      }
      throw err;
    }
  }
  const headers = new HeaderMap();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  let body: unknown = raw;
  if (raw && (headers.get('content-type') ?? '').includes('application/json')) {
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, JSON.stringify({ errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] }));
    }
  }
  const requestId = randomUUID();
  const result = await opts.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
    context: () => buildContext(opts.verify, opts.invoker, headers.get('authorization'), requestId),
  });
  const outHeaders: Record<string, string> = { 'x-request-id': requestId };
  for (const [k, v] of result.headers) outHeaders[k] = v;
  res.writeHead(result.status ?? 200, outHeaders);
  if (result.body.kind === 'complete') {
    res.end(result.body.string);
  } else {
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }
}
