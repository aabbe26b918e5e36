/**
 * Scan targets from `--range` values: `[scheme://]CIDR|HOST[:PORT|:FIRST-LAST]`. A port range
 * addresses many BMCs behind one address, which is how simulated fleets (and some BMC proxies)
 * are reached.
 */
import { BadUserInputError } from '../../schema/errors.js';
import { intToIPv4, parseCidr } from '../../schema/ip.js';
import type { BmcAddress } from './transport.js';

export const MAX_TARGETS = 65_536;

function ports(raw: string | undefined, scheme: 'http' | 'https', field: string, value: string): number[] {
  if (raw === undefined) return [scheme === 'https' ? 443 : 80];
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(raw);
  const first = m ? Number(m[1]) : NaN;
  const last = m?.[2] !== undefined ? Number(m[2]) : first;
  if (!m || first < 1 || last > 65535 || last < first) {
    throw new BadUserInputError(field, `"${value}": "${raw}" is not a port or port range (1-65535, FIRST-LAST)`);
  }
  return Array.from({ length: last - first + 1 }, (_, k) => first + k);
}

export function parseTarget(value: string, defaultScheme: 'http' | 'https' = 'https', field = 'range'): BmcAddress[] {
  let rest = value.trim();
  let scheme = defaultScheme;
  const s = /^(https?):\/\//i.exec(rest);
  if (s) {
    scheme = s[1]!.toLowerCase() as 'http' | 'https';
    rest = rest.slice(s[0].length);
  }
  rest = rest.replace(/\/+$/, '');
  // host[:port] where host may be a CIDR block; IPv6 literals are not BMC practice here.
  const m = /^([^:\s]+?)(?::([\d-]+))?$/.exec(rest);
  if (!m) throw new BadUserInputError(field, `"${value}" is not CIDR, HOST or HOST:PORT`);
  const hostPart = m[1]!;
  const portList = ports(m[2], scheme, field, value);
  let hosts: string[];
  if (hostPart.includes('/')) {
    const cidr = parseCidr(hostPart, field);
    const size = cidr.last - cidr.first + 1;
    if (size * portList.length > MAX_TARGETS) throw new BadUserInputError(field, `"${value}" expands to ${size * portList.length} addresses; at most ${MAX_TARGETS} per run`);
    // Network and broadcast addresses are not hosts, except in /31 and /32.
    const skipEnds = cidr.prefix < 31;
    hosts = [];
    for (let n = cidr.first + (skipEnds ? 1 : 0); n <= cidr.last - (skipEnds ? 1 : 0); n++) hosts.push(intToIPv4(n));
  } else {
    if (!/^[A-Za-z0-9.-]+$/.test(hostPart)) throw new BadUserInputError(field, `"${value}": "${hostPart}" is not a host name or IPv4 address`);
    hosts = [hostPart.toLowerCase()];
  }
  const out: BmcAddress[] = [];
  for (const host of hosts) for (const port of portList) out.push({ host, port, scheme });
  return out;
}

export function parseTargets(values: string[], defaultScheme: 'http' | 'https' = 'https'): BmcAddress[] {
  const seen = new Set<string>();
  const out: BmcAddress[] = [];
  for (const v of values) {
    for (const t of parseTarget(v, defaultScheme)) {
      const key = `${t.host}:${t.port}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(t);
      }
    }
  }
  if (out.length > MAX_TARGETS) throw new BadUserInputError('range', `the ranges expand to ${out.length} addresses; at most ${MAX_TARGETS} per run`);
  return out;
}
