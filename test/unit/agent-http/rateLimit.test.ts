/** Token buckets per key: burst, refill, Retry-After, independence of keys, bounded table. */
import { TokenBuckets } from '../../../onprem-agent/pxe/http/rateLimit.js';

describe('token buckets', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => { now = 1_000_000; });

  it('allows the burst at once, then one per refill period, and says when to retry', () => {
    const b = new TokenBuckets({ burst: 3, perSecond: 0.5, now: clock });
    expect([1, 2, 3].map(() => b.take('10.0.0.1').ok)).toEqual([true, true, true]);
    expect(b.take('10.0.0.1')).toEqual({ ok: false, retryAfterSeconds: 2 });
    now += 1_000;
    expect(b.take('10.0.0.1')).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 1_000;
    expect(b.take('10.0.0.1').ok).toBe(true);
    expect(b.take('10.0.0.1').ok).toBe(false);
    // Another key has its own budget.
    expect(b.take('10.0.0.2').ok).toBe(true);
    // Refill stops at the burst.
    now += 3_600_000;
    expect([1, 2, 3, 4].map(() => b.take('10.0.0.1').ok)).toEqual([true, true, true, false]);
  });

  it('keeps at most maxKeys buckets, dropping refilled ones first', () => {
    const b = new TokenBuckets({ burst: 2, perSecond: 1, maxKeys: 3, now: clock });
    b.take('a');
    b.take('a');
    b.take('b');
    now += 5_000; // b has refilled, a has too: both may go
    b.take('c');
    b.take('c');
    b.take('d');
    expect(b.size).toBeLessThanOrEqual(3);
    b.take('d');
    expect(b.take('c').ok).toBe(false); // c is busy and was kept
    for (const k of ['e', 'f', 'g', 'h']) b.take(k);
    expect(b.size).toBeLessThanOrEqual(3);
  });

  it('refuses a configuration that could never allow a request', () => {
    expect(() => new TokenBuckets({ burst: 0, perSecond: 1 })).toThrow(/burst must be ≥ 1 and perSecond > 0 \(got 0, 1\)/);
    expect(() => new TokenBuckets({ burst: 5, perSecond: 0 })).toThrow(/got 5, 0/);
  });
});
