/**
 * Logins and logouts on the iSCSI target do not wait for a snapshot change, so `run` asks the
 * iSCSI service for its sessions on a timer. The service sends an `iscsi.sessions` observation
 * through the outbox only when the set changed, so a quiet site costs one backend listing per tick.
 */
import { log } from '../logger.js';
import type { IscsiService } from '../iscsi/service.js';

export const DEFAULT_ISCSI_REPORT_INTERVAL_MS = 15_000;

export interface SessionsTimer {
  stop(): Promise<void>;
}

export function startIscsiSessionsTimer(service: Pick<IscsiService, 'reportSessions'>, intervalMs = DEFAULT_ISCSI_REPORT_INTERVAL_MS): SessionsTimer {
  let inFlight: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (inFlight) return; // a slow backend listing is not stacked up
    inFlight = service.reportSessions()
      .catch((err: Error) => log.warn({ module: 'iscsi-sessions', err: err.message }, 'iscsi sessions report failed'))
      .finally(() => { inFlight = null; });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
