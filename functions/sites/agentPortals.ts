/**
 * The iSCSI portals each agent of a site advertises (`agent.portals` observations): one item per
 * agent beside the site item, PK SITE#<site>, SK AGENT#<agent>. The snapshot hands all of them to
 * every agent, so each boot script lists a path per portal of every agent (multipath).
 */
import { DeleteCommand, PutCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError } from '../../schema/errors.js';
import { assertAgentName, normalisePortals } from '../../schema/iscsiPortal.js';
import type { Clients } from '../shared/clients.js';
import type { SnapshotAgentPortals } from '../../schema/siteSnapshot.js';
import { noteSnapshotInputChanged } from './snapshotChanges.js';
import { list, object, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';

export const AGENT_PORTALS_KIND = 'agent.portals';
const AGENT_SK_PREFIX = 'AGENT#';
export const agentPortalsKey = (site: string, agent: string) => ({ PK: `SITE#${site}`, SK: `${AGENT_SK_PREFIX}${agent}` });

const agentPortalsDecoder: Decoder<SnapshotAgentPortals> = object({ agent: str, portals: withDefault(list(str), []) });

/** The stored agent portals item (SK AGENT#<agent>); StoredItemError if it is malformed. */
export const decodeAgentPortals = storedDecoder('AgentPortals', agentPortalsDecoder);

/** Validates `{ agent, portals[] }`; fields are named as in the observation (payload.…). */
export function parseAgentPortals(payload: unknown): SnapshotAgentPortals {
  const p = (payload ?? {}) as { agent?: unknown; portals?: unknown };
  const agent = assertAgentName(p.agent as string, 'payload.agent');
  if (!Array.isArray(p.portals)) throw new BadUserInputError('payload.portals', 'must be a list of "ADDR:PORT" strings (empty to withdraw)');
  return { agent, portals: normalisePortals(p.portals as string[], 'payload.portals') };
}

/**
 * Replaces the agent's portals (an empty list removes them). Only an observation at least as
 * new as the stored one applies, so a late redelivery cannot bring back an older set.
 */
export async function applyAgentPortals(c: Clients, site: string, v: SnapshotAgentPortals, at: string): Promise<'APPLIED' | 'STALE'> {
  const Key = agentPortalsKey(site, v.agent);
  const ConditionExpression = 'attribute_not_exists(PK) OR observedAt <= :at';
  try {
    if (v.portals.length === 0) {
      await c.doc.send(new DeleteCommand({ TableName: c.config.tableName, Key, ConditionExpression, ExpressionAttributeValues: { ':at': at } }));
    } else {
      await c.doc.send(
        new PutCommand({
          TableName: c.config.tableName,
          Item: { ...Key, entity: 'AgentPortals', site, agent: v.agent, portals: v.portals, observedAt: at, updatedAt: new Date().toISOString() },
          ConditionExpression,
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    }
    await noteSnapshotInputChanged(c, site);
    return 'APPLIED';
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return 'STALE';
    throw err;
  }
}

/** Every agent's portals for the site, sorted by agent (one Query on the site's partition). */
export async function siteAgentPortals(c: Clients, site: string): Promise<SnapshotAgentPortals[]> {
  const out: SnapshotAgentPortals[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await c.doc.send(
      new QueryCommand({
        TableName: c.config.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeValues: { ':pk': `SITE#${site}`, ':sk': AGENT_SK_PREFIX },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const i of page.Items ?? []) out.push(decodeAgentPortals(i));
    start = page.LastEvaluatedKey;
  } while (start);
  return out.sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
}
