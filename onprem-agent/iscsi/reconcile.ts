/** One reconcile pass: read the backend, plan, apply, remember unreferenced targets. Run on every snapshot change. */
import type { IscsiBackend } from './backend.js';
import type { ChapSecrets } from './chap.js';
import type { IscsiDesiredState } from './desired.js';
import { applyPlan } from './apply.js';
import { planReconcile, type Plan } from './plan.js';
import { loadUnreferencedSince, saveUnreferencedSince } from './unreferenced-store.js';

/** A day: long enough for a rolling reboot onto a new image to finish before the old LUN goes. */
export const DEFAULT_GRACE_PERIOD_MS = 24 * 60 * 60 * 1000;

export interface ReconcileOptions {
  backend: IscsiBackend;
  desired: IscsiDesiredState;
  dataDir: string;
  chap: ChapSecrets | null;
  gracePeriodMs?: number;
  now?: Date;
  dryRun?: boolean;
}

export async function reconcileExports(opts: ReconcileOptions): Promise<{ plan: Plan; applied: number }> {
  const plan = planReconcile(opts.desired, await opts.backend.listExports(), {
    now: opts.now ?? new Date(),
    gracePeriodMs: opts.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS,
    unreferencedSince: await loadUnreferencedSince(opts.dataDir),
    identityOf: (sha) => opts.backend.identityOf(sha),
  });
  if (opts.dryRun) return { plan, applied: 0 };
  // Saved first: a step that fails must not restart the grace clock of what was already waiting.
  await saveUnreferencedSince(opts.dataDir, plan.unreferencedSince);
  const { applied } = await applyPlan(opts.backend, plan, { chap: opts.chap });
  return { plan, applied };
}
