/**
 * Xnames as HSM defines them: a letter-number path from cabinet (or system/CDU) down.
 * Normalisation follows HSM: lower case, numbers without leading zeros.
 */
import { BadUserInputError } from './errors.js';

export const XNAME_TYPES = {
  s: 'System',
  d: 'CDU',
  dw: 'CDUMgmtSwitch',
  x: 'Cabinet',
  xm: 'CabinetPDUController',
  xmp: 'CabinetPDU',
  xc: 'Chassis',
  xcb: 'ChassisBMC',
  xcw: 'MgmtSwitch',
  xchs: 'MgmtHLSwitch',
  xcs: 'ComputeModule',
  xcse: 'NodeEnclosure',
  xcsb: 'NodeBMC',
  xcsbi: 'NodeBMCNic',
  xcsbn: 'Node',
  xcsbnp: 'Processor',
  xcsbnd: 'Memory',
  xcsbna: 'NodeAccel',
  xcsbnh: 'NodeHsnNic',
  xcsbni: 'NodeNic',
  xcr: 'RouterModule',
  xcrb: 'RouterBMC',
  xcre: 'HSNBoard',
} as const;

export type XNameType = (typeof XNAME_TYPES)[keyof typeof XNAME_TYPES];

export interface ParsedXName {
  xname: string;
  type: XNameType;
  /** The xname of the enclosing component, or null at the top (cabinet, CDU, system). */
  parent: string | null;
}

const SEGMENT = /([a-z])(\d+)/g;
const MAX_ORDINAL = 999_999;

/** Parses and normalises an xname; throws BadUserInputError naming `field` when it is not one. */
export function parseXName(raw: string, field = 'xname'): ParsedXName {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new BadUserInputError(field, 'an xname is required');
  }
  if (raw.length > 64) throw new BadUserInputError(field, `"${raw.slice(0, 64)}…" is longer than 64 characters`);
  const lower = raw.trim().toLowerCase();
  if (!/^([a-z]\d+)+$/.test(lower)) {
    throw new BadUserInputError(field, `"${raw}" is not an xname: expected letter-number segments such as x1000c0s0b0n0`);
  }
  const letters: string[] = [];
  const parts: string[] = [];
  for (const m of lower.matchAll(SEGMENT)) {
    const n = Number(m[2]);
    if (n > MAX_ORDINAL) throw new BadUserInputError(field, `"${raw}": ordinal ${m[2]} is larger than ${MAX_ORDINAL}`);
    letters.push(m[1]!);
    parts.push(`${m[1]}${n}`);
  }
  const shape = letters.join('');
  const type = (XNAME_TYPES as Record<string, XNameType>)[shape];
  if (!type) throw new BadUserInputError(field, `"${raw}" has no component type: segment sequence "${shape}" is not one HSM defines`);
  return { xname: parts.join(''), type, parent: parts.length > 1 ? parts.slice(0, -1).join('') : null };
}

export function normaliseXName(raw: string, field = 'xname'): string {
  return parseXName(raw, field).xname;
}

export function isXName(raw: string): boolean {
  try {
    parseXName(raw);
    return true;
  } catch {
    return false;
  }
}
