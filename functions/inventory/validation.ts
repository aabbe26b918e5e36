/**
 * Input checks shared by every inventory operation. The gateway's scalars already normalise
 * xnames, MACs and IPs, but agents and tests call the handler directly, so each value is
 * validated again here with the same schema/ validators.
 */
import { BadUserInputError } from '../../schema/errors.js';
import { normaliseXName } from '../../schema/xname.js';
import { normaliseInterfaceMac, normaliseMac } from '../../schema/mac.js';
import { normaliseIPv4 } from '../../schema/ip.js';

/** Site, group, partition and network names end up inside keys, so '#' and spaces are refused. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;

export function name(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || !NAME.test(raw)) {
    throw new BadUserInputError(field, `"${String(raw)}" is not a valid name (1-63 of letters, digits, '_', '.', ':', '-', starting with a letter or digit)`);
  }
  return raw;
}

export function optionalName(raw: unknown, field: string): string | undefined {
  return raw === undefined || raw === null ? undefined : name(raw, field);
}

export function optionalString(raw: unknown, field: string, max = 1024): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') throw new BadUserInputError(field, 'must be a string');
  if (raw.length > max) throw new BadUserInputError(field, `is longer than ${max} characters`);
  return raw;
}

export function optionalBoolean(raw: unknown, field: string): boolean | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'boolean') throw new BadUserInputError(field, 'must be true or false');
  return raw;
}

export function optionalInt(raw: unknown, field: string, min = 0, max = 2 ** 31 - 1): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    throw new BadUserInputError(field, `must be an integer between ${min} and ${max}`);
  }
  return raw;
}

export function xname(raw: unknown, field = 'xname'): string {
  return normaliseXName(raw as string, field);
}

export function mac(raw: unknown, field = 'mac'): string {
  return normaliseMac(raw as string, field);
}

/** A MAC stored on an interface: broadcast, zero and multicast addresses refused. */
export function interfaceMac(raw: unknown, field = 'mac'): string {
  return normaliseInterfaceMac(raw as string, field);
}

export function ipv4(raw: unknown, field = 'ipAddress'): string {
  return normaliseIPv4(raw as string, field);
}

export function stringList(raw: unknown, field: string, maxItems = 64): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new BadUserInputError(field, 'must be a list');
  if (raw.length > maxItems) throw new BadUserInputError(field, `has more than ${maxItems} entries`);
  return raw.map((v, i) => optionalString(v, `${field}[${i}]`, 256) ?? '');
}

export function list(raw: unknown, field: string): unknown[] {
  if (!Array.isArray(raw)) throw new BadUserInputError(field, 'must be a list');
  return raw;
}

export function object(raw: unknown, field: string): Record<string, unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BadUserInputError(field, 'must be an object');
  return raw as Record<string, unknown>;
}
