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

export function isMac(raw: string): boolean {
  try {
    normaliseMac(raw);
    return true;
  } catch {
    return false;
  }
}
