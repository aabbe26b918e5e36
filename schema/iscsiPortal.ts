/**
 * iSCSI portals and agent names, checked the same way where an agent advertises them (config,
 * boot parameters) and where the cloud accepts them (`agent.portals` observations), so a portal
 * the cloud stores is always one a boot script can carry.
 */
import { BadUserInputError } from './errors.js';
import { normaliseIPv4 } from './ip.js';

export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Agent names end up in target IQNs, so they are DNS labels (lower-cased here). */
export function assertAgentName(agentName: string, field = 'agentName'): string {
  const lower = typeof agentName === 'string' ? agentName.toLowerCase() : '';
  if (!DNS_LABEL.test(lower)) throw new BadUserInputError(field, `"${String(agentName)}" must be a DNS label (a-z, 0-9, '-', at most 63)`);
  return lower;
}

/** Validates `ADDR:PORT` (IPv4) and returns its parts; portals are what agents advertise to nodes. */
export function parsePortal(raw: string, field = 'portal'): { address: string; port: number } {
  const m = /^([^:]+):(\d{1,5})$/.exec(typeof raw === 'string' ? raw.trim() : '');
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new BadUserInputError(field, `"${String(raw)}" is not ADDR:PORT with a port 1-65535`);
  return { address: normaliseIPv4(m[1]!, field), port };
}

/** The portals as `ADDR:PORT`, normalised, without repeats, sorted: equal sets compare equal. */
export function normalisePortals(raw: readonly string[], field = 'portals'): string[] {
  const out = raw.map((p, i) => {
    const { address, port } = parsePortal(p, `${field}[${i}]`);
    return `${address}:${port}`;
  });
  return [...new Set(out)].sort();
}
