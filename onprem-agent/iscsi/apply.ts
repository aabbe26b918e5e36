/** Carries a plan out on a backend, step by step; a failed step stops the run and the next reconcile resumes. */
import { ConflictError, SkybootError } from '../../schema/errors.js';
import { log } from '../logger.js';
import type { IscsiBackend } from './backend.js';
import { accountForUser, targetChapAccount, type ChapAccount, type ChapSecrets } from './chap.js';
import type { Plan, PlanStep } from './plan.js';

export interface ApplyOptions {
  /** Secrets for set-chap steps; their users must match the step's. */
  chap: ChapSecrets | null;
}

export async function applyPlan(backend: IscsiBackend, plan: Plan, opts: ApplyOptions): Promise<{ applied: number }> {
  let applied = 0;
  for (const step of plan.steps) {
    try {
      await applyStep(backend, step, opts);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new SkybootError(err instanceof SkybootError ? err.code : 'INTERNAL_SERVER_ERROR', `${step.op} ${step.targetIqn}: ${why}`);
    }
    applied++;
    log.info({ step }, 'iscsi reconcile step applied');
  }
  return { applied };
}

async function applyStep(backend: IscsiBackend, step: PlanStep, opts: ApplyOptions): Promise<void> {
  switch (step.op) {
    case 'ensure-export': return backend.ensureExport(step.spec);
    case 'bind-initiator': return backend.bindInitiator(step.targetIqn, step.initiatorIqn);
    case 'unbind-initiator': return backend.unbindInitiator(step.targetIqn, step.initiatorIqn);
    case 'remove-export': return backend.removeExport(step.targetIqn);
    case 'set-chap': {
      if (step.users.length === 0) return backend.setChap(step.targetIqn, null);
      const site = opts.chap;
      const incoming = site ? step.users.map((u) => accountForUser(site, u)) : [];
      const outgoing = site ? targetChapAccount(site) : null;
      if (!site || incoming.some((a) => a === null) || (outgoing?.user ?? null) !== (step.mutualUsers[0] ?? null)) {
        throw new ConflictError(`the plan's CHAP users (${step.users.join(',')}) do not match the loaded secrets`, 'chap');
      }
      return backend.setChap(step.targetIqn, { incoming: incoming as ChapAccount[], outgoing });
    }
  }
}
