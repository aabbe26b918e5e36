/**
 * No workload manager: nodes are held busy by hand with `setWorkloadHold(xnames, hold)`, which the
 * cloud carries into the snapshot as `workloadHold`. Draining and resuming have nothing to tell, and
 * a busy node here is one an operator holds: it is never drained ahead.
 */
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';
import type { WorkloadManager } from './workloadManager.js';

export const isHeld = (node: SnapshotNode): boolean => node.workloadHold === true;

export function createNoneWorkload(): WorkloadManager {
  return {
    kind: 'none',
    isIdle: (node) => Promise.resolve(!isHeld(node)),
    drain: () => Promise.resolve(),
    resume: () => Promise.resolve(),
    canDrainAhead: () => false,
  };
}
