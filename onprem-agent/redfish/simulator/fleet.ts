/**
 * A fleet of simulated BMCs in one process, one listening socket per BMC on 127.0.0.1. It adds
 * what a network adds (latency, 503 bursts, a BMC that never answers) and counts what it served,
 * so tests can check the client's concurrency from the server's side.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { SimulatedBmc, type SimulatedSystemState } from './bmc.js';
import { generateSelfSignedCert, type KeyAndCert } from './cert.js';
import { VENDOR_NAMES, VENDOR_PROFILES } from './vendors.js';
import { seededMac } from './seeded.js';
import { SimulatedOs, type SimNodeRecord, type SimOsOptions } from './simOs.js';
import { BadUserInputError } from '../../../schema/errors.js';

export interface BusyBursts {
  /** Every `every` requests to a BMC, the last `length` of them answer 503. */
  every: number;
  length: number;
  retryAfterSeconds: number;
  /** Which BMCs (by index) burst; all when absent. */
  bmcs?: number[];
}

export interface FleetOptions {
  count: number;
  vendors?: string[];
  latencyMs?: number;
  /** BMC i listens on portBase + i; ephemeral ports when absent or 0. */
  portBase?: number;
  seed?: string;
  tls?: boolean | KeyAndCert;
  username?: string;
  password?: string;
  powerTransitionMs?: number;
  busy?: BusyBursts;
  /** BMCs (by index) that accept connections and never answer. */
  hang?: number[];
  brokenExpand?: boolean;
  /** Session creation answers 405, so clients must fall back to basic auth. */
  noSessions?: boolean;
  /** Keep a per-request log (time, path, status) for tests that check retry timing. */
  recordRequests?: boolean;
  /**
   * Give every system a simulated OS that boots from this agent after each power-on (simOs.ts).
   * Systems start powered on, so they boot when the fleet starts.
   */
  os?: SimOsOptions & {
    /** The source address of the k-th system of the fleet; default simNodeAddress(k). */
    nodeAddress?: (k: number) => string;
  };
}

/** Where the k-th simulated node sends from: 127.77.0.1, 127.77.0.2, … (250 per third octet). */
export function simNodeAddress(k: number): string {
  if (!Number.isInteger(k) || k < 0 || k >= 250 * 256) throw new BadUserInputError('count', `node ${k} is beyond the simulator's 64,000 node addresses`);
  return `127.77.${Math.floor(k / 250)}.${(k % 250) + 1}`;
}

/** A simulated node as the inventory must hold it: the boot NIC's MAC and the node's address. */
export interface SimulatedNodeInfo {
  system: string;
  mac: string;
  ip: string;
}

export interface RequestRecord {
  bmc: number;
  method: string;
  path: string;
  status: number;
  /** ms since the fleet started, when the request arrived. */
  at: number;
}

/**
 * A BMC that drops the connection instead of answering, as firmware does when an action
 * restarts its web server or a middlebox resets the connection. `applied` says whether the
 * request took effect before the drop (the client cannot tell which).
 */
export interface DroppedAnswers {
  method: string;
  /** Only requests whose path ends with this (e.g. `ComputerSystem.Reset`); any path when absent. */
  pathEndsWith?: string;
  count: number;
  applied: boolean;
}

export interface SimulatedBmcInfo {
  index: number;
  host: string;
  port: number;
  scheme: 'http' | 'https';
  vendor: string;
  systems: string[];
  /** With `os`: each system's boot MAC and address (empty without). */
  nodes: SimulatedNodeInfo[];
}

export interface FleetStats {
  requests: number;
  maxInFlight: number;
  maxInFlightPerBmc: number;
  requestsPerBmc: number[];
  served503: number;
}

export interface SimulatedFleet {
  bmcs: SimulatedBmcInfo[];
  username: string;
  password: string;
  stats(): FleetStats;
  resetStats(): void;
  requestLog(): RequestRecord[];
  system(bmc: number, systemId: string): SimulatedSystemState;
  activeSessions(bmc: number): number;
  /** The next `count` requests with `method` to BMC `bmc` get no answer: the socket is reset. */
  dropAnswers(bmc: number, drop: DroppedAnswers): void;
  /** With `os`: each node's power and boot record, in fleet order (also GET /simulator/v1/nodes on any BMC). */
  nodeRecords(): SimNodeRecord[];
  /** Presents a new self-signed certificate on every TLS BMC, as a replaced BMC would. */
  rotateCertificates(): void;
  close(): Promise<void>;
}

export const DEFAULT_SIM_USERNAME = 'root';
export const DEFAULT_SIM_PASSWORD = 'initial0';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', 511, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startSimulatedFleet(opts: FleetOptions): Promise<SimulatedFleet> {
  const vendors = opts.vendors && opts.vendors.length > 0 ? opts.vendors : VENDOR_NAMES;
  for (const v of vendors) {
    if (!VENDOR_PROFILES[v]) throw new BadUserInputError('vendors', `"${v}" is not a simulated vendor (known: ${VENDOR_NAMES.join(', ')})`);
  }
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new BadUserInputError('count', `${opts.count} is not a positive integer`);
  const username = opts.username ?? DEFAULT_SIM_USERNAME;
  const password = opts.password ?? DEFAULT_SIM_PASSWORD;
  const latency = opts.latencyMs ?? 0;
  const seed = opts.seed ?? 'skyboot';
  const tls = opts.tls === true ? generateSelfSignedCert() : opts.tls || null;
  const hang = new Set(opts.hang ?? []);
  const busyBmcs = opts.busy?.bmcs ? new Set(opts.busy.bmcs) : null;
  const started = Date.now();

  const bmcs: SimulatedBmc[] = [];
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const log: RequestRecord[] = [];
  const drops = new Map<number, DroppedAnswers>();
  let stats: FleetStats;
  let inFlight = 0;
  const inFlightPerBmc: number[] = [];
  const resetStats = (): void => {
    stats = { requests: 0, maxInFlight: 0, maxInFlightPerBmc: 0, requestsPerBmc: new Array(opts.count).fill(0), served503: 0 };
    log.length = 0;
  };
  resetStats();

  const oses = new Map<string, SimulatedOs>();
  const nodeRecords = (): SimNodeRecord[] => [...oses.values()].map((o) => structuredClone(o.record));

  const handler = (i: number) => async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (hang.has(i)) return; // the socket stays open, the answer never comes
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://bmc');
    // The simulator's own record, outside the Redfish tree and its statistics.
    if (req.method === 'GET' && url.pathname === '/simulator/v1/nodes') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ nodes: nodeRecords() }));
      return;
    }
    stats.requests++;
    const n = stats.requestsPerBmc[i]!++;
    inFlight++;
    inFlightPerBmc[i] = (inFlightPerBmc[i] ?? 0) + 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    stats.maxInFlightPerBmc = Math.max(stats.maxInFlightPerBmc, inFlightPerBmc[i]!);
    const at = Date.now() - started;
    const busy = opts.busy && (!busyBmcs || busyBmcs.has(i)) && n % opts.busy.every >= opts.busy.every - opts.busy.length;
    const drop = drops.get(i);
    if (drop && drop.count > 0 && drop.method === req.method && (!drop.pathEndsWith || url.pathname.endsWith(drop.pathEndsWith))) {
      drop.count--;
      if (drop.applied) bmcs[i]!.handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body });
      if (opts.recordRequests) log.push({ bmc: i, method: req.method ?? 'GET', path: url.pathname + url.search, status: 0, at });
      inFlight--;
      inFlightPerBmc[i]!--;
      req.socket.destroy();
      return;
    }
    const answer = busy
      ? { status: 503, headers: { 'Retry-After': String(opts.busy!.retryAfterSeconds) }, body: { error: { code: 'Base.1.8.ServiceTemporarilyUnavailable', message: 'The service is temporarily unavailable.' } } }
      : bmcs[i]!.handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body });
    if (busy) stats.served503++;
    if (opts.recordRequests) log.push({ bmc: i, method: req.method ?? 'GET', path: url.pathname + url.search, status: answer.status, at });
    const send = (): void => {
      inFlight--;
      inFlightPerBmc[i]!--;
      const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
      res.writeHead(answer.status, { ...(payload ? { 'Content-Type': 'application/json' } : {}), 'OData-Version': '4.0', ...answer.headers });
      res.end(payload);
    };
    if (latency > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, latency);
      timers.add(t);
    } else send();
  };

  try {
    for (let i = 0; i < opts.count; i++) {
      const profile = VENDOR_PROFILES[vendors[i % vendors.length]!]!;
      bmcs.push(new SimulatedBmc({
        index: i, seed, profile, username, password, powerTransitionMs: opts.powerTransitionMs ?? 300, brokenExpand: opts.brokenExpand ?? false, noSessions: opts.noSessions ?? false,
        onPower: (systemId, on) => {
          const os = oses.get(`${i}/${systemId}`);
          if (on) os?.poweredOn();
          else os?.poweredOff();
        },
      }));
      if (opts.os) {
        const b = bmcs[i]!;
        b.systems.forEach((sys, n) => {
          // The boot NIC is the system's first host NIC, as the BMC reports it to discovery.
          const mac = seededMac(seed, i, 'sys', n, 0).toLowerCase();
          oses.set(`${i}/${sys.id}`, new SimulatedOs({ bmc: i, system: sys.id, mac, ip: (opts.os!.nodeAddress ?? simNodeAddress)(oses.size) }, opts.os!));
        });
      }
      const h = handler(i);
      const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
        h(req, res).catch(() => res.destroy());
      };
      const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, onRequest) : createHttpServer(onRequest);
      server.keepAliveTimeout = 30_000;
      server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      servers.push(server);
    }
    const ports: number[] = [];
    for (let i = 0; i < servers.length; i++) ports.push(await listen(servers[i]!, opts.portBase ? opts.portBase + i : 0));
    const infos: SimulatedBmcInfo[] = bmcs.map((b, i) => ({
      index: i, host: '127.0.0.1', port: ports[i]!, scheme: tls ? 'https' : 'http', vendor: b.profile.name, systems: b.systems.map((s) => s.id),
      nodes: b.systems.flatMap((s) => {
        const os = oses.get(`${i}/${s.id}`);
        return os ? [{ system: s.id, mac: os.record.mac, ip: os.record.ip }] : [];
      }),
    }));
    // Systems start powered on: each simulated OS boots now.
    for (const os of oses.values()) os.poweredOn();
    return {
      bmcs: infos,
      username,
      password,
      stats: () => structuredClone(stats),
      resetStats,
      requestLog: () => [...log],
      system: (bmc, systemId) => {
        const s = bmcs[bmc]?.systems.find((x) => x.id === systemId);
        if (!s) throw new Error(`simulated BMC ${bmc} has no system ${systemId}`);
        return s;
      },
      activeSessions: (bmc) => bmcs[bmc]!.activeSessions(),
      nodeRecords,
      dropAnswers: (bmc, drop) => {
        drops.set(bmc, { ...drop });
      },
      rotateCertificates: () => {
        const fresh = generateSelfSignedCert('replaced-bmc');
        for (const s of servers) (s as unknown as { setSecureContext?: (o: KeyAndCert) => void }).setSecureContext?.(fresh);
        // Kept-alive connections would still show the old certificate.
        for (const s of sockets) s.destroy();
      },
      close: () => close(),
    };
  } catch (err) {
    await close();
    throw err;
  }

  async function close(): Promise<void> {
    for (const t of timers) clearTimeout(t);
    for (const b of bmcs) b.dispose();
    for (const o of oses.values()) o.dispose();
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}
