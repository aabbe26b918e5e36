/**
 * The rollout operator inside `skyboot-agent run`: the agent's half of a boot session. Each round it
 * delivers journalled outcomes, renews the leases of its in-flight nodes, and (cloud permitting)
 * asks for work: for each RUNNING session of its site with free window slots, it asks the workload
 * manager which candidate nodes are idle (respectWorkload), claims idle ones (the cloud enforces the
 * window and canary gate across every agent of the site), drains busy ones ahead with the window's
 * room left (drainsAhead.ts: a busy cluster may never free a node by itself) and runs each claimed node:
 *   drain → install the target as the node's boot override → power-cycle (Redfish, via the power
 *   runner) → wait for the heartbeat carrying the target's boot token within bootTimeoutSeconds →
 *   resume and report SUCCEEDED; or, failing, serve the previous boot again, power-cycle onto it,
 *   wait for its token, resume and report ROLLED_BACK (or FAILED without rollback).
 * With the cloud unreachable, claimed nodes still run to the end (a node is never left off or
 * half-booted because the link dropped), no node is claimed, and the reports wait in the journal.
 */
import type { Logger } from 'pino';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';
import { log as agentLog } from '../../logger.js';
import { CloudRequestError, CloudUnreachableError, type CloudClient } from '../../sync/cloudClient.js';
import type { SnapshotIndex } from '../../sync/snapshotStore.js';
import type { BootTimeline } from '../../timeline/bootTimeline.js';
import type { CloudPowerAction, PowerResultInput } from '../powerJournal.js';
import type { BootOverrides } from './bootOverrides.js';
import { RolloutJournal, rolloutEntryId, type RolloutClaim, type RolloutEntry, type RolloutReport } from './rolloutJournal.js';
import { CLAIMED_PHASES, DrainAheadJournal, type DrainAhead } from './drainsAhead.js';
import { RoundPause } from '../ticker.js';

/** The workload manager as the rollout needs it (onprem-agent/orchestrator/workload/). */
export interface RolloutWorkload {
  isIdle(node: SnapshotNode): Promise<boolean>;
  drain(node: SnapshotNode, reason: string): Promise<void>;
  resume(node: SnapshotNode): Promise<void>;
  /** Draining the busy node lets it run out of work by itself (workloadManager.ts). */
  canDrainAhead(node: SnapshotNode): boolean;
}

export interface RolloutOperatorOptions {
  client: CloudClient;
  dataDir: string;
  index: () => SnapshotIndex | null;
  overrides: BootOverrides;
  timeline: Pick<BootTimeline, 'waitForHeartbeat'>;
  workload: RolloutWorkload;
  /** Power actions on the node's BMC (the power runner's execute). */
  power: (req: { action: CloudPowerAction; xnames: string[] }) => Promise<PowerResultInput[]>;
  /** Makes the boot's artifacts servable from the local cache (pull the snapshot, wait for downloads); false when they are not. */
  stageArtifacts?: (boot: NonNullable<RolloutClaim['target']>) => Promise<boolean>;
  intervalMs?: number;
  logger?: Logger;
}

const WORK = `query($t: String) { bootSessionWork(claimToken: $t) { sessionId respectWorkload freeSlots failuresLeft xnames claimed } }`;
const BOOT = 'imageId kernel initrd rootfs kernelParameters rootfsProvider';
const CLAIM = `mutation($i: ClaimBootSessionNodesInput!) { claimBootSessionNodes(input: $i) { sessionId xname operation canary attempts bootTimeoutSeconds rollback respectWorkload target { ${BOOT} } bootToken previous { ${BOOT} } previousBootToken leaseExpiresAt } }`;
const RENEW = `mutation($s: ID!, $x: [XName!]!) { renewBootSessionClaims(sessionId: $s, xnames: $x) }`;
const REPORT = `mutation($i: BootSessionNodeReport!) { reportBootSessionNode(input: $i) { phase } }`;
const PHASES = `query($id: ID!, $a: String) { bootSession(id: $id) { nodes(first: 1000, after: $a) { edges { node { xname phase } } pageInfo { hasNextPage endCursor } } } }`;
const FINAL_REFUSALS = new Set(['CONFLICT', 'NOT_FOUND', 'BAD_USER_INPUT']);
export const DEFAULT_ROLLOUT_INTERVAL_MS = 2_000;

/** One RUNNING session as bootSessionWork gives it. */
export interface RolloutWork {
  sessionId: string;
  respectWorkload: boolean;
  freeSlots: number;
  failuresLeft: number | null;
  xnames: string[];
  claimed: string[];
}

/**
 * Whether the session's failures (the cloud's count plus this agent's failures not yet reported)
 * reached maxFailures: then this agent starts no node of it (nodes in flight finish).
 */
export function failureLimitReached(w: Pick<RolloutWork, 'failuresLeft'>, unreportedFailures: number): boolean {
  return w.failuresLeft !== null && w.failuresLeft - unreportedFailures <= 0;
}

/** The session's nodes this agent saw fail (or roll back) whose report the cloud has not recorded yet. */
function unreportedFailures(journal: RolloutEntry[], sessionId: string): number {
  return journal.filter((e) => e.claim.sessionId === sessionId && (e.report?.outcome === 'FAILED' || e.report?.outcome === 'ROLLED_BACK')).length;
}

/** What the operator did for one session since the agent started, counted as it happened. */
export interface RolloutSessionCounters {
  /** Claims the cloud answered (a claim whose first answer was lost counts once: when its repeat is answered). */
  claimed: number;
  /** Power cycles the BMC carried out (onto the target, and onto the previous boot in a rollback). */
  powerCycled: number;
  /** Busy nodes drained ahead of their claim, and such drains resumed because the session let the node go. */
  drainedAhead: number;
  resumedAhead: number;
  /** Heartbeats with the target's boot token. */
  validated: number;
  failed: number;
  rolledBack: number;
}

export interface RolloutStatus {
  inFlight: number;
  claimed: number;
  reported: number;
  refused: number;
  sessions: Record<string, RolloutSessionCounters>;
}

class StepError extends Error {
  constructor(readonly step: string, message: string) {
    super(message);
  }
}

export class RolloutOperator {
  readonly journal: RolloutJournal;
  readonly drainsAhead: DrainAheadJournal;
  private readonly logger: Logger;
  private readonly inFlight = new Map<string, Promise<void>>();
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly pause = new RoundPause();
  readonly counters = { claimed: 0, reported: 0, refused: 0 };
  private readonly perSession = new Map<string, RolloutSessionCounters>();
  private claimToken = '';

  constructor(private readonly opts: RolloutOperatorOptions) {
    this.journal = new RolloutJournal(opts.dataDir);
    this.drainsAhead = new DrainAheadJournal(opts.dataDir);
    this.logger = (opts.logger ?? agentLog).child({ module: 'rollout' });
  }

  /** Resumes nodes a restart interrupted, from the step their journal entry names. */
  async init(): Promise<this> {
    await this.journal.init();
    await this.drainsAhead.init();
    this.claimToken = await this.journal.claimToken();
    for (const e of await this.journal.list()) if (!e.report) this.track(e);
    return this;
  }

  /** Artifacts an in-flight node may still need (its target, and its previous boot for a rollback): GC keeps them. */
  async protectedArtifacts(): Promise<string[]> {
    const out: string[] = [];
    for (const e of await this.journal.list()) for (const b of [e.claim.target, e.claim.previous]) if (b) out.push(...[b.kernel, b.initrd, b.rootfs].filter((x): x is string => !!x));
    return out;
  }

  private count(sessionId: string, what: keyof RolloutSessionCounters): void {
    const c = this.perSession.get(sessionId) ?? { claimed: 0, drainedAhead: 0, resumedAhead: 0, powerCycled: 0, validated: 0, failed: 0, rolledBack: 0 };
    c[what]++;
    this.perSession.set(sessionId, c);
  }

  /** For the agent's status: claims, reports, and per session what was done (since start). */
  status(): RolloutStatus {
    return { inFlight: this.inFlight.size, ...this.counters, sessions: Object.fromEntries([...this.perSession].map(([id, c]) => [id, { ...c }])) };
  }

  /** Nodes this agent is rolling right now. */
  inFlightXnames(): Set<string> {
    return new Set([...this.inFlight.keys()].map((k) => k.slice(k.indexOf('.') + 1)));
  }

  private node(xname: string): SnapshotNode {
    const n = this.opts.index()?.byXname.get(xname);
    if (!n) throw new StepError('claim', `${xname} is not in this agent's snapshot`);
    return n;
  }

  private track(e: RolloutEntry): void {
    const id = rolloutEntryId(e.claim.sessionId, e.claim.xname);
    if (this.inFlight.has(id)) return;
    const run = this.runNode(e)
      .catch((err: Error) => this.logger.error({ xname: e.claim.xname, err: err.message }, 'rollout of a node stopped unexpectedly'))
      .finally(() => {
        this.inFlight.delete(id);
        this.pause.wake();
      });
    this.inFlight.set(id, run);
  }

  private async powerOne(c: RolloutClaim, action: CloudPowerAction, step: string): Promise<void> {
    const [r] = await this.opts.power({ action, xnames: [c.xname] });
    if (!r?.ok) throw new StepError(step, `${action} failed: ${r?.error ?? 'no result'}`);
    if (action === 'CYCLE') this.count(c.sessionId, 'powerCycled');
  }

  /** Serves `boot` to the node and power-cycles it; the heartbeat with `token` must follow in time. */
  private async bootOnto(e: RolloutEntry, boot: NonNullable<RolloutClaim['target']>, token: string, since: Date | null, rollingBack: boolean): Promise<string> {
    const c = e.claim;
    if (!since) {
      if (this.opts.stageArtifacts && !(await this.opts.stageArtifacts(boot))) throw new StepError(rollingBack ? 'rollback' : 'install', `artifacts of ${boot.imageId ?? boot.kernel} are not in the local cache`);
      await this.opts.overrides.set(c.xname, c.sessionId, boot);
      if (!rollingBack) {
        e.step = 'installed';
        await this.journal.write(e);
      }
      // One-time PXE so the node asks the agent, then the cycle; journalled first: a restart waits, not re-cycles.
      since = new Date();
      e.poweredAt = since.toISOString();
      e.step = rollingBack ? 'rollingBack' : 'powered';
      await this.journal.write(e);
      await this.powerOne(c, 'PXE_ONCE', 'power');
      await this.powerOne(c, 'CYCLE', 'power');
    }
    const hb = await this.opts.timeline.waitForHeartbeat(c.xname, token, since, Math.max(0, since.getTime() + c.bootTimeoutSeconds * 1000 - Date.now()));
    if (!hb) throw new StepError('heartbeat', `no heartbeat with boot token ${token} within ${c.bootTimeoutSeconds} s`);
    return hb.at;
  }

  private async runNode(e: RolloutEntry): Promise<void> {
    const c = e.claim;
    const node = this.node(c.xname);
    let report: RolloutReport;
    try {
      if (e.step === 'claimed') {
        await this.opts.workload.drain(node, `skyboot session ${c.sessionId}`).catch((err: Error) => {
          throw new StepError('drain', err.message);
        });
        e.step = 'drained';
        await this.journal.write(e);
      }
      if (c.operation === 'SHUTDOWN') {
        await this.powerOne(c, 'OFF', 'power');
        report = { outcome: 'SUCCEEDED', step: null, error: null, bootToken: null, bootedAt: null };
      } else if (e.step === 'rollingBack') {
        report = await this.rollBack(e, null, e.poweredAt ? new Date(e.poweredAt) : null);
      } else {
        const since = e.step === 'powered' && e.poweredAt ? new Date(e.poweredAt) : null;
        try {
          const at = await this.bootOnto(e, c.target!, c.bootToken!, since, false);
          this.count(c.sessionId, 'validated');
          await this.opts.workload.resume(node).catch((err: Error) => {
            throw new StepError('resume', err.message);
          });
          report = { outcome: 'SUCCEEDED', step: null, error: null, bootToken: c.bootToken, bootedAt: at };
        } catch (err) {
          if (!(err instanceof StepError) || !c.rollback || !c.previous || !c.previousBootToken || err.step === 'drain' || err.step === 'resume') throw err;
          report = await this.rollBack(e, err, null);
        }
      }
    } catch (err) {
      const step = err instanceof StepError ? err.step : 'agent';
      report = { outcome: 'FAILED', step, error: (err as Error).message, bootToken: null, bootedAt: null };
      this.logger.warn({ sessionId: c.sessionId, xname: c.xname, step, err: (err as Error).message }, 'node failed');
    }
    e.report = report;
    e.step = 'reported';
    await this.journal.write(e);
    if (report.outcome === 'FAILED') this.count(c.sessionId, 'failed');
    if (report.outcome === 'ROLLED_BACK') this.count(c.sessionId, 'rolledBack');
    this.pause.wake();
  }

  /** Serves the previous boot again and boots the node onto it: ROLLED_BACK, or FAILED at step rollback. */
  private async rollBack(e: RolloutEntry, cause: StepError | null, since: Date | null): Promise<RolloutReport> {
    const c = e.claim;
    const reason = cause ? `${cause.message}; rolled back to ${c.previous!.imageId ?? 'the previous boot'}` : 'rolled back after a restart';
    if (e.step !== 'rollingBack') {
      e.step = 'rollingBack';
      e.poweredAt = null;
      await this.journal.write(e);
    }
    try {
      const at = await this.bootOnto(e, c.previous!, c.previousBootToken!, since, true);
      await this.opts.workload.resume(this.node(c.xname));
      return { outcome: 'ROLLED_BACK', step: cause?.step ?? 'heartbeat', error: reason, bootToken: c.previousBootToken, bootedAt: at };
    } catch (err) {
      return { outcome: 'FAILED', step: 'rollback', error: `${cause?.message ?? 'boot failed'}; rollback failed too: ${(err as Error).message}`, bootToken: null, bootedAt: null };
    }
  }

  /** Sends journalled outcomes; a final refusal drops the entry (logged). Throws CloudUnreachableError. */
  async deliverReports(): Promise<number> {
    let sent = 0;
    for (const e of await this.journal.list()) {
      if (!e.report) continue;
      const c = e.claim;
      try {
        await this.opts.client.request(REPORT, { i: { sessionId: c.sessionId, xname: c.xname, outcome: e.report.outcome, step: e.report.step, error: e.report.error, bootToken: e.report.bootToken, bootedAt: e.report.bootedAt } });
        this.counters.reported++;
      } catch (err) {
        if (!(err instanceof CloudRequestError) || !FINAL_REFUSALS.has(err.code ?? '')) throw err;
        this.counters.refused++;
        this.logger.error({ sessionId: c.sessionId, xname: c.xname, code: err.code, err: err.message }, 'cloud refused a rollout report; dropped from the journal');
      }
      await this.journal.remove(rolloutEntryId(c.sessionId, c.xname));
      sent++;
    }
    await this.opts.overrides.settle(this.opts.index(), this.inFlightXnames());
    return sent;
  }

  private async renew(): Promise<void> {
    const bySession = new Map<string, string[]>();
    for (const e of await this.journal.list()) if (!e.report) bySession.set(e.claim.sessionId, [...(bySession.get(e.claim.sessionId) ?? []), e.claim.xname]);
    for (const [s, x] of bySession) {
      const { renewBootSessionClaims: held } = await this.opts.client.request<{ renewBootSessionClaims: string[] }>(RENEW, { s, x });
      const lost = x.filter((n) => !held.includes(n));
      // Lost claims still run to the end: a node is never abandoned half-booted; the report will be refused.
      if (lost.length) this.logger.warn({ sessionId: s, lost }, 'claims no longer held (lease expired); finishing these nodes anyway');
    }
  }

  /** One round: report, renew, claim within the window, start claimed nodes. Returns nodes claimed. */
  async runOnce(): Promise<number> {
    await this.deliverReports();
    await this.renew();
    const { bootSessionWork } = await this.opts.client.request<{ bootSessionWork: RolloutWork[] }>(WORK, { t: this.claimToken });
    const drainsAhead = await this.releaseDrainsAhead(bootSessionWork);
    const busyHere = this.inFlightXnames();
    let claimed = 0;
    for (const w of bootSessionWork) {
      const journal = await this.journal.list();
      if (failureLimitReached(w, unreportedFailures(journal, w.sessionId))) continue;
      const known = new Set(journal.map((e) => rolloutEntryId(e.claim.sessionId, e.claim.xname)));
      const room = Math.max(0, w.freeSlots);
      // Held by this agent's claims but not in its journal: the claim's answer was lost; claimed again, the cloud gives the same claim.
      const again = w.claimed.filter((x) => !known.has(rolloutEntryId(w.sessionId, x)) && this.opts.index()?.byXname.has(x));
      const idle: string[] = [...again];
      const busy: string[] = [];
      // Nodes drained ahead are asked first: they have waited longest, and each holds room in the window.
      const ahead = new Set(drainsAhead.filter((d) => d.sessionId === w.sessionId).map((d) => d.xname));
      const candidates = [...w.xnames.filter((x) => ahead.has(x)), ...w.xnames.filter((x) => !ahead.has(x))];
      let fresh = 0;
      // Nodes drained ahead and still busy: each keeps its room in the window.
      let aheadBusy = 0;
      for (const x of candidates) {
        if (fresh + aheadBusy >= room) break;
        if (busyHere.has(x)) continue;
        const node = this.opts.index()?.byXname.get(x);
        if (!node) continue; // not (yet) in this agent's snapshot: another pull will bring it
        if (w.respectWorkload && !(await this.opts.workload.isIdle(node))) {
          busy.push(x);
          if (ahead.has(x)) aheadBusy++;
        } else {
          idle.push(x);
          fresh++;
        }
      }
      if (!idle.length && !busy.length) continue;
      // Again after the workload questions (a slow manager): a node of ours that failed meanwhile counts.
      if (failureLimitReached(w, unreportedFailures(await this.journal.list(), w.sessionId))) continue;
      if (w.respectWorkload) await this.drainAhead(w.sessionId, busy, ahead, room - fresh - aheadBusy);
      const { claimBootSessionNodes } = await this.opts.client.request<{ claimBootSessionNodes: RolloutClaim[] }>(CLAIM, { i: { sessionId: w.sessionId, idle, busy, claimToken: this.claimToken } });
      for (const c of claimBootSessionNodes) {
        // Claimed: the node's run drains (again, under its own reason) and resumes it from now on.
        if (ahead.has(c.xname)) await this.drainsAhead.remove(rolloutEntryId(c.sessionId, c.xname));
        const e: RolloutEntry = { claim: c, step: 'claimed', poweredAt: null, report: null, claimedAt: new Date().toISOString() };
        await this.journal.write(e);
        this.counters.claimed++;
        this.count(c.sessionId, 'claimed');
        claimed++;
        this.logger.info({ sessionId: c.sessionId, xname: c.xname, canary: c.canary, target: c.target?.imageId ?? null, again: again.includes(c.xname) }, again.includes(c.xname) ? 'node claimed again (the first answer was lost)' : 'node claimed');
        this.track(e);
      }
    }
    return claimed;
  }

  /**
   * Drains busy nodes ahead of their claim while the window has `room` left (after idle claims and
   * the nodes drained ahead that are still busy). Each drain is journalled first, so a restart
   * resumes it if need be.
   */
  private async drainAhead(sessionId: string, busy: string[], ahead: Set<string>, room: number): Promise<void> {
    let left = room;
    for (const x of busy) {
      if (left <= 0) return;
      if (ahead.has(x)) continue;
      const node = this.opts.index()?.byXname.get(x);
      if (!node || !this.opts.workload.canDrainAhead(node)) continue;
      const entry: DrainAhead = { sessionId, xname: x, drainedAt: new Date().toISOString() };
      await this.drainsAhead.write(entry);
      try {
        await this.opts.workload.drain(node, `skyboot session ${sessionId}: waiting for its jobs to end`);
      } catch (err) {
        await this.drainsAhead.remove(rolloutEntryId(sessionId, x));
        this.logger.warn({ sessionId, xname: x, err: (err as Error).message }, 'could not drain a busy node ahead; asked again next round');
        continue;
      }
      ahead.add(x);
      left--;
      this.count(sessionId, 'drainedAhead');
      this.logger.info({ sessionId, xname: x }, 'busy node drained ahead: claimed once its jobs end');
    }
  }

  /**
   * Resumes nodes drained ahead that their session no longer lists (it paused, was cancelled or
   * completed, or a newer session superseded the node), unless a claim took the node (INPROGRESS
   * or settled: the claimant's run resumes it, here or at another agent of the site). Returns the
   * drains ahead still held: those of nodes their session lists.
   */
  private async releaseDrainsAhead(work: RolloutWork[]): Promise<DrainAhead[]> {
    const listed = new Map(work.map((w) => [w.sessionId, new Set(w.xnames)]));
    const held: DrainAhead[] = [];
    const stale = new Map<string, DrainAhead[]>();
    for (const d of await this.drainsAhead.list()) {
      if (listed.get(d.sessionId)?.has(d.xname)) held.push(d);
      else stale.set(d.sessionId, [...(stale.get(d.sessionId) ?? []), d]);
    }
    if (!stale.size) return held;
    const inFlight = new Set((await this.journal.list()).filter((e) => !e.report).map((e) => rolloutEntryId(e.claim.sessionId, e.claim.xname)));
    for (const [sessionId, drains] of stale) {
      const phases = await this.sessionPhases(sessionId);
      for (const d of drains) {
        const id = rolloutEntryId(d.sessionId, d.xname);
        const phase = phases.get(d.xname);
        const node = this.opts.index()?.byXname.get(d.xname);
        if (!inFlight.has(id) && !(phase && CLAIMED_PHASES.has(phase)) && node) {
          try {
            await this.opts.workload.resume(node);
          } catch (err) {
            this.logger.warn({ sessionId, xname: d.xname, err: (err as Error).message }, 'could not resume a node drained ahead; tried again next round');
            continue;
          }
          this.count(sessionId, 'resumedAhead');
          this.logger.info({ sessionId, xname: d.xname, phase: phase ?? null }, 'node drained ahead resumed: its session let it go');
        }
        await this.drainsAhead.remove(id);
      }
    }
    return held;
  }

  /** The session's node phases (an empty map when the session is gone). */
  private async sessionPhases(sessionId: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let after: string | null = null;
    for (;;) {
      type Page = { bootSession: { nodes: { edges: { node: { xname: string; phase: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null };
      const page: Page = await this.opts.client.request<Page>(PHASES, { id: sessionId, a: after });
      if (!page.bootSession) return out;
      for (const e of page.bootSession.nodes.edges) out.set(e.node.xname, e.node.phase);
      if (!page.bootSession.nodes.pageInfo.hasNextPage || !page.bootSession.nodes.pageInfo.endCursor) return out;
      after = page.bootSession.nodes.pageInfo.endCursor;
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const interval = this.opts.intervalMs ?? DEFAULT_ROLLOUT_INTERVAL_MS;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.runOnce();
        } catch (err) {
          const level = err instanceof CloudUnreachableError ? 'info' : 'warn';
          this.logger[level]({ err: (err as Error).message, inFlight: this.inFlight.size }, 'rollout round failed; in-flight nodes continue');
        }
        if (!this.running) break;
        await this.pause.sleep(interval);
      }
    })();
  }

  nudge(): void {
    this.pause.wake();
  }

  /** Stops claiming; waits for in-flight nodes to settle (never abandons a node half-booted). */
  async stop(): Promise<void> {
    this.running = false;
    this.pause.wake();
    await this.loop;
    await Promise.all(this.inFlight.values());
  }
}
