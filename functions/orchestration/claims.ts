/**
 * The agent's side of a session. An agent asks which nodes of its site's RUNNING sessions are not
 * yet taken (bootSessionWork), asks its workload manager which of them are idle, and claims the idle
 * ones (claimBootSessionNodes): busy nodes become WAITING (outside the window), idle ones are taken
 * one by one, each a transaction conditional on the session's window (`counts.inProgress <
 * maxConcurrent`) and canary gate and on the node's phase, so agents racing for one site never
 * exceed the window nor take one node twice. A claim is a lease the agent renews; the claim-expiry
 * schedule (claimExpiry.ts) hands an abandoned one back. The claim carries the target and previous
 * boot and their tokens, so the agent can boot, validate and roll back from its journal alone.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '../../schema/errors.js';
import { bootTokenFor } from '../../bootscript/bootToken.js';
import { normaliseXName } from '../../schema/xname.js';
import type { OperationContext } from '../shared/handler.js';
import { siteScope } from '../shared/identity.js';
import { logger } from '../shared/logger.js';
import { bootStateOf, recordActual, resolvedBoot, setDesiredBoot } from './bootState.js';
import { bootStateKey, sessionNodeKey } from './keys.js';
import { allSessionNodes, toSessionNode, transition, type NodePhase, type SessionNode } from './sessionNodes.js';
import { failuresSinceResume, settleSession, siteSessionsQuery, storedSession, visibleSession, type BootSession } from './sessions.js';

export function bootClaimLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.SKYBOOT_BOOT_CLAIM_LEASE_SECONDS ?? 120) * 1000;
}

const MAX_CLAIM_RETRIES = 12;

function agentSite(ctx: OperationContext): string {
  const site = siteScope(ctx.identity);
  if (!site) throw new ForbiddenError('only a site agent works on boot sessions');
  return site;
}

async function nodeRecord(ctx: OperationContext, sessionId: string, xname: string): Promise<SessionNode | null> {
  const out = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: sessionNodeKey(sessionId, xname), ConsistentRead: true }));
  return out.Item ? toSessionNode(out.Item) : null;
}

/** Nodes that may still fail before the session pauses (since its last resume); null without maxFailures. */
function failuresLeft(s: BootSession): number | null {
  return s.maxFailures === null ? null : Math.max(0, s.maxFailures - failuresSinceResume(s));
}

/** Free slots of the window now: none while canaries are out and not all validated, nor once maxFailures is reached. */
function freeSlots(s: BootSession): number {
  if (s.status !== 'RUNNING' || failuresLeft(s) === 0) return 0;
  const free = Math.max(0, s.maxConcurrent - s.counts.inProgress);
  if (s.canaryStarted < s.canary) return Math.min(free, s.canary - s.canaryStarted);
  if (s.canaryValidated < s.canary) return 0;
  return free;
}

/** The node is INPROGRESS under this agent's claim, made by the same agent instance (claim token). */
function heldBy(ctx: OperationContext, n: SessionNode, claimToken: string | null | undefined): boolean {
  return n.phase === 'INPROGRESS' && n.claimedBy === ctx.identity.subject && !!claimToken && n.claimToken === claimToken;
}

export async function bootSessionWork(ctx: OperationContext, args: { claimToken?: string | null } = {}) {
  const site = agentSite(ctx);
  const sessions = await siteSessionsQuery(ctx.clients, site, 'RUNNING');
  const out = [];
  for (const s of sessions) {
    const all = await allSessionNodes(ctx.clients, s.id);
    const nodes = all.filter((n) => n.phase === 'PENDING' || n.phase === 'WAITING');
    // Claims this agent instance holds: one whose answer it never got (a lost response) shows here, so it claims the node again.
    const claimed = all.filter((n) => heldBy(ctx, n, args.claimToken)).map((n) => n.xname);
    if (!nodes.length && !claimed.length) continue;
    out.push({ sessionId: s.id, respectWorkload: s.respectWorkload, freeSlots: freeSlots(s), failuresLeft: failuresLeft(s), xnames: nodes.map((n) => n.xname), claimed });
  }
  return out;
}

function claimView(s: BootSession, n: SessionNode) {
  return {
    sessionId: s.id,
    xname: n.xname,
    operation: s.operation,
    canary: n.canary,
    attempts: n.attempts,
    bootTimeoutSeconds: s.bootTimeoutSeconds,
    rollback: s.rollback,
    respectWorkload: s.respectWorkload,
    target: n.target,
    bootToken: n.bootToken,
    previous: n.previous,
    previousBootToken: n.previousBootToken,
    leaseExpiresAt: n.leaseExpiresAt!,
  };
}

/**
 * One node, taken under the window: the record when this agent won it, 'held' when the node is held
 * busy (setWorkloadHold) and the session respects workload. The hold is checked here, in the claim's
 * own transaction, not only by the agent: its copy of the holds is only as new as its last snapshot
 * pull, so a node held just before the session started would otherwise be taken.
 */
async function claimOne(ctx: OperationContext, sessionId: string, xname: string, claimToken: string | null): Promise<SessionNode | 'held' | null> {
  for (let attempt = 0; attempt < MAX_CLAIM_RETRIES; attempt++) {
    const s = await storedSession(ctx.clients, sessionId);
    if (!s) return null;
    const n = await nodeRecord(ctx, sessionId, xname);
    if (!n) return null;
    // A repeated claim (its first answer was lost): the same claim again, with its lease renewed; it
    // already occupies its window slot, so it takes no other and is answered even with the window
    // full. The agent has not started the node yet: a paused session (or one at maxFailures) leaves it
    // to the lease, which hands it back to PENDING.
    if (heldBy(ctx, n, claimToken)) {
      if (s.status !== 'RUNNING' || failuresLeft(s) === 0) return null;
      return (await extendLease(ctx, sessionId, xname)) ? (await nodeRecord(ctx, sessionId, xname))! : null;
    }
    if (freeSlots(s) === 0 || (n.phase !== 'PENDING' && n.phase !== 'WAITING')) return null;
    if (s.respectWorkload && (await bootStateOf(ctx.clients, s.site, xname)).workloadHold) return 'held';
    const asCanary = s.canaryStarted < s.canary;
    const now = new Date();
    const won = await transition(ctx.clients, {
      sessionId,
      xname,
      from: n.phase,
      to: 'INPROGRESS',
      set: { claimedBy: ctx.identity.subject, claimToken, leaseExpiresAt: new Date(now.getTime() + bootClaimLeaseMs()).toISOString(), startedAt: now.toISOString(), attempts: n.attempts + 1, canary: asCanary },
      remove: ['endedAt'],
      sessionCondition: claimCondition(s, asCanary),
      sessionAdd: asCanary ? { canaryStarted: 1 } : {},
      // setWorkloadHold removes the attribute on release.
      ...(s.respectWorkload ? { checks: [{ key: bootStateKey(s.site, xname), expression: 'attribute_not_exists(workloadHold)' }] } : {}),
    });
    if (won) return (await nodeRecord(ctx, sessionId, xname))!;
    // Lost a race (another agent moved the window or this node): look again after a short pause.
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 25 * (attempt + 1)));
  }
  return null;
}

/**
 * The session item's condition for one claim: RUNNING, a free slot, the canary gate, and, with
 * maxFailures, failure counts as seen (below the limit): a failure reported between the read and
 * this write makes the claim look again, so no node starts once the limit is reached, even before
 * settleSession has written the pause.
 */
function claimCondition(s: BootSession, asCanary: boolean): { expression: string; values: Record<string, unknown> } {
  const gate = asCanary ? 'canaryStarted < :canary' : 'canaryValidated >= :canary';
  const failures = s.maxFailures === null ? '' : ' AND #counts.#failed = :failed AND #counts.#rolledBack = :rolledBack';
  return {
    expression: `#status = :running AND #counts.#inProgress < :max AND ${gate}${failures}`,
    values: { ':running': 'RUNNING', ':max': s.maxConcurrent, ':canary': s.canary, ...(s.maxFailures === null ? {} : { ':failed': s.counts.failed, ':rolledBack': s.counts.rolledBack }) },
  };
}

/** Records the node's previous boot (first claim only) and makes the target its desired state. */
async function prepare(ctx: OperationContext, s: BootSession, n: SessionNode): Promise<SessionNode> {
  let previous = n.previous;
  if (!previous && n.attempts <= 1) {
    previous = await resolvedBoot(ctx, s.site, n.xname);
    await ctx.clients.doc.send(
      new UpdateCommand({
        TableName: ctx.clients.config.tableName,
        Key: sessionNodeKey(s.id, n.xname),
        UpdateExpression: 'SET previous = :p, previousImageId = :i, previousBootToken = :t',
        ExpressionAttributeValues: { ':p': previous, ':i': previous?.imageId ?? null, ':t': previous ? bootTokenFor(n.xname, previous) : null },
      }),
    );
  }
  if (n.target) await setDesiredBoot(ctx, s.site, n.xname, n.target);
  return (await nodeRecord(ctx, s.id, n.xname))!;
}

export async function claimBootSessionNodes(ctx: OperationContext, args: { input: { sessionId: string; idle: string[]; busy?: string[] | null; claimToken?: string | null } }) {
  const site = agentSite(ctx);
  const { sessionId } = args.input;
  const claimToken = args.input.claimToken ?? null;
  const s = await visibleSession(ctx, sessionId);
  if (!s || s.site !== site) throw new NotFoundError('boot session', sessionId, 'input.sessionId');
  const idle = args.input.idle.map((x, i) => normaliseXName(x, `input.idle[${i}]`));
  const busy = (args.input.busy ?? []).map((x, i) => normaliseXName(x, `input.busy[${i}]`));
  for (const x of busy) await transition(ctx.clients, { sessionId, xname: x, from: 'PENDING', to: 'WAITING' });
  const wanted = new Set(idle);
  const nodes = (await allSessionNodes(ctx.clients, sessionId)).filter((n) => wanted.has(n.xname));
  // Repeated claims first: a full window (which they fill) must not stop the loop before them.
  const order = [...nodes.filter((n) => heldBy(ctx, n, claimToken)), ...nodes.filter((n) => n.phase === 'PENDING' || n.phase === 'WAITING')];
  const claims = [];
  for (const candidate of order) {
    const n = await claimOne(ctx, sessionId, candidate.xname, claimToken);
    if (n === 'held') {
      // Busy by the cloud's own record: waits outside the window, as a node the agent found busy.
      await transition(ctx.clients, { sessionId, xname: candidate.xname, from: 'PENDING', to: 'WAITING' });
      logger.info('held node left waiting', { sessionId, xname: candidate.xname });
      continue;
    }
    if (!n) {
      const now = await storedSession(ctx.clients, sessionId);
      if (!now || freeSlots(now) === 0) break;
      continue;
    }
    try {
      claims.push(claimView(s, await prepare(ctx, s, n)));
    } catch (err) {
      // The boot domain refused the target (e.g. the node's xname is bound by another configuration).
      logger.warn('boot session node could not be given its target', { sessionId, xname: n.xname, error: err as Error });
      await finish(ctx, s, n, 'FAILED', { step: 'install', message: (err as Error).message });
    }
  }
  return claims;
}

/** Extends the lease of a node this agent holds; false when it holds it no more. */
async function extendLease(ctx: OperationContext, sessionId: string, xname: string): Promise<boolean> {
  try {
    await ctx.clients.doc.send(
      new UpdateCommand({
        TableName: ctx.clients.config.tableName,
        Key: sessionNodeKey(sessionId, xname),
        UpdateExpression: 'SET leaseExpiresAt = :until',
        ConditionExpression: '#phase = :inprogress AND claimedBy = :me',
        ExpressionAttributeNames: { '#phase': 'phase' },
        ExpressionAttributeValues: { ':until': new Date(Date.now() + bootClaimLeaseMs()).toISOString(), ':inprogress': 'INPROGRESS', ':me': ctx.identity.subject },
      }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    return false;
  }
}

export async function renewBootSessionClaims(ctx: OperationContext, args: { sessionId: string; xnames: string[] }): Promise<string[]> {
  agentSite(ctx);
  const held: string[] = [];
  for (const [i, raw] of args.xnames.entries()) {
    const x = normaliseXName(raw, `xnames[${i}]`);
    if (await extendLease(ctx, args.sessionId, x)) held.push(x);
  }
  return held;
}

async function finish(ctx: OperationContext, s: BootSession, n: SessionNode, outcome: NodePhase, error: { step: string; message: string } | null): Promise<boolean> {
  const won = await transition(ctx.clients, {
    sessionId: s.id,
    xname: n.xname,
    from: 'INPROGRESS',
    to: outcome,
    set: { endedAt: new Date().toISOString(), error },
    remove: ['leaseExpiresAt'],
    nodeCondition: { expression: 'claimedBy = :me', values: { ':me': ctx.identity.subject } },
    sessionAdd: n.canary && outcome === 'SUCCEEDED' ? { canaryValidated: 1 } : {},
  });
  await settleSession(ctx.clients, s.id);
  return won;
}

type Outcome = 'SUCCEEDED' | 'FAILED' | 'ROLLED_BACK';

export async function reportBootSessionNode(ctx: OperationContext, args: { input: { sessionId: string; xname: string; outcome: Outcome; step?: string | null; error?: string | null; bootToken?: string | null; bootedAt?: string | null } }) {
  const site = agentSite(ctx);
  const r = args.input;
  const xname = normaliseXName(r.xname, 'input.xname');
  const s = await visibleSession(ctx, r.sessionId);
  if (!s || s.site !== site) throw new NotFoundError('boot session', r.sessionId, 'input.sessionId');
  const n = await nodeRecord(ctx, r.sessionId, xname);
  if (!n) throw new NotFoundError('boot session node', `${xname} of session ${r.sessionId}`, 'input.xname');
  const me = ctx.identity.subject;
  if (n.claimedBy !== me) throw new ConflictError(`node ${xname} of session ${r.sessionId} is claimed by agent "${n.claimedBy ?? 'none'}", not by "${me}": only the claimant reports it`, 'input.xname');
  if (n.phase === r.outcome) return n; // a retried report: already recorded
  if (n.phase !== 'INPROGRESS') throw new ConflictError(`node ${xname} of session ${r.sessionId} is ${n.phase}, not INPROGRESS`, 'input.xname');
  if (r.outcome === 'SUCCEEDED' && s.operation !== 'SHUTDOWN' && r.bootToken !== n.bootToken) {
    throw new BadUserInputError('input.bootToken', `"${r.bootToken ?? ''}" is not the node's boot token for its target; a node validates only with the target's token`);
  }
  if (r.outcome !== 'SUCCEEDED' && !r.step) throw new BadUserInputError('input.step', `a ${r.outcome} report names the step that failed`);
  const error = r.outcome === 'SUCCEEDED' ? null : { step: r.step!, message: r.error ?? 'no detail' };
  const bootedAt = r.bootedAt ?? new Date().toISOString();
  // The node's states follow before the record does, so a retried report redoes them harmlessly.
  if (r.outcome === 'SUCCEEDED' && n.target) await recordActual(ctx.clients, site, xname, n.target.imageId, n.bootToken, bootedAt);
  if (r.outcome === 'ROLLED_BACK' && n.previous) {
    await setDesiredBoot(ctx, site, xname, n.previous);
    await recordActual(ctx.clients, site, xname, n.previous.imageId, n.previousBootToken, bootedAt);
  }
  if (!(await finish(ctx, s, n, r.outcome, error))) {
    const now = await nodeRecord(ctx, r.sessionId, xname);
    if (now?.phase === r.outcome && now.claimedBy === me) return now;
    throw new ConflictError(`node ${xname} of session ${r.sessionId} changed while this report ran (now ${now?.phase ?? 'gone'}, claimed by ${now?.claimedBy ?? 'none'})`, 'input.xname');
  }
  return (await nodeRecord(ctx, r.sessionId, xname))!;
}
