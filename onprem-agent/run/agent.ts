/**
 * `skyboot-agent run` as a function: sync, outbox, HTTP, TFTP (and DHCP/iSCSI where their
 * modules provide a service), wired to the one stored snapshot. Services start from the stored
 * snapshot before the first pull, so a restart during a cloud outage still boots the site.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { AgentConfig } from '../config.js';
import { log } from '../logger.js';
import { ArtifactCache } from '../cache/artifactCache.js';
import { CloudClient, type CloudObservation, type ObservationResult } from '../sync/cloudClient.js';
import { tokenSourceFor, type TokenStatus } from '../sync/tokenProvider.js';
import { CloudUnreachableError } from '../sync/cloudClient.js';
import { Syncer } from '../sync/syncer.js';
import { Outbox } from '../outbox/outbox.js';
import { bootCarriesSecrets, createAgentHttpServer } from '../pxe/http/server.js';
import { dhcpLeaseTable } from '../pxe/http/dhcpLeases.js';
import { createTftpServer, type TftpServer } from '../pxe/tftp/server.js';
import { startTftpProcess } from '../pxe/tftp/tftpProcess.js';
import { startDhcpProcess, httpBaseUrlOf, type DhcpProcessOptions } from '../pxe/dhcp/dhcpProcess.js';
import { DiscoveryReceipts, type DiscoveryStatus } from '../redfish/receipts.js';
import { createDhcpServer, type DhcpServer } from '../pxe/dhcp/server.js';
import { inventoryLeases } from '../pxe/dhcp/inventory.js';
import { createIscsiService, type IscsiServiceStatus } from '../iscsi/service.js';
import { hostname } from 'node:os';
import { bootScriptCarriesSecrets, iscsiBootParameters } from './iscsiBootParameters.js';
import { reportAgentPortals } from '../iscsi/portals-report.js';
import { startOrchestrator } from '../orchestrator/start.js';
import { BootOverrides } from '../orchestrator/rollout/bootOverrides.js';
import type { RolloutStatus } from '../orchestrator/rollout/operator.js';
import { createWorkloadManager } from '../orchestrator/workload/createWorkloadManager.js';
import { InMemoryBootTimeline } from '../timeline/bootTimeline.js';
import { adminSocketPath, startAdminSocket } from './adminSocket.js';
import { acquireDataDirLock, type DataDirLock } from './dataDirLock.js';
import { recordDhcpReply, recordTftpTransfer } from '../timeline/pxeEvents.js';
import { startTimelineReporter } from '../timeline/cloudReport.js';
import { startStatusReporter } from './statusReport.js';

export interface RunningAgent {
  config: AgentConfig;
  httpUrl: string;
  tftp: { address: string; port: number } | null;
  syncer: Syncer;
  outbox: Outbox;
  cache: ArtifactCache;
  /** What this agent served each node and the nodes' heartbeats (the rollout waits on it). */
  timeline: InMemoryBootTimeline;
  status(): Promise<AgentStatus>;
  stop(): Promise<void>;
}

export interface AgentStatus {
  agent: { pid: number; startedAt: string; dataDir: string; http: string; site: string | null };
  cloud: { configured: boolean; up: boolean | null; since: string; lastSuccessAt: string | null; lastError: string | null; consecutiveFailures: number; auth: TokenStatus | null };
  snapshot: { revision: number | null; contentHash: string | null; storedAt: string | null; nodes: number; lastPullAt: string | null; lastPullUnchanged: boolean | null };
  cache: Awaited<ReturnType<ArtifactCache['stats']>> & { referenced: number; missing: string[] };
  outbox: Awaited<ReturnType<Outbox['stats']>>;
  http: ReturnType<typeof createAgentHttpServer>['counters'];
  tftp: ReturnType<TftpServer['stats']> | null;
  dhcp: (ReturnType<DhcpServer['stats']> & { running: true; ports: ReturnType<DhcpServer['ports']> }) | { mode: string; running: false };
  iscsi: IscsiServiceStatus | { mode: string; running: false; lastReconcileAt: null; lastError: null };
  discovery: DiscoveryStatus;
  /** What the rollout operator did since start (null: no cloud, no rollout). */
  rollout: RolloutStatus | null;
}

/** Outbox transport when no cloud is configured: every delivery fails, entries wait on disk. */
const offlineTransport = {
  reportObservations: async (_b: CloudObservation[]): Promise<ObservationResult[]> => {
    throw new CloudUnreachableError('no --cloud configured');
  },
};

export interface StartAgentOptions {
  syncBackoffBaseMs?: number;
  outboxBackoffBaseMs?: number;
  outboxBackoffMaxMs?: number;
  /** DHCP listening ports (default 67 and 4011); tests in namespaces may move them. */
  dhcpPort?: number;
  dhcpPxePort?: number | null;
  /** This agent's name in iSCSI target IQNs and in its status reports (default: the short host name). */
  agentName?: string;
  /** Between `agent.status` reports to the cloud (default 60 s; run/statusReport.ts). */
  statusReportIntervalMs?: number;
  /**
   * Serve TFTP and DHCP from child processes started with these Node.js arguments (the program's
   * script: `skyboot-agent run` passes its own), away from this event loop (run/serverProcess.ts).
   * Without it they run in this process (tests that start the agent in theirs).
   */
  serverProcessEntry?: string[];
}

export async function startAgent(config: AgentConfig, opts: StartAgentOptions = {}): Promise<RunningAgent> {
  const startedAt = new Date().toISOString();
  await mkdir(config.dataDir, { recursive: true });
  // One agent per data dir; one-shot commands talk to it over the admin socket (run/adminSocket.ts).
  const lock = await acquireDataDirLock(config.dataDir, 'skyboot-agent run', { socket: adminSocketPath(config.dataDir) });
  try {
    return await startAgentHoldingLock(config, opts, startedAt, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startAgentHoldingLock(config: AgentConfig, opts: StartAgentOptions, startedAt: string, lock: DataDirLock): Promise<RunningAgent> {
  const cache = await new ArtifactCache(join(config.dataDir, 'cache')).init();
  const client = config.cloud ? new CloudClient({ url: config.cloud, tokens: tokenSourceFor(config) }) : null;
  const outbox = await new Outbox(join(config.dataDir, 'outbox'), client ?? offlineTransport, {
    baseDelayMs: opts.outboxBackoffBaseMs,
    maxDelayMs: opts.outboxBackoffMaxMs ?? Math.max(5_000, config.syncIntervalMs),
    maxBytes: config.outboxMaxBytes,
  }).init({ removeStaleTempFiles: true });
  const agentName = opts.agentName ?? hostname().split('.')[0]!.toLowerCase();
  // Before anything else is enqueued: the site's other agents learn this agent's portals from the snapshot.
  await reportAgentPortals(outbox, config.dataDir, agentName, config.iscsi);
  const iscsi = createIscsiService({ config, agentName, cache, sink: outbox });
  // Exports follow the verified cache: a rootfs that finishes downloading is exported at once.
  const unwatchCache = iscsi ? cache.onVerifiedChange(() => void iscsi.onCacheChange().catch(() => undefined)) : () => undefined;
  // Boot overrides of nodes being rolled: serving answers them with the session's target (or previous) boot.
  const overrides = await new BootOverrides(config.dataDir).init();
  let rolloutProtected: () => Promise<string[]> = async () => [];
  let rolloutStatus: () => RolloutStatus | null = () => null;
  // Set once a DHCP process runs: each stored snapshot's leases reach it.
  let dhcpInventoryChanged = (): void => undefined;
  const syncer = new Syncer(config.dataDir, client ?? new CloudClient({ url: 'http://127.0.0.1:9', token: 'none' }), cache, {
    intervalMs: config.syncIntervalMs,
    baseDelayMs: opts.syncBackoffBaseMs,
    // The link came back: deliver what waited instead of sleeping out the backoff.
    onLinkUp: () => outbox.nudge(),
    // Not awaited: a slow tgtd must not hold up the pull. Failures show in status and are
    // retried by the next cache change or periodic check.
    onSnapshot: (index) => {
      dhcpInventoryChanged();
      void iscsi?.onSnapshot(index.stored.snapshot).catch(() => undefined);
    },
    // GC keeps what tgt still exports (grace period, logged-in nodes), and what an in-flight rollout may boot.
    gcProtected: async () => [...(iscsi ? await iscsi.protectedRootfs() : []), ...(await rolloutProtected())],
  });
  await syncer.init();

  // One timeline for every server: DHCP, TFTP and HTTP each record what they served a node.
  const timeline = new InMemoryBootTimeline();
  // What serving sees: the snapshot with the boots of nodes being rolled overlaid.
  const index = () => overrides.overlay(syncer.index);
  // Set once DHCP runs (it needs the HTTP port first); node-scoped answers read its leases.
  let dhcp: DhcpServer | null = null;
  const leases = dhcpLeaseTable(() => dhcp);

  // Debian's /usr/lib/ipxe links ipxe.efi into /boot: the server allows each linked file, nothing else.
  const tftpOptions = config.tftp && config.tftpRoot ? { root: config.tftpRoot, address: config.tftp.address, port: config.tftp.port } : null;
  const tftpWorkers = config.tftpWorkers !== null ? { workers: config.tftpWorkers } : {};
  const onTransfer = recordTftpTransfer(timeline, index, leases);
  const tftp = !tftpOptions
    ? null
    : opts.serverProcessEntry
      ? await startTftpProcess({ entry: opts.serverProcessEntry, options: { ...tftpOptions, ...tftpWorkers }, onTransfer })
      : await createTftpServer({ ...tftpOptions, onTransfer });

  let statusFn: () => Promise<AgentStatus> = async () => { throw new Error('starting'); };
  const http = createAgentHttpServer({
    index,
    cache,
    outbox,
    status: () => statusFn(),
    advertiseUrl: config.advertiseUrl ?? undefined,
    ipxeDir: config.tftpRoot,
    leases,
    timeline,
    extraKernelParameters: iscsiBootParameters(
      config,
      agentName,
      () => syncer.index?.stored.snapshot.siteDomain ?? null,
      () => syncer.index?.stored.snapshot.iscsiPortals ?? [],
      iscsi ? (xname, sha) => iscsi.rootAccess(xname, sha) : undefined,
    ),
    ...(iscsi ? { bootScriptEpoch: () => iscsi.epoch() } : {}),
    // A script with the node's own CHAP secret is for that node alone (node-scoped serving).
    bootScriptCarriesSecrets: (node) => bootCarriesSecrets(node) || (node.boot !== null && bootScriptCarriesSecrets(config, node.boot)),
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.http.port, config.http.address, () => resolve());
  });
  const addr = http.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const httpUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`;

  // DHCP answers from the snapshot too: static leases are the inventory's MAC → IP.
  const dhcpOptions: DhcpProcessOptions = {
    mode: config.dhcp.mode,
    ...(config.dhcp.address ? { dhcpAddress: config.dhcp.address } : {}),
    interfaces: config.dhcp.interfaces,
    leaseFile: join(config.dataDir, 'dhcp-leases.json'),
    subnets: config.dhcp.subnet ? [{ cidr: config.dhcp.subnet, ...(config.dhcp.range ? { range: config.dhcp.range } : {}), ...(config.dhcp.router ? { router: config.dhcp.router } : {}) }] : [],
    // Each boot segment reaches the HTTP server at the agent's address on that segment.
    httpBaseUrl: config.advertiseUrl ?? { port: addr.port },
    ...(opts.dhcpPort !== undefined ? { port: opts.dhcpPort } : {}),
    ...(opts.dhcpPxePort !== undefined ? { pxePort: opts.dhcpPxePort } : {}),
  };
  const onReply = recordDhcpReply(timeline, index);
  const startDhcp = async (): Promise<DhcpServer> => {
    if (!opts.serverProcessEntry) {
      return createDhcpServer({ ...dhcpOptions, httpBaseUrl: httpBaseUrlOf(dhcpOptions.httpBaseUrl), ...inventoryLeases(() => syncer.index), onReply });
    }
    const child = await startDhcpProcess({ entry: opts.serverProcessEntry, options: dhcpOptions, inventory: () => syncer.index, onReply });
    dhcpInventoryChanged = () => child.inventoryChanged();
    return child;
  };
  dhcp = config.dhcp.mode === 'off'
    ? null
    : await startDhcp().catch(async (err: unknown) => {
      // A failed start-up check must end the start, not leave HTTP answering "starting".
      await new Promise<void>((r) => http.close(() => r()));
      await tftp?.close();
      throw err;
    });

  const receipts = new DiscoveryReceipts(config.dataDir, client);
  statusFn = async () => {
    const s = syncer.status();
    return {
      agent: { pid: process.pid, startedAt, dataDir: config.dataDir, http: httpUrl, site: syncer.index?.stored.snapshot.site ?? null },
      cloud: { configured: client !== null, up: s.link.up, since: s.link.since, lastSuccessAt: s.link.lastSuccessAt, lastError: s.link.lastError, consecutiveFailures: s.link.consecutiveFailures, auth: client?.tokens?.status() ?? null },
      snapshot: { revision: s.revision, contentHash: s.contentHash, storedAt: s.storedAt, nodes: syncer.index?.byXname.size ?? 0, lastPullAt: s.lastPullAt, lastPullUnchanged: s.lastPullUnchanged },
      cache: { ...(await cache.stats()), referenced: s.artifacts.referenced, missing: s.artifacts.missing },
      outbox: await outbox.stats(),
      http: { ...http.counters, refused: { ...http.counters.refused } },
      tftp: tftp?.stats() ?? null,
      dhcp: dhcp ? { ...dhcp.stats(), running: true, ports: dhcp.ports() } : { mode: config.dhcp.mode, running: false },
      iscsi: iscsi ? iscsi.status() : { mode: config.iscsi.mode, running: false, lastReconcileAt: null, lastError: null },
      discovery: await receipts.status(),
      rollout: rolloutStatus(),
    };
  };

  // The timeline reaches the cloud (Component.bootTimeline) through the outbox, batched.
  const timelineReporter = startTimelineReporter(timeline, outbox);
  const admin = await startAdminSocket({ dataDir: config.dataDir, outbox, status: () => statusFn() });
  if (client) syncer.start();
  outbox.start();
  // Site.agents: the cloud learns this agent's revision, outbox and cache from it.
  const statusReporter = client ? startStatusReporter({ agentName, status: () => statusFn(), sink: outbox, intervalMs: opts.statusReportIntervalMs }) : null;
  const stopIscsiChecks = iscsi?.startChecks() ?? (() => undefined);
  const orchestrator = await startOrchestrator({
    dataDir: config.dataDir,
    client,
    iscsi,
    rollout: {
      index: () => syncer.index,
      overrides,
      timeline,
      workload: createWorkloadManager(config.workload, { logger: log.child({ module: 'workload' }) }),
      // The claim made the target the node's desired state: pull, then serve it once its artifacts are cached.
      stageArtifacts: async (boot) => {
        const needed = [boot.kernel, boot.initrd, boot.rootfs].filter((x): x is string => !!x);
        for (let i = 0; i < 30; i++) {
          if ((await Promise.all(needed.map((sha) => cache.has(sha)))).every(Boolean)) return true;
          await syncer.syncOnce().catch(() => undefined);
          await new Promise((r) => setTimeout(r, 1000));
        }
        return false;
      },
    },
  });
  if (orchestrator.rollout) {
    rolloutProtected = () => orchestrator.rollout!.protectedArtifacts();
    rolloutStatus = () => orchestrator.rollout!.status();
  }
  log.info({ http: httpUrl, tftp: tftp?.address() ?? null, dhcp: dhcp?.ports() ?? null, iscsi: config.iscsi.mode, cloud: config.cloud, revision: syncer.index?.stored.revision ?? null }, 'agent running');

  return {
    config,
    httpUrl,
    tftp: tftp?.address() ?? null,
    syncer,
    outbox,
    cache,
    timeline,
    status: () => statusFn(),
    async stop() {
      statusReporter?.stop();
      stopIscsiChecks();
      unwatchCache();
      await orchestrator.stop();
      await timelineReporter.stop();
      await syncer.stop();
      await outbox.stop();
      const closed = new Promise<void>((r) => http.close(() => r()));
      http.closeAllConnections();
      await closed;
      await tftp?.close();
      await dhcp?.close();
      await admin?.close();
      await lock.release();
    },
  };
}
