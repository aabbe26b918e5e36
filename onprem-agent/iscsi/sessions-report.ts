/**
 * Which nodes are logged in to which image: the observation the agent sends through the outbox
 * so the cloud can show sessions on the image and on the node.
 */
import { createHash } from 'node:crypto';
import type { ActualExport } from './backend.js';
import type { IscsiDesiredState } from './desired.js';
import { managedPrefix } from './plan.js';
import { xnameOfInitiator } from './naming.js';

export const ISCSI_SESSIONS_KIND = 'iscsi.sessions';

export interface IscsiSessionsReport {
  agentName: string;
  observedAt: string;
  exports: Array<{
    targetIqn: string;
    /** null for an image no longer referenced (exported only until its sessions end). */
    imageId: string | null;
    rootfsSha256: string | null;
    referenced: boolean;
    sessions: Array<{ initiatorIqn: string; xname: string | null }>;
  }>;
}

export function sessionsReport(desired: IscsiDesiredState, actual: ActualExport[], now: Date): IscsiSessionsReport {
  const byTarget = new Map(desired.exports.map((e) => [e.targetIqn, e]));
  const prefix = managedPrefix(desired);
  return {
    agentName: desired.agentName,
    observedAt: now.toISOString(),
    exports: actual
      .filter((a) => a.targetIqn.startsWith(prefix))
      .sort((x, y) => x.targetIqn.localeCompare(y.targetIqn))
      .map((a) => {
        const e = byTarget.get(a.targetIqn);
        return {
          targetIqn: a.targetIqn,
          imageId: e?.imageId ?? null,
          rootfsSha256: e?.rootfsSha256 ?? null,
          referenced: e !== undefined,
          sessions: [...a.sessions].sort().map((i) => ({ initiatorIqn: i, xname: xnameOfInitiator(i) })),
        };
      }),
  };
}

/** Equal session sets give equal keys, so an unchanged state is not sent twice. */
export function sessionsReportKey(report: IscsiSessionsReport): string {
  const { observedAt: _ignored, ...content } = report;
  return `${ISCSI_SESSIONS_KIND}:${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32)}`;
}
