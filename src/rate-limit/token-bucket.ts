// Rate limiting per credential with a token bucket: a credential holds up to `burst`
// tokens, each request takes one, and tokens come back at `perMinute` per minute. Short
// bursts pass; a sustained rate above the budget is refused with the time until a token
// is back. The rule is here once; the Redis limiter runs the same arithmetic in Lua.
export interface RateLimitOptions {
  perMinute: number;
  burst: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Milliseconds until a token is back (0 when allowed). */
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Takes a token from `key`'s bucket, if there is one. */
  take(key: string): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

export interface Bucket {
  tokens: number;
  /** When `tokens` was last computed (ms). */
  at: number;
}

/** The tokens in `bucket` at `now`; a bucket that was never used is full. */
function refilled(bucket: Bucket | undefined, now: number, options: RateLimitOptions): number {
  if (!bucket) return options.burst;
  return Math.min(options.burst, bucket.tokens + Math.max(0, now - bucket.at) * (options.perMinute / 60_000));
}

export function takeToken(bucket: Bucket | undefined, now: number, options: RateLimitOptions) {
  const perMs = options.perMinute / 60_000;
  const tokens = refilled(bucket, now, options);
  const decision: RateLimitDecision =
    tokens >= 1 ? { allowed: true, retryAfterMs: 0 } : { allowed: false, retryAfterMs: Math.ceil((1 - tokens) / perMs) };
  return { bucket: { tokens: decision.allowed ? tokens - 1 : tokens, at: now }, decision };
}

/** Beyond this many buckets, full ones are dropped: a missing bucket reads as full anyway. */
const SWEEP_ABOVE = 10_000;

/** One process's buckets: the default, and right for a single instance. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async take(key: string): Promise<RateLimitDecision> {
    const now = this.now();
    const { bucket, decision } = takeToken(this.buckets.get(key), now, this.options);
    this.buckets.set(key, bucket);
    if (this.buckets.size > SWEEP_ABOVE) this.sweep(now);
    return decision;
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (refilled(bucket, now, this.options) >= this.options.burst) this.buckets.delete(key);
    }
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}
