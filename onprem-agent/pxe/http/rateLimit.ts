/**
 * Token buckets by key: each key may spend `burst` at once and earns `perSecond` back. A bucket
 * that has refilled is the same as none, so idle keys are dropped when the table grows; the
 * table stays bounded by the number of keys active within one refill period.
 */
export interface TokenBucketOptions {
  burst: number;
  perSecond: number;
  /** Keys kept before idle ones are pruned (default 65,536). */
  maxKeys?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly opts: TokenBucketOptions) {
    if (!(opts.burst >= 1) || !(opts.perSecond > 0)) throw new RangeError(`token bucket: burst must be ≥ 1 and perSecond > 0 (got ${opts.burst}, ${opts.perSecond})`);
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 65_536;
  }

  private refilled(b: Bucket, t: number): number {
    return Math.min(this.opts.burst, b.tokens + ((t - b.at) / 1000) * this.opts.perSecond);
  }

  take(key: string): TakeResult {
    const t = this.now();
    const b = this.buckets.get(key);
    const tokens = b ? this.refilled(b, t) : this.opts.burst;
    if (tokens < 1) {
      if (b) Object.assign(b, { tokens, at: t });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.opts.perSecond)) };
    }
    if (b) Object.assign(b, { tokens: tokens - 1, at: t });
    else {
      if (this.buckets.size >= this.maxKeys) this.prune(t);
      this.buckets.set(key, { tokens: tokens - 1, at: t });
    }
    return { ok: true };
  }

  /** Drops refilled buckets; if every key is busy, the oldest inserted go (they earn a fresh burst). */
  private prune(t: number): void {
    for (const [k, b] of this.buckets) if (this.refilled(b, t) >= this.opts.burst) this.buckets.delete(k);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(k);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
