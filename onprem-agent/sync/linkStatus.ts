/** The cloud link as the agent saw it last: up or down, since when, and the last error. */
export interface LinkState {
  up: boolean | null;
  /** When the link last changed state (or the agent started). */
  since: string;
  lastSuccessAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  consecutiveFailures: number;
}

export class LinkStatus {
  private s: LinkState = { up: null, since: new Date().toISOString(), lastSuccessAt: null, lastAttemptAt: null, lastError: null, consecutiveFailures: 0 };

  ok(): void {
    const now = new Date().toISOString();
    if (this.s.up !== true) this.s.since = now;
    this.s = { ...this.s, up: true, lastSuccessAt: now, lastAttemptAt: now, consecutiveFailures: 0 };
  }

  failed(err: Error): void {
    const now = new Date().toISOString();
    if (this.s.up !== false) this.s.since = now;
    this.s = { ...this.s, up: false, lastAttemptAt: now, lastError: err.message, consecutiveFailures: this.s.consecutiveFailures + 1 };
  }

  get(): LinkState {
    return { ...this.s };
  }
}

/** Exponential backoff with jitter, capped: 1 s, 2 s, 4 s, ... up to `maxMs`. */
export function backoffMs(failures: number, baseMs: number, maxMs: number): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(raw * (0.75 + Math.random() * 0.5));
}
