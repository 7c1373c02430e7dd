// Rate limiting with token buckets: a bucket holds up to `burst` tokens, each request takes
// one, and tokens come back at `perMinute` per minute. Short bursts pass; a sustained rate
// above the budget is refused with the time until a token is back. A request draws on two
// buckets at once, its member's and its organization's (the ceiling shared by all of the
// organization's members): it passes only if both have a token, and then takes one from
// each, so a refused request costs neither. The rule is here once; the Redis limiter runs
// the same arithmetic in Lua.
import { itemAt } from '../array.js';

export interface Budget {
  perMinute: number;
  burst: number;
}

export interface RateLimitOptions extends Budget {
  /** The ceiling shared by every member of an organization; unset: none. */
  organization?: Budget | undefined;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Milliseconds until a token is back; allowed, the wait for a reserved token (see takeTokens), else 0. */
  retryAfterMs: number;
  /** Set when it is the organization's ceiling, not the member's budget, that refused. */
  organization?: true;
}

/** One bucket of a take: its key and its budget (the budget may differ from key to key). */
export interface BucketRequest {
  key: string;
  budget: Budget;
}

/**
 * Token buckets of any budget, for callers whose budget is not one fixed pair (the WhatsApp
 * send limits, src/whatsapp/send-limits.ts: each channel its own rate). The RateLimiters
 * below are these with the API's two budgets.
 */
export interface TokenBuckets {
  /**
   * One token from every bucket, or none; refused: the wait and which bucket (index) refused.
   * `reserveMs`: a wait up to this takes the tokens ahead, allowed with the wait (see takeTokens).
   */
  takeFrom(buckets: readonly BucketRequest[], reserveMs?: number): Promise<RateLimitDecision & { refusedBy: number }>;
  /** Empties the buckets (none left until they refill; tokens reserved ahead stay owed): someone else said the budget was spent. */
  drain(buckets: readonly BucketRequest[]): Promise<void>;
  close(): Promise<void>;
}

export interface RateLimiter {
  /**
   * Takes a token from `key`'s bucket and, when given and an organization budget is set,
   * from `organizationKey`'s: from both or from neither.
   */
  take(key: string, organizationKey?: string): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

export interface Bucket {
  tokens: number;
  /** When `tokens` was last computed (ms). */
  at: number;
}

/** The tokens in `bucket` at `now`; a bucket that was never used is full. */
export function refilled(bucket: Bucket | undefined, now: number, budget: Budget): number {
  if (!bucket) return budget.burst;
  return Math.min(budget.burst, bucket.tokens + Math.max(0, now - bucket.at) * (budget.perMinute / 60_000));
}

/** Milliseconds until `tokens` has grown to one. */
function msUntilToken(tokens: number, budget: Budget): number {
  return Math.ceil((1 - tokens) / (budget.perMinute / 60_000));
}

/**
 * One token from every bucket if each has one, else none: the buckets' new state and the
 * decision (refused: the longest wait, and which bucket it was by its index).
 *
 * `reserveMs`: when the longest wait is at most this, the tokens are taken all the same (a
 * bucket may go below zero: tokens promised ahead) and the decision is allowed with that
 * wait, which the caller sleeps before acting. Waiters then go at the buckets' pace, not at
 * whenever their timers happen to fire (a late timer would lose the token's time), and the
 * ones behind are told to wait longer. 0 (the API's limiter): never.
 */
export function takeTokens(
  buckets: readonly { bucket: Bucket | undefined; budget: Budget }[],
  now: number,
  reserveMs = 0,
) {
  const tokens = buckets.map(({ bucket, budget }) => refilled(bucket, now, budget));
  let retryAfterMs = 0;
  let refusedBy = -1;
  buckets.forEach(({ budget }, index) => {
    const available = itemAt(tokens, index);
    if (available >= 1) return;
    const wait = msUntilToken(available, budget);
    if (wait > retryAfterMs) [retryAfterMs, refusedBy] = [wait, index];
  });
  const allowed = refusedBy < 0 || retryAfterMs <= reserveMs;
  return tokens.map((available) => ({
    bucket: { tokens: allowed ? available - 1 : available, at: now },
    decision: (allowed
      ? { allowed, retryAfterMs, refusedBy: -1 }
      : { allowed, retryAfterMs, refusedBy }) as RateLimitDecision & {
      refusedBy: number;
    },
  }));
}

/** The decision as the RateLimiter interface reports it. */
export function decisionOf({
  allowed,
  retryAfterMs,
  refusedBy,
}: RateLimitDecision & { refusedBy: number }): RateLimitDecision {
  return refusedBy === 1 ? { allowed, retryAfterMs, organization: true } : { allowed, retryAfterMs };
}

/** Beyond this many buckets, full ones are dropped: a missing bucket reads as full anyway. */
const SWEEP_ABOVE = 10_000;

/** One process's buckets: the default, and right for a single instance. */
export class MemoryRateLimiter implements RateLimiter, TokenBuckets {
  private readonly buckets = new Map<string, Bucket & { budget: Budget }>();

  /** `options`: the budgets of take(); takeFrom() and drain() name their own. */
  constructor(
    private readonly options: RateLimitOptions = { perMinute: 60, burst: 1 },
    private readonly now: () => number = Date.now,
  ) {}

  async take(key: string, organizationKey?: string): Promise<RateLimitDecision> {
    const wanted: BucketRequest[] = [{ key, budget: this.options as Budget }];
    if (organizationKey !== undefined && this.options.organization) {
      wanted.push({ key: organizationKey, budget: this.options.organization });
    }
    return decisionOf(await this.takeFrom(wanted));
  }

  async takeFrom(wanted: readonly BucketRequest[], reserveMs = 0): Promise<RateLimitDecision & { refusedBy: number }> {
    const now = this.now();
    const results = takeTokens(
      wanted.map(({ key, budget }) => ({ bucket: this.buckets.get(key), budget })),
      now,
      reserveMs,
    );
    for (const [index, { key, budget }] of wanted.entries()) {
      this.buckets.set(key, { ...itemAt(results, index).bucket, budget });
    }
    if (this.buckets.size > SWEEP_ABOVE) this.sweep(now);
    return itemAt(results, 0).decision;
  }

  async drain(wanted: readonly BucketRequest[]): Promise<void> {
    const now = this.now();
    for (const { key, budget } of wanted) {
      // Tokens reserved ahead (below zero) stay owed.
      const tokens = Math.min(0, refilled(this.buckets.get(key), now, budget));
      this.buckets.set(key, { tokens, at: now, budget });
    }
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (refilled(bucket, now, bucket.budget) >= bucket.budget.burst) this.buckets.delete(key);
    }
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}
