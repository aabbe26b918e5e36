/**
 * Selectors: normalising input, the configuration id derived from (site, selector), the binding
 * values a selector claims, and the candidate values a node's facts produce, in precedence order.
 */
import { createHash } from 'node:crypto';
import { BadUserInputError } from '../../schema/errors.js';
import { parseXName } from '../../schema/xname.js';
import type { NodeFactsRecord } from './nodeFacts.js';

export type SelectorKind = 'XNAME' | 'MAC' | 'NID' | 'GROUP' | 'ROLE' | 'DEFAULT' | 'UNKNOWN';
export type Arch = 'X86' | 'ARM' | 'OTHER';

export interface Selector {
  xnames: string[];
  macs: string[];
  nids: number[];
  groups: string[];
  roles: string[];
  subRole: string | null;
  default: boolean;
  unknown: boolean;
  arch: Arch | null;
}

export interface SelectorInput {
  xnames?: string[] | null;
  macs?: string[] | null;
  nids?: number[] | null;
  groups?: string[] | null;
  roles?: string[] | null;
  subRole?: string | null;
  default?: boolean | null;
  unknown?: boolean | null;
  arch?: string | null;
}

/** DynamoDB transactions take 100 items; bindings share them with the config, refs and audit. */
export const MAX_SELECTOR_VALUES = 90;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/;
const ROLES = ['COMPUTE', 'SERVICE', 'SYSTEM', 'APPLICATION', 'STORAGE', 'MANAGEMENT'];

const sortedUnique = <T>(xs: T[]) => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * An xname a boot configuration may name: only a Node boots. A NodeBMC, a chassis or a NIC is
 * refused here, in the API, so no client can store a binding that no node can ever match.
 */
function bootableXName(raw: string, field: string): string {
  const parsed = parseXName(raw, field);
  if (parsed.type !== 'Node') {
    throw new BadUserInputError(field, `"${raw}" is a ${parsed.type} xname, not a Node: only nodes (x<cabinet>c<chassis>s<slot>b<bmc>n<node>, e.g. x1000c0s0b0n0) boot`);
  }
  return parsed.xname;
}

export function normaliseSelector(raw: SelectorInput, field = 'input.selector'): Selector {
  const s: Selector = {
    xnames: sortedUnique((raw.xnames ?? []).map((x) => bootableXName(x, `${field}.xnames`))),
    macs: sortedUnique(raw.macs ?? []),
    nids: [...new Set(raw.nids ?? [])].sort((a, b) => a - b),
    groups: sortedUnique(raw.groups ?? []),
    roles: sortedUnique(raw.roles ?? []),
    subRole: raw.subRole ?? null,
    default: raw.default === true,
    unknown: raw.unknown === true,
    arch: (raw.arch as Arch | null | undefined) ?? null,
  };
  for (const n of s.nids) if (!Number.isInteger(n) || n < 0) throw new BadUserInputError(`${field}.nids`, `${n} is not a non-negative integer`);
  for (const g of s.groups) if (!NAME.test(g)) throw new BadUserInputError(`${field}.groups`, `"${g}" is not a group label`);
  for (const r of s.roles) if (!ROLES.includes(r)) throw new BadUserInputError(`${field}.roles`, `"${r}" is not one of ${ROLES.join(', ')}`);
  if (s.subRole !== null && !NAME.test(s.subRole)) throw new BadUserInputError(`${field}.subRole`, `"${s.subRole}" is not a subRole name`);
  if (s.subRole !== null && !s.roles.length) throw new BadUserInputError(`${field}.subRole`, 'applies only together with roles');
  if (s.arch !== null && !['X86', 'ARM', 'OTHER'].includes(s.arch)) throw new BadUserInputError(`${field}.arch`, `"${s.arch}" is not X86, ARM or OTHER`);
  const listed = s.xnames.length + s.macs.length + s.nids.length + s.groups.length + s.roles.length;
  const special = Number(s.default) + Number(s.unknown);
  if (special > 1 || (special && listed)) throw new BadUserInputError(field, 'default and unknown each stand alone: they cannot be combined with each other or with other selectors');
  if (special && !s.arch) throw new BadUserInputError(`${field}.arch`, `${s.default ? 'default' : 'unknown'} needs an arch (X86, ARM or OTHER)`);
  if (!special && s.arch) throw new BadUserInputError(`${field}.arch`, 'arch applies only to default and unknown selectors');
  if (!special && !listed) throw new BadUserInputError(field, 'names nothing: give xnames, macs, nids, groups, roles, default or unknown');
  if (listed > MAX_SELECTOR_VALUES) throw new BadUserInputError(field, `has ${listed} values; at most ${MAX_SELECTOR_VALUES} per configuration (use a group for more nodes)`);
  return s;
}

/** The binding values a selector claims; each belongs to at most one configuration per site. */
export function bindingValues(s: Selector): string[] {
  if (s.default) return [`DEFAULT#${s.arch}`];
  if (s.unknown) return [`UNKNOWN#${s.arch}`];
  return [
    ...s.xnames.map((x) => `XNAME#${x}`),
    ...s.macs.map((m) => `MAC#${m}`),
    ...s.nids.map((n) => `NID#${n}`),
    ...s.groups.map((g) => `GROUP#${g}`),
    ...s.roles.map((r) => (s.subRole ? `ROLE#${r}#${s.subRole}` : `ROLE#${r}`)),
  ];
}

export function configurationId(site: string, s: Selector): string {
  return `bc-${createHash('sha256').update(JSON.stringify([site, bindingValues(s)])).digest('hex').slice(0, 24)}`;
}

/** "group:compute" style text for a binding value. */
export function describeBinding(value: string): { kind: SelectorKind; value: string; text: string } {
  const [kind, ...rest] = value.split('#') as [SelectorKind, ...string[]];
  const v = kind === 'ROLE' && rest.length > 1 ? `${rest[0]}/${rest.slice(1).join('#')}` : rest.join('#');
  return { kind, value: v, text: `${kind.toLowerCase()}:${v}` };
}

/**
 * A node's candidate binding values, most specific first: xname > MAC > NID > group > role+subRole >
 * role > default. The booting MAC (when known) outranks the node's other MACs; the others follow in
 * lexicographic order. Groups are ranked later by priority, then name (see resolve.ts).
 */
export function candidateValues(facts: NodeFactsRecord, bootMac?: string | null): string[] {
  const macs = bootMac && facts.macs.includes(bootMac) ? [bootMac, ...facts.macs.filter((m) => m !== bootMac)] : facts.macs;
  return [
    `XNAME#${facts.xname}`,
    ...macs.map((m) => `MAC#${m}`),
    ...(facts.nid === null ? [] : [`NID#${facts.nid}`]),
    ...facts.groups.map((g) => `GROUP#${g}`),
    ...(facts.role && facts.subRole ? [`ROLE#${facts.role}#${facts.subRole}`] : []),
    ...(facts.role ? [`ROLE#${facts.role}`] : []),
    // A node with no arch recorded is taken as X86, the common case, rather than matching no default.
    `DEFAULT#${facts.arch ?? 'X86'}`,
  ];
}
