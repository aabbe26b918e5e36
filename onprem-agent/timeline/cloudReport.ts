/**
 * Reports the boot timeline to the cloud (`Component.bootTimeline`) through the durable outbox,
 * as `boot.timeline` observations of up to MAX_TIMELINE_EVENTS_PER_REPORT events each. Events are
 * batched for `flushMs` (a boot storm of 1,000 nodes makes a few dozen entries, not thousands),
 * and the buffer is bounded: if the outbox refuses (full) or falls behind, the oldest buffered
 * events are dropped and counted, never the agent's memory.
 */
import { randomUUID } from 'node:crypto';
import { BOOT_TIMELINE_KIND, MAX_TIMELINE_EVENTS_PER_REPORT, type BootTimelineEvent, type BootTimelineReport } from '../../schema/bootTimeline.js';
import { log } from '../logger.js';
import type { ObservationSink } from '../outbox/sink.js';
import type { InMemoryBootTimeline } from './bootTimeline.js';

export interface TimelineReporterOptions {
  /** How long events gather before they are enqueued; default 2 s. */
  flushMs?: number;
  /** Events buffered at most; default 5,000. */
  maxBuffered?: number;
}

export interface TimelineReporterStats {
  reported: number;
  dropped: number;
  buffered: number;
}

export interface TimelineReporter {
  /** Enqueues what is buffered now (stop() calls it). */
  flush(): Promise<void>;
  stats(): TimelineReporterStats;
  stop(): Promise<void>;
}

export function startTimelineReporter(timeline: InMemoryBootTimeline, sink: ObservationSink, opts: TimelineReporterOptions = {}): TimelineReporter {
  const flushMs = opts.flushMs ?? 2000;
  const maxBuffered = opts.maxBuffered ?? 5000;
  let buffer: BootTimelineEvent[] = [];
  const stats = { reported: 0, dropped: 0 };
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();

  const drain = async (): Promise<void> => {
    while (buffer.length > 0) {
      // Taken out first: events recorded (or shed) while the entry is written do not shift it.
      const events = buffer.slice(0, MAX_TIMELINE_EVENTS_PER_REPORT);
      buffer = buffer.slice(events.length);
      const report: BootTimelineReport = { events };
      try {
        await sink.enqueue(BOOT_TIMELINE_KIND, report, `tl-${randomUUID()}`);
        stats.reported += events.length;
      } catch (err) {
        // A full outbox: keep the events for the next flush; the bound in onRecord sheds the oldest.
        buffer = [...events, ...buffer];
        log.warn({ err: (err as Error).message, buffered: buffer.length }, 'boot timeline not enqueued; retrying at the next flush');
        return;
      }
    }
  };

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    flushing = flushing.then(drain);
    return flushing;
  };

  const off = timeline.onRecord((e) => {
    buffer.push(e);
    if (buffer.length > maxBuffered) {
      const over = buffer.length - maxBuffered;
      buffer = buffer.slice(over);
      stats.dropped += over;
    }
    if (buffer.length >= MAX_TIMELINE_EVENTS_PER_REPORT) void flush();
    else if (!timer) {
      timer = setTimeout(() => void flush(), flushMs);
      timer.unref();
    }
  });

  return {
    flush,
    stats: () => ({ ...stats, buffered: buffer.length }),
    async stop() {
      off();
      await flush();
    },
  };
}
