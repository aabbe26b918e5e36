import { BadUserInputError } from './errors.js';

/** Dotted-quad IPv4 without leading zeros (which some parsers read as octal). */
export function normaliseIPv4(raw: string, field = 'ipAddress'): string {
  if (typeof raw !== 'string') throw new BadUserInputError(field, 'an IPv4 address is required');
  const s = raw.trim();
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) {
    throw new BadUserInputError(field, `"${raw}" is not an IPv4 address (expected four numbers 0-255 without leading zeros)`);
  }
  return s;
}

export function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr {
  network: string;
  prefix: number;
  /** First and last address of the block, as integers. */
  first: number;
  last: number;
}

export function parseCidr(raw: string, field = 'cidr'): Cidr {
  if (typeof raw !== 'string') throw new BadUserInputError(field, 'a CIDR block is required');
  const [addr, len, extra] = raw.trim().split('/');
  if (addr === undefined || len === undefined || extra !== undefined || !/^\d{1,2}$/.test(len) || Number(len) > 32) {
    throw new BadUserInputError(field, `"${raw}" is not a CIDR block (expected a.b.c.d/len with len 0-32)`);
  }
  const prefix = Number(len);
  const base = ipv4ToInt(normaliseIPv4(addr, field));
  const size = 2 ** (32 - prefix);
  const first = base - (base % size);
  return { network: intToIPv4(first), prefix, first, last: first + size - 1 };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n >= cidr.first && n <= cidr.last;
}
