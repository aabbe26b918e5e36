/**
 * Where `skyboot-agent discover` hands its report when the data dir belongs to an agent: the
 * agent's durable outbox (kind `inventory.reportDiscovery`, which the cloud applies through the
 * inventory's `reportDiscovery`, once per idempotency key). The entry is durable before the
 * command returns. A running agent picks it up through the handoff directory (handoff.ts) within
 * seconds, an agent started later from its outbox; when a cloud is configured the command also
 * sends it at once, so the operator sees it land. Every later delivery of the same key is
 * answered DUPLICATE and changes nothing.
 *
 * The command never drains the outbox itself: a running agent owns the pending entries it loaded,
 * and two processes removing each other's files would break its delivery.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAgentConfig } from '../config.js';
import { log } from '../logger.js';
import { Outbox } from '../outbox/outbox.js';
import type { ObservationSink } from '../outbox/sink.js';
import { CloudClient, CloudUnreachableError, type CloudObservation, type ObservationResult } from '../sync/cloudClient.js';
import { tokenSourceFor } from '../sync/tokenProvider.js';
import { writeHandoff } from './handoff.js';

export interface NotingSink extends ObservationSink {
  /** One line for the operator: where the last observation went. */
  note(): string;
}

const parked = {
  reportObservations: async (_b: CloudObservation[]): Promise<ObservationResult[]> => {
    throw new CloudUnreachableError('this command does not deliver the outbox; the agent does');
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

/** The agent's outbox in `dataDir` as a sink, or null when the data dir has none (no agent ran there). */
export async function outboxSinkFor(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<NotingSink | null> {
  const dir = join(dataDir, 'outbox');
  if (!(await isDir(join(dir, 'pending')))) return null;
  const outbox = await new Outbox(dir, parked).init();
  const client = configuredClient(dataDir, env);
  let note = 'nothing queued';
  return {
    note: () => note,
    async enqueue(kind, payload, idempotencyKey) {
      await outbox.enqueue(kind, payload, idempotencyKey);
      await writeHandoff(dataDir, { kind, idempotencyKey, payload });
      note = `report queued in the agent's outbox (${outbox.pendingDir}); the agent delivers it (a running one within seconds)`;
      if (!client) return;
      try {
        const [r] = await client.reportObservations([{ idempotencyKey, kind, at: new Date().toISOString(), payload }]);
        if (r?.outcome === 'REJECTED') note = `the cloud refused the report: ${r.error ?? 'no reason given'}`;
        else if (r) note = `report delivered to ${client.graphqlUrl} (${r.outcome})`;
      } catch (err) {
        note += ` (sending now failed: ${(err as Error).message})`;
      }
    },
  };
}
