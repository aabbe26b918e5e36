/**
 * Where `skyboot-agent discover` hands its report when the data dir belongs to an agent (kind
 * `inventory.reportDiscovery`, which the cloud applies through the inventory's `reportDiscovery`,
 * once per idempotency key). A report larger than a part is split (discoveryParts.ts).
 *
 * Who owns the outbox decides the path (run/dataDirLock.ts):
 * - an agent runs on the data dir: the command never opens its files; it hands each part to the
 *   agent over the admin socket (run/adminSocket.ts), which enqueues it durably before it
 *   answers, and waits a few seconds to tell the operator whether the cloud took it;
 * - no agent runs: the command takes the data dir lock, enqueues into the outbox, and when a
 *   cloud is configured delivers at once (the outbox is its own while it holds the lock); what
 *   it cannot deliver waits for the next `skyboot-agent run`.
 * Every later delivery of the same key is answered DUPLICATE and changes nothing.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAgentConfig } from '../config.js';
import { log } from '../logger.js';
import { Outbox, type EntryState } from '../outbox/outbox.js';
import type { ObservationSink } from '../outbox/sink.js';
import { REPORT_DISCOVERY_KIND } from '../redfish/cloud-input.js';
import { agentRequest, AgentUnreachableError } from '../run/adminSocket.js';
import { DataDirLockedError, withDataDirLock, type LockHolder } from '../run/dataDirLock.js';
import { CloudClient, CloudUnreachableError, type CloudObservation, type ObservationResult } from '../sync/cloudClient.js';
import { splitDiscoveryReport, type DiscoveryPayload } from './discoveryParts.js';
import { tokenSourceFor } from '../sync/tokenProvider.js';

export interface NotingSink extends ObservationSink {
  /** One line for the operator: where the last observation went. */
  note(): string;
}

/** How long the command waits for the running agent to deliver before it says "queued". */
const AGENT_DELIVERY_WAIT_MS = 10_000;

const parked = {
  reportObservations: async (_b: CloudObservation[]): Promise<ObservationResult[]> => {
    throw new CloudUnreachableError('no cloud configured; the agent delivers it');
  },
};

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

/** The cloud client from the agent's config (file, environment), or null when none is set. */
function configuredClient(dataDir: string, env: NodeJS.ProcessEnv): CloudClient | null {
  try {
    const cfg = loadAgentConfig({ dataDir }, env);
    return cfg.cloud ? new CloudClient({ url: cfg.cloud, tokens: tokenSourceFor(cfg), timeoutMs: 30_000 }) : null;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'agent config unusable; the report waits in the outbox');
    return null;
  }
}

function partsOf(kind: string, payload: unknown, key: string): { idempotencyKey: string; payload: unknown }[] {
  return kind === REPORT_DISCOVERY_KIND ? splitDiscoveryReport(key, (payload ?? {}) as DiscoveryPayload) : [{ idempotencyKey: key, payload }];
}

/** "3 parts: 2 delivered (STORED), 1 queued" from each part's state. */
function describe(states: EntryState[]): string {
  const counts = new Map<string, number>();
  const reasons: string[] = [];
  for (const s of states) {
    const label = s.state === 'delivered' ? `delivered (${s.outcome})` : s.state === 'pending' ? 'queued' : s.state;
    counts.set(label, (counts.get(label) ?? 0) + 1);
    if (s.state === 'parked') reasons.push(s.reason);
  }
  const text = [...counts].map(([l, n]) => (states.length === 1 ? l : `${n} ${l}`)).join(', ');
  return `${states.length === 1 ? '' : `${states.length} parts: `}${text}${reasons.length ? `; parked because: ${[...new Set(reasons)].join('; ')}` : ''}`;
}

/** An agent that took the lock a moment ago may not listen yet: retry for a few seconds. */
async function untilListening<T>(call: () => Promise<T>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof AgentUnreachableError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function handToAgent(holder: LockHolder, kind: string, parts: { idempotencyKey: string; payload: unknown }[]): Promise<string> {
  if (!holder.socket) throw new Error(`the agent (pid ${holder.pid}, ${holder.command}) holds the data dir but offers no admin socket; it cannot take the report`);
  for (const p of parts) {
    const res = await untilListening(() => agentRequest(holder.socket!, 'POST', '/observations', { kind, idempotencyKey: p.idempotencyKey, payload: p.payload }));
    if (res.status !== 202) throw new Error(`the running agent (pid ${holder.pid}) refused the report (HTTP ${res.status}): ${(res.body as { error?: string }).error ?? 'no reason given'}`);
  }
  const deadline = Date.now() + AGENT_DELIVERY_WAIT_MS;
  let states: EntryState[];
  for (;;) {
    states = await Promise.all(parts.map(async (p) => (await agentRequest(holder.socket!, 'GET', `/observations/${p.idempotencyKey}`)).body as EntryState));
    if (!states.some((s) => s.state === 'pending') || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const waiting = states.some((s) => s.state === 'pending') ? "; the agent delivers what is queued when the cloud answers (see `skyboot-agent status`)" : '';
  return `report handed to the running agent (pid ${holder.pid}): ${describe(states)}${waiting}`;
}

async function enqueueAsOwner(dataDir: string, env: NodeJS.ProcessEnv, kind: string, parts: { idempotencyKey: string; payload: unknown }[]): Promise<string> {
  return withDataDirLock(dataDir, 'skyboot-agent discover', async () => {
    const client = configuredClient(dataDir, env);
    const outbox = await new Outbox(join(dataDir, 'outbox'), client ?? parked).init({ removeStaleTempFiles: true });
    for (const p of parts) await outbox.enqueue(kind, p.payload, p.idempotencyKey);
    const queued = `report queued in the agent's outbox (${outbox.pendingDir}); \`skyboot-agent run\` delivers it`;
    if (!client) return queued;
    try {
      await outbox.drain();
    } catch (err) {
      return `${queued} (sending now failed: ${(err as Error).message})`;
    }
    return `report sent to ${client.graphqlUrl}: ${describe(parts.map((p) => outbox.whereIs(p.idempotencyKey)))}`;
  });
}

/** The agent's outbox in `dataDir` as a sink, or null when the data dir has none (no agent ran there). */
export async function outboxSinkFor(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<NotingSink | null> {
  if (!(await isDir(join(dataDir, 'outbox', 'pending')))) return null;
  let note = 'nothing queued';
  return {
    note: () => note,
    async enqueue(kind, payload, idempotencyKey) {
      const parts = partsOf(kind, payload, idempotencyKey);
      try {
        note = await enqueueAsOwner(dataDir, env, kind, parts);
      } catch (err) {
        if (!(err instanceof DataDirLockedError)) throw err;
        note = await handToAgent(err.holder, kind, parts);
      }
    },
  };
}
