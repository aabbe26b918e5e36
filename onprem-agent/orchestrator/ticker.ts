/**
 * A periodic job for `run`: at most one call in flight (a slow call is not stacked up), failures
 * logged and retried on the next tick, and a stop that waits for the call in progress.
 */
import { log } from '../logger.js';

export interface Ticker {
  stop(): Promise<void>;
}

export function startTicker(name: string, intervalMs: number, fn: () => Promise<unknown>): Ticker {
  let inFlight: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = fn()
      .catch((err: Error) => log.warn({ module: 'orchestrator', job: name, err: err.message }, `${name} failed`))
      .finally(() => { inFlight = null; });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

/** The wait between a loop's rounds, which `wake()` ends at once (the link came back, a node settled, a stop). */
export class RoundPause {
  private waker: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waker = null;
        resolve();
      }, ms);
      this.waker = () => {
        clearTimeout(timer);
        this.waker = null;
        resolve();
      };
    });
  }

  wake(): void {
    this.waker?.();
  }
}
