/** The inventory enums as the SDL names them, with membership checks for direct handler calls. */
import { BadUserInputError } from '../../schema/errors.js';

export const STATES = ['UNKNOWN', 'EMPTY', 'POPULATED', 'OFF', 'ON', 'STANDBY', 'HALT', 'READY'] as const;
export type State = (typeof STATES)[number];
export const FLAGS = ['OK', 'WARNING', 'ALERT', 'LOCKED'] as const;
export type Flag = (typeof FLAGS)[number];
export const ROLES = ['COMPUTE', 'SERVICE', 'SYSTEM', 'APPLICATION', 'STORAGE', 'MANAGEMENT'] as const;
export type ComponentRole = (typeof ROLES)[number];
export const ARCHES = ['X86', 'ARM', 'OTHER'] as const;
export type Arch = (typeof ARCHES)[number];
export const DISCOVERY_STATUSES = ['PENDING', 'IN_PROGRESS', 'OK', 'FAILED'] as const;
export type DiscoveryStatus = (typeof DISCOVERY_STATUSES)[number];

/** The gateway's enum parsing already did this; agents and tests call the handler directly. */
export function enumValue<T extends string>(values: readonly T[], raw: unknown, field: string): T {
  if (typeof raw === 'string' && (values as readonly string[]).includes(raw)) return raw as T;
  throw new BadUserInputError(field, `"${String(raw)}" is not one of ${values.join(', ')}`);
}

export function optionalEnum<T extends string>(values: readonly T[], raw: unknown, field: string): T | undefined {
  return raw === undefined || raw === null ? undefined : enumValue(values, raw, field);
}
