/**
 * The fuzz targets: every parser that faces the site LAN or a BMC, driven through the product's
 * real entry points. Each target says which errors are the parser's documented answer to bad
 * input; anything else thrown, or a broken invariant (a path outside the TFTP root, a 5xx from
 * the HTTP server), is a crash. Import this module only after coverage has started (coverage.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { isMac } from '../../schema/mac.js';
import { contentHash, type SiteSnapshot, type SnapshotContent, type SnapshotNode } from '../../schema/siteSnapshot.js';
import { ArtifactCache } from '../../onprem-agent/cache/artifactCache.js';
import { pxeRequest } from '../../onprem-agent/pxe/dhcp/clientPacket.js';
import { DhcpPacketError } from '../../onprem-agent/pxe/dhcp/errors.js';
import {
  clientArchitectures, clientId, clientNdi, clientUuid, decodeSubOptions, ipListOption, ipOption, messageType, MessageType, Opt,
  parameterRequestList, stringOption, uint16Option, uint32Option, userClasses,
} from '../../onprem-agent/pxe/dhcp/options.js';
import { decodePacket, encodePacket, HEADER_LENGTH } from '../../onprem-agent/pxe/dhcp/packet.js';
import { DhcpResponder, type Arrival } from '../../onprem-agent/pxe/dhcp/responder.js';
import { parseRange } from '../../onprem-agent/pxe/http/range.js';
import { createAgentHttpServer } from '../../onprem-agent/pxe/http/server.js';
import { decodeTftp, encodeAck, encodeError, encodeOack, encodeRequest, TftpOp, TftpPacketError, dataHeader } from '../../onprem-agent/pxe/tftp/packet.js';
import { resolveInRoot, tftpRootPolicy, TftpPathError, type TftpRootPolicy } from '../../onprem-agent/pxe/tftp/paths.js';
import { negotiate, OptionError } from '../../onprem-agent/pxe/tftp/server.js';
import { RedfishAuthError, RedfishClient, RedfishHttpError, type Json } from '../../onprem-agent/redfish/client.js';
import { RedfishWalkLimitError, TreeWalker, isRedfishServiceRoot } from '../../onprem-agent/redfish/collect.js';
import { bmcIdentityKey, identityBmcXName } from '../../onprem-agent/redfish/identity.js';
import type { HttpResult } from '../../onprem-agent/redfish/transport.js';
import { SnapshotIndex, saveSnapshot } from '../../onprem-agent/sync/snapshotStore.js';
import { havoc, mutateJson, oddStrings, type Rng } from './mutate.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Beside the repository, as CI lays it out (../shared/redfish-mockups); SKYBOOT_REDFISH_MOCKUPS names another place. */
export const MOCKUP_DIR = resolve(process.env.SKYBOOT_REDFISH_MOCKUPS ?? resolve(REPO_ROOT, '..', 'shared', 'redfish-mockups'));

/** A violated invariant: always a crash, whatever the target's expected errors. */
export class FuzzInvariantError extends Error {}

export interface FuzzTarget<T> {
  name: string;
  /** Source files (repo-relative) whose coverage blocks count as this target's code paths. */
  files: readonly string[];
  seeds: readonly T[];
  mutate(rng: Rng, parent: T, corpus: readonly T[]): T;
  run(input: T): void | Promise<void>;
  /** The parser's documented answer to bad input. */
  expected(err: unknown): boolean;
  /** The input as bytes, for the crash files. */
  serialize(input: T): Buffer;
  /** How far the cases got (decoded, answered, by status…), so the case count can be read honestly. */
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/** A tally of named outcomes. */
function tally(): { bump(k: string): void; stats(): Record<string, number> } {
  const m = new Map<string, number>();
  return { bump: (k) => m.set(k, (m.get(k) ?? 0) + 1), stats: () => Object.fromEntries([...m].sort()) };
}

const bytesTarget = (maxLength: number) => ({
  mutate: (rng: Rng, parent: Buffer, corpus: readonly Buffer[]): Buffer => havoc(rng, parent, corpus, maxLength),
  serialize: (b: Buffer): Buffer => b,
});

// ---------------------------------------------------------------- DHCP

export async function dhcpTarget(): Promise<FuzzTarget<Buffer>> {
  const lookupStaticLease = (mac: string) => (mac === '52:54:00:00:00:aa' ? { ip: '10.0.0.50', hostname: 'n50' } : mac === '52:54:00:00:00:bb' ? { ip: '10.9.0.5' } : undefined);
  const common = {
    dhcpAddress: '10.0.0.1',
    ownAddresses: ['10.1.0.1'],
    httpBaseUrl: (a: string) => `http://${a}:8080`,
    subnets: [
      { cidr: '10.0.0.0/24', range: '10.0.0.10-10.0.0.40', router: '10.0.0.254', dns: ['10.0.0.1'], domainName: 'site.example', leaseSeconds: 120 },
      { cidr: '10.1.0.0/24', range: { start: '10.1.0.10', end: '10.1.0.12' } },
    ],
    isInventoryIp: (ip: string) => ip === '10.0.0.20',
  };
  const full = new DhcpResponder({ ...common, mode: 'full', lookupStaticLease });
  const proxy = new DhcpResponder({ ...common, mode: 'proxy', lookupStaticLease: async (mac) => lookupStaticLease(mac) });
  const arrivals: Arrival[] = [
    { listener: 'dhcp', address: '0.0.0.0', port: 68 },
    { listener: 'pxe', address: '10.0.0.33', port: 4011 },
  ];
  const uuid = '00112233445566778899aabbccddeeff';
  const reqs = [
    pxeRequest({ mac: '52:54:00:00:01:01', xid: 1, uuid }),
    pxeRequest({ mac: '52:54:00:00:01:02', xid: 2, uuid, arch: 7, ipxe: true }),
    pxeRequest({ mac: '52:54:00:00:01:03', xid: 3, uuid, arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003000' }),
    pxeRequest({ mac: '52:54:00:00:01:04', xid: 4, uuid, arch: null, vendorClass: 'PXEClient:Arch:00007:UNDI:003016' }),
    pxeRequest({ mac: '52:54:00:00:00:aa', xid: 5, uuid, type: MessageType.Request, requestedIp: '10.0.0.50', serverId: '10.0.0.1' }),
    pxeRequest({ mac: '52:54:00:00:00:aa', xid: 6, uuid, type: MessageType.Request, ciaddr: '10.0.0.50', broadcast: false }),
    pxeRequest({ mac: '52:54:00:00:01:05', xid: 7, uuid, type: MessageType.Request, requestedIp: '10.0.0.10' }),
    pxeRequest({ mac: '52:54:00:00:01:06', xid: 8, uuid, type: MessageType.Inform, ciaddr: '10.0.0.77' }),
    pxeRequest({ mac: '52:54:00:00:01:01', xid: 9, uuid, type: MessageType.Release, ciaddr: '10.0.0.10', serverId: '10.0.0.1' }),
    pxeRequest({ mac: '52:54:00:00:01:02', xid: 10, uuid, type: MessageType.Decline, requestedIp: '10.0.0.11', serverId: '10.0.0.1' }),
    pxeRequest({ mac: '52:54:00:00:00:bb', xid: 11, uuid, giaddr: '10.1.0.254' }),
    pxeRequest({ mac: '52:54:00:00:01:07', xid: 12, uuid, type: MessageType.Request, requestedIp: '10.0.0.12', serverId: '10.0.0.99' }),
  ];
  reqs[10]!.options.set(82, Buffer.from([1, 4, 0, 0, 0, 1, 2, 6, 0x52, 0x54, 0, 0, 0, 0xbb]));
  reqs[2]!.options.set(Opt.ClientNdi, Buffer.from([1, 3, 16]));
  reqs[2]!.options.set(Opt.ClientId, Buffer.from([1, 0x52, 0x54, 0, 0, 1, 3]));
  reqs[1]!.options.set(Opt.IpxeEncapsulated, Buffer.from([0xb1, 1, 1, 0xeb, 3, 1, 2, 3]));
  reqs[1]!.options.set(Opt.UserClass, Buffer.from([4, 0x69, 0x50, 0x58, 0x45]));
  reqs[0]!.options.set(Opt.HostName, Buffer.from('node-\0pad'));
  reqs[0]!.options.set(Opt.MaxMessageSize, Buffer.from([5, 0xc0]));
  reqs[0]!.options.set(Opt.LeaseTime, Buffer.from([0, 0, 1, 0]));
  reqs[0]!.options.set(Opt.VendorSpecific, Buffer.from([6, 1, 8, 255]));
  reqs[0]!.options.set(Opt.DnsServers, Buffer.alloc(300, 1)); // RFC 3396: split over two instances
  const seeds = reqs.map(encodePacket);
  // Option overload (52): options continued in the file and sname fields.
  const overloaded = Buffer.from(seeds[0]!);
  overloaded.fill(0, 44, 236);
  overloaded.set([Opt.Message, 3, 0x61, 0x62, 0x63, 255], 108);
  overloaded.set([Opt.ServerId, 4, 10, 0, 0, 1, 255], 44);
  const tail = overloaded.indexOf(255, HEADER_LENGTH);
  overloaded.set([52, 1, 3, 255], tail);
  seeds.push(overloaded.subarray(0, Math.max(tail + 4, 300)));
  const t = tally();
  return {
    name: 'dhcp',
    stats: t.stats,
    files: ['onprem-agent/pxe/dhcp/packet.ts', 'onprem-agent/pxe/dhcp/options.ts', 'onprem-agent/pxe/dhcp/responder.ts', 'onprem-agent/pxe/dhcp/leases.ts', 'onprem-agent/pxe/bootfile.ts'],
    seeds,
    ...bytesTarget(1500),
    async run(buf) {
      let p;
      try {
        p = decodePacket(buf);
      } catch (err) {
        if (err instanceof DhcpPacketError) t.bump('refused by decodePacket');
        throw err;
      }
      t.bump('decoded');
      const readers = [
        () => messageType(p), () => ipOption(p, Opt.RequestedIp), () => ipOption(p, Opt.ServerId), () => ipListOption(p, Opt.DnsServers),
        () => uint32Option(p, Opt.LeaseTime), () => uint16Option(p, Opt.MaxMessageSize), () => stringOption(p, Opt.VendorClass),
        () => stringOption(p, Opt.HostName), () => parameterRequestList(p), () => clientArchitectures(p), () => clientNdi(p),
        () => clientUuid(p), () => clientId(p), () => userClasses(p),
        () => p.options.has(Opt.VendorSpecific) && decodeSubOptions(p.options.get(Opt.VendorSpecific)!, 'option43'),
        () => p.options.has(Opt.IpxeEncapsulated) && decodeSubOptions(p.options.get(Opt.IpxeEncapsulated)!, 'option175'),
      ];
      for (const read of readers) {
        try {
          read();
        } catch (err) {
          if (!(err instanceof DhcpPacketError)) throw err;
        }
      }
      for (const responder of [full, proxy]) {
        for (const from of arrivals) {
          try {
            const reply = await responder.respond(p, from);
            // A reply the codec cannot put on the wire would be a responder bug.
            if (reply) decodePacket(encodePacket(reply.packet));
            t.bump(reply ? `reply ${reply.kind}` : 'no reply');
          } catch (err) {
            if (!(err instanceof DhcpPacketError)) throw err;
          }
        }
      }
    },
    expected: (err) => err instanceof DhcpPacketError,
    close: async () => {},
  };
}

// ---------------------------------------------------------------- TFTP

export async function tftpTarget(): Promise<FuzzTarget<Buffer>> {
  const dir = mkdtempSync(join(tmpdir(), 'skyboot-fuzz-tftp-'));
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'ipxe.efi'), 'efi');
  writeFileSync(join(root, 'undionly.kpxe'), 'kpxe');
  writeFileSync(join(root, 'sub', 'file'), 'f');
  writeFileSync(join(outside, 'linked.efi'), 'linked');
  writeFileSync(join(outside, 'secret'), 'secret');
  symlinkSync(join(outside, 'linked.efi'), join(root, 'linked.efi'));
  symlinkSync(outside, join(root, 'vendor'));
  const { policy } = await tftpRootPolicy(root, [outside]);
  const limits = { maxBlksize: 1468, maxWindowsize: 64, timeoutMs: 1000, maxTimeoutMs: 8000, retries: 5 };
  const o = (pairs: Record<string, string>) => new Map(Object.entries(pairs));
  const seeds = [
    encodeRequest(TftpOp.RRQ, 'ipxe.efi', 'octet'),
    encodeRequest(TftpOp.RRQ, '/undionly.kpxe', 'octet', o({ blksize: '1468', tsize: '0', timeout: '5', windowsize: '16' })),
    encodeRequest(TftpOp.RRQ, '\\sub\\file', 'netascii', o({ BLKSIZE: '65464' })),
    encodeRequest(TftpOp.RRQ, 'vendor/secret', 'octet'),
    encodeRequest(TftpOp.RRQ, 'linked.efi', 'octet', o({ tsize: '0' })),
    encodeRequest(TftpOp.RRQ, '../outside/secret', 'octet'),
    encodeRequest(TftpOp.WRQ, 'upload', 'octet'),
    encodeAck(1), Buffer.concat([dataHeader(1), Buffer.from('data')]), encodeError(1, 'not found'), encodeOack(o({ blksize: '512' })),
  ];
  const underRoot = (p: string) => p.startsWith(policy.root + '/');
  const t = tally();
  return {
    name: 'tftp',
    stats: t.stats,
    files: ['onprem-agent/pxe/tftp/packet.ts', 'onprem-agent/pxe/tftp/server.ts', 'onprem-agent/pxe/tftp/paths.ts'],
    seeds,
    ...bytesTarget(1024),
    async run(buf) {
      let packet;
      try {
        packet = decodeTftp(buf);
      } catch (err) {
        if (err instanceof TftpPacketError) t.bump('refused by decodeTftp');
        throw err;
      }
      t.bump(`decoded ${TftpOp[packet.op]}`);
      if (packet.op !== TftpOp.RRQ && packet.op !== TftpOp.WRQ) return;
      try {
        const params = negotiate(packet, 1234, limits);
        if (params.blksize < 8 || params.blksize > limits.maxBlksize || params.windowsize < 1 || params.windowsize > limits.maxWindowsize) {
          throw new FuzzInvariantError(`negotiated blksize ${params.blksize} / windowsize ${params.windowsize} outside the limits`);
        }
      } catch (err) {
        if (!(err instanceof OptionError)) throw err;
      }
      try {
        const path = await resolveInRoot(policy as TftpRootPolicy, packet.filename);
        t.bump('file served');
        if (!underRoot(path) && !policy.linkedFiles.has(path)) throw new FuzzInvariantError(`"${packet.filename}" served ${path}, outside the root`);
      } catch (err) {
        if (!(err instanceof TftpPathError)) throw err;
      }
    },
    expected: (err) => err instanceof TftpPacketError,
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------- HTTP

/**
 * One request in the harness's text form: `METHOD URL`, header lines, an empty line, the body.
 * Malformed header lines are skipped: Node's HTTP parser would reject them before the agent.
 */
function parseHarnessRequest(raw: Buffer): { method: string; url: string; headers: Record<string, string>; body: Buffer } {
  const text = raw.toString('latin1');
  const split = text.indexOf('\n\n');
  const head = split === -1 ? text : text.slice(0, split);
  const body = split === -1 ? Buffer.alloc(0) : raw.subarray(split + 2);
  const [line = '', ...lines] = head.split('\n');
  const sp = line.indexOf(' ');
  const method = sp === -1 ? line : line.slice(0, sp);
  const url = sp === -1 ? '/' : line.slice(sp + 1);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t\x20-\x7e\x80-\xff]*)$/.exec(l);
    if (m) headers[m[1]!.toLowerCase()] = m[2]!;
  }
  return { method, url, headers, body };
}

function encodeControlBytes(url: string): string {
  let out = '';
  for (const c of url) {
    const code = c.charCodeAt(0);
    out += code <= 0x20 || code === 0x7f ? `%${code.toString(16).padStart(2, '0').toUpperCase()}` : c;
  }
  return out;
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

export async function httpTarget(): Promise<FuzzTarget<Buffer>> {
  const dir = mkdtempSync(join(tmpdir(), 'skyboot-fuzz-http-'));
  const K = 'a'.repeat(64);
  const node = (xname: string, mac: string, ips: string[], carriesSecrets: boolean): SnapshotNode => ({
    xname, nid: null, role: 'COMPUTE', subRole: null, arch: 'X86', groups: [],
    interfaces: [{ mac, ipAddresses: ips, network: 'boot' }],
    boot: { configId: 'bc-1', matchedSelector: 'role:COMPUTE', imageId: null, kernel: K, initrd: null, rootfs: null, kernelParameters: 'console=ttyS0', rootfsProvider: null, ...(carriesSecrets ? { carriesSecrets } : {}) },
    cloudInit: { metaData: null, userData: `#cloud-config\n# for ${xname}\n`, vendorData: null },
  });
  const content: SnapshotContent = {
    site: 'fuzz', siteDomain: null, discovery: [], artifacts: [], images: [], redfishEndpoints: [],
    nodes: [node('x1c0s0b0n0', '02:00:00:00:01:01', ['10.0.0.11'], true), node('x1c0s1b0n0', '02:00:00:00:01:02', ['10.0.0.12'], false)],
  };
  const snap: SiteSnapshot = { ...content, revision: 1, unchanged: false, contentHash: contentHash(content), generatedAt: new Date().toISOString() };
  const index = new SnapshotIndex(await saveSnapshot(dir, snap));
  const ipxeDir = join(dir, 'ipxe');
  mkdirSync(ipxeDir);
  writeFileSync(join(ipxeDir, 'ipxe.efi'), 'efi');
  let accepted = 0;
  const server = createAgentHttpServer({
    index: () => index,
    cache: await new ArtifactCache(join(dir, 'cache')).init(),
    // The parsers are the target: observations are counted, not made durable (no fsync per case).
    outbox: { enqueue: async () => { accepted++; } },
    status: async () => ({ ok: true }),
    ipxeDir,
    leases: { boundAddresses: (mac) => (mac === '02:00:00:00:01:99' ? ['10.0.0.99'] : []) },
    observationRateLimit: { burst: 1e12, perSecond: 1e12 },
  });
  // The TCP peer comes from the kernel, not the request: it is chosen from these by input length.
  const requesters = ['10.0.0.11', '10.0.0.12', '10.0.0.99', '10.0.0.200', '::ffff:10.0.0.11'];
  const sockets = requesters.map((a) => {
    const s = new Socket();
    Object.defineProperty(s, 'remoteAddress', { value: a });
    return s;
  });
  const seeds = [
    'GET /boot/v1/bootscript?mac=02:00:00:00:01:01&arch=x86_64&attempt=2\n\n',
    'GET /boot/v1/bootscript?mac=02-00-00-00-01-02\n\n',
    'HEAD /boot/v1/ipxe/ipxe.efi\n\n',
    'GET /cloud-init/x1c0s0b0n0/user-data\n\n',
    'GET /cloud-init/02%3A00%3A00%3A00%3A01%3A02/meta-data\n\n',
    'GET /artifacts/sha256/' + K + '\nrange: bytes=0-99\nif-none-match: "sha256-' + K + '"\n\n',
    'GET /status?x=1\n\n',
    'POST /heartbeat\ncontent-type: application/json\n\n{"mac":"02:00:00:00:01:01","xname":"x1c0s0b0n0","state":"booted","idempotencyKey":"hb-1"}',
    'POST /heartbeat\ncontent-type: application/x-www-form-urlencoded\n\nmac=02%3A00%3A00%3A00%3A01%3A99&state=up',
    'POST /cloud-init/x1c0s1b0n0/phone-home\n\ninstance_id=x1c0s1b0n0&hostname=n1&pub_key_rsa=ssh-rsa+AAAA',
    'POST /cloud-init/phone-home\ncontent-type: application/json\n\n{"instance_id":"x1c0s0b0n0","fqdn":"n0.site"}',
    'POST /cloud-init/phone-home\n\n',
  ].map((s) => Buffer.from(s, 'latin1'));
  const ranges = ['bytes=0-99', 'bytes=-10', 'bytes=100-', 'bytes=5-1', 'bytes=0-1,3-4', 'items=0-1'];
  const textSeeds = seeds.map((s) => s.toString('latin1'));
  const t = tally();

  const run = (raw: Buffer): Promise<void> => {
    const { method, url: rawUrl, headers, body } = parseHarnessRequest(raw);
    // The range parser, directly, with the header this request carries (artifacts are absent here).
    for (const size of [0, 1, 1000, 2 ** 40]) {
      const r = parseRange(headers.range, size);
      if (r.kind === 'partial' && !(r.start >= 0 && r.end >= r.start && r.end < size)) throw new FuzzInvariantError(`parseRange(${headers.range}, ${size}) gave ${r.start}-${r.end}`);
    }
    // What Node's HTTP parser refuses never reaches the agent: unknown methods, targets that are
    // neither a path nor absolute. Control bytes and spaces go percent-encoded, as a client must send them.
    const url = encodeControlBytes(rawUrl);
    if (!HTTP_METHODS.has(method) || !url.startsWith('/') && !/^https?:\/\//.test(url)) {
      t.bump('refused before the agent (Node HTTP parser)');
      return Promise.resolve();
    }
    const req = new IncomingMessage(sockets[raw.length % sockets.length]!);
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.push(body);
    req.push(null);
    const res = new ServerResponse(req);
    return new Promise<void>((resolveCase, reject) => {
      const finish = (): void => {
        t.bump(`answered ${res.statusCode}`);
        if (res.statusCode >= 500) reject(new FuzzInvariantError(`${method} ${url.slice(0, 200)} answered ${res.statusCode}`));
        else resolveCase();
      };
      const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
      res.end = ((...a: unknown[]) => { const r = end(...a); finish(); return r; }) as typeof res.end;
      res.destroy = (() => { reject(new FuzzInvariantError(`${method} ${url.slice(0, 200)}: response destroyed after headers`)); return res; }) as typeof res.destroy;
      server.emit('request', req, res);
    });
  };
  return {
    name: 'http',
    stats: t.stats,
    files: ['onprem-agent/pxe/http/'],
    seeds,
    mutate(rng, parent, corpus) {
      const text = parent.toString('latin1');
      const split = text.indexOf('\n\n');
      if (split !== -1 && rng.chance(0.25)) {
        // Structure-aware: mutate the body as JSON when it is JSON, else the query string.
        const head = text.slice(0, split);
        const bodyText = text.slice(split + 2);
        try {
          const doc = JSON.parse(bodyText) as unknown;
          return Buffer.from(`${head}\n\n${JSON.stringify(mutateJson(rng, doc))}`, 'utf8');
        } catch {
          return Buffer.from(`${head}${rng.pick(['&', '?', '&mac=', '&arch=', '&attempt=', '%', '%2F..', '&mac=' + rng.pick(oddStrings)])}\n${rng.chance(0.3) ? `range: ${rng.pick(ranges)}\n` : ''}\n${bodyText}`, 'latin1');
        }
      }
      if (rng.chance(0.05)) return Buffer.from(rng.pick(textSeeds), 'latin1');
      return havoc(rng, parent, corpus, 70 * 1024);
    },
    run,
    expected: () => false, // the server answers everything; nothing may escape it
    serialize: (b) => b,
    close: async () => {
      void accepted;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- Redfish

interface RedfishCase {
  tree: number;
  /** path → [status, body] replacing the mockup's answer. */
  overrides: Array<[string, number, Buffer]>;
}

/** A mockup folder as path → body: `/redfish/v1/<p>` is `<folder>/<p>/index.json`. */
function loadTree(folder: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e === 'index.json') {
        const rel = relative(folder, d);
        const path = `/redfish/v1/${rel}`.replace(/\/$/, '');
        out.set(path, readFileSync(p));
      }
    }
  };
  walk(folder);
  return out;
}

export async function redfishTarget(): Promise<FuzzTarget<RedfishCase>> {
  if (!existsSync(MOCKUP_DIR)) throw new Error(`redfish fuzz target: the Redfish mockups were looked for at ${MOCKUP_DIR} and are not there`);
  const folders = readdirSync(MOCKUP_DIR).filter((f) => existsSync(join(MOCKUP_DIR, f, 'index.json'))).sort();
  const trees = folders.map((f) => loadTree(join(MOCKUP_DIR, f)));
  const paths = trees.map((t) => [...t.keys()]);
  const silent = pino({ level: 'silent' });
  let current: { tree: Map<string, Buffer>; overrides: Map<string, [number, Buffer]> } = { tree: trees[0]!, overrides: new Map() };
  const client = new RedfishClient({ address: { host: '10.0.0.1', port: 80, scheme: 'http' }, timeoutMs: 1000, logger: silent, maxBusyRetries: 0 });
  // The one seam: the BMC's answers come from the mockup tree instead of a socket. Parsing,
  // status handling and everything above it are the real client's.
  (client as unknown as { transport: { request(method: string, path: string): Promise<HttpResult> } }).transport.request = async (_method, path) => {
    const key = path.replace(/\/$/, '');
    const o = current.overrides.get(key);
    if (o) return { status: o[0], headers: {}, body: o[1] };
    const body = current.tree.get(key);
    return body ? { status: 200, headers: {}, body } : { status: 404, headers: {}, body: Buffer.from('{"error":{"message":"not found"}}') };
  };
  const seeds: RedfishCase[] = trees.map((_, tree) => ({ tree, overrides: [] }));
  const t = tally();
  return {
    name: 'redfish',
    stats: t.stats,
    files: ['onprem-agent/redfish/collect.ts', 'onprem-agent/redfish/client.ts', 'onprem-agent/redfish/identity.ts'],
    seeds,
    mutate(rng, parent, corpus) {
      const child: RedfishCase = rng.chance(0.1) && corpus.length > 1
        ? { ...rng.pick(corpus), overrides: [...rng.pick(corpus).overrides] } // splice another case's answers
        : { tree: parent.tree, overrides: [...parent.overrides] };
      const tree = trees[child.tree]!;
      const ps = paths[child.tree]!;
      // Most BMC walks start at the root and the top collections: weight them.
      const path = rng.chance(0.3) ? rng.pick(ps.filter((p) => p.split('/').length <= 5)) : rng.pick(ps);
      const existing = child.overrides.find((x) => x[0] === path);
      const base = existing ? existing[2] : tree.get(path)!;
      let next: [string, number, Buffer];
      const roll = rng.int(10);
      if (roll === 0) next = [path, rng.pick([404, 500, 401, 302, 204]), base];
      else if (roll <= 3) next = [path, 200, havoc(rng, base, [], 1 << 20)];
      else {
        let doc: unknown;
        try {
          doc = JSON.parse(base.toString('utf8'));
        } catch {
          doc = {};
        }
        let text: string;
        try {
          text = JSON.stringify(mutateJson(rng, doc));
        } catch {
          text = base.toString('utf8'); // nesting beyond what JSON.stringify can write: keep the parent
        }
        // Copies of copies grow without bound over generations; a BMC body stays under 1 MiB here.
        if (text.length > 1 << 20) text = base.toString('utf8');
        next = [path, 200, Buffer.from(text)];
      }
      child.overrides = child.overrides.filter((x) => x[0] !== path).concat([next]);
      if (child.overrides.length > 8) child.overrides.shift();
      return child;
    },
    async run(c) {
      current = { tree: trees[c.tree]!, overrides: new Map(c.overrides.map(([p, s, b]) => [p, [s, b]])) };
      let root: Json;
      try {
        root = await client.serviceRoot();
      } catch (err) {
        if (err instanceof RedfishHttpError || err instanceof RedfishAuthError) t.bump('service root refused');
        throw err;
      }
      if (!isRedfishServiceRoot(root)) {
        t.bump('not a service root');
        return;
      }
      const obs = await new TreeWalker(client, root, silent).walk();
      t.bump(`walked, ${Math.min(obs.systems.length, 3)}${obs.systems.length >= 3 ? '+' : ''} systems`);
      for (const n of [...obs.managerNics, ...obs.systems.flatMap((s) => s.nics)]) {
        if (!isMac(n.mac)) throw new FuzzInvariantError(`recorded MAC ${n.mac} is not a MAC`);
      }
      const key = bmcIdentityKey(obs);
      if (key !== null) identityBmcXName(key);
    },
    expected: (err) => err instanceof RedfishHttpError || err instanceof RedfishAuthError || err instanceof RedfishWalkLimitError,
    serialize: (c) => Buffer.from(JSON.stringify({ tree: folders[c.tree], overrides: c.overrides.map(([p, s, b]) => ({ path: p, status: s, body: b.toString('base64') })) }, null, 1)),
    close: async () => client.close(),
  };
}

export const TARGETS = { dhcp: dhcpTarget, tftp: tftpTarget, http: httpTarget, redfish: redfishTarget } as const;
export type TargetName = keyof typeof TARGETS;
