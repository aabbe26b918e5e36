/** The stored component item and the plain JSON the API returns for it. */
import { ARCHES, FLAGS, ROLES, STATES, type Arch, type ComponentRole, type Flag, type State } from './enums.js';
import { bool, int, list, object, oneOf, optional, storedDecoder, str, stringSet, withDefault, type Decoder } from '../shared/storedItem.js';

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

const interfaceDecoder: Decoder<InterfaceRecord> = object({
  mac: str,
  ipAddresses: withDefault(list(str), []),
  network: str,
  description: optional(str),
});

/** The stored Component item (index keys and `entity` are dropped); `interfaces` and `groups` may be absent in older items. */
const componentDecoder: Decoder<ComponentRecord> = object({
  xname: str,
  type: str,
  state: oneOf(STATES),
  flag: oneOf(FLAGS),
  enabled: bool,
  role: optional(oneOf(ROLES)),
  subRole: optional(str),
  nid: optional(int),
  arch: optional(oneOf(ARCHES)),
  class: optional(str),
  netType: optional(str),
  site: str,
  version: int,
  interfaces: withDefault(list(interfaceDecoder), []),
  groups: stringSet,
  partition: optional(str),
  createdAt: str,
  updatedAt: str,
});

/** Reads a stored item back into a record (string sets become sorted arrays); StoredItemError if it is malformed. */
export const componentFromItem = storedDecoder('Component', componentDecoder);

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
