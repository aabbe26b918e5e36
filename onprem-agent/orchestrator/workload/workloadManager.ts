/**
 * Seam between the rollout operator and the site's workload manager (Slurm, PBS through an exec
 * hook, or manual holds). The operator asks `isIdle` before taking a node, `drain`s it so no new
 * work lands while it waits, and `resume`s it once the node validated or was rolled back.
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
