/**
 * The gateway's local HTTP entry: /graphql (API and, for browsers, the offline IDE),
 * /health, the IDE's assets and the web console (/console/). Lambda uses gateway/lambda.ts instead; both run the same
 * Apollo server and the same context builder.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { buildContext, type GatewayContext } from './context.js';
import type { TokenVerifier } from './auth/verifier.js';
import type { Invoker } from './invoker.js';
import { ideAsset, ideHtml } from './ide.js';
import { CONSOLE_PATH, type ConsoleSite } from './console.js';
import { LIMITS } from './server.js';
import { jsonBytes, LAMBDA_REQUEST_LIMIT_BYTES, LAMBDA_RESPONSE_LIMIT_BYTES } from './payloadLimits.js';

export interface HttpEntryOptions {
  apollo: ApolloServer<GatewayContext>;
  verify: TokenVerifier;
  invoker: Invoker;
  /** /health answers 503 until this returns true. */
  ready?: () => boolean;
  ide?: boolean;
  /** The web console at /console/ (gateway/console.ts). */
  console?: ConsoleSite;
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
  if (opts.console && (url.pathname === '/console' || url.pathname.startsWith(CONSOLE_PATH))) {
    if (url.pathname === '/console') {
      res.writeHead(308, { location: CONSOLE_PATH + url.search, 'content-length': 0 });
      return void res.end();
    }
    const file = opts.console.file(url.pathname);
    res.writeHead(file.status, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': file.cacheControl });
    return void res.end(file.body);
  }
  if (url.pathname !== '/graphql') return send(res, 404, JSON.stringify({ error: 'not found' }));
  if (req.method === 'GET' && opts.ide && !url.search && (req.headers.accept ?? '').includes('text/html')) {
    return send(res, 200, ideHtml('/graphql', opts.console ? { loginUrl: `${CONSOLE_PATH}?next=/graphql` } : {}), 'text/html; charset=utf-8');
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
        return send(res, 413, JSON.stringify({ errors: [{ message: `request body exceeds ${LIMITS.maxBodyBytes} bytes (API Gateway's body limit)`, extensions: { code: 'BAD_REQUEST' } }] }));
      }
      throw err;
    }
  }
  const headers = new HeaderMap();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  // In AWS the body reaches the gateway Lambda inside an API Gateway event, which Lambda
  // refuses over its request limit: measure that event, not just the body.
  const eventBytes = jsonBytes(JSON.stringify(gatewayEvent(req.method ?? 'GET', url, Object.fromEntries(headers), raw)));
  if (eventBytes > LAMBDA_REQUEST_LIMIT_BYTES) {
    res.setHeader('connection', 'close');
    return send(res, 413, JSON.stringify({ errors: [{ message: `request exceeds Lambda's ${LAMBDA_REQUEST_LIMIT_BYTES}-byte invoke payload limit: the gateway event would be ${eventBytes} bytes`, extensions: { code: 'BAD_REQUEST', limitBytes: LAMBDA_REQUEST_LIMIT_BYTES, bytes: eventBytes } }] }));
  }
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
  let text = '';
  if (result.body.kind === 'complete') text = result.body.string;
  else for await (const chunk of result.body.asyncIterator) text += chunk;
  // The gateway Lambda's result ({statusCode, headers, body}) is bound by Lambda's response
  // limit; over it, API Gateway gets no response and answers 502.
  const responseBytes = jsonBytes(JSON.stringify({ statusCode: result.status ?? 200, headers: outHeaders, body: text }));
  if (responseBytes > LAMBDA_RESPONSE_LIMIT_BYTES) {
    return send(res, 502, JSON.stringify({ message: 'Internal Server Error', errors: [{ message: `response exceeds Lambda's ${LAMBDA_RESPONSE_LIMIT_BYTES}-byte response payload limit: the gateway result would be ${responseBytes} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE', limitBytes: LAMBDA_RESPONSE_LIMIT_BYTES, bytes: responseBytes } }] }));
  }
  res.writeHead(result.status ?? 200, outHeaders);
  res.end(text);
}

/** The API Gateway HTTP API (payload v2) event the gateway Lambda would receive for this request. */
function gatewayEvent(method: string, url: URL, headers: Record<string, string>, body: string) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: 'local-request-id-0000000000000000',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    body,
    isBase64Encoded: false,
  };
}
