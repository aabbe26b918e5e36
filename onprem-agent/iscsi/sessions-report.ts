/**
 * Which nodes are logged in to which image: the observation the agent sends through the outbox.
 * Its payload is exactly the arguments of the `reportIscsiSessions` mutation (schema
 * 40-orchestration), which replaces this agent's set, so a logout shows up as a missing session.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { ActualExport } from './backend.js';
import type { IscsiDesiredState } from './desired.js';
import { IMAGE_LUN, xnameOfInitiator } from './naming.js';
import { managedPrefix } from './plan.js';

export const ISCSI_SESSIONS_KIND = 'iscsi.sessions';

/** Mirrors GraphQL `IscsiSessionInput`. */
export interface IscsiSessionInput {
  targetIqn: string;
  lun: number;
  initiatorIqn: string;
  xname: string | null;
  rootfsSha256: string;
}

export interface IscsiSessionsReport {
  agent: string;
  sessions: IscsiSessionInput[];
}

const SHA256 = /^[0-9a-f]{64}$/;

export function sessionsReport(desired: IscsiDesiredState, actual: ActualExport[]): IscsiSessionsReport {
  const shaOf = new Map(desired.exports.map((e) => [e.targetIqn, e.rootfsSha256]));
  const prefix = managedPrefix(desired);
  const sessions: IscsiSessionInput[] = [];
  for (const a of actual) {
    if (!a.targetIqn.startsWith(prefix)) continue;
    // An export no longer referenced is absent from the desired state; the cache names its file by digest.
    const fromPath = a.lun ? basename(a.lun.backingPath) : '';
    const sha = shaOf.get(a.targetIqn) ?? (SHA256.test(fromPath) ? fromPath : null);
    if (!sha) continue;
    for (const initiatorIqn of a.sessions) {
      sessions.push({ targetIqn: a.targetIqn, lun: a.lun?.lun ?? IMAGE_LUN, initiatorIqn, xname: xnameOfInitiator(initiatorIqn), rootfsSha256: sha });
    }
  }
  sessions.sort((x, y) => `${x.targetIqn} ${x.initiatorIqn}`.localeCompare(`${y.targetIqn} ${y.initiatorIqn}`));
  return { agent: desired.agentName, sessions };
}

/** Equal session sets give equal keys, so an unchanged state is not sent twice. */
export function sessionsReportKey(report: IscsiSessionsReport): string {
  return `${ISCSI_SESSIONS_KIND}:${createHash('sha256').update(JSON.stringify(report)).digest('hex').slice(0, 32)}`;
}
