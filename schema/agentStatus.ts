/**
 * The `agent.status` observation, the contract between the agent that sends it
 * (onprem-agent/run/statusReport.ts) and the cloud that keeps the newest one per agent
 * (functions/sites/agentStatus.ts, `Site.agents`): what an operator's overview needs to know
 * about a site's agents without reaching the site. Keys are allow-listed; anything else is
 * refused naming its path, so a newer agent's extra key fails loudly instead of vanishing.
 */
import { BadUserInputError } from './errors.js';
import { assertAgentName } from './iscsiPortal.js';

export const AGENT_STATUS_KIND = 'agent.status';

/** The agent's service modes (its config keys `dhcp` and `iscsi` take these; the report names them). */
export const DHCP_MODES = ['proxy', 'full', 'off'] as const;
export const ISCSI_MODES = ['tgt', 'lio', 'off'] as const;

export interface AgentStatusReport {
  /** The agent's name (its host name by default): a DNS label, as for iSCSI portals. */
  agent: string;
  version: string;
  startedAt: string;
  snapshot: { revision: number | null; nodes: number; lastPullAt: string | null };
  outbox: { depth: number; bytes: number; oldestEnqueuedAt: string | null; parked: number };
  cache: { entries: number; bytes: number; missing: number };
  services: { dhcp: (typeof DHCP_MODES)[number]; tftp: boolean; iscsi: (typeof ISCSI_MODES)[number] };
}

type Check<T> = (v: unknown, path: string) => T;

const refuse = (path: string, v: unknown, why: string): never => {
  throw new BadUserInputError(path, `${JSON.stringify(v) ?? String(v)} ${why}`);
};
const count: Check<number> = (v, p) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : refuse(p, v, 'is not a count (an integer ≥ 0)'));
const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : refuse(p, v, 'is not true or false'));
const text: Check<string> = (v, p) => (typeof v === 'string' && v.length > 0 && v.length <= 64 ? v : refuse(p, v, 'is not a string of 1-64 characters'));
const time: Check<string> = (v, p) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : refuse(p, v, 'is not an ISO 8601 time'));
const orNull = <T>(c: Check<T>): Check<T | null> => (v, p) => (v === null || v === undefined ? null : c(v, p));
const oneOf = <T extends string>(values: readonly T[]): Check<T> => (v, p) => ((values as readonly unknown[]).includes(v) ? (v as T) : refuse(p, v, `is not one of ${values.join(', ')}`));

function record<S extends Record<string, Check<unknown>>>(shape: S): Check<{ [K in keyof S]: ReturnType<S[K]> }> {
  return (v, p) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return refuse(p, v, 'is not an object');
    const extra = Object.keys(v).find((k) => !(k in shape));
    if (extra !== undefined) refuse(`${p}.${extra}`, (v as Record<string, unknown>)[extra], `is not a key of ${AGENT_STATUS_KIND} (allowed: ${Object.keys(shape).join(', ')})`);
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape)) out[k] = check((v as Record<string, unknown>)[k], `${p}.${k}`);
    return out as { [K in keyof S]: ReturnType<S[K]> };
  };
}

const reportCheck = record({
  agent: (v, p) => assertAgentName(v as string, p),
  version: text,
  startedAt: time,
  snapshot: record({ revision: orNull(count), nodes: count, lastPullAt: orNull(time) }),
  outbox: record({ depth: count, bytes: count, oldestEnqueuedAt: orNull(time), parked: count }),
  cache: record({ entries: count, bytes: count, missing: count }),
  services: record({ dhcp: oneOf(DHCP_MODES), tftp: bool, iscsi: oneOf(ISCSI_MODES) }),
});

/** Validates an `agent.status` payload; errors name the path under `path` (payload.outbox.depth). */
export function parseAgentStatusReport(payload: unknown, path = 'payload'): AgentStatusReport {
  return reportCheck(payload, path);
}
