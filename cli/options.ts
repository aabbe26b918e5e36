/**
 * Option parsers shared by the command groups: enums checked (and listed) before any request, so a
 * typo names the flag and the allowed values instead of a GraphQL variable error; integers must
 * be integers (`--priority high` is refused, not stored as 0).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { withChoices } from '../schema/cli/commandTree.js';

export const ROLES = ['COMPUTE', 'SERVICE', 'SYSTEM', 'APPLICATION', 'STORAGE', 'MANAGEMENT'] as const;
export const STATES = ['UNKNOWN', 'EMPTY', 'POPULATED', 'OFF', 'ON', 'STANDBY', 'HALT', 'READY'] as const;
export const FLAGS = ['OK', 'WARNING', 'ALERT', 'LOCKED'] as const;
export const DISCOVERY_STATUSES = ['PENDING', 'IN_PROGRESS', 'OK', 'FAILED'] as const;

/** A case-insensitive enum value, upper-cased the way the API spells it. */
export function enumValue(allowed: readonly string[]): (raw: string) => string {
  const parse = (raw: string): string => {
    const v = raw.trim().toUpperCase().replace(/-/g, '_');
    if (!allowed.includes(v)) throw new InvalidArgumentError(`"${raw}" is not one of ${allowed.map((a) => a.toLowerCase()).join(', ')}.`);
    return v;
  };
  // Completion offers them as they are typed: lower case, dashes.
  return withChoices(parse, allowed.map((a) => a.toLowerCase().replace(/_/g, '-')));
}

export function intValue(raw: string): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new InvalidArgumentError(`"${raw}" is not an integer.`);
  return Number(raw);
}

export function siteOption(cmd: Command): Command {
  return cmd.option('--site <site>', "the site (default: the deployment's default site)");
}

/** Drops undefined entries, so an input carries only what the operator passed. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
