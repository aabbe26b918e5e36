/**
 * Busy nodes the rollout operator drained ahead of their claim (respectWorkload sessions, workload
 * managers whose drain lets running work finish). In a busy cluster the scheduler refills a node
 * as soon as a job ends, so waiting for idle alone may never end; drained, the node runs out of
 * jobs and goes idle by itself, and the next round claims it. The operator drains ahead only as
 * many nodes as the session's window has room for, so the cluster never loses more than the window.
 *
 * Each drain is journalled (one file per node, journal.ts) before it is made, so a restart still
 * knows which drains are its own: when the session stops listing a node the operator resumes the
 * node it drained, unless a claim took the node over (whose run resumes it after the reboot).
 */
import { FileJournal } from '../journal.js';
import { rolloutEntryId } from './rolloutJournal.js';

export interface DrainAhead {
  sessionId: string;
  xname: string;
  drainedAt: string;
}

export class DrainAheadJournal extends FileJournal<DrainAhead> {
  constructor(dataDir: string) {
    super(dataDir, 'drains-ahead', (d) => rolloutEntryId(d.sessionId, d.xname), (a, b) => a.drainedAt.localeCompare(b.drainedAt) || a.xname.localeCompare(b.xname));
  }
}

/** Session node phases in which a claim owns the node (the claimant resumes it, or leaves a failed node drained). */
export const CLAIMED_PHASES: ReadonlySet<string> = new Set(['INPROGRESS', 'SUCCEEDED', 'FAILED', 'ROLLED_BACK']);
