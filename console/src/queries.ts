/** The GraphQL the console sends, and the shapes it reads back. */
import { gql, type Connection } from './api.js';

export const STATES = ['UNKNOWN', 'EMPTY', 'POPULATED', 'OFF', 'ON', 'STANDBY', 'HALT', 'READY'] as const;

/** The API's page size limit (functions/shared/pagination.ts MAX_PAGE). */
export const PAGE = 1000;

export interface NodeRow {
  xname: string;
  state: string;
  flag: string;
  role: string | null;
  nid: number | null;
  arch: string | null;
  enabled: boolean;
  groups: string[];
  interfaces: { mac: string; ipAddresses: string[] }[];
}

const NODE_ROW = 'xname state flag role nid arch enabled groups interfaces { mac ipAddresses }';

export async function nodePage(filter: { state?: string | null }, after: string | null): Promise<Connection<NodeRow>> {
  const f: Record<string, string> = { type: 'Node' };
  if (filter.state) f.state = filter.state;
  const d = await gql<{ components: Connection<NodeRow> }>(
    `query ConsoleNodes($filter: ComponentFilter, $first: Int, $after: String) {
      components(filter: $filter, first: $first, after: $after) { edges { node { ${NODE_ROW} } } pageInfo { hasNextPage endCursor } }
    }`,
    { filter: f, first: PAGE, after },
  );
  return d.components;
}

export interface StateCount {
  state: string;
  role: string | null;
}

export async function statePage(after: string | null): Promise<Connection<StateCount>> {
  const d = await gql<{ components: Connection<StateCount> }>(
    `query ConsoleStates($first: Int, $after: String) {
      components(filter: { type: "Node" }, first: $first, after: $after) { edges { node { state role } } pageInfo { hasNextPage endCursor } }
    }`,
    { first: PAGE, after },
  );
  return d.components;
}

export interface SiteRow {
  name: string;
  description: string | null;
  domain: string | null;
}

export interface ImageRow {
  id: string;
  name: string;
  version: string;
  arch: string;
  status: string;
  reason: string | null;
  createdAt: string;
  labels: { key: string; value: string }[];
  artifacts: { type: string; size: number | null; sha256: string }[];
}

export async function overviewBasics(): Promise<{ whoami: { subject: string; roles: string[] }; sites: SiteRow[]; images: Connection<ImageRow> }> {
  return gql(`query ConsoleOverview {
    whoami { subject roles }
    sites { name description domain }
    images(first: 100) { edges { node { id name version arch status reason createdAt labels { key value } artifacts { type size sha256 } } } pageInfo { hasNextPage endCursor } }
  }`);
}

export async function images(): Promise<ImageRow[]> {
  const out: ImageRow[] = [];
  let after: string | null = null;
  for (;;) {
    const d: { images: Connection<ImageRow> } = await gql(
      `query ConsoleImages($after: String) { images(first: 100, after: $after) { edges { node { id name version arch status reason createdAt labels { key value } artifacts { type size sha256 } } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    out.push(...d.images.edges.map((e) => e.node));
    if (!d.images.pageInfo.hasNextPage) return out;
    after = d.images.pageInfo.endCursor;
  }
}

export interface NodeDetail extends NodeRow {
  type: string;
  subRole: string | null;
  class: string | null;
  netType: string | null;
  site: string;
  partition: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  interfaces: { mac: string; ipAddresses: string[]; network: string; description: string | null }[];
  hardware: {
    manufacturer: string | null;
    model: string | null;
    serialNumber: string | null;
    totalMemoryMiB: number;
    updatedAt: string;
    processors: { socket: string | null; model: string | null; cores: number | null; threads: number | null }[];
    memory: { slot: string | null; capacityMiB: number | null; memoryType: string | null }[];
    nics: { name: string | null; model: string | null; macAddresses: string[] }[];
    firmware: { name: string; version: string }[];
  } | null;
  iscsiSessions: { agent: string; targetIqn: string; lun: number; reportedAt: string }[];
}

export interface BootFor {
  matchedSelector: string;
  imageId: string | null;
  kernel: string;
  initrd: string | null;
}

export async function nodeDetail(xname: string): Promise<{ component: NodeDetail | null; bootConfigurationFor: BootFor | null }> {
  return gql(
    `query ConsoleNode($xname: XName!) {
      component(xname: $xname) {
        ${NODE_ROW} type subRole class netType site partition version createdAt updatedAt
        interfaces { mac ipAddresses network description }
        hardware { manufacturer model serialNumber totalMemoryMiB updatedAt
          processors { socket model cores threads } memory { slot capacityMiB memoryType }
          nics { name model macAddresses } firmware { name version } }
        iscsiSessions { agent targetIqn lun reportedAt }
      }
      bootConfigurationFor(xname: $xname) { matchedSelector imageId kernel initrd }
    }`,
    { xname },
  );
}

export interface PowerRequestRow {
  id: string;
  site: string;
  action: string;
  xnames: string[];
  status: string;
  requestedBy: string;
  createdAt: string;
  completedAt: string | null;
  results: { xname: string; ok: boolean; powerState: string | null; error: string | null }[];
}

const POWER_FIELDS = 'id site action xnames status requestedBy createdAt completedAt results { xname ok powerState error }';

export async function requestPower(xnames: string[], action: string): Promise<PowerRequestRow[]> {
  const d = await gql<{ requestPower: PowerRequestRow[] }>(
    `mutation ConsolePower($xnames: [XName!]!, $action: PowerAction!) { requestPower(xnames: $xnames, action: $action) { ${POWER_FIELDS} } }`,
    { xnames, action },
  );
  return d.requestPower;
}

export async function powerRequest(id: string): Promise<PowerRequestRow | null> {
  const d = await gql<{ powerRequest: PowerRequestRow | null }>(`query ConsolePowerRequest($id: ID!) { powerRequest(id: $id) { ${POWER_FIELDS} } }`, { id });
  return d.powerRequest;
}
