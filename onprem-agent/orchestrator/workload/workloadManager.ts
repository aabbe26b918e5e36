/**
 * Seam between the rollout operator and the site's workload manager (Slurm, PBS through an exec
 * hook, or manual holds). The operator asks `isIdle` before taking a node, `drain`s it so no new
 * work lands while it waits, and `resume`s it once the node validated or was rolled back. In a busy
 * cluster a node may never go idle by itself (the scheduler keeps filling it), so the operator also
 * drains busy nodes ahead, as many as the session's window has room for, where `canDrainAhead`.
 */
import type { Logger } from 'pino';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';

export const WORKLOAD_KINDS = ['none', 'exec', 'slurm'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadManager {
  readonly kind: WorkloadKind;
  /** No job runs on the node and nothing holds it (a manual `setWorkloadHold` counts as busy for every kind). */
  isIdle(node: SnapshotNode): Promise<boolean>;
  /** Stop new work landing on the node; `reason` names the session (Slurm: scontrol update state=DRAIN reason=…). */
  drain(node: SnapshotNode, reason: string): Promise<void>;
  /** Return the node to service (Slurm: state=RESUME). */
  resume(node: SnapshotNode): Promise<void>;
  /**
   * Whether draining the busy node lets its running work finish while nothing new lands, so it
   * goes idle by itself (Slurm, exec). Never for a node held by hand: a hold means "leave it".
   */
  canDrainAhead(node: SnapshotNode): boolean;
}

export interface WorkloadManagerDeps {
  logger: Logger;
}

/** The workload manager could not answer or act (command failed, timed out, unknown node). */
export class WorkloadManagerError extends Error {
  constructor(
    readonly kind: WorkloadKind,
    readonly op: 'is-idle' | 'drain' | 'resume',
    readonly xname: string,
    reason: string,
  ) {
    super(`workload ${kind} ${op} ${xname}: ${reason}`);
    this.name = 'WorkloadManagerError';
  }
}
