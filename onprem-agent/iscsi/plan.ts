/**
 * The reconcile planner: desired exports + what the backend reports → steps. Pure, so every rule
 * (grace period, never under a session, never rewrite a LUN) is tested without a target.
 */
import type { ActualExport, ExportSpec } from './backend.js';
import type { IscsiDesiredState } from './desired.js';
import { lunIdentity } from './naming.js';

export type PlanStep =
  | { op: 'ensure-export'; targetIqn: string; imageId: string; spec: ExportSpec; reason: string }
  | { op: 'set-chap'; targetIqn: string; users: string[]; mutualUsers: string[] }
  | { op: 'bind-initiator'; targetIqn: string; initiatorIqn: string }
  | { op: 'unbind-initiator'; targetIqn: string; initiatorIqn: string }
  | { op: 'remove-export'; targetIqn: string; unreferencedSince: string };

export interface Deferred {
  targetIqn: string;
  what: 'remove-export' | 'unbind-initiator';
  initiatorIqn?: string;
  reason: string;
}

export interface Plan {
  steps: PlanStep[];
  /** What the plan would do but may not yet: reported, never silently dropped. */
  deferred: Deferred[];
  /** Managed targets nobody references, with when that was first seen; persist it for the next run. */
  unreferencedSince: Record<string, string>;
}

export interface PlanOptions {
  now: Date;
  gracePeriodMs: number;
  /** What the previous run persisted. */
  unreferencedSince: Record<string, string>;
  /** The identity the backend reports for a digest (IscsiBackend.identityOf); tgt's by default. */
  identityOf?: (rootfsSha256: string) => { scsiId: string; serial: string };
}

/** Targets whose name starts with this are Skyboot's; anything else on the backend is left alone. */
export function managedPrefix(desired: Pick<IscsiDesiredState, 'targetIqn'>): string {
  return `${desired.targetIqn}:img-`;
}

export function planReconcile(desired: IscsiDesiredState, actual: ActualExport[], opts: PlanOptions): Plan {
  const steps: PlanStep[] = [];
  // Access is granted everywhere before it is narrowed anywhere, so a failed run never leaves a node with neither image.
  const narrowing: PlanStep[] = [];
  const deferred: Deferred[] = [];
  const unreferencedSince: Record<string, string> = {};
  const prefix = managedPrefix(desired);
  const actualByTarget = new Map(actual.map((a) => [a.targetIqn, a]));
  const wantMutual = desired.chap?.mutualUser ? [desired.chap.mutualUser] : [];

  for (const e of desired.exports) {
    const have = actualByTarget.get(e.targetIqn);
    const id = (opts.identityOf ?? lunIdentity)(e.rootfsSha256);
    const reason = !have ? 'not exported'
      : !have.lun ? 'target has no image LUN'
        : !have.lun.readonly ? 'LUN is writable'
          : have.lun.scsiId !== id.scsiId || have.lun.serial !== id.serial ? 'LUN identity differs from the digest' : null;
    if (reason) {
      steps.push({
        op: 'ensure-export', targetIqn: e.targetIqn, imageId: e.imageId, reason,
        spec: { targetIqn: e.targetIqn, lun: e.lun, rootfsSha256: e.rootfsSha256, rootfsPath: e.rootfsPath },
      });
    }
    const wantUsers = desired.chap ? e.chapUsers : [];
    if (!sameSet(have?.chapUsers ?? [], wantUsers) || !sameSet(have?.chapMutualUsers ?? [], wantMutual)) {
      steps.push({ op: 'set-chap', targetIqn: e.targetIqn, users: wantUsers, mutualUsers: wantMutual });
    }
    const acl = new Set(have?.acl ?? []);
    for (const i of e.initiators) if (!acl.has(i)) steps.push({ op: 'bind-initiator', targetIqn: e.targetIqn, initiatorIqn: i });
    const sessions = new Set(have?.sessions ?? []);
    for (const i of [...acl].filter((x) => !e.initiators.includes(x)).sort()) {
      // A logged-in node re-logs in after a network blip; unbinding it now would take its root away.
      if (sessions.has(i)) deferred.push({ targetIqn: e.targetIqn, what: 'unbind-initiator', initiatorIqn: i, reason: 'initiator is logged in' });
      else narrowing.push({ op: 'unbind-initiator', targetIqn: e.targetIqn, initiatorIqn: i });
    }
  }

  steps.push(...narrowing);
  const desiredTargets = new Set(desired.exports.map((e) => e.targetIqn));
  for (const a of [...actual].sort((x, y) => x.targetIqn.localeCompare(y.targetIqn))) {
    if (!a.targetIqn.startsWith(prefix) || desiredTargets.has(a.targetIqn)) continue;
    const since = opts.unreferencedSince[a.targetIqn] ?? opts.now.toISOString();
    unreferencedSince[a.targetIqn] = since;
    const age = opts.now.getTime() - Date.parse(since);
    if (a.sessions.length > 0) {
      deferred.push({ targetIqn: a.targetIqn, what: 'remove-export', reason: `logged in: ${a.sessions.join(', ')}` });
    } else if (age < opts.gracePeriodMs) {
      deferred.push({ targetIqn: a.targetIqn, what: 'remove-export', reason: `unreferenced since ${since}; grace period ends ${new Date(Date.parse(since) + opts.gracePeriodMs).toISOString()}` });
    } else {
      steps.push({ op: 'remove-export', targetIqn: a.targetIqn, unreferencedSince: since });
    }
  }
  return { steps, deferred, unreferencedSince };
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
