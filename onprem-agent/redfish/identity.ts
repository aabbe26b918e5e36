/**
 * Names for discovered BMCs and their nodes. In order of trust: the inventory's existing Redfish
 * endpoints, the operator's map file, the name the same BMC (by hardware identity: service
 * UUID, manager UUID, MAC, serial) had in the last report, then a name generated from that
 * identity. A BMC that comes back on another address or port (a DHCP lease, a simulator
 * restarted on other ports) keeps its name; only a BMC that shows no identity at all is named
 * after its IPv4 address and port. The scheme is documented in docs/redfish.md.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BadUserInputError } from '../../schema/errors.js';
import { normaliseIPv4 } from '../../schema/ip.js';
import { parseXName } from '../../schema/xname.js';
import type { InventoryEndpointMap } from './types.js';

/** Natural order (x2 before x10); one shared collator, as building one per comparison is slow. */
export const naturalCompare = new Intl.Collator('en', { numeric: true }).compare;

/** Cabinet numbers from here up are never assigned by people; generated names live there. */
export const GENERATED_CABINET_BASE = 100_000;

/** The largest ordinal an xname segment may carry (schema/xname.ts). */
const MAX_GENERATED_ORDINAL = 999_999;

/** Generated names from a hardware identity live from this cabinet up (address names stay below). */
export const IDENTITY_CABINET_BASE = 200_000;

export type XNameSource = 'inventory' | 'map' | 'previous' | 'generated';

export interface BmcIdentityInput {
  host: string;
  port: number;
  /** The IPv4 address the host resolved to. */
  ip: string;
  /** What identifies the BMC whatever its address (`bmcIdentityKey`); null when it shows nothing. */
  identity?: string | null;
}

/** What a BMC shows about itself that does not change with its address. */
export interface BmcIdentitySignals {
  uuid: string | null;
  managers: ReadonlyArray<{ uuid: string | null }>;
  managerNics: ReadonlyArray<{ mac: string }>;
  systems: ReadonlyArray<{ serial?: string | null; uuid?: string | null }>;
}

const ZERO_UUID = /^[0-]+$/;

/**
 * The service root's UUID (the Redfish service instance), else the first manager's UUID, else
 * the lowest manager MAC, else the first system's serial or UUID. All-zero UUIDs, which some
 * firmware reports, identify nothing.
 */
export function bmcIdentityKey(o: BmcIdentitySignals): string | null {
  const uuid = (u: string | null | undefined): string | null => (u && !ZERO_UUID.test(u) ? u.toLowerCase() : null);
  const root = uuid(o.uuid);
  if (root) return `uuid:${root}`;
  const manager = o.managers.map((m) => uuid(m.uuid)).find((u) => u !== null);
  if (manager) return `manager-uuid:${manager}`;
  const mac = [...o.managerNics.map((n) => n.mac.toLowerCase())].sort()[0];
  if (mac) return `mac:${mac}`;
  const serial = o.systems.map((s) => s.serial).find((v) => typeof v === 'string' && v.trim() !== '');
  if (serial) return `serial:${serial.trim()}`;
  const system = o.systems.map((s) => uuid(s.uuid)).find((u) => u !== null);
  return system ? `system-uuid:${system}` : null;
}

/** A NodeBMC xname derived from the identity key (about 2^59 names: a clash is not expected, and is caught). */
export function identityBmcXName(identity: string): string {
  const h = createHash('sha256').update(identity).digest();
  const cabinet = IDENTITY_CABINET_BASE + (h.readUInt32BE(0) % (MAX_GENERATED_ORDINAL + 1 - IDENTITY_CABINET_BASE));
  return `x${cabinet}c${h.readUInt32BE(4) % (MAX_GENERATED_ORDINAL + 1)}s${h.readUInt32BE(8) % (MAX_GENERATED_ORDINAL + 1)}b0`;
}


export interface BmcIdentity {
  xname: string;
  source: XNameSource;
}

export function generatedBmcXName(ip: string, port: number): string {
  const [a, b, c, d] = normaliseIPv4(ip).split('.').map(Number) as [number, number, number, number];
  return `x${GENERATED_CABINET_BASE + a * 256 + b}c${c}s${d}b${port}`;
}

export function nodeXName(bmcXName: string, index: number): string {
  return `${bmcXName}n${index}`;
}

function validBmcXName(raw: string, field: string): string {
  const parsed = parseXName(raw, field);
  if (parsed.type !== 'NodeBMC') throw new BadUserInputError(field, `"${raw}" is a ${parsed.type}; a BMC with nodes needs a NodeBMC xname such as x3000c0s1b0`);
  return parsed.xname;
}

/** Normalises a map's keys (lower-case host, optional port) and values (NodeBMC xnames). */
export function normaliseXNameMap(raw: Record<string, string>, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    const k = key.trim().toLowerCase();
    if (!/^[a-z0-9.-]+(:\d{1,5})?$/.test(k)) throw new BadUserInputError(field, `"${key}" is not HOST or HOST:PORT`);
    out[k] = validBmcXName(String(value), `${field}[${key}]`);
  }
  return out;
}

/** A JSON object `{ "10.0.0.5": "x3000c0s1b0" }`, or lines `HOST[:PORT] XNAME` (also `=`), `#` comments. */
export async function loadXNameMap(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BadUserInputError('map', `cannot read ${file}: ${(err as Error).message}`);
  }
  const field = `map ${file}`;
  if (text.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new BadUserInputError(field, `not valid JSON: ${(err as Error).message}`);
    }
    return normaliseXNameMap(parsed as Record<string, string>, field);
  }
  const raw: Record<string, string> = {};
  text.split('\n').forEach((line, n) => {
    const l = line.replace(/#.*/, '').trim();
    if (!l) return;
    const parts = l.split(/[\s=,]+/);
    if (parts.length !== 2) throw new BadUserInputError(`${field}:${n + 1}`, `expected "HOST[:PORT] XNAME", got "${l}"`);
    raw[parts[0]!] = parts[1]!;
  });
  return normaliseXNameMap(raw, field);
}

/**
 * Names every BMC. A mapped name already taken by another BMC is not reused: the later BMC (in
 * address order) gets its generated name instead, and the conflict is returned for the log.
 */
export function assignBmcXNames(
  bmcs: BmcIdentityInput[],
  sources: { inventory?: InventoryEndpointMap; userMap?: Record<string, string>; previous?: ReadonlyMap<string, string> },
): { names: Map<string, BmcIdentity>; conflicts: string[] } {
  const inventory = normaliseXNameMap(sources.inventory ?? {}, 'inventory');
  const userMap = sources.userMap ?? {};
  const names = new Map<string, BmcIdentity>();
  const taken = new Map<string, string>();
  const conflicts: string[] = [];
  const sorted = [...bmcs].sort((x, y) => (x.ip === y.ip ? x.port - y.port : naturalCompare(x.ip, y.ip)));
  const lookup = (m: Record<string, string>, b: BmcIdentityInput): string | undefined =>
    m[`${b.host}:${b.port}`] ?? m[`${b.ip}:${b.port}`] ?? m[b.host] ?? m[b.ip];
  const inventoryNames = new Set(Object.values(inventory));
  // Two passes: inventory and map names first, so a generated name never takes one of them.
  for (const b of sorted) {
    const key = `${b.host}:${b.port}`;
    // A BMC that moved: the inventory knows it under the name it had before, at its old
    // address, and may list its new address under another BMC's name. The hardware wins.
    const before = b.identity ? sources.previous?.get(b.identity) : undefined;
    if (before && inventoryNames.has(before) && lookup(inventory, b) !== before && !taken.has(before)) {
      const stale = lookup(inventory, b);
      if (stale) conflicts.push(`${key}: the inventory names this address ${stale}, but the BMC here is ${before} (same ${b.identity!.split(':')[0]}), which moved; keeping ${before}`);
      names.set(key, { xname: before, source: 'previous' });
      taken.set(before, key);
      continue;
    }
    for (const [source, map] of [['inventory', inventory], ['map', userMap]] as const) {
      const x = lookup(map, b);
      if (!x) continue;
      const holder = taken.get(x);
      if (holder) {
        conflicts.push(`${key}: ${source} name ${x} is already ${holder}'s; using the generated name`);
        continue;
      }
      names.set(key, { xname: x, source });
      taken.set(x, key);
      break;
    }
  }
  // Then the name the same hardware had last time, before any generated name is handed out.
  for (const b of sorted) {
    const key = `${b.host}:${b.port}`;
    const x = b.identity ? sources.previous?.get(b.identity) : undefined;
    if (names.has(key) || !x) continue;
    const holder = taken.get(x);
    if (holder) {
      conflicts.push(`${key}: its previous name ${x} is already ${holder}'s; using the generated name`);
      continue;
    }
    names.set(key, { xname: x, source: 'previous' });
    taken.set(x, key);
  }
  for (const b of sorted) {
    const key = `${b.host}:${b.port}`;
    if (names.has(key)) continue;
    const x = b.identity ? identityBmcXName(b.identity) : generatedBmcXName(b.ip, b.port);
    const holder = taken.get(x);
    if (holder) {
      conflicts.push(`${key}: generated name ${x} is already ${holder}'s${b.identity ? ' (two BMCs show the same identity, or a mapped name took it)' : ' (mapped by hand)'}; not named`);
      continue;
    }
    names.set(key, { xname: x, source: 'generated' });
    taken.set(x, key);
  }
  return { names, conflicts };
}
