import { BadUserInputError } from './errors.js';

const HEX12 = /^[0-9a-f]{12}$/;

/**
 * Accepts the notations BMCs, switches and humans write (aa:bb:.., aa-bb-.., aabb.ccdd.eeff,
 * aabbccddeeff) and returns lower-case colon form, the one key every lookup uses.
 */
export function normaliseMac(raw: string, field = 'mac'): string {
  if (typeof raw !== 'string') throw new BadUserInputError(field, 'a MAC address is required');
  const trimmed = raw.trim().toLowerCase();
  let hex: string;
  if (/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/.test(trimmed)) {
    if (trimmed.includes(':') && trimmed.includes('-')) throw new BadUserInputError(field, `"${raw}" mixes ':' and '-' separators`);
    hex = trimmed.replace(/[:-]/g, '');
  } else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(trimmed)) {
    hex = trimmed.replace(/\./g, '');
  } else {
    hex = trimmed;
  }
  if (!HEX12.test(hex)) throw new BadUserInputError(field, `"${raw}" is not a MAC address (expected six hex octets such as aa:bb:cc:dd:ee:ff)`);
  return hex.match(/../g)!.join(':');
}

/**
 * A MAC a node's interface can own: not broadcast (ff:ff:ff:ff:ff:ff), not all zeros and not a
 * multicast group address (low bit of the first octet), none of which a NIC sends from; DHCP
 * and the inventory's MAC → node lookup would otherwise hand every frame of that kind to one node.
 */
export function normaliseInterfaceMac(raw: string, field = 'mac'): string {
  const m = normaliseMac(raw, field);
  if (m === 'ff:ff:ff:ff:ff:ff') throw new BadUserInputError(field, `"${raw}" is the broadcast address, not an interface's MAC`);
  if (m === '00:00:00:00:00:00') throw new BadUserInputError(field, `"${raw}" is all zeros, not an interface's MAC`);
  if (parseInt(m.slice(0, 2), 16) & 1) throw new BadUserInputError(field, `"${raw}" is a multicast address (first octet odd), not an interface's MAC`);
  return m;
}

export function isMac(raw: string): boolean {
  try {
    normaliseMac(raw);
    return true;
  } catch {
    return false;
  }
}

/** True for a MAC normaliseInterfaceMac accepts (the agent skips the others a BMC lists, e.g. an unset port's zeros). */
export function isInterfaceMac(raw: string): boolean {
  try {
    normaliseInterfaceMac(raw);
    return true;
  } catch {
    return false;
  }
}
