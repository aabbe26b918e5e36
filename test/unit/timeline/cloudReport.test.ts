/**
 * The timeline reporter against the real outbox (on disk, its transport a recorder of what the
 * cloud would receive): batches of at most 100 events per entry, and a bounded buffer that sheds
 * the oldest events when the outbox is full.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../../onprem-agent/outbox/outbox.js';
import type { CloudObservation, ObservationResult } from '../../../onprem-agent/sync/cloudClient.js';
import { InMemoryBootTimeline } from '../../../onprem-agent/timeline/bootTimeline.js';
import { startTimelineReporter } from '../../../onprem-agent/timeline/cloudReport.js';

describe('boot timeline reporter', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'skyboot-tl-report-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('enqueues boot.timeline entries of at most 100 events, every event once', async () => {
    const sent: CloudObservation[] = [];
    const outbox = await new Outbox(join(dir, 'o'), { reportObservations: async (b: CloudObservation[]): Promise<ObservationResult[]> => { sent.push(...b); return b.map((o) => ({ idempotencyKey: o.idempotencyKey, outcome: 'STORED', error: null })); } }).init();
    const t = new InMemoryBootTimeline();
    const r = startTimelineReporter(t, outbox, { flushMs: 60_000 });
    for (let i = 0; i < 250; i++) t.record({ xname: `x1c0s${i}b0n0`, stage: 'dhcp.offer', at: new Date().toISOString() });
    await r.stop();
    await outbox.drain();
    expect(sent.map((o) => o.kind)).toEqual(['boot.timeline', 'boot.timeline', 'boot.timeline']);
    const counts = sent.map((o) => (o.payload as { events: unknown[] }).events.length);
    expect(counts).toEqual([100, 100, 50]);
    const names = sent.flatMap((o) => (o.payload as { events: { xname: string }[] }).events.map((e) => e.xname));
    expect(new Set(names).size).toBe(250);
    expect(r.stats()).toEqual({ reported: 250, dropped: 0, buffered: 0 });
  });

  it('keeps at most maxBuffered events while the outbox is full, dropping the oldest', async () => {
    // 1 byte of budget: every entry is refused (OutboxFullError) and stays in the reporter's buffer.
    const outbox = await new Outbox(join(dir, 'o'), { reportObservations: async () => [] }, { maxBytes: 1 }).init();
    const t = new InMemoryBootTimeline();
    const r = startTimelineReporter(t, outbox, { flushMs: 60_000, maxBuffered: 30 });
    for (let i = 0; i < 50; i++) t.record({ xname: 'x1c0s0b0n0', stage: 'tftp', at: new Date().toISOString(), detail: `n${i}` });
    await r.flush();
    expect(r.stats()).toEqual({ reported: 0, dropped: 20, buffered: 30 });
    await r.stop();
  });
});
