/** The outbox against a transport under the test's control (the cloud side is covered in integration). */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox, OutboxEntryTooLargeError, OutboxFullError, readParked } from '../../../onprem-agent/outbox/outbox.js';
import { offlineStatus } from '../../../onprem-agent/run/commands.js';
import { CloudRequestTooLargeError, type CloudObservation, type ObservationResult } from '../../../onprem-agent/sync/cloudClient.js';

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

  it('parks entries the cloud rejects, with the reason, and delivers the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const cloud = new FakeCloud();
    cloud.reject.add('bad');
    const o = await new Outbox(dir, cloud).init();
    await o.enqueue('heartbeat', {}, 'bad');
    await o.enqueue('heartbeat', {}, 'good');
    await o.drain();
    expect(readdirSync(join(dir, 'parked')).sort()).toHaveLength(2); // the entry and its reason
    const s = await o.stats();
    expect(s).toMatchObject({ depth: 0, delivered: 1, rejected: 1, parked: { count: 1 } });
    expect(s.parked.newest[0]).toMatchObject({ idempotencyKey: 'bad', kind: 'heartbeat', by: 'cloud', reason: 'bad' });
    // The reasons survive a restart and are what status reads without a running agent.
    expect((await readParked(dir)).map((p) => p.reason)).toEqual(['bad']);
    expect((await (await new Outbox(dir, cloud).init()).stats()).parked.count).toBe(1);
  });

  it('`status` without a running agent shows pending bytes and parked entries with their reasons from disk', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'outbox-dd-'));
    const cloud = new FakeCloud();
    cloud.reject.add('refused-hb');
    const o = await new Outbox(join(dataDir, 'outbox'), cloud).init();
    await o.enqueue('heartbeat', { n: 1 }, 'refused-hb');
    await o.drain();
    cloud.down = true;
    await o.enqueue('heartbeat', { n: 2 }, 'waiting-hb');
    const offline = (await offlineStatus(dataDir)) as { outbox: { depth: number; bytes: number; parked: { count: number; newest: { idempotencyKey: string; reason: string }[] } } };
    expect(offline.outbox).toMatchObject({ depth: 1, bytes: (await o.stats()).bytes, parked: { count: 1, newest: [{ idempotencyKey: 'refused-hb', reason: 'bad' }] } });
  });

  it('batches by bytes: no request carries more than maxBatchBytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const cloud = new FakeCloud();
    const sizes: number[] = [];
    const measuring = { reportObservations: async (b: CloudObservation[]) => { sizes.push(Buffer.byteLength(JSON.stringify(b))); return cloud.reportObservations(b); } };
    const o = await new Outbox(dir, measuring, { maxBatchBytes: 10_000 }).init();
    for (let i = 0; i < 10; i++) await o.enqueue('heartbeat', { pad: 'x'.repeat(3000) }, `k${i}`);
    await o.drain();
    expect(cloud.seen.size).toBe(10);
    expect(cloud.calls.map((c) => c.length)).toEqual([3, 3, 3, 1]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10_000);
  });

  it('a request the cloud refuses for its size is halved until the refused entry stands alone; that one is parked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const cloud = new FakeCloud();
    const limited = {
      reportObservations: async (b: CloudObservation[]) => {
        const n = Buffer.byteLength(JSON.stringify(b));
        if (n > 20_000) throw new CloudRequestTooLargeError(`HTTP 413: request body exceeds 20000 bytes (${n})`);
        return cloud.reportObservations(b);
      },
    };
    // The agent's limit is above the cloud's (a proxy with a lower limit, say).
    const o = await new Outbox(dir, limited, { maxBatchBytes: 100_000 }).init();
    await o.enqueue('heartbeat', { n: 1 }, 'hb-1');
    await o.enqueue('inventory.reportDiscovery', { pad: 'x'.repeat(30_000) }, 'big');
    for (let i = 2; i <= 5; i++) await o.enqueue('heartbeat', { n: i }, `hb-${i}`);
    await o.drain();
    expect([...cloud.seen].sort()).toEqual(['hb-1', 'hb-2', 'hb-3', 'hb-4', 'hb-5']);
    const s = await o.stats();
    expect(s).toMatchObject({ depth: 0, delivered: 5, rejected: 1, parked: { count: 1 } });
    expect(s.parked.newest[0]).toMatchObject({ idempotencyKey: 'big', kind: 'inventory.reportDiscovery', by: 'cloud', reason: expect.stringContaining('HTTP 413') });
  });

  it('refuses an entry larger than one request, and any entry beyond the byte budget, by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const cloud = new FakeCloud();
    cloud.down = true;
    const o = await new Outbox(dir, cloud, { maxBatchBytes: 10_000, maxBytes: 25_000 }).init();
    await expect(o.enqueue('heartbeat', { pad: 'x'.repeat(20_000) }, 'huge')).rejects.toBeInstanceOf(OutboxEntryTooLargeError);
    for (let i = 0; i < 3; i++) await o.enqueue('heartbeat', { pad: 'x'.repeat(7000) }, `k${i}`);
    const full = o.enqueue('heartbeat', { pad: 'x'.repeat(7000) }, 'k3');
    await expect(full).rejects.toBeInstanceOf(OutboxFullError);
    await expect(full).rejects.toMatchObject({ httpStatus: 503, message: expect.stringMatching(/^outbox full: \d+ bytes pending of a 25000-byte budget/) });
    expect(readdirSync(join(dir, 'pending'))).toHaveLength(3);
    expect(await o.stats()).toMatchObject({ depth: 3, refused: 2, maxBytes: 25000, lastRefusal: expect.stringContaining('outbox full') });
    // Concurrent enqueues cannot overshoot the budget between check and write.
    cloud.down = false;
    await o.drain();
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => o.enqueue('heartbeat', { pad: 'x'.repeat(7000) }, `c${i}`)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect((await o.stats()).bytes).toBeLessThanOrEqual(25_000);
  });

  it('parked entries beyond their budget are discarded oldest first, and counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const cloud = new FakeCloud();
    const o = await new Outbox(dir, cloud, { maxParkedBytes: 1200 }).init();
    for (let i = 0; i < 4; i++) {
      cloud.reject.add(`bad${i}`);
      await o.enqueue('heartbeat', { pad: 'x'.repeat(400) }, `bad${i}`);
    }
    await o.drain();
    const s = await o.stats();
    expect(s.parked).toMatchObject({ count: 2, discarded: 2 });
    expect(s.parked.newest.map((p) => p.idempotencyKey)).toEqual(['bad3', 'bad2']);
    expect(readdirSync(join(dir, 'parked'))).toHaveLength(4);
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

describe('outbox temp files', () => {
  it("only the lock holder's init removes leftover temp files", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    await new Outbox(dir, new FakeCloud()).init();
    const tmp = join(dir, 'pending', '.000000000000001-000000-0123456789abcdef.json.4242.deadbeef.tmp');
    writeFileSync(tmp, '{');
    await new Outbox(dir, new FakeCloud()).init();
    expect(existsSync(tmp)).toBe(true);
    await new Outbox(dir, new FakeCloud()).init({ removeStaleTempFiles: true });
    expect(existsSync(tmp)).toBe(false);
  });
});
