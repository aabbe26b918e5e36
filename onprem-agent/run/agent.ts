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
import { CloudUnreachableError } from '../sync/cloudClient.js';
import { Syncer } from '../sync/syncer.js';
import { Outbox } from '../outbox/outbox.js';
import { createAgentHttpServer } from '../pxe/http/server.js';
import { createTftpServer, type TftpServer } from '../pxe/tftp/server.js';

export interface RunningAgent {
  config: AgentConfig;
  httpUrl: string;
  tftp: { address: string; port: number } | null;
  syncer: Syncer;
  outbox: Outbox;
  cache: ArtifactCache;
  status(): Promise<AgentStatus>;
  stop(): Promise<void>;
}

export interface AgentStatus {
  agent: { pid: number; startedAt: string; dataDir: string; http: string; site: string | null };
  cloud: { configured: boolean; up: boolean | null; since: string; lastSuccessAt: string | null; lastError: string | null; consecutiveFailures: number };
  snapshot: { revision: number | null; contentHash: string | null; storedAt: string | null; nodes: number; lastPullAt: string | null; lastPullUnchanged: boolean | null };
  cache: Awaited<ReturnType<ArtifactCache['stats']>> & { referenced: number; missing: string[] };
  outbox: Awaited<ReturnType<Outbox['stats']>>;
  http: ReturnType<typeof createAgentHttpServer>['counters'];
  tftp: ReturnType<TftpServer['stats']> | null;
  dhcp: { mode: string; running: boolean; note: string | null };
  iscsi: { mode: string; running: boolean; note: string | null };
}

/** Outbox transport when no cloud is configured: every delivery fails, entries wait on disk. */
const offlineTransport = {
  reportObservations: async (_b: CloudObservation[]): Promise<ObservationResult[]> => {
    throw new CloudUnreachableError('no --cloud configured');
  },
};

export async function startAgent(config: AgentConfig, opts: { syncBackoffBaseMs?: number; outboxBackoffBaseMs?: number; outboxBackoffMaxMs?: number } = {}): Promise<RunningAgent> {
  const startedAt = new Date().toISOString();
  await mkdir(config.dataDir, { recursive: true });
  const cache = await new ArtifactCache(join(config.dataDir, 'cache')).init();
  const client = config.cloud ? new CloudClient({ url: config.cloud, tokenFile: config.tokenFile ?? undefined }) : null;
  const outbox = await new Outbox(join(config.dataDir, 'outbox'), client ?? offlineTransport, {
    baseDelayMs: opts.outboxBackoffBaseMs,
    maxDelayMs: opts.outboxBackoffMaxMs ?? Math.max(5_000, config.syncIntervalMs),
  }).init();
  const syncer = new Syncer(config.dataDir, client ?? new CloudClient({ url: 'http://127.0.0.1:9', token: 'none' }), cache, {
    intervalMs: config.syncIntervalMs,
    baseDelayMs: opts.syncBackoffBaseMs,
    // The link came back: deliver what waited instead of sleeping out the backoff.
    onLinkUp: () => outbox.nudge(),
  });
  await syncer.init();

  const notes = {
    dhcp: config.dhcp.mode === 'off' ? null : 'this build has no DHCP service entry point in onprem-agent/pxe/dhcp yet; DHCP is not running',
    iscsi: config.iscsi.mode === 'off' ? null : 'iSCSI reconcile on snapshot change is not wired into run yet; use `skyboot-agent export reconcile`',
  };
  for (const [svc, note] of Object.entries(notes)) if (note) log.warn({ service: svc }, note);

  const tftp = config.tftp && config.tftpRoot ? await createTftpServer({ root: config.tftpRoot, address: config.tftp.address, port: config.tftp.port }) : null;

  let statusFn: () => Promise<AgentStatus> = async () => { throw new Error('starting'); };
  const http = createAgentHttpServer({ index: () => syncer.index, cache, outbox, status: () => statusFn(), advertiseUrl: config.advertiseUrl ?? undefined });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.http.port, config.http.address, () => resolve());
  });
  const addr = http.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const httpUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`;

  statusFn = async () => {
    const s = syncer.status();
    return {
      agent: { pid: process.pid, startedAt, dataDir: config.dataDir, http: httpUrl, site: syncer.index?.stored.snapshot.site ?? null },
      cloud: { configured: client !== null, up: s.link.up, since: s.link.since, lastSuccessAt: s.link.lastSuccessAt, lastError: s.link.lastError, consecutiveFailures: s.link.consecutiveFailures },
      snapshot: { revision: s.revision, contentHash: s.contentHash, storedAt: s.storedAt, nodes: syncer.index?.byXname.size ?? 0, lastPullAt: s.lastPullAt, lastPullUnchanged: s.lastPullUnchanged },
      cache: { ...(await cache.stats()), referenced: s.artifacts.referenced, missing: s.artifacts.missing },
      outbox: await outbox.stats(),
      http: { ...http.counters },
      tftp: tftp?.stats() ?? null,
      dhcp: { mode: config.dhcp.mode, running: false, note: notes.dhcp },
      iscsi: { mode: config.iscsi.mode, running: false, note: notes.iscsi },
    };
  };

  if (client) syncer.start();
  outbox.start();
  log.info({ http: httpUrl, tftp: tftp?.address() ?? null, cloud: config.cloud, revision: syncer.index?.stored.revision ?? null }, 'agent running');

  return {
    config,
    httpUrl,
    tftp: tftp?.address() ?? null,
    syncer,
    outbox,
    cache,
    status: () => statusFn(),
    async stop() {
      await syncer.stop();
      await outbox.stop();
      const closed = new Promise<void>((r) => http.close(() => r()));
      http.closeAllConnections();
      await closed;
      await tftp?.close();
    },
  };
}
