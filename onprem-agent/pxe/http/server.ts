/**
 * The agent's HTTP service for booting nodes. Everything is answered from local state: the
 * stored snapshot (boot scripts, cloud-init) and the verified artifact cache. Node's http module
 * has no sendfile(2); artifacts stream from fs.createReadStream through pipeline, which keeps
 * memory flat and honours backpressure, and the kernel's page cache serves repeated reads.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { isMac, normaliseMac } from '../../../schema/mac.js';
import { isXName, normaliseXName } from '../../../schema/xname.js';
import type { SnapshotBoot, SnapshotNode } from '../../../schema/siteSnapshot.js';
import { log } from '../../logger.js';
import type { ArtifactCache } from '../../cache/artifactCache.js';
import type { ObservationSink } from '../../outbox/sink.js';
import type { SnapshotIndex } from '../../sync/snapshotStore.js';
import { archFromIpxe, bootScriptFor } from './bootScript.js';
import { parseRange } from './range.js';

export interface AgentHttpOptions {
  index: () => SnapshotIndex | null;
  cache: ArtifactCache;
  outbox: ObservationSink;
  status: () => Promise<unknown>;
  /** The URL nodes reach this server at; default: from each request's Host header. */
  advertiseUrl?: string;
  extraKernelParameters?: (xname: string, boot: SnapshotBoot) => string | undefined;
  /**
   * Where the iPXE binaries are (the TFTP root): UEFI HTTP-boot clients get
   * `/boot/v1/ipxe/<file>` as their boot file from DHCP and fetch it here.
   */
  ipxeDir?: string | null;
}

export interface HttpCounters {
  requests: number;
  bootScripts: number;
  artifacts: number;
  artifactBytes: number;
  notModified: number;
  notFound: number;
  heartbeats: number;
  errors: number;
}

const MAX_BODY = 64 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;
const OBS_KEY = /^[\w.:-]{1,128}$/;

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, `"${s.slice(0, 64)}" is not a valid URL path segment`);
  }
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) throw new HttpError(413, `body larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseObject(text: string, type: string | undefined): Record<string, unknown> {
  if (type?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: cloud-init's phone_home posts a form without always naming it
  }
  if (text.includes('=')) return Object.fromEntries(new URLSearchParams(text));
  throw new HttpError(400, 'body: expected a JSON object or a form');
}

export function createAgentHttpServer(opts: AgentHttpOptions): Server & { counters: HttpCounters } {
  const counters: HttpCounters = { requests: 0, bootScripts: 0, artifacts: 0, artifactBytes: 0, notModified: 0, notFound: 0, heartbeats: 0, errors: 0 };

  // Scripts are a pure function of (snapshot, MAC, base URL, arch, attempt): rendered once per
  // snapshot and kept until the snapshot object changes, so a boot storm costs a Map lookup.
  const rendered = new WeakMap<SnapshotIndex, Map<string, string>>();
  const MAX_RENDERED = 100_000;
  let noSnapshot = new Map<string, string>();
  const renderedFor = (index: SnapshotIndex | null): Map<string, string> => {
    if (!index) return noSnapshot.size > MAX_RENDERED ? (noSnapshot = new Map()) : noSnapshot;
    let m = rendered.get(index);
    if (!m || m.size > MAX_RENDERED) rendered.set(index, (m = new Map()));
    return m;
  };

  const baseUrl = (req: IncomingMessage) => opts.advertiseUrl ?? `http://${req.headers.host ?? '127.0.0.1'}`;

  const nodeFor = (id: string): SnapshotNode | null => {
    const index = opts.index();
    if (!index) return null;
    if (isMac(id)) return index.byMac.get(normaliseMac(id)) ?? null;
    if (isXName(id)) return index.byXname.get(normaliseXName(id)) ?? null;
    return null;
  };

  async function artifact(req: IncomingMessage, res: ServerResponse, sha: string): Promise<void> {
    if (!HEX64.test(sha)) throw new HttpError(404, 'not a sha256');
    const path = await opts.cache.verifiedPath(sha);
    if (!path) throw new HttpError(404, `artifact ${sha} is not in this agent's verified cache`);
    const size = (await stat(path)).size;
    const etag = `"sha256-${sha}"`;
    const headers: Record<string, string> = {
      etag,
      'accept-ranges': 'bytes',
      // Content-addressed: the bytes behind this URL never change.
      'cache-control': 'public, max-age=31536000, immutable',
      'content-type': 'application/octet-stream',
    };
    const inm = req.headers['if-none-match'];
    if (inm && (inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))) {
      counters.notModified++;
      res.writeHead(304, headers);
      res.end();
      return;
    }
    // If-Range with another validator: the client's partial copy is of different bytes.
    const ifRange = req.headers['if-range'];
    const range = ifRange && ifRange !== etag ? { kind: 'full' as const } : parseRange(req.headers.range, size);
    if (range.kind === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' });
      res.end();
      return;
    }
    const [start, end, status] = range.kind === 'partial' ? [range.start, range.end, 206] : [0, size - 1, 200];
    if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${size}`;
    headers['content-length'] = String(size === 0 ? 0 : end - start + 1);
    res.writeHead(status, headers);
    counters.artifacts++;
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    const stream = createReadStream(path, { start, end, highWaterMark: 1024 * 1024 });
    stream.on('data', (c) => { counters.artifactBytes += (c as Buffer).length; });
    await pipeline(stream, res).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') log.warn({ sha256: sha, err: err.message }, 'artifact stream ended early');
    });
  }

  function cloudInit(res: ServerResponse, id: string, part: string): void {
    const node = nodeFor(id);
    if (!node) throw new HttpError(404, `${id} is not a node of this site`);
    const ci = node.cloudInit;
    if (part === 'meta-data') {
      // JSON is YAML; cloud-init needs an instance-id, and the xname is the stable one.
      const md = { 'instance-id': node.xname, 'local-hostname': node.xname, ...(ci?.metaData ?? {}) };
      return send(res, 200, JSON.stringify(md) + '\n', 'text/yaml; charset=utf-8');
    }
    if (part === 'user-data') return send(res, 200, ci?.userData ?? '#cloud-config\n{}\n', 'text/plain; charset=utf-8');
    if (part === 'vendor-data') return send(res, 200, ci?.vendorData ? JSON.stringify(ci.vendorData) + '\n' : '#cloud-config\n{}\n', 'text/yaml; charset=utf-8');
    throw new HttpError(404, `no cloud-init part ${part}`);
  }

  /** Resolves the node a heartbeat names (xname or MAC) against the snapshot; unknown ones still count. */
  async function observe(kind: string, body: Record<string, unknown>, req: IncomingMessage): Promise<string> {
    const mac = typeof body.mac === 'string' && isMac(body.mac) ? normaliseMac(body.mac) : null;
    const named = typeof body.xname === 'string' && isXName(body.xname) ? normaliseXName(body.xname) : null;
    const node = (named ? opts.index()?.byXname.get(named) : null) ?? (mac ? opts.index()?.byMac.get(mac) : null) ?? null;
    const key = typeof body.idempotencyKey === 'string' && OBS_KEY.test(body.idempotencyKey) ? body.idempotencyKey : `${kind === 'heartbeat' ? 'hb' : 'ph'}-${randomUUID()}`;
    const payload = { ...body, xname: node?.xname ?? named, mac, remoteAddress: req.socket.remoteAddress ?? null, receivedAt: new Date().toISOString() };
    delete (payload as Record<string, unknown>).idempotencyKey;
    // Durable before the node hears "accepted": the outbox fsyncs the entry.
    await opts.outbox.enqueue(kind, payload, key);
    return key;
  }

  /**
   * A plain file name only (no '/', so no '..'): what the admin put in the iPXE directory,
   * symlinks included (Debian links ipxe.efi into /boot), and nothing else.
   */
  async function ipxeBinary(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (!opts.ipxeDir) throw new HttpError(404, 'no iPXE directory configured (--tftp-root)');
    const file = join(opts.ipxeDir, name);
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) throw new HttpError(404, `no iPXE binary ${name}`);
    res.writeHead(200, { 'content-type': 'application/efi', 'content-length': st.size });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(createReadStream(file), res);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const path = url.pathname;
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get && path === '/boot/v1/bootscript') {
      const raw = url.searchParams.get('mac');
      if (!raw || !isMac(raw)) throw new HttpError(400, 'mac: give the booting NIC, e.g. ?mac=${net0/mac}');
      const n = Number(url.searchParams.get('attempt') ?? '1');
      const attempt = Number.isInteger(n) && n > 0 && n < 1000 ? n : 1;
      const mac = normaliseMac(raw);
      const agentBaseUrl = baseUrl(req);
      const arch = archFromIpxe(url.searchParams.get('arch'));
      counters.bootScripts++;
      const index = opts.index();
      const memo = renderedFor(index);
      const key = `${mac}|${agentBaseUrl}|${arch}|${attempt}`;
      let script = memo.get(key);
      if (script === undefined) {
        script = bootScriptFor(index, { mac, agentBaseUrl, arch, attempt, extraKernelParameters: opts.extraKernelParameters });
        memo.set(key, script);
      }
      return send(res, 200, script);
    }
    const ipxe = /^\/boot\/v1\/ipxe\/([A-Za-z0-9][\w.-]*)$/.exec(path);
    if (get && ipxe) return ipxeBinary(req, res, ipxe[1]!);
    const art = /^\/artifacts\/sha256\/([^/]+)$/.exec(path);
    if (get && art) return artifact(req, res, art[1]!);
    const ci = /^\/cloud-init\/([^/]+)\/(meta-data|user-data|vendor-data)$/.exec(path);
    if (get && ci) return cloudInit(res, decode(ci[1]!), ci[2]!);
    if (req.method === 'POST' && (path === '/cloud-init/phone-home' || /^\/cloud-init\/[^/]+\/phone-home$/.test(path))) {
      const body = parseObject(await readBody(req), req.headers['content-type']);
      const raw = /^\/cloud-init\/([^/]+)\/phone-home$/.exec(path)?.[1];
      const id = raw === undefined ? undefined : decode(raw);
      if (id && body.xname === undefined && body.mac === undefined) body[isMac(id) ? 'mac' : 'xname'] = id;
      const key = await observe('cloudinit.phoneHome', body, req);
      return send(res, 202, JSON.stringify({ accepted: true, idempotencyKey: key }) + '\n', 'application/json');
    }
    if (req.method === 'POST' && path === '/heartbeat') {
      const body = parseObject(await readBody(req), req.headers['content-type']);
      if (body.mac === undefined && body.xname === undefined) throw new HttpError(400, 'heartbeat: give mac or xname');
      counters.heartbeats++;
      const key = await observe('heartbeat', body, req);
      return send(res, 202, JSON.stringify({ accepted: true, idempotencyKey: key }) + '\n', 'application/json');
    }
    if (get && path === '/status') return send(res, 200, JSON.stringify(await opts.status(), null, 2) + '\n', 'application/json');
    throw new HttpError(404, `no route for ${req.method} ${path}`);
  }

  const server = createServer((req, res) => {
    counters.requests++;
    route(req, res).catch((err: Error) => {
      // An error may name its own status: a full outbox (OutboxFullError) is 503, retry later.
      const status = err instanceof HttpError ? err.status : (err as { httpStatus?: number }).httpStatus ?? ((err as { code?: string }).code === 'BAD_USER_INPUT' ? 400 : 500);
      if (status === 404) counters.notFound++;
      else counters.errors++;
      if (status >= 500) log.error({ url: req.url, err: err.message }, 'http request failed');
      if (!res.headersSent) send(res, status, `${err.message}\n`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  return Object.assign(server, { counters });
}
