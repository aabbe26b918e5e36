/** The stored component item and the plain JSON the API returns for it. */
import type { Arch, ComponentRole, Flag, State } from './enums.js';

export interface InterfaceRecord {
  mac: string;
  ipAddresses: string[];
  network: string;
  description?: string;
}

export interface ComponentRecord {
  xname: string;
  type: string;
  state: State;
  flag: Flag;
  enabled: boolean;
  role?: ComponentRole;
  subRole?: string;
  nid?: number;
  arch?: Arch;
  class?: string;
  netType?: string;
  site: string;
  version: number;
  interfaces: InterfaceRecord[];
  groups: string[];
  partition?: string;
  createdAt: string;
  updatedAt: string;
}

export interface ComponentJson extends Omit<ComponentRecord, 'interfaces' | 'role' | 'subRole' | 'nid' | 'arch' | 'class' | 'netType' | 'partition'> {
  role: ComponentRole | null;
  subRole: string | null;
  nid: number | null;
  arch: Arch | null;
  class: string | null;
  netType: string | null;
  partition: string | null;
  interfaces: (Omit<InterfaceRecord, 'description'> & { description: string | null; componentXname: string })[];
}

type Item = Record<string, unknown>;

function strings(v: unknown): string[] {
  if (v instanceof Set) return [...(v as Set<string>)].sort();
  return Array.isArray(v) ? (v as string[]) : [];
}

/** Reads a stored item back into a record (string sets become sorted arrays). */
export function componentFromItem(item: Item): ComponentRecord {
  const { PK: _pk, SK: _sk, GSI1PK: _a, GSI1SK: _b, GSI2PK: _c, GSI2SK: _d, GSI3PK: _e, GSI3SK: _f, entity: _g, ...rest } = item;
  const record = rest as unknown as ComponentRecord;
  return { ...record, interfaces: (record.interfaces ?? []) as InterfaceRecord[], groups: strings(item.groups) };
}

export function componentJson(r: ComponentRecord): ComponentJson {
  return {
    ...r,
    role: r.role ?? null,
    subRole: r.subRole ?? null,
    nid: r.nid ?? null,
    arch: r.arch ?? null,
    class: r.class ?? null,
    netType: r.netType ?? null,
    partition: r.partition ?? null,
    interfaces: r.interfaces.map((i) => ({ ...i, description: i.description ?? null, componentXname: r.xname })),
  };
}

/** What an audit record keeps of a component: its whole state, so the trail can rebuild any change. */
export function componentSummary(r: ComponentRecord | undefined): ComponentRecord | undefined {
  if (!r) return undefined;
  return { ...r, interfaces: r.interfaces.map((i) => ({ ...i, ipAddresses: [...i.ipAddresses] })), groups: [...r.groups] };
}
