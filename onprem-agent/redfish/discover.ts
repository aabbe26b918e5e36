/**
 * Discovery: probe every target (TCP, then the Redfish service root), walk the BMCs that answer,
 * name them, and build one report. Concurrency is bounded twice: a global bound on requests in
 * flight (the --concurrency flag) and two per BMC (in the client).
 */
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { log as agentLog } from '../logger.js';
import { RedfishAuthError, RedfishClient } from './client.js';
import { TreeWalker, isRedfishServiceRoot, type BmcObservation } from './collect.js';
import type { CredentialResolver } from './credentials.js';
import { diffReports } from './diff.js';
import { assignBmcXNames, bmcIdentityKey, naturalCompare, nodeXName } from './identity.js';
import { Limiter, mapLimited } from './limiter.js';
import { CertificatePinMismatchError } from './pins.js';
import { bmcKey, type BmcAddress, type TlsPolicy } from './transport.js';
import {
  DISCOVERY_REPORT_VERSION, type ComponentRecord, type DiscoveryReport, type InterfaceRecord, type InventoryEndpointMap,
  type NodeHardware, type RedfishEndpointRecord, type UnreachableRecord,
} from './types.js';

export interface DiscoveryProgress {
  done: number;
  total: number;
  found: number;
  unreachable: number;
}

export interface DiscoverOptions {
  targets: BmcAddress[];
  /** The --range values as given, recorded in the report. */
  ranges?: string[];
  /** Requests in flight across all BMCs. */
  concurrency?: number;
  /** Per request, connect included. */
  timeoutMs?: number;
  tls?: TlsPolicy;
  credentials?: CredentialResolver;
  inventory?: InventoryEndpointMap;
  userMap?: Record<string, string>;
  previous?: DiscoveryReport | null;
  logger?: Logger;
  onProgress?: (p: DiscoveryProgress) => void;
}

export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_TIMEOUT_MS = 10_000;

interface Found {
  address: BmcAddress;
  ip: string;
  obs: BmcObservation;
  authMode: RedfishEndpointRecord['authMode'];
  requests: number;
  busy: number;
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP connect to ${host}:${port} timed out after ${timeoutMs / 1000}s`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`TCP connect to ${host}:${port} failed: ${err.code ?? err.message}`));
    });
  });
}

async function resolveIPv4(host: string): Promise<string> {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host;
  return (await lookup(host, { family: 4 })).address;
}

export async function discover(opts: DiscoverOptions): Promise<DiscoveryReport> {
  const started = new Date();
  const logger = (opts.logger ?? agentLog).child({ module: 'redfish' });
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const global = new Limiter(concurrency);
  const found: Found[] = [];
  const unreachable: UnreachableRecord[] = [];
  let done = 0;
  let requests = 0;
  let busy = 0;
  logger.info({ targets: opts.targets.length, concurrency, timeoutMs, credentialRules: opts.credentials?.size ?? 0 }, 'discovery started');

  const probeOne = async (address: BmcAddress): Promise<void> => {
    const key = bmcKey(address);
    const fail = (stage: UnreachableRecord['stage'], reason: string): void => {
      unreachable.push({ host: address.host, port: address.port, stage, reason });
      logger.info({ bmc: key, stage, reason }, 'BMC unreachable');
    };
    let ip: string;
    try {
      ip = await resolveIPv4(address.host);
      await global.run(() => tcpProbe(ip, address.port, timeoutMs));
    } catch (err) {
      fail('tcp', (err as Error).message);
      return;
    }
    // Credentials go only where the BMC's identity is established before the first byte: a
    // pinned or (with trust on first use) pinned-now certificate, a CA-verified one, --insecure
    // (the operator's explicit trust in any certificate), or plain HTTP, which the operator named
    // by scheme and which has no identity to check.
    const trusted = address.scheme === 'http' || opts.tls?.mode !== 'pin' || opts.tls.pins.trusts(key);
    const client = new RedfishClient({
      address, tls: opts.tls, timeoutMs, global, logger, credentials: trusted ? opts.credentials?.resolve(address.host, address.port, ip) : undefined,
    });
    let stage: UnreachableRecord['stage'] = 'service-root';
    let entry: Found | undefined;
    try {
      const root = await client.serviceRoot();
      if (!isRedfishServiceRoot(root)) {
        fail('service-root', `GET /redfish/v1/ on ${key} is not a Redfish service root (no RedfishVersion)`);
        return;
      }
      if (!trusted && opts.tls?.mode === 'pin') {
        const fingerprint = opts.tls.pins.observed(key) ?? 'unknown';
        fail('untrusted', `certificate SHA-256 ${fingerprint} is not pinned, not CA-verified and not explicitly trusted, so no credentials were sent; `
          + 'check the fingerprint, then discover again with --trust-on-first-use (pins it) or --ca FILE');
        return;
      }
      stage = 'auth';
      await client.login(root);
      stage = 'walk';
      const obs = await new TreeWalker(client, root, logger).walk();
      found.push({ address, ip, obs, authMode: client.authMode, requests: 0, busy: 0 });
      entry = found[found.length - 1];
    } catch (err) {
      const s = err instanceof RedfishAuthError ? 'auth' : err instanceof CertificatePinMismatchError ? 'service-root' : stage;
      fail(s, (err as Error).message);
    } finally {
      await client.logout();
      client.close();
      requests += client.requests;
      busy += client.busyResponses;
      if (entry) {
        entry.requests = client.requests;
        entry.busy = client.busyResponses;
      }
      done++;
      opts.onProgress?.({ done, total: opts.targets.length, found: found.length, unreachable: unreachable.length });
    }
  };

  // As many BMCs at once as requests may be in flight: each keeps up to two busy, so the global
  // bound stays saturated without thousands of half-walked BMCs holding memory.
  await mapLimited(opts.targets, concurrency, async (t) => {
    try {
      await probeOne(t);
    } catch (err) {
      unreachable.push({ host: t.host, port: t.port, stage: 'walk', reason: (err as Error).message });
    }
  });

  const report = buildReport(found, unreachable, opts, logger);
  report.startedAt = started.toISOString();
  report.finishedAt = new Date().toISOString();
  report.stats = {
    addressesScanned: opts.targets.length, bmcsFound: report.redfishEndpoints.length, nodes: report.hardware.length,
    requests, busyResponses: busy, durationMs: Date.now() - started.getTime(),
  };
  report.changes = opts.previous ? diffReports(opts.previous, report) : null;
  logger.info({ ...report.stats, unreachable: report.unreachable.length }, 'discovery finished');
  return report;
}

/** identity → xname from the last report; reports from before identities were recorded match by service UUID. */
function previousNames(previous: DiscoveryReport | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of previous?.redfishEndpoints ?? []) {
    const id = e.identity ?? (e.uuid ? bmcIdentityKey({ uuid: e.uuid, managers: [], managerNics: [], systems: [] }) : null);
    if (id && !out.has(id)) out.set(id, e.xname);
  }
  return out;
}

function buildReport(found: Found[], unreachable: UnreachableRecord[], opts: DiscoverOptions, logger: Logger): DiscoveryReport {
  const identities = new Map(found.map((f) => [bmcKey(f.address), bmcIdentityKey(f.obs)]));
  const { names, conflicts } = assignBmcXNames(found.map((f) => ({ host: f.address.host, port: f.address.port, ip: f.ip, identity: identities.get(bmcKey(f.address)) ?? null })), {
    inventory: opts.inventory, userMap: opts.userMap, previous: previousNames(opts.previous ?? null),
  });
  for (const c of conflicts) logger.warn({ conflict: c }, 'xname conflict');
  const endpoints: RedfishEndpointRecord[] = [];
  const components: ComponentRecord[] = [];
  const interfaces: InterfaceRecord[] = [];
  const hardware: NodeHardware[] = [];
  const seenMacs = new Set<string>();
  const addNic = (n: Omit<InterfaceRecord, 'ownerXName' | 'ownerType'>, ownerXName: string, ownerType: InterfaceRecord['ownerType']): void => {
    // The same MAC often shows in EthernetInterfaces and on an adapter port; one owner is enough.
    if (seenMacs.has(n.mac)) return;
    seenMacs.add(n.mac);
    interfaces.push({ ...n, ownerXName, ownerType });
  };
  for (const f of found) {
    const key = bmcKey(f.address);
    const id = names.get(key);
    if (!id) {
      unreachable.push({ host: f.address.host, port: f.address.port, stage: 'identity', reason: conflicts.find((c) => c.startsWith(`${key}:`)) ?? 'no xname' });
      continue;
    }
    const bmcX = id.xname;
    const systems = [...f.obs.systems].sort((a, b) => naturalCompare(a.path, b.path));
    endpoints.push({
      xname: bmcX, host: f.address.host, port: f.address.port, scheme: f.address.scheme, vendor: f.obs.vendor, product: f.obs.product,
      redfishVersion: f.obs.redfishVersion, uuid: f.obs.uuid, identity: identities.get(key) ?? null, managers: f.obs.managers, authMode: f.authMode,
      tlsFingerprint: opts.tls?.mode === 'pin' ? opts.tls.pins.get(key) ?? null : null, expandUsed: f.obs.expandUsed,
      systems: systems.map((s, n) => ({ xname: nodeXName(bmcX, n), path: s.path })), requests: f.requests,
    });
    components.push({ xname: bmcX, type: 'NodeBMC', state: 'Ready', parent: null, enabled: true });
    for (const nic of f.obs.managerNics) addNic(nic, bmcX, 'NodeBMC');
    systems.forEach((s, n) => {
      const x = nodeXName(bmcX, n);
      const state = s.powerState === 'On' ? 'On' : s.powerState === 'Off' ? 'Off' : 'Populated';
      components.push({ xname: x, type: 'Node', state, parent: bmcX, enabled: true });
      for (const nic of s.nics) addNic(nic, x, 'Node');
      const { path, id: _id, nics: _nics, ...inventory } = s;
      hardware.push({
        xname: x, bmcXName: bmcX, systemPath: path, ...inventory,
        gpus: [
          ...s.processors.filter((p) => p.type === 'GPU' || p.type === 'Accelerator').map((p) => ({ id: p.id, model: p.model, source: 'Processor' as const })),
          ...s.pcieDevices.filter((d) => d.gpu).map((d) => ({ id: d.id, model: d.model ?? d.name, source: 'PCIeDevice' as const })),
        ],
      });
    });
  }
  const byX = <T extends { xname: string }>(a: T, b: T): number => naturalCompare(a.xname, b.xname);
  return {
    version: DISCOVERY_REPORT_VERSION,
    startedAt: '',
    finishedAt: '',
    ranges: opts.ranges ?? opts.targets.map((t) => `${t.scheme}://${bmcKey(t)}`),
    redfishEndpoints: endpoints.sort(byX),
    components: components.sort(byX),
    interfaces: interfaces.sort((a, b) => naturalCompare(a.ownerXName, b.ownerXName) || a.mac.localeCompare(b.mac)),
    hardware: hardware.sort(byX),
    unreachable: unreachable.sort((a, b) => naturalCompare(a.host, b.host) || a.port - b.port),
    stats: { addressesScanned: 0, bmcsFound: 0, nodes: 0, requests: 0, busyResponses: 0, durationMs: 0 },
    changes: null,
  };
}
