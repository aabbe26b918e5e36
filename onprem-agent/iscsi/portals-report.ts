/**
 * The `agent.portals` observation: the portals this agent advertises, sent through the outbox at
 * every `run` start, so the cloud hands them to all the site's agents in the snapshot (each
 * boot script then lists a path per portal of every agent). An agent that advertised portals
 * and now runs with iSCSI off or none sends an empty list, which withdraws them.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { normalisePortals } from '../../schema/iscsiPortal.js';
import type { AgentConfig } from '../config.js';
import type { ObservationSink } from '../outbox/sink.js';
import { writeFileAtomic } from '../sync/atomicFile.js';
import { assertAgentName } from './naming.js';

export const AGENT_PORTALS_KIND = 'agent.portals';
/** What this agent last sent, to know whether it has anything to withdraw. */
const REPORTED_FILE = 'iscsi-portals-reported.json';

export interface AgentPortalsReport {
  agent: string;
  portals: string[];
}

/** The portals the config makes this agent advertise: none with iSCSI off. */
export function advertisedPortals(iscsi: AgentConfig['iscsi']): string[] {
  return iscsi.mode === 'off' ? [] : normalisePortals(iscsi.portals, 'iscsiPortal');
}

async function lastReported(dataDir: string): Promise<string[] | null> {
  try {
    return (JSON.parse(await readFile(join(dataDir, REPORTED_FILE), 'utf8')) as AgentPortalsReport).portals;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Enqueues this run's portals; null when there is nothing to say (no portals now and none
 * reported before). The key carries the start time, so a set that changes and changes back is
 * still applied (the cloud keeps an observation key for 30 days).
 */
export async function reportAgentPortals(sink: ObservationSink, dataDir: string, agentName: string, iscsi: AgentConfig['iscsi'], now = new Date()): Promise<AgentPortalsReport | null> {
  const portals = advertisedPortals(iscsi);
  // Checked only when there is something to send: an agent without iSCSI may have any host name.
  if (portals.length === 0 && !(await lastReported(dataDir))?.length) return null;
  const report: AgentPortalsReport = { agent: assertAgentName(agentName), portals };
  const digest = createHash('sha256').update(report.portals.join(',')).digest('hex').slice(0, 16);
  await sink.enqueue(AGENT_PORTALS_KIND, report, `${AGENT_PORTALS_KIND}:${report.agent}:${digest}:${now.getTime()}`);
  await writeFileAtomic(join(dataDir, REPORTED_FILE), JSON.stringify(report));
  return report;
}
