/**
 * Boot sessions (BOS v2 sessions): a template's nodes, narrowed by `limit`, booted under a rolling
 * policy. Status PENDING → RUNNING → COMPLETE | FAILED | CANCELLED, with PAUSED. Creating one
 * resolves and records every node (BOOT leaves out nodes already validated on the target; stage
 * writes staged state only), takes the nodes over from older sessions, then opens it for agents.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, NotFoundError } from '../../schema/errors.js';
import type { BootPayload } from '../../schema/bootPayload.js';
import { bootTokenFor } from '../../bootscript/bootToken.js';
import { auditPut } from '../shared/audit.js';
import type { Clients } from '../shared/clients.js';
import type { OperationContext } from '../shared/handler.js';
import { assertAllowedAt, canRead } from '../shared/identity.js';
import { queryAll, queryPage, type Page } from '../shared/pagination.js';
import { siteFor } from '../boot/configurations.js';
import { siteComponentRecords, unknownGroups } from '../inventory/lookup.js';
import { bootSetPayload, templateForSession, templateTargets, type BootSet } from './templates.js';
import { applyLimit, limitGroups, parseLimit } from './limitExpression.js';
import { bootStates } from './bootState.js';
import { bootStateKey, bootSessionKey, OPEN_SESSIONS_PK, siteSessionsByStatusPk, siteSessionsPk } from './keys.js';
import { allSessionNodes, errorSummary, sessionNodeItem, sessionNodesPage, transition, type SessionNode } from './sessionNodes.js';
import type { BootSessionCounts } from '../../schema/bootSessionCounts.js';
import { bool, int, nullable, object, oneOf, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';

export const OPERATIONS = ['BOOT', 'REBOOT', 'SHUTDOWN'] as const;
export type BootOperation = (typeof OPERATIONS)[number];
export type SessionStatus = 'PENDING' | 'RUNNING' | 'PAUSED' | 'COMPLETE' | 'FAILED' | 'CANCELLED';

export type Counts = BootSessionCounts;

export interface BootSession {
  id: string;
  site: string;
  template: string;
  templateVersion: number;
  operation: BootOperation;
  limit: string | null;
  stage: boolean;
  maxConcurrent: number;
  canary: number;
  maxFailures: number | null;
  bootTimeoutSeconds: number;
  rollback: boolean;
  respectWorkload: boolean;
  status: SessionStatus;
  statusReason: string | null;
  counts: Counts;
  canaryStarted: number;
  canaryValidated: number;
  /**
   * FAILED plus ROLLED_BACK nodes at the last resume: maxFailures counts failures since, so a
   * session an operator resumes after a maxFailures pause gets a fresh budget rather than pausing
   * again at once.
   */
  failureBaseline: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
}

export interface BootSessionInput {
  template: string;
  site?: string | null;
  operation: BootOperation;
  limit?: string | null;
  stage?: boolean | null;
  maxConcurrent?: number | null;
  canary?: number | null;
  maxFailures?: number | null;
  bootTimeoutSeconds?: number | null;
  rollback?: boolean | null;
  respectWorkload?: boolean | null;
}

const TERMINAL: SessionStatus[] = ['COMPLETE', 'FAILED', 'CANCELLED'];
export const DEFAULT_BOOT_TIMEOUT_SECONDS = 600;

const SESSION_STATUSES = ['PENDING', 'RUNNING', 'PAUSED', 'COMPLETE', 'FAILED', 'CANCELLED'] as const satisfies readonly SessionStatus[];
const count = withDefault(int, 0);

const sessionDecoder: Decoder<BootSession> = object({
  id: str,
  site: str,
  template: str,
  templateVersion: int,
  operation: oneOf(OPERATIONS),
  limit: nullable(str),
  stage: withDefault(bool, false),
  maxConcurrent: int,
  canary: count,
  maxFailures: nullable(int),
  bootTimeoutSeconds: int,
  rollback: withDefault(bool, false),
  respectWorkload: withDefault(bool, false),
  status: oneOf(SESSION_STATUSES),
  statusReason: nullable(str),
  // Counters are ADDed one by one; a counter never touched is absent.
  counts: withDefault(
    object({ total: count, pending: count, waiting: count, inProgress: count, succeeded: count, failed: count, rolledBack: count, staged: count, superseded: count }),
    { total: 0, pending: 0, waiting: 0, inProgress: 0, succeeded: 0, failed: 0, rolledBack: 0, staged: 0, superseded: 0 },
  ),
  canaryStarted: count,
  canaryValidated: count,
  failureBaseline: count,
  createdBy: str,
  createdAt: str,
  updatedAt: str,
  endedAt: nullable(str),
});

/** The stored BootSession item; StoredItemError if it is malformed. */
export const toSession = storedDecoder('BootSession', sessionDecoder);

export async function storedSession(c: Clients, id: string): Promise<BootSession | null> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: bootSessionKey(id), ConsistentRead: true }));
  return out.Item ? toSession(out.Item) : null;
}

/** The session as the caller may see it (an agent: only its own site's). */
export async function visibleSession(ctx: OperationContext, id: string): Promise<BootSession | null> {
  const s = await storedSession(ctx.clients, id);
  // Agents see their own site's sessions, people those of the sites they may read.
  return s && canRead(ctx.identity, s.site) ? s : null;
}

function intIn(raw: number | null | undefined, dflt: number | null, min: number, max: number, field: string): number | null {
  if (raw === null || raw === undefined) return dflt;
  if (!Number.isInteger(raw) || raw < min || raw > max) throw new BadUserInputError(field, `${raw} is out of range: must be an integer from ${min} to ${max}`);
  return raw;
}

const statusKeys = (site: string, status: SessionStatus, createdAt: string, id: string) => ({
  GSI2PK: siteSessionsByStatusPk(site, status),
  GSI2SK: `${createdAt}#${id}`,
});

async function batchPut(c: Clients, items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length; attempt++) {
      const out = await c.doc.send(new BatchWriteCommand({ RequestItems: { [c.config.tableName]: pending } }));
      pending = (out.UnprocessedItems?.[c.config.tableName] ?? []) as typeof pending;
      if (pending.length) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
    }
  }
}

/**
 * Moves the session's status conditionally on the one it was seen in (and, with `seenReason`, on the
 * reason it was seen with); false when it had moved.
 */
export async function setStatus(c: Clients, s: BootSession, to: SessionStatus, reason: string | null, from: SessionStatus = s.status, seenReason?: string, failureBaseline?: number): Promise<boolean> {
  const now = new Date().toISOString();
  const terminal = TERMINAL.includes(to) && (to !== 'CANCELLED' || s.counts.inProgress === 0);
  try {
    await c.doc.send(
      new UpdateCommand({
        TableName: c.config.tableName,
        Key: bootSessionKey(s.id),
        UpdateExpression: `SET #status = :to, statusReason = :r, updatedAt = :now, GSI2PK = :pk${failureBaseline === undefined ? '' : ', failureBaseline = :fb'}${TERMINAL.includes(to) ? ', endedAt = :now' : ''}${terminal ? ' REMOVE GSI3PK, GSI3SK' : ''}`,
        ConditionExpression: `#status = :from${seenReason === undefined ? '' : ' AND statusReason = :seen'}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':to': to, ':from': from, ':r': reason, ':now': now, ':pk': siteSessionsByStatusPk(s.site, to),
          ...(seenReason === undefined ? {} : { ':seen': seenReason }),
          ...(failureBaseline === undefined ? {} : { ':fb': failureBaseline }),
        },
      }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

const MAX_FAILURES_PAUSE = 'paused at maxFailures';
const maxFailuresReason = (s: BootSession, failures: number) =>
  `${MAX_FAILURES_PAUSE}: ${failures} of ${s.counts.total} nodes failed${s.failureBaseline ? ` (${failures - s.failureBaseline} since the last resume)` : ''}`;
const CANARY_PAUSE = 'canary';

/** FAILED plus ROLLED_BACK nodes since the last resume: what maxFailures is held against. */
export const failuresSinceResume = (s: BootSession): number => s.counts.failed + s.counts.rolledBack - s.failureBaseline;

/**
 * After a node settles: pause at maxFailures (or when a canary failed: the rest would wait on it
 * for ever), finish when no node is left to move. Re-reads, so it decides on current counts. Nodes
 * in flight at the pause still finish and may fail: a maxFailures pause's reason is restated with
 * each such failure (conditional on the reason seen, so a slower settle never writes an older count).
 */
export async function settleSession(c: Clients, id: string): Promise<BootSession | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const s = await storedSession(c, id);
    if (!s) return null;
    const k = s.counts;
    const failures = k.failed + k.rolledBack;
    const open = k.pending + k.waiting + k.inProgress + k.staged;
    if (s.status === 'CANCELLED') {
      if (k.inProgress === 0 && !s.endedAt) await setStatus(c, s, 'CANCELLED', s.statusReason);
      return storedSession(c, id);
    }
    if (s.status !== 'RUNNING' && s.status !== 'PAUSED') return s;
    if (open === 0) {
      if (await setStatus(c, s, failures ? 'FAILED' : 'COMPLETE', failures ? `${failures} of ${k.total} nodes failed validation` : null)) return storedSession(c, id);
      continue;
    }
    if (s.status === 'RUNNING' && s.maxFailures !== null && failuresSinceResume(s) >= s.maxFailures) {
      if (await setStatus(c, s, 'PAUSED', maxFailuresReason(s, failures))) return storedSession(c, id);
      continue;
    }
    if (s.status === 'PAUSED' && s.statusReason?.startsWith(MAX_FAILURES_PAUSE) && s.statusReason !== maxFailuresReason(s, failures)) {
      if (await setStatus(c, s, 'PAUSED', maxFailuresReason(s, failures), 'PAUSED', s.statusReason)) return storedSession(c, id);
      continue;
    }
    if (s.status === 'RUNNING' && s.canary > 0 && s.canaryValidated < s.canary && s.canaryStarted >= s.canary && failures > 0) {
      const nodes = await allSessionNodes(c, id);
      const bad = nodes.filter((n) => n.canary && (n.phase === 'FAILED' || n.phase === 'ROLLED_BACK'));
      if (bad.length && (await setStatus(c, s, 'PAUSED', `${CANARY_PAUSE} ${bad.map((n) => n.xname).join(', ')} failed validation`))) return storedSession(c, id);
    }
    return s;
  }
  return storedSession(c, id);
}

interface PlannedNode {
  xname: string;
  set: BootSet;
  target: BootPayload | null;
}

export async function createBootSession(ctx: OperationContext, args: { input: BootSessionInput }): Promise<BootSession> {
  const input = args.input;
  const site = siteFor(ctx, input.site, 'input.site');
  if (!OPERATIONS.includes(input.operation)) throw new BadUserInputError('input.operation', `"${String(input.operation)}" is not one of ${OPERATIONS.join(', ')}`);
  const template = await templateForSession(ctx, site, input.template, 'input.template');
  const maxConcurrent = intIn(input.maxConcurrent, 1, 1, 10_000, 'input.maxConcurrent')!;
  const canary = intIn(input.canary, 0, 0, 10_000, 'input.canary')!;
  const maxFailures = intIn(input.maxFailures, null, 1, 100_000, 'input.maxFailures');
  const bootTimeoutSeconds = intIn(input.bootTimeoutSeconds, DEFAULT_BOOT_TIMEOUT_SECONDS, 5, 86_400, 'input.bootTimeoutSeconds')!;
  const stage = input.stage === true;
  if (stage && input.operation === 'SHUTDOWN') throw new BadUserInputError('input.stage', 'a SHUTDOWN session has no boot state to stage');

  const components = (await siteComponentRecords(ctx.clients, site)).filter((r) => r.type === 'Node');
  const targets = templateTargets(template, components);
  let xnames = [...targets.keys()].sort();
  const limit = input.limit?.trim() ? input.limit.trim() : null;
  if (limit) {
    const terms = parseLimit(limit);
    const groups = limitGroups(terms);
    const missing = new Set(await unknownGroups(ctx.clients, groups));
    const kept = applyLimit(terms, components.map((c) => ({ xname: c.xname, groups: c.groups, role: c.role ?? null })), new Set(groups.filter((g) => !missing.has(g))));
    xnames = xnames.filter((x) => kept.has(x));
  }
  const payloads = new Map<string, BootPayload>();
  const planned: PlannedNode[] = [];
  for (const x of xnames) {
    const set = targets.get(x)!;
    if (input.operation === 'SHUTDOWN') {
      planned.push({ xname: x, set, target: null });
      continue;
    }
    if (!payloads.has(set.name)) payloads.set(set.name, await bootSetPayload(ctx, set));
    planned.push({ xname: x, set, target: payloads.get(set.name)! });
  }
  const states = await bootStates(ctx.clients, site, xnames, true);
  // BOOT: a node whose last validated boot carried the target's token is already there.
  const nodes = input.operation === 'BOOT' ? planned.filter((p) => states.get(p.xname)!.actualBootToken !== bootTokenFor(p.xname, p.target!)) : planned;
  if (canary > nodes.length) throw new BadUserInputError('input.canary', `${canary} canaries but the session has ${nodes.length} node${nodes.length === 1 ? '' : 's'}`);

  const id = randomUUID();
  const now = new Date().toISOString();
  const phase = stage ? 'STAGED' : 'PENDING';
  const session: BootSession = {
    id,
    site,
    template: template.name,
    templateVersion: template.version,
    operation: input.operation,
    limit,
    stage,
    maxConcurrent,
    canary,
    maxFailures,
    bootTimeoutSeconds,
    rollback: input.rollback === true,
    respectWorkload: input.respectWorkload === true,
    status: 'PENDING',
    statusReason: null,
    counts: { total: nodes.length, pending: stage ? 0 : nodes.length, waiting: 0, inProgress: 0, succeeded: 0, failed: 0, rolledBack: 0, staged: stage ? nodes.length : 0, superseded: 0 },
    canaryStarted: 0,
    canaryValidated: 0,
    failureBaseline: 0,
    createdBy: ctx.identity.subject,
    createdAt: now,
    updatedAt: now,
    endedAt: null,
  };
  const table = ctx.clients.config.tableName;
  await ctx.clients.doc.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: table,
            Item: { ...bootSessionKey(id), entity: 'BootSession', ...session, GSI1PK: siteSessionsPk(site), GSI1SK: `${now}#${id}`, ...statusKeys(site, 'PENDING', now, id), GSI3PK: OPEN_SESSIONS_PK, GSI3SK: `${site}#${now}#${id}` },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        auditPut(ctx, { operation: 'createBootSession', target: `bootSession:${id}`, site, after: { ...session, xnames: nodes.map((n) => n.xname) } }),
      ],
    }),
  );
  const records: SessionNode[] = nodes.map((p) => ({
    sessionId: id,
    site,
    xname: p.xname,
    phase,
    attempts: 0,
    error: null,
    startedAt: null,
    endedAt: null,
    previousImageId: null,
    targetImageId: p.target?.imageId ?? null,
    bootSet: p.set.name,
    canary: false,
    claimedBy: null,
    claimToken: null,
    leaseExpiresAt: null,
    supersededBy: null,
    target: p.target,
    bootToken: p.target ? bootTokenFor(p.xname, p.target) : null,
    previous: null,
    previousBootToken: null,
  }));
  await batchPut(ctx.clients, records.map(sessionNodeItem));
  await takeOver(ctx, session, records, states);
  await setStatus(ctx.clients, session, 'RUNNING', null, 'PENDING');
  const settled = await settleSession(ctx.clients, id);
  return settled ?? session;
}

/**
 * The newer session owns each of its nodes (as BOS): the node's boot state names it, and an older
 * session's record of the node, if not already in flight or done, becomes SUPERSEDED naming this one.
 * A stage session writes the staged state here too.
 */
async function takeOver(ctx: OperationContext, s: BootSession, records: SessionNode[], states: Map<string, { activeSessionId: string | null }>): Promise<void> {
  const c = ctx.clients;
  for (const r of records) {
    const older = states.get(r.xname)?.activeSessionId;
    await c.doc.send(
      new UpdateCommand({
        TableName: c.config.tableName,
        Key: bootStateKey(s.site, r.xname),
        UpdateExpression: s.stage
          ? 'SET site = :site, xname = :x, activeSessionId = :id, stagedSessionId = :id, stagedImageId = :img'
          : 'SET site = :site, xname = :x, activeSessionId = :id',
        ExpressionAttributeValues: { ':site': s.site, ':x': r.xname, ':id': s.id, ...(s.stage ? { ':img': r.targetImageId } : {}) },
      }),
    );
    if (!older || older === s.id) continue;
    for (const from of ['PENDING', 'WAITING', 'STAGED'] as const) {
      if (await transition(c, { sessionId: older, xname: r.xname, from, to: 'SUPERSEDED', set: { supersededBy: s.id, endedAt: new Date().toISOString() } })) {
        await settleSession(c, older);
        break;
      }
    }
  }
}

export async function bootSession(ctx: OperationContext, args: { id: string }): Promise<BootSession | null> {
  return visibleSession(ctx, args.id);
}

export async function bootSessions(ctx: OperationContext, args: { site?: string | null; status?: SessionStatus | null; first?: number | null; after?: string | null }): Promise<Page<BootSession>> {
  const site = siteFor(ctx, args.site);
  const [index, pk] = args.status ? (['GSI2', siteSessionsByStatusPk(site, args.status)] as const) : (['GSI1', siteSessionsPk(site)] as const);
  const key = index === 'GSI2' ? 'GSI2PK' : 'GSI1PK';
  return queryPage(ctx.clients, { input: { IndexName: index, KeyConditionExpression: `${key} = :pk`, ExpressionAttributeValues: { ':pk': pk }, ScanIndexForward: false }, first: args.first, after: args.after }, toSession);
}

export async function sessionNodes(ctx: OperationContext, args: { first?: number | null; after?: string | null }, source: Record<string, unknown> | undefined) {
  return sessionNodesPage(ctx.clients, String(source?.id), args.first, args.after);
}

export async function sessionErrors(ctx: OperationContext, source: Record<string, unknown> | undefined) {
  return errorSummary(await allSessionNodes(ctx.clients, String(source?.id)));
}

async function control(ctx: OperationContext, id: string, allowed: SessionStatus[], to: SessionStatus, reason: string | null, verb: string): Promise<BootSession> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const s = await storedSession(ctx.clients, id);
    if (!s) throw new NotFoundError('boot session', id, 'id');
    // The session's site decides: an operator of another site is refused, naming the site.
    assertAllowedAt(ctx.identity, 'write', s.site, 'id');
    if (s.status === to) return s;
    if (!allowed.includes(s.status)) throw new ConflictError(`boot session ${id} is ${s.status}: only a ${allowed.join(' or ')} session can be ${verb}`, 'id');
    const resuming = to === 'RUNNING';
    // Its canaries failed and the rest wait on them for ever: resumed, it would pause again at once.
    if (resuming && s.statusReason?.startsWith(`${CANARY_PAUSE} `)) {
      throw new ConflictError(`boot session ${id} is paused because its ${s.statusReason}: the other nodes wait on validated canaries, so it cannot go on; cancel it and start a new session once the image is fixed`, 'id');
    }
    // Resumed, maxFailures counts from here: failures reported between this read and the write
    // count against the new budget (it pauses early rather than late).
    if (await setStatus(ctx.clients, s, to, reason, s.status, undefined, resuming ? s.counts.failed + s.counts.rolledBack : undefined)) {
      await ctx.clients.doc.send(new PutCommand({ TableName: ctx.clients.config.tableName, Item: auditPut(ctx, { operation: `${verb}BootSession`, target: `bootSession:${id}`, site: s.site, before: { status: s.status }, after: { status: to } }).Put.Item }));
      return (await settleSession(ctx.clients, id)) ?? s;
    }
  }
  throw new ConflictError(`boot session ${id} kept changing; retry`, 'id');
}

export const pauseBootSession = (ctx: OperationContext, a: { id: string }) => control(ctx, a.id, ['RUNNING'], 'PAUSED', `paused by ${ctx.identity.subject}`, 'paused');
export const resumeBootSession = (ctx: OperationContext, a: { id: string }) => control(ctx, a.id, ['PAUSED'], 'RUNNING', null, 'resumed');
export const cancelBootSession = (ctx: OperationContext, a: { id: string }) => control(ctx, a.id, ['PENDING', 'RUNNING', 'PAUSED'], 'CANCELLED', `cancelled by ${ctx.identity.subject}`, 'cancelled');

/** Every session of a site in one status (the agent's work list, the expiry schedule). */
export async function siteSessionsQuery(c: Clients, site: string, status: SessionStatus): Promise<BootSession[]> {
  return (await queryAll(c, { IndexName: 'GSI2', KeyConditionExpression: 'GSI2PK = :pk', ExpressionAttributeValues: { ':pk': siteSessionsByStatusPk(site, status) } })).map(toSession);
}

/** Sessions that may still hold claims (not COMPLETE or FAILED, or CANCELLED with nodes in flight). */
export async function openSessions(c: Clients): Promise<BootSession[]> {
  return (await queryAll(c, { IndexName: 'GSI3', KeyConditionExpression: 'GSI3PK = :pk', ExpressionAttributeValues: { ':pk': OPEN_SESSIONS_PK } })).map(toSession);
}
