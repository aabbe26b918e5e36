/**
 * Deterministic identity for simulated hardware: the same seed, BMC index and label always give
 * the same MAC, serial or UUID, so re-discovery of a restarted fleet sees the same machines.
 */
import { createHash } from 'node:crypto';

function digest(seed: string, ...parts: Array<string | number>): Buffer {
  return createHash('sha256').update([seed, ...parts].join('\u0000')).digest();
}

/** Locally administered unicast (0x02 first octet), so it never collides with a real vendor OUI. */
export function seededMac(seed: string, ...parts: Array<string | number>): string {
  const d = digest(seed, 'mac', ...parts);
  const bytes = [0x02, d[0]!, d[1]!, d[2]!, d[3]!, d[4]!];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':').toUpperCase();
}

export function seededSerial(prefix: string, seed: string, ...parts: Array<string | number>): string {
  const d = digest(seed, 'serial', prefix, ...parts);
  return prefix + d.toString('hex').slice(0, 10).toUpperCase();
}

export function seededUuid(seed: string, ...parts: Array<string | number>): string {
  const h = digest(seed, 'uuid', ...parts).toString('hex');
  // Version 4 layout bits, so strict UUID parsers accept it.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
