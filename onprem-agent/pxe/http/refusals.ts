/**
 * Refused requests: the error a route throws, and where the server counts and logs it. Every
 * refusal is counted (`http.refused.<reason>` in status); the warn log line names the requester,
 * the node it claimed and why, at most a few per requester per minute, so a host hammering the
 * agent cannot flood the log (the next line it gets says how many were not logged).
 */
import { log } from '../../logger.js';
import type { HttpCounters, RefusalReason } from './counters.js';
import { HttpError } from './respond.js';
import { TokenBuckets } from './rateLimit.js';

export interface Claim {
  xname?: string | null;
  mac?: string | null;
  id?: string | null;
}

export class RequestRefusedError extends HttpError {
  constructor(status: 403 | 413 | 429, readonly reason: RefusalReason, message: string, readonly claimed: Claim | null = null, headers: Record<string, string> = {}) {
    super(status, message, headers);
  }
}

export class RefusalRecorder {
  private readonly logBudget = new TokenBuckets({ burst: 5, perSecond: 5 / 60, maxKeys: 4096 });
  private readonly suppressed = new Map<string, number>();

  constructor(private readonly counters: HttpCounters) {}

  record(err: RequestRefusedError, requester: string | null, method: string | undefined, path: string): void {
    this.counters.refused[err.reason]++;
    const key = requester ?? '-';
    if (!this.logBudget.take(key).ok) {
      if (this.suppressed.size < 4096 || this.suppressed.has(key)) this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
      return;
    }
    const suppressed = this.suppressed.get(key) ?? 0;
    this.suppressed.delete(key);
    log.warn(
      { requester, claimed: err.claimed, reason: err.reason, status: err.status, method, path, ...(suppressed ? { suppressedSinceLast: suppressed } : {}) },
      `http request refused (${err.reason}): ${err.message}`,
    );
  }
}
