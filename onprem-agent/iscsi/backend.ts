/**
 * The one interface reconcile drives. A backend (tgt, LIO) turns each call into its own commands;
 * everything about what to do and when lives in plan.ts, so backends stay small.
 */
import type { TargetChapAccounts } from './chap.js';

/** One exported target as the backend sees it now. */
export interface ActualExport {
  targetIqn: string;
  /** The image LUN, or null when the target exists without it (a half-applied create). */
  lun: {
    lun: number;
    backingPath: string;
    readonly: boolean;
    scsiId: string;
    serial: string;
  } | null;
  /** Initiator IQNs allowed to log in. */
  acl: string[];
  /** Initiator IQNs logged in now (tgt: I_T nexus; LIO: ACL session info). */
  sessions: string[];
  /** CHAP users bound: incoming (nodes prove themselves) and outgoing (target proves itself). */
  chapUsers: string[];
  chapMutualUsers: string[];
}

export interface ExportSpec {
  targetIqn: string;
  lun: number;
  rootfsSha256: string;
  rootfsPath: string;
}

export interface IscsiBackend {
  readonly kind: 'tgt' | 'lio';
  /** The scsiId/serial this backend reports for an image's LUN (they are stored differently per backend). */
  identityOf(rootfsSha256: string): { scsiId: string; serial: string };
  listExports(): Promise<ActualExport[]>;
  /** Creates what is missing of target + read-only LUN + identity; leaves what is there. */
  ensureExport(spec: ExportSpec): Promise<void>;
  bindInitiator(targetIqn: string, initiatorIqn: string): Promise<void>;
  unbindInitiator(targetIqn: string, initiatorIqn: string): Promise<void>;
  /** Makes the target's CHAP accounts exactly `accounts` (CHAP off when null). */
  setChap(targetIqn: string, accounts: TargetChapAccounts | null): Promise<void>;
  /** Removes target and LUN; a backend refuses when a session is open. */
  removeExport(targetIqn: string): Promise<void>;
}
