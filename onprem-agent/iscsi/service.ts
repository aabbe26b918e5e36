/**
 * The iSCSI service `run` drives: one reconcile per snapshot change, never two at once, and the
 * resulting sessions sent to the cloud through the outbox.
 */
import type { SiteSnapshot } from '../../schema/siteSnapshot.js';
import type { AgentConfig } from '../config.js';
import { log } from '../logger.js';
import type { ObservationSink } from '../outbox/sink.js';
import type { IscsiBackend } from './backend.js';
import { loadOrCreateChapSecrets, type ChapSecrets } from './chap.js';
import { buildIscsiDesiredState, type ChapPolicy, type DesiredStateInput, type IscsiDesiredState } from './desired.js';
import { LioBackend } from './lio-backend.js';
import type { Plan } from './plan.js';
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

export interface IscsiServiceOptions {
  config: AgentConfig;
  agentName: string;
  cache: VerifiedCache;
  chapMode?: ChapPolicy['mode'] | null;
  sink?: ObservationSink;
  gracePeriodMs?: number;
}

export interface IscsiService {
  /** Reconciles for this snapshot; calls made while one runs are folded into one follow-up run. */
  onSnapshot(snapshot: SiteSnapshot): Promise<Plan | null>;
  /**
   * Sends the current sessions when they changed since the last report. Logins and logouts do not
   * wait for a snapshot, so `run` calls this on a timer as well.
   */
  reportSessions(): Promise<IscsiSessionsReport | null>;
}

export function createIscsiService(opts: IscsiServiceOptions): IscsiService | null {
  if (opts.config.iscsi.mode === 'off') return null;
  let chain: Promise<unknown> = Promise.resolve();
  let latest: SiteSnapshot | null = null;
  let current: { desired: IscsiDesiredState; backend: IscsiBackend } | null = null;
  let lastKey: string | null = null;

  const report = async (): Promise<IscsiSessionsReport | null> => {
    if (!opts.sink || !current) return null;
    const r = sessionsReport(current.desired, await current.backend.listExports());
    const key = sessionsReportKey(r);
    if (key === lastKey) return null;
    await opts.sink.enqueue(ISCSI_SESSIONS_KIND, r, key);
    lastKey = key;
    return r;
  };

  const once = async (): Promise<Plan | null> => {
    const snapshot = latest;
    latest = null;
    if (!snapshot) return null;
    const { input, chap } = await snapshotInput(opts.config.dataDir, snapshot, { agentName: opts.agentName, cache: opts.cache, chapMode: opts.chapMode ?? null });
    const backend = makeBackend(opts.config.iscsi, chap)!;
    const desired = buildIscsiDesiredState(input);
    const { plan } = await reconcileExports({ backend, desired, dataDir: opts.config.dataDir, chap, gracePeriodMs: opts.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS });
    for (const s of desired.skipped) log.warn({ imageId: s.imageId, reason: s.reason }, 'iscsi export skipped');
    current = { desired, backend };
    await report();
    return plan;
  };

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch((err: unknown) => log.error({ err: (err as Error).message }, 'iscsi service step failed'));
    return run;
  };

  return {
    onSnapshot(snapshot) {
      latest = snapshot;
      return serial(once);
    },
    reportSessions: () => serial(report),
  };
}
