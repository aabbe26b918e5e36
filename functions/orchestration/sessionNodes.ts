/**
 * A session's node records (one item per node, SK NODE#<xname>) and the one way a node changes
 * phase: a transaction that moves the record conditionally on the phase it was seen in and moves
 * the session's per-phase counter with it, so counts always say what happened and two writers
 * (two agents, an agent and the expiry schedule) never both move one node.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { BootPayload } from '../../schema/bootPayload.js';
import { bootPayloadDecoder } from '../boot/resolve.js';
import { bool, int, nullable, object, oneOf, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';
import type { Clients } from '../shared/clients.js';
import { queryAll, queryPage, type Page } from '../shared/pagination.js';
import { bootSessionKey, bootSessionPk, NODE_SK_PREFIX, sessionNodeKey } from './keys.js';

export const NODE_PHASES = ['PENDING', 'WAITING', 'INPROGRESS', 'SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'STAGED', 'SUPERSEDED'] as const;
export type NodePhase = (typeof NODE_PHASES)[number];

/** The session's counter of each phase. */
export const COUNTER: Record<NodePhase, string> = {
  PENDING: 'pending',
  WAITING: 'waiting',
  INPROGRESS: 'inProgress',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  ROLLED_BACK: 'rolledBack',
  STAGED: 'staged',
  SUPERSEDED: 'superseded',
};

export interface NodeError {
  step: string;
  message: string;
}

export interface SessionNode {
  sessionId: string;
  site: string;
  xname: string;
  phase: NodePhase;
  attempts: number;
  error: NodeError | null;
  startedAt: string | null;
  endedAt: string | null;
  previousImageId: string | null;
  targetImageId: string | null;
  bootSet: string;
  canary: boolean;
  claimedBy: string | null;
  /** The claiming agent's instance (kept in its data dir): a claim repeated under it returns this one. */
  claimToken: string | null;
  leaseExpiresAt: string | null;
  supersededBy: string | null;
  target: BootPayload | null;
  bootToken: string | null;
  previous: BootPayload | null;
  previousBootToken: string | null;
}

const sessionNodeDecoder: Decoder<SessionNode> = object({
  sessionId: str,
  site: str,
  xname: str,
  phase: oneOf(NODE_PHASES),
  attempts: withDefault(int, 0),
  error: nullable(object({ step: str, message: str })),
  startedAt: nullable(str),
  endedAt: nullable(str),
  previousImageId: nullable(str),
  targetImageId: nullable(str),
  bootSet: withDefault(str, ''),
  canary: withDefault(bool, false),
  claimedBy: nullable(str),
  claimToken: nullable(str),
  leaseExpiresAt: nullable(str),
  supersededBy: nullable(str),
  target: nullable(bootPayloadDecoder),
  bootToken: nullable(str),
  previous: nullable(bootPayloadDecoder),
  previousBootToken: nullable(str),
});

/** The stored BootSessionNode item (SK NODE#<xname>); StoredItemError if it is malformed. */
export const toSessionNode = storedDecoder('BootSessionNode', sessionNodeDecoder);

export function sessionNodeItem(n: SessionNode): Record<string, unknown> {
  return { ...sessionNodeKey(n.sessionId, n.xname), entity: 'BootSessionNode', ...n };
}

export async function sessionNodesPage(c: Clients, sessionId: string, first?: number | null, after?: string | null): Promise<Page<SessionNode>> {
  return queryPage(
    c,
    { input: { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :n)', ExpressionAttributeValues: { ':pk': bootSessionPk(sessionId), ':n': NODE_SK_PREFIX } }, first, after },
    toSessionNode,
  );
}

/** Every node record of a session, in xname order (consistent: claims decide on them). */
export async function allSessionNodes(c: Clients, sessionId: string): Promise<SessionNode[]> {
  const items = await queryAll(c, { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :n)', ExpressionAttributeValues: { ':pk': bootSessionPk(sessionId), ':n': NODE_SK_PREFIX }, ConsistentRead: true });
  return items.map(toSessionNode);
}

export interface Transition {
  sessionId: string;
  xname: string;
  from: NodePhase;
  to: NodePhase;
  /** Attributes set on the node record besides phase. */
  set?: Record<string, unknown>;
  remove?: string[];
  /** Extra condition on the node record, with its values (names as #n0… are not needed). */
  nodeCondition?: { expression: string; values: Record<string, unknown> };
  /** Extra condition on the session item, and counters added there. */
  sessionCondition?: { expression: string; values: Record<string, unknown> };
  sessionAdd?: Record<string, number>;
  /** Conditions on other items (by key) that must hold too, e.g. the node's boot state carrying no workload hold. */
  checks?: { key: Record<string, unknown>; expression: string }[];
}

/** Applies a transition; false when a condition did not hold (someone else moved first, or the window is full). */
export async function transition(c: Clients, t: Transition): Promise<boolean> {
  const names: Record<string, string> = { '#phase': 'phase' };
  const values: Record<string, unknown> = { ':to': t.to, ':from': t.from, ...(t.nodeCondition?.values ?? {}) };
  const sets = ['#phase = :to'];
  Object.entries(t.set ?? {}).forEach(([k, v], i) => {
    names[`#s${i}`] = k;
    values[`:s${i}`] = v;
    sets.push(`#s${i} = :s${i}`);
  });
  const removes = (t.remove ?? []).map((k, i) => {
    names[`#r${i}`] = k;
    return `#r${i}`;
  });
  const nodeUpdate = `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`;
  const counters: Record<string, number> = { ...(t.sessionAdd ?? {}) };
  if (t.from !== t.to) {
    counters[`counts.${COUNTER[t.from]}`] = (counters[`counts.${COUNTER[t.from]}`] ?? 0) - 1;
    counters[`counts.${COUNTER[t.to]}`] = (counters[`counts.${COUNTER[t.to]}`] ?? 0) + 1;
  }
  const sNames: Record<string, string> = {};
  const sValues: Record<string, unknown> = { ':now': new Date().toISOString(), ...(t.sessionCondition?.values ?? {}) };
  const sAdds = Object.entries(counters).map(([path, n], i) => {
    const parts = path.split('.');
    const ref = parts.map((p, j) => {
      sNames[`#c${i}_${j}`] = p;
      return `#c${i}_${j}`;
    });
    sValues[`:c${i}`] = n;
    return `${ref.join('.')} :c${i}`;
  });
  try {
    await c.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: c.config.tableName,
              Key: sessionNodeKey(t.sessionId, t.xname),
              UpdateExpression: nodeUpdate,
              ConditionExpression: `#phase = :from${t.nodeCondition ? ` AND (${t.nodeCondition.expression})` : ''}`,
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            },
          },
          {
            Update: {
              TableName: c.config.tableName,
              Key: bootSessionKey(t.sessionId),
              UpdateExpression: `SET updatedAt = :now${sAdds.length ? ` ADD ${sAdds.join(', ')}` : ''}`,
              ...(t.sessionCondition ? { ConditionExpression: t.sessionCondition.expression } : {}),
              ...(Object.keys(sNames).length || t.sessionCondition ? { ExpressionAttributeNames: { ...sNames, ...sessionConditionNames(t.sessionCondition?.expression) } } : {}),
              ExpressionAttributeValues: sValues,
            },
          },
          ...(t.checks ?? []).map((k) => ({ ConditionCheck: { TableName: c.config.tableName, Key: k.key, ConditionExpression: k.expression } })),
        ],
      }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'TransactionCanceledException') return false;
    throw err;
  }
}

/** `#status` and friends used in session conditions. */
function sessionConditionNames(expression: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (expression ?? '').matchAll(/#([A-Za-z]+)/g)) out[`#${m[1]}`] = m[1]!;
  return out;
}

/** Failed and rolled-back nodes grouped by step and message. */
export function errorSummary(nodes: SessionNode[]): { step: string; message: string; count: number; xnames: string[] }[] {
  const groups = new Map<string, { step: string; message: string; count: number; xnames: string[] }>();
  for (const n of nodes) {
    if (!n.error || (n.phase !== 'FAILED' && n.phase !== 'ROLLED_BACK')) continue;
    const k = `${n.error.step}\u0000${n.error.message}`;
    const g = groups.get(k) ?? { step: n.error.step, message: n.error.message, count: 0, xnames: [] };
    g.count++;
    g.xnames.push(n.xname);
    groups.set(k, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}
