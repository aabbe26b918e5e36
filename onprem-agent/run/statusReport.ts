/**
 * The agent tells the cloud about itself: an `agent.status` observation (schema/agentStatus.ts)
 * through the outbox, shortly after start and then every interval, so `Site.agents` (and the
 * console's overview) show each agent's last contact, snapshot revision, outbox and cache without
 * reaching the site. While the cloud does not answer, none is enqueued: a status is only worth
 * its newest copy, and an outage should not queue an hour of them ahead of what the site reports;
 * the first one after the link returns carries the backlog's depth.
 */
import { parseAgentStatusReport, AGENT_STATUS_KIND, type AgentStatusReport } from '../../schema/agentStatus.js';
import { packageVersion } from '../../schema/version.js';
import { log } from '../logger.js';
import type { ObservationSink } from '../outbox/sink.js';
import type { AgentStatus } from './agent.js';

/** Default interval between reports; `Site.agents` calls an agent quiet after a few of them. */
export const STATUS_REPORT_INTERVAL_MS = 60_000;
/** The first report, once the first pull had time to set the link's state. */
const FIRST_REPORT_DELAY_MS = 2_000;

export function agentStatusReport(agentName: string, s: AgentStatus): AgentStatusReport {
  // Validated here as the cloud validates it: a report the cloud would refuse is never queued.
  return parseAgentStatusReport({
    agent: agentName,
    version: packageVersion(),
    startedAt: s.agent.startedAt,
    snapshot: { revision: s.snapshot.revision, nodes: s.snapshot.nodes, lastPullAt: s.snapshot.lastPullAt },
    outbox: { depth: s.outbox.depth, bytes: s.outbox.bytes, oldestEnqueuedAt: s.outbox.oldestEnqueuedAt, parked: s.outbox.parked.count },
    cache: { entries: s.cache.entries, bytes: s.cache.bytes, missing: s.cache.missing.length },
    services: { dhcp: s.dhcp.running ? s.dhcp.mode : 'off', tftp: s.tftp !== null, iscsi: s.iscsi.running ? s.iscsi.mode : 'off' },
  }, 'agent.status');
}

export interface StatusReporter {
  /** Enqueues a report now unless the cloud is down; true when one was enqueued. */
  report(): Promise<boolean>;
  stop(): void;
}

export function startStatusReporter(opts: { agentName: string; status: () => Promise<AgentStatus>; sink: ObservationSink; intervalMs?: number }): StatusReporter {
  const intervalMs = opts.intervalMs ?? STATUS_REPORT_INTERVAL_MS;
  let refusedOnce = false;
  const report = async (): Promise<boolean> => {
    const s = await opts.status();
    if (!s.cloud.configured || s.cloud.up === false) return false;
    let r: AgentStatusReport;
    try {
      r = agentStatusReport(opts.agentName, s);
    } catch (err) {
      // The agent's name is not a DNS label, say: logged once, not every minute.
      if (!refusedOnce) log.warn({ err: (err as Error).message }, 'agent status not reported to the cloud');
      refusedOnce = true;
      return false;
    }
    await opts.sink.enqueue(AGENT_STATUS_KIND, r, `${AGENT_STATUS_KIND}:${r.agent}:${Date.now()}`);
    return true;
  };
  const tick = () => void report().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'agent status report failed; trying at the next interval'));
  const first = setTimeout(tick, Math.min(FIRST_REPORT_DELAY_MS, intervalMs));
  const every = setInterval(tick, intervalMs);
  first.unref();
  every.unref();
  return {
    report,
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
