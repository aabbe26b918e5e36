/** The outbox against a transport under the test's control (the cloud side is covered in integration). */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../../onprem-agent/outbox/outbox.js';
import type { CloudObservation, ObservationResult } from '../../../onprem-agent/sync/cloudClient.js';

class FakeCloud {
  seen = new Set<string>();
  calls: string[][] = [];
  down = false;
  reject = new Set<string>();
  async reportObservations(batch: CloudObservation[]): Promise<ObservationResult[]> {
    if (this.down) throw new Error('ECONNREFUSED');
    this.calls.push(batch.map((b) => b.idempotencyKey));
    return batch.map((b) => {
      if (this.reject.has(b.idempotencyKey)) return { idempotencyKey: b.idempotencyKey, outcome: 'REJECTED' as const, error: 'bad' };
      const dup = this.seen.has(b.idempotencyKey);
      this.seen.add(b.idempotencyKey);
      return { idempotencyKey: b.idempotencyKey, outcome: dup ? ('DUPLICATE' as const) : ('STORED' as const), error: null };
    });
  }
}

describe('outbox', () => {
  it('persists entries across a restart, delivers them in order, and dedupes pending keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const cloud = new FakeCloud();
    cloud.down = true;
    const a = await new Outbox(dir, cloud, { batchSize: 2 }).init();
    for (const k of ['k1', 'k2', 'k3']) await a.enqueue('heartbeat', { k }, k);
    await a.enqueue('heartbeat', { k: 'again' }, 'k1');
    expect(a.depth).toBe(3);
    await expect(a.drain()).rejects.toThrow('ECONNREFUSED');
    expect(readdirSync(join(dir, 'pending'))).toHaveLength(3);

    cloud.down = false;
    const b = await new Outbox(dir, cloud, { batchSize: 2 }).init();
    expect(b.depth).toBe(3);
    await b.drain();
    expect(cloud.calls).toEqual([['k1', 'k2'], ['k3']]);
    expect(b.depth).toBe(0);
    expect(readdirSync(join(dir, 'pending'))).toEqual([]);
    expect(await b.stats()).toMatchObject({ depth: 0, delivered: 3, duplicates: 0 });
  });

  it('moves rejected entries aside instead of retrying them forever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const cloud = new FakeCloud();
    cloud.reject.add('bad');
    const o = await new Outbox(dir, cloud).init();
    await o.enqueue('heartbeat', {}, 'bad');
    await o.enqueue('heartbeat', {}, 'good');
    await o.drain();
    expect(readdirSync(join(dir, 'rejected'))).toHaveLength(1);
    expect(await o.stats()).toMatchObject({ depth: 0, delivered: 1, rejected: 1 });
  });

  it('backs off while the cloud is down and drains as soon as it is nudged back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const cloud = new FakeCloud();
    cloud.down = true;
    const o = await new Outbox(dir, cloud, { baseDelayMs: 60_000, maxDelayMs: 60_000 }).init();
    o.start();
    await o.enqueue('heartbeat', {}, 'k1');
    await new Promise((r) => setTimeout(r, 100));
    expect((await o.stats()).consecutiveFailures).toBeGreaterThanOrEqual(1);
    cloud.down = false;
    o.nudge();
    for (let i = 0; i < 50 && o.depth; i++) await new Promise((r) => setTimeout(r, 20));
    expect(o.depth).toBe(0);
    await o.stop();
  });

  it('refuses idempotency keys the cloud would refuse', async () => {
    const o = await new Outbox(mkdtempSync(join(tmpdir(), 'outbox-')), new FakeCloud()).init();
    await expect(o.enqueue('heartbeat', {}, 'has space')).rejects.toThrow(/idempotency key/);
  });
});

describe('outbox across processes', () => {
  it('delivers entries another process enqueued into the same directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'outbox-dd-'));
    const cloud = new FakeCloud();
    const running = await new Outbox(join(dataDir, 'outbox'), cloud, { idleRescanMs: 50 }).init();
    running.start();
    const { openOutboxSink } = await import('../../../onprem-agent/outbox/outbox.js');
    const sink = await openOutboxSink(dataDir);
    await sink.enqueue('inventory.reportDiscovery', { endpoints: [] }, 'disco-key-1');
    for (let i = 0; i < 100 && !cloud.seen.has('disco-key-1'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(cloud.seen.has('disco-key-1')).toBe(true);
    for (let i = 0; i < 50 && readdirSync(sink.dir).length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(sink.dir)).toEqual([]);
    await running.stop();
  });
});
