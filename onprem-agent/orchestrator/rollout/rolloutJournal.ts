/**
 * The rollout operator's journal: one entry per claimed node (journal.ts), written before each step
 * the node takes, so an agent restart resumes a node where it stood and a cloud outage never loses
 * an outcome: the report stays journalled until the cloud has recorded it.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootPayload } from '../../../schema/bootPayload.js';
import { writeFileAtomic } from '../../sync/atomicFile.js';
import { FileJournal } from '../journal.js';

/** What the cloud handed over with the claim: enough to boot, validate and roll back offline. */
export interface RolloutClaim {
  sessionId: string;
  xname: string;
  operation: 'BOOT' | 'REBOOT' | 'SHUTDOWN';
  canary: boolean;
  attempts: number;
  bootTimeoutSeconds: number;
  rollback: boolean;
  respectWorkload: boolean;
  target: BootPayload | null;
  bootToken: string | null;
  previous: BootPayload | null;
  previousBootToken: string | null;
  leaseExpiresAt: string;
}

export type RolloutStep = 'claimed' | 'drained' | 'installed' | 'powered' | 'rollingBack' | 'reported';

export interface RolloutReport {
  outcome: 'SUCCEEDED' | 'FAILED' | 'ROLLED_BACK';
  step: string | null;
  error: string | null;
  bootToken: string | null;
  bootedAt: string | null;
}

export interface RolloutEntry {
  claim: RolloutClaim;
  step: RolloutStep;
  /** When the node was power-cycled onto the target (heartbeats before it do not count). */
  poweredAt: string | null;
  /** Set once the node settled; the entry goes when the cloud has recorded it. */
  report: RolloutReport | null;
  claimedAt: string;
}

export const rolloutEntryId = (sessionId: string, xname: string) => `${sessionId}.${xname}`;

export class RolloutJournal extends FileJournal<RolloutEntry> {
  constructor(dataDir: string) {
    super(dataDir, 'rollout', (e) => rolloutEntryId(e.claim.sessionId, e.claim.xname), (a, b) => a.claimedAt.localeCompare(b.claimedAt) || a.claim.xname.localeCompare(b.claim.xname));
  }

  /**
   * This journal's claim token, made once and kept beside the entries (not a .json: never listed as
   * one). The cloud answers a claim repeated under it with the claim it already gave, so a claim
   * whose answer was lost is taken up again by the agent that made it, and by no other.
   */
  async claimToken(): Promise<string> {
    const file = join(this.dir, 'claim-token');
    const stored = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (stored) return stored;
    const token = randomUUID();
    await writeFileAtomic(file, `${token}\n`, 0o600);
    return token;
  }
}
