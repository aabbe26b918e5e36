/**
 * Turns ComponentInput / ComponentPatch arguments into checked changes, and applies changes
 * to a stored record. Absent fields leave a record unchanged; an explicit null clears a
 * nullable field (role, subRole, nid, arch, class, netType).
 */
import { BadUserInputError } from '../../schema/errors.js';
import { parseXName } from '../../schema/xname.js';
import { ARCHES, FLAGS, ROLES, STATES, enumValue, type Arch, type ComponentRole, type Flag, type State } from './enums.js';
import { normaliseInterfaces } from './interfaces.js';
import type { ComponentRecord, InterfaceRecord } from './model.js';
import { name, object, optionalBoolean, optionalInt, optionalString } from './validation.js';

export interface ComponentChanges {
  role?: ComponentRole | null;
  subRole?: string | null;
  nid?: number | null;
  arch?: Arch | null;
  class?: string | null;
  netType?: string | null;
  enabled?: boolean;
  state?: State;
  flag?: Flag;
  interfaces?: InterfaceRecord[];
}

const MAX_NID = 2 ** 31 - 1;

/** Reads the change fields present in `o`; `prefix` makes error fields name the input element. */
export function readChanges(o: Record<string, unknown>, prefix: string, allowed: readonly (keyof ComponentChanges)[]): ComponentChanges {
  const f = (k: string) => `${prefix}${k}`;
  const has = (k: keyof ComponentChanges) => allowed.includes(k) && k in o && o[k] !== undefined;
  const c: ComponentChanges = {};
  const nullable = <T>(k: keyof ComponentChanges, read: (v: unknown) => T) => (o[k] === null ? null : read(o[k]));
  if (has('role')) c.role = nullable('role', (v) => enumValue(ROLES, v, f('role')));
  if (has('subRole')) c.subRole = nullable('subRole', (v) => name(v, f('subRole')));
  if (has('nid')) c.nid = nullable('nid', (v) => optionalInt(v, f('nid'), 0, MAX_NID)!);
  if (has('arch')) c.arch = nullable('arch', (v) => enumValue(ARCHES, v, f('arch')));
  if (has('class')) c.class = nullable('class', (v) => optionalString(v, f('class'), 64)!);
  if (has('netType')) c.netType = nullable('netType', (v) => optionalString(v, f('netType'), 64)!);
  if (has('enabled')) {
    if (o.enabled === null) throw new BadUserInputError(f('enabled'), 'cannot be null');
    c.enabled = optionalBoolean(o.enabled, f('enabled'))!;
  }
  if (has('state') && o.state !== null) c.state = enumValue(STATES, o.state, f('state'));
  if (has('flag') && o.flag !== null) c.flag = enumValue(FLAGS, o.flag, f('flag'));
  if (has('interfaces') && o.interfaces !== null) c.interfaces = normaliseInterfaces(o.interfaces, f('interfaces'));
  return c;
}

export const INPUT_FIELDS = ['role', 'subRole', 'nid', 'arch', 'class', 'netType', 'enabled', 'state', 'flag', 'interfaces'] as const;
export const PATCH_FIELDS = ['role', 'subRole', 'nid', 'arch', 'class', 'netType', 'enabled', 'flag'] as const;

export interface ComponentInputN {
  xname: string;
  type: string;
  changes: ComponentChanges;
}

export function readComponentInput(raw: unknown, prefix: string): ComponentInputN {
  const o = object(raw, prefix.replace(/\.$/, '') || 'input');
  const parsed = parseXName(o.xname as string, `${prefix}xname`);
  return { xname: parsed.xname, type: parsed.type, changes: readChanges(o, prefix, INPUT_FIELDS) };
}

function set<K extends keyof ComponentRecord>(r: ComponentRecord, k: K, v: ComponentRecord[K] | null | undefined): void {
  if (v === undefined) return;
  if (v === null) delete r[k];
  else r[k] = v;
}

/**
 * The record after `changes` (the site is the component's address, never a change). A new component gets HSM's defaults: UNKNOWN/OK, enabled,
 * and for nodes role COMPUTE and arch X86.
 */
export function applyChanges(existing: ComponentRecord | undefined, xname: string, type: string, site: string, changes: ComponentChanges, now: string): ComponentRecord {
  const isNode = type === 'Node';
  const r: ComponentRecord = existing
    ? { ...existing, interfaces: [...existing.interfaces], groups: [...existing.groups], version: existing.version + 1, updatedAt: now }
    : {
        xname,
        type,
        state: 'UNKNOWN',
        flag: 'OK',
        enabled: true,
        ...(isNode ? { role: 'COMPUTE' as const, arch: 'X86' as const } : {}),
        site,
        version: 1,
        interfaces: [],
        groups: [],
        createdAt: now,
        updatedAt: now,
      };
  set(r, 'role', changes.role);
  set(r, 'subRole', changes.subRole);
  set(r, 'nid', changes.nid);
  set(r, 'arch', changes.arch);
  set(r, 'class', changes.class);
  set(r, 'netType', changes.netType);
  set(r, 'enabled', changes.enabled);
  set(r, 'state', changes.state);
  set(r, 'flag', changes.flag);
  set(r, 'interfaces', changes.interfaces);
  return r;
}
