/** The GraphQL the console sends, and the shapes it reads back. */
import { gql, type Connection } from './api.js';

export const STATES = ['UNKNOWN', 'EMPTY', 'POPULATED', 'OFF', 'ON', 'STANDBY', 'HALT', 'READY'] as const;

/** The API's page size limit (functions/shared/pagination.ts MAX_PAGE). */
export const PAGE = 1000;

export interface NodeRow {
  xname: string;
  site: string;
  state: string;
  flag: string;
  role: string | null;
  nid: number | null;
  arch: string | null;
  enabled: boolean;
  groups: string[];
  interfaces: { mac: string; ipAddresses: string[] }[];
}

const NODE_ROW = 'xname site state flag role nid arch enabled groups interfaces { mac ipAddresses }';

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

export interface BootTimelineEvent {
  stage: string;
  at: string;
  detail: string | null;
  bootToken: string | null;
  agent: string | null;
}

export interface NodeBootState {
  desired: { imageId: string | null } | null;
  staged: { imageId: string | null; sessionId: string | null } | null;
  actual: { imageId: string | null; bootedAt: string | null } | null;
  workloadHold: boolean;
}

export interface NodeDetail extends NodeRow {
  type: string;
  subRole: string | null;
  class: string | null;
  netType: string | null;
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
  bootState: NodeBootState;
  bootTimeline: BootTimelineEvent[];
}

export interface BootFor {
  matchedSelector: string;
  imageId: string | null;
  kernel: string;
  initrd: string | null;
}

/** The schema's most: where a boot got to is in its newest events. */
export const TIMELINE_EVENTS = 100;

export async function nodeDetail(xname: string, site: string | null): Promise<{ component: NodeDetail | null; bootConfigurationFor: BootFor | null }> {
  return gql(
    `query ConsoleNode($xname: XName!, $site: String, $last: Int) {
      component(xname: $xname, site: $site) {
        ${NODE_ROW} type subRole class netType site partition version createdAt updatedAt
        interfaces { mac ipAddresses network description }
        hardware { manufacturer model serialNumber totalMemoryMiB updatedAt
          processors { socket model cores threads } memory { slot capacityMiB memoryType }
          nics { name model macAddresses } firmware { name version } }
        iscsiSessions { agent targetIqn lun reportedAt }
        bootState { desired { imageId } staged { imageId sessionId } actual { imageId bootedAt } workloadHold }
        bootTimeline(last: $last) { stage at detail bootToken agent }
      }
      bootConfigurationFor(xname: $xname, site: $site) { matchedSelector imageId kernel initrd }
    }`,
    { xname, site, last: TIMELINE_EVENTS },
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

export async function requestPower(xnames: string[], action: string, site: string | null): Promise<PowerRequestRow[]> {
  const d = await gql<{ requestPower: PowerRequestRow[] }>(
    `mutation ConsolePower($xnames: [XName!]!, $action: PowerAction!, $site: String) { requestPower(xnames: $xnames, action: $action, site: $site) { ${POWER_FIELDS} } }`,
    { xnames, action, site },
  );
  return d.requestPower;
}

export async function powerRequest(id: string): Promise<PowerRequestRow | null> {
  const d = await gql<{ powerRequest: PowerRequestRow | null }>(`query ConsolePowerRequest($id: ID!) { powerRequest(id: $id) { ${POWER_FIELDS} } }`, { id });
  return d.powerRequest;
}

/** BootSession.counts, as the API answers it (the console imports nothing outside console/: the API is its contract). */
export interface SessionCounts {
  total: number;
  pending: number;
  waiting: number;
  inProgress: number;
  succeeded: number;
  failed: number;
  rolledBack: number;
  staged: number;
  superseded: number;
}

export interface SessionRow {
  id: string;
  site: string;
  template: string;
  templateVersion: number;
  operation: string;
  limit: string | null;
  stage: boolean;
  maxConcurrent: number;
  canary: number;
  maxFailures: number | null;
  bootTimeoutSeconds: number;
  rollback: boolean;
  respectWorkload: boolean;
  status: string;
  statusReason: string | null;
  counts: SessionCounts;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
}

export interface SessionNodeRow {
  xname: string;
  phase: string;
  canary: boolean;
  attempts: number;
  error: { step: string; message: string } | null;
  startedAt: string | null;
  endedAt: string | null;
  previousImageId: string | null;
  targetImageId: string | null;
  claimedBy: string | null;
  supersededBy: string | null;
}

export interface SessionErrorRow {
  step: string;
  message: string;
  count: number;
  xnames: string[];
}

/** A session still moving: worth reading again. PAUSED is included since nodes in flight finish while paused. */
export const LIVE_STATUSES: readonly string[] = ['PENDING', 'RUNNING', 'PAUSED'];

const SESSION_FIELDS = `id site template templateVersion operation limit stage maxConcurrent canary maxFailures bootTimeoutSeconds
  rollback respectWorkload status statusReason createdBy createdAt updatedAt endedAt
  counts { total pending waiting inProgress succeeded failed rolledBack staged superseded }`;

/** Sessions shown per site on the list page, newest first. */
export const SESSIONS_PER_SITE = 50;

/** The newest sessions of every site the person may see, newest first. */
export async function recentSessions(): Promise<SessionRow[]> {
  const { sites } = await gql<{ sites: { name: string }[] }>('query ConsoleSessionSites { sites { name } }');
  const perSite = await Promise.all(sites.map(async ({ name }) => {
    const d = await gql<{ bootSessions: Connection<SessionRow> }>(
      `query ConsoleSessions($site: String, $first: Int) { bootSessions(site: $site, first: $first) { edges { node { ${SESSION_FIELDS} } } } }`,
      { site: name, first: SESSIONS_PER_SITE },
    );
    return d.bootSessions.edges.map((e) => e.node);
  }));
  return perSite.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** The API's page size for a session's node records. */
const SESSION_NODES_PAGE = 500;

/** One session with all its node records (read a page at a time) and its error summary. */
export async function sessionDetail(id: string): Promise<{ session: SessionRow; nodes: SessionNodeRow[]; errors: SessionErrorRow[] } | null> {
  const nodes: SessionNodeRow[] = [];
  let after: string | null = null;
  for (;;) {
    const d: { bootSession: (SessionRow & { errors: SessionErrorRow[]; nodes: Connection<SessionNodeRow> }) | null } = await gql(
      `query ConsoleSession($id: ID!, $first: Int, $after: String) {
        bootSession(id: $id) {
          ${SESSION_FIELDS}
          errors { step message count xnames }
          nodes(first: $first, after: $after) {
            edges { node { xname phase canary attempts error { step message } startedAt endedAt previousImageId targetImageId claimedBy supersededBy } }
            pageInfo { hasNextPage endCursor }
          }
        }
      }`,
      { id, first: SESSION_NODES_PAGE, after },
    );
    const s = d.bootSession;
    if (!s) return null;
    nodes.push(...s.nodes.edges.map((e) => e.node));
    if (!s.nodes.pageInfo.hasNextPage) {
      const { nodes: _page, errors, ...session } = s;
      return { session, nodes, errors };
    }
    after = s.nodes.pageInfo.endCursor;
  }
}

export type SessionControl = 'pause' | 'resume' | 'cancel';

const CONTROL_FIELD: Record<SessionControl, string> = { pause: 'pauseBootSession', resume: 'resumeBootSession', cancel: 'cancelBootSession' };

export async function controlSession(id: string, control: SessionControl): Promise<SessionRow> {
  const field = CONTROL_FIELD[control];
  const d = await gql<Record<string, SessionRow>>(`mutation ConsoleSessionControl($id: ID!) { ${field}(id: $id) { ${SESSION_FIELDS} } }`, { id });
  return d[field]!;
}
