/**
 * The iSCSI service `run` drives. Exports follow what is verified in the cache as much as the
 * snapshot: a snapshot usually arrives before its rootfs has finished downloading, so a reconcile
 * runs on every snapshot change, on every change of the verified cache, and on a periodic check
 * that notices a backend out of line with the desired state (tgtd restarted and lost its
 * targets). Runs never overlap; requests made while one runs fold into one follow-up run.
 * What it could not export is kept with the reason, for status and for the boot-script gate.
 */
import { basename } from 'node:path';
import type { SiteSnapshot } from '../../schema/siteSnapshot.js';
import type { AgentConfig } from '../config.js';
import { log } from '../logger.js';
import type { ObservationSink } from '../outbox/sink.js';
import type { ActualExport, IscsiBackend } from './backend.js';
import type { KernelChap } from './boot-params.js';
import { loadOrCreateChapSecrets, nodeKernelChap, type ChapSecrets } from './chap.js';
import { buildIscsiDesiredState, type ChapPolicy, type DesiredStateInput, type IscsiDesiredState } from './desired.js';
import { LioBackend } from './lio-backend.js';
import { exportTargetIqn, initiatorIqnFor } from './naming.js';
import type { Deferred, Plan } from './plan.js';
import { DEFAULT_GRACE_PERIOD_MS, reconcileExports } from './reconcile.js';
import { ISCSI_SESSIONS_KIND, sessionsReport, sessionsReportKey, type IscsiSessionsReport } from './sessions-report.js';
import { desiredInputFromSnapshot, type VerifiedCache } from './snapshot-input.js';
import { TgtBackend } from './tgt-backend.js';

/** The backend the agent config selects, or null when iSCSI is off. */
export function makeBackend(iscsi: AgentConfig['iscsi'], chap: ChapSecrets | null, configfsRoot?: string): IscsiBackend | null {
  if (iscsi.mode === 'off') return null;
  if (iscsi.mode === 'tgt') return new TgtBackend(iscsi.tgtControlPort === null ? {} : { controlPort: iscsi.tgtControlPort });
  return new LioBackend({ portals: iscsi.portals, chap, ...(configfsRoot ? { configfsRoot } : {}) });
}

/** The snapshot's desired-state input plus the site CHAP secrets when CHAP is on. */
export async function snapshotInput(dataDir: string, snapshot: SiteSnapshot, opts: { agentName: string; cache: VerifiedCache; chapMode: ChapPolicy['mode'] | null }):
  Promise<{ input: DesiredStateInput; chap: ChapSecrets | null }> {
  const chap = opts.chapMode ? await loadOrCreateChapSecrets(dataDir, opts.chapMode, snapshot.site) : null;
  const input = await desiredInputFromSnapshot(snapshot, { agentName: opts.agentName, cache: opts.cache, chap: chap?.policy ?? null });
  return { input, chap };
}

/** Five seconds: a restarted tgtd is refilled before a node's initiator gives up its retries. */
export const DEFAULT_ISCSI_CHECK_INTERVAL_MS = 5_000;

export interface IscsiServiceOptions {
  config: AgentConfig;
  agentName: string;
  cache: VerifiedCache;
  /** Overrides config.iscsi.chap (the one-shot CLI passes its flag). */
  chapMode?: ChapPolicy['mode'] | null;
  sink?: ObservationSink;
  gracePeriodMs?: number;
}

export type ReconcileTrigger = 'snapshot' | 'cache' | 'check';

export interface IscsiServiceStatus {
  mode: string;
  running: boolean;
  lastReconcileAt: string | null;
  /** The last failed reconcile, or what is skipped: null only when every wanted export is there. */
  lastError: string | null;
  reconciles: number;
  /** Periodic checks that found the backend out of line (tgtd restarted) and repaired it. */
  driftRepairs: number;
  exports: Array<{ imageId: string; rootfsSha256: string; targetIqn: string; initiators: number }>;
  skipped: Array<{ imageId: string; rootfsSha256: string | null; reason: string }>;
  deferred: Deferred[];
}

/** The boot-script gate's answer for one node. */
export type RootAccess = { ready: true; chap: KernelChap | null } | { ready: false; reason: string };

export interface IscsiService {
  /** Reconciles for this snapshot; calls made while one runs are folded into one follow-up run. */
  onSnapshot(snapshot: SiteSnapshot): Promise<Plan | null>;
  /** The verified cache changed (a download finished, GC removed something): reconcile the last snapshot. */
  onCacheChange(): Promise<Plan | null>;
  /** Reconciles the last snapshot and counts a repair when the backend had drifted. */
  check(): Promise<Plan | null>;
  /**
   * Sends the current sessions when they changed since the last report. Logins and logouts do not
   * wait for a snapshot, so `run` calls this on a timer as well.
   */
  reportSessions(): Promise<IscsiSessionsReport | null>;
  /**
   * The digests artifact GC must keep: every image a target of this backend still serves (in its
   * grace period, or with nodes logged in) and every one the desired state exports. Throws when
   * the backend cannot be read, so the caller skips GC rather than guess.
   */
  protectedRootfs(): Promise<Set<string>>;
  /** Whether `xname` can log in to its root here now, as the last reconcile or check saw it. */
  rootAccess(xname: string, rootfsSha256: string): RootAccess;
  status(): IscsiServiceStatus;
  /** Bumped whenever rootAccess may answer differently (boot scripts memoised before are stale). */
  epoch(): number;
  /** Starts the periodic check; returns what stops it. */
  startChecks(intervalMs?: number): () => void;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function createIscsiService(opts: IscsiServiceOptions): IscsiService | null {
  if (opts.config.iscsi.mode === 'off') return null;
  const chapMode: ChapPolicy['mode'] | null = opts.chapMode !== undefined ? opts.chapMode
    : opts.config.iscsi.chap === 'off' ? null : opts.config.iscsi.chap;
  let chain: Promise<unknown> = Promise.resolve();
  let snapshot: SiteSnapshot | null = null;
  const pending = new Set<ReconcileTrigger>();
  let current: { desired: IscsiDesiredState; backend: IscsiBackend; chap: ChapSecrets | null } | null = null;
  let actual: ActualExport[] = [];
  let lastKey: string | null = null;
  let failure: string | null = null;
  let lastReconcileAt: string | null = null;
  let lastPlan: Plan | null = null;
  let reconciles = 0;
  let driftRepairs = 0;
  let epoch = 0;
  let lastSkippedKey = '[]';
  const listingBackend = makeBackend(opts.config.iscsi, null)!;

  const report = async (): Promise<IscsiSessionsReport | null> => {
    if (!current) return null;
    const listed = await current.backend.listExports();
    if (JSON.stringify(listed) !== JSON.stringify(actual)) epoch++;
    actual = listed;
    if (!opts.sink) return null;
    const r = sessionsReport(current.desired, actual);
    const key = sessionsReportKey(r);
    if (key === lastKey) return null;
    // The content key only spares sending an unchanged set; the cloud keeps idempotency keys for
    // days, so a set seen before (empty after a logout) needs a key of its own to be applied again.
    await opts.sink.enqueue(ISCSI_SESSIONS_KIND, r, `${key}:${Date.now()}`);
    lastKey = key;
    return r;
  };

  const once = async (): Promise<Plan | null> => {
    if (pending.size === 0 || !snapshot) return null;
    const triggers = [...pending];
    pending.clear();
    try {
      const { input, chap } = await snapshotInput(opts.config.dataDir, snapshot, { agentName: opts.agentName, cache: opts.cache, chapMode });
      const backend = makeBackend(opts.config.iscsi, chap)!;
      const desired = buildIscsiDesiredState(input);
      // Known before the backend is touched: a failing tgtd must not hide what is skipped.
      current = { desired, backend, chap };
      epoch++;
      const { plan } = await reconcileExports({ backend, desired, dataDir: opts.config.dataDir, chap, gracePeriodMs: opts.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS });
      // Logged when the skipped set changes, not on every periodic check.
      const skippedKey = JSON.stringify(desired.skipped);
      if (skippedKey !== lastSkippedKey) for (const s of desired.skipped) log.warn({ imageId: s.imageId, reason: s.reason }, 'iscsi export skipped');
      lastSkippedKey = skippedKey;
      if (plan.steps.length > 0 && triggers.every((t) => t === 'check')) {
        driftRepairs++;
        log.warn({ steps: plan.steps.length }, 'iscsi backend had drifted from the desired state (tgtd restarted?); reconciled');
      }
      failure = null;
      lastPlan = plan;
      lastReconcileAt = new Date().toISOString();
      reconciles++;
      await report();
      return plan;
    } catch (err) {
      failure = (err as Error).message;
      // What the backend still has decides the boot-script gate; unreadable means nothing.
      actual = await (current?.backend ?? listingBackend).listExports().catch(() => []);
      epoch++;
      throw err;
    }
  };

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch((err: unknown) => log.error({ err: (err as Error).message }, 'iscsi service step failed'));
    return run;
  };

  const request = (trigger: ReconcileTrigger): Promise<Plan | null> => {
    pending.add(trigger);
    return serial(once);
  };

  const skippedList = (): IscsiServiceStatus['skipped'] => (current?.desired.skipped ?? [])
    .map((s) => ({ imageId: s.imageId, rootfsSha256: s.rootfsSha256 ?? null, reason: s.reason }));

  const service: IscsiService = {
    onSnapshot(s) {
      snapshot = s;
      return request('snapshot');
    },
    onCacheChange: () => request('cache'),
    check: () => request('check'),
    reportSessions: () => serial(report),

    async protectedRootfs() {
      const keep = new Set<string>(current?.desired.exports.map((e) => e.rootfsSha256) ?? []);
      const listed = await (current?.backend ?? listingBackend).listExports();
      for (const a of listed) {
        const file = a.lun ? basename(a.lun.backingPath) : '';
        if (SHA256.test(file)) keep.add(file);
      }
      return keep;
    },

    rootAccess(xname, rootfsSha256) {
      if (!current) return { ready: false, reason: failure ? `iSCSI reconcile failed: ${failure}` : 'iSCSI exports have not been reconciled yet' };
      const skipped = current.desired.skipped.find((s) => s.rootfsSha256 === rootfsSha256);
      if (skipped) return { ready: false, reason: skipped.reason };
      const target = exportTargetIqn(current.desired.targetIqn, rootfsSha256);
      const have = actual.find((a) => a.targetIqn === target);
      const initiator = initiatorIqnFor(xname);
      if (!have?.lun || !have.acl.includes(initiator)) {
        return { ready: false, reason: failure ? `rootfs ${rootfsSha256.slice(0, 16)} is not exported: ${failure}` : `rootfs ${rootfsSha256.slice(0, 16)} is not exported to ${xname} yet` };
      }
      return { ready: true, chap: current.chap ? nodeKernelChap(current.chap, xname) : null };
    },

    status() {
      const skipped = skippedList();
      const summary = skipped.length ? `${skipped.length} export(s) skipped: ${skipped.map((s) => `${s.imageId}: ${s.reason}`).join('; ')}` : null;
      return {
        mode: opts.config.iscsi.mode,
        running: true,
        lastReconcileAt,
        lastError: failure ?? summary,
        reconciles,
        driftRepairs,
        exports: (current?.desired.exports ?? []).map((e) => ({ imageId: e.imageId, rootfsSha256: e.rootfsSha256, targetIqn: e.targetIqn, initiators: e.initiators.length })),
        skipped,
        deferred: lastPlan?.deferred ?? [],
      };
    },

    epoch: () => epoch,

    startChecks(intervalMs = DEFAULT_ISCSI_CHECK_INTERVAL_MS) {
      let busy = false;
      const timer = setInterval(() => {
        if (busy || !snapshot) return;
        busy = true;
        service.check().catch(() => undefined).finally(() => { busy = false; });
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };

  return service;
}
