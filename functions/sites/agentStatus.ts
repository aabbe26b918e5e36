/**
 * The newest `agent.status` report of each agent of a site (schema/agentStatus.ts): one item per
 * agent beside the site item, PK SITE#<site>, SK AGENTSTATUS#<agent>, read by `Site.agents`.
 * Only a report at least as new as the stored one applies (a report the outbox redelivers late
 * cannot bring back an older state); the item expires a week after the agent last reported, so
 * an agent that was retired leaves the list by itself. `lastContactAt` is when the cloud
 * received the report, the cloud's own clock: it is what tells an operator an agent went quiet.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DHCP_MODES, ISCSI_MODES, parseAgentStatusReport, type AgentStatusReport } from '../../schema/agentStatus.js';
import type { Clients } from '../shared/clients.js';
import { TTL_ATTRIBUTE } from '../shared/table.js';
import { queryAll } from '../shared/pagination.js';
import { int, nullable, object, oneOf, storedDecoder, str, bool } from '../shared/storedItem.js';

export { AGENT_STATUS_KIND } from '../../schema/agentStatus.js';

const AGENT_STATUS_SK_PREFIX = 'AGENTSTATUS#';
/** An agent silent this long leaves Site.agents. */
export const AGENT_STATUS_RETENTION_SECONDS = 7 * 24 * 3600;
const agentStatusKey = (site: string, agent: string) => ({ PK: `SITE#${site}`, SK: `${AGENT_STATUS_SK_PREFIX}${agent}` });

/** Site.agents: a report as the API shows it. */
export interface SiteAgent {
  name: string;
  identity: string;
  version: string;
  startedAt: string;
  reportedAt: string;
  lastContactAt: string;
  snapshotRevision: number | null;
  nodes: number;
  lastSyncAt: string | null;
  outboxDepth: number;
  outboxBytes: number;
  outboxOldestAt: string | null;
  outboxParked: number;
  cacheArtifacts: number;
  cacheBytes: number;
  cacheMissing: number;
  dhcp: (typeof DHCP_MODES)[number];
  tftp: boolean;
  iscsi: (typeof ISCSI_MODES)[number];
}

const decodeSiteAgent = storedDecoder('AgentStatus', object({
  name: str, identity: str, version: str, startedAt: str, reportedAt: str, lastContactAt: str,
  snapshotRevision: nullable(int), nodes: int, lastSyncAt: nullable(str),
  outboxDepth: int, outboxBytes: int, outboxOldestAt: nullable(str), outboxParked: int,
  cacheArtifacts: int, cacheBytes: int, cacheMissing: int,
  dhcp: oneOf(DHCP_MODES), tftp: bool, iscsi: oneOf(ISCSI_MODES),
}));

export const parseAgentStatus = (payload: unknown): AgentStatusReport => parseAgentStatusReport(payload, 'payload');

/** Stores the report unless a newer one is there; `identity` is the token subject it came with. */
export async function applyAgentStatus(c: Clients, site: string, r: AgentStatusReport, identity: string, at: string, receivedAt: string): Promise<'APPLIED' | 'STALE'> {
  const item: SiteAgent = {
    name: r.agent, identity, version: r.version, startedAt: r.startedAt, reportedAt: at, lastContactAt: receivedAt,
    snapshotRevision: r.snapshot.revision, nodes: r.snapshot.nodes, lastSyncAt: r.snapshot.lastPullAt,
    outboxDepth: r.outbox.depth, outboxBytes: r.outbox.bytes, outboxOldestAt: r.outbox.oldestEnqueuedAt, outboxParked: r.outbox.parked,
    cacheArtifacts: r.cache.entries, cacheBytes: r.cache.bytes, cacheMissing: r.cache.missing,
    dhcp: r.services.dhcp, tftp: r.services.tftp, iscsi: r.services.iscsi,
  };
  try {
    await c.doc.send(new PutCommand({
      TableName: c.config.tableName,
      Item: { ...agentStatusKey(site, r.agent), entity: 'AgentStatus', site, ...item, [TTL_ATTRIBUTE]: Math.floor(Date.parse(receivedAt) / 1000) + AGENT_STATUS_RETENTION_SECONDS },
      ConditionExpression: 'attribute_not_exists(PK) OR reportedAt <= :at',
      ExpressionAttributeValues: { ':at': at },
    }));
    return 'APPLIED';
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return 'STALE';
    throw err;
  }
}

/**
 * Every agent of the site that reported within the retention, by name (one Query on the site's
 * partition). DynamoDB's TTL deletes within days, not on the second: expired items are skipped here.
 */
export async function siteAgents(c: Clients, site: string, now = Date.now()): Promise<SiteAgent[]> {
  const items = await queryAll(c, {
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
    ExpressionAttributeValues: { ':pk': `SITE#${site}`, ':sk': AGENT_STATUS_SK_PREFIX },
  });
  return items
    .filter((i) => !(typeof i[TTL_ATTRIBUTE] === 'number' && i[TTL_ATTRIBUTE] * 1000 < now))
    .map(decodeSiteAgent)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
