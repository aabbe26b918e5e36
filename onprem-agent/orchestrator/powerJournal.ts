/**
 * The power runner's durable journal (journal.ts): one file per claimed request under
 * `<dataDir>/orchestrator/power/`, written atomically. A request is journalled as `claimed` before
 * any BMC is touched and as `ran` (with its results) before the completion is sent, and the file
 * goes only once the cloud has recorded the completion. So a cloud outage (or an agent restart)
 * between running and reporting loses nothing: the completion is sent again, and the cloud
 * accepts a retry with the same results. The outbox cannot carry it: it delivers observations
 * through `reportObservations`, not arbitrary mutations.
 */
import { FileJournal } from './journal.js';

export const CLOUD_POWER_ACTIONS = ['ON', 'OFF', 'SOFT_OFF', 'RESET', 'CYCLE', 'STATUS', 'PXE_ONCE'] as const;
export type CloudPowerAction = (typeof CLOUD_POWER_ACTIONS)[number];

/** One node's result in the shape of `PowerResultInput`. */
export interface PowerResultInput {
  xname: string;
  ok: boolean;
  powerState: string | null;
  bootOverride: string | null;
  error: string | null;
}

export interface JournalEntry {
  id: string;
  action: CloudPowerAction;
  xnames: string[];
  claimedAt: string;
  state: 'claimed' | 'ran';
  results: PowerResultInput[] | null;
}

/** Request ids are the cloud's UUIDs, journalled by id, oldest claim first. */
export class PowerJournal extends FileJournal<JournalEntry> {
  constructor(dataDir: string) {
    super(dataDir, 'power', (e) => e.id, (a, b) => a.claimedAt.localeCompare(b.claimedAt) || a.id.localeCompare(b.id));
  }
}
