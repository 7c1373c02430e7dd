// Token buckets kept in Redis (REDIS_URL), so that every instance behind a load balancer
// draws from one budget per member and one per organization. The refill-and-take of both
// runs as one Lua script: atomic in Redis, one round trip, and on Redis's clock, so
// instances whose clocks differ still agree. (rate-limiter-flexible was the alternative; it counts fixed windows, which let
// twice the budget through across a window boundary, and has no token bucket.)
//
// Redis down or slow: requests are let through (fail open) and a warning is logged. The
// limiter protects the service from one greedy credential; refusing every tenant's
// requests because the limiter's store is down would be a worse outage than the one it
// guards against, and the operation limits and DB_STATEMENT_TIMEOUT_MS still bound each
// request.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import {
  type BucketRequest,
  type Budget,
  decisionOf,
  type RateLimitDecision,
  type RateLimitOptions,
  type RateLimiter,
  type TokenBuckets,
} from './token-bucket.js';

// KEYS: the buckets (the member's, then the organization's). ARGV: burst (capacity) and
// tokens per millisecond of each, in the same order, then the longest wait taken ahead
// (reserveMs; 0 for the API's limiter). Mirrors takeTokens() in ./token-bucket.ts: a token
// from every bucket or from none. Returns { allowed (0|1), retryAfterMs, index (1-based) of
// the bucket that refused or 0 }.
const TAKE_TOKEN = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tokens = {}
local retry_after = 0
local refused_by = 0
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i - 1])
  local per_ms = tonumber(ARGV[2 * i])
  local bucket = redis.call('HMGET', key, 'tokens', 'at')
  local available = tonumber(bucket[1])
  local at = tonumber(bucket[2])
  if available == nil or at == nil then
    available = burst
  else
    available = math.min(burst, available + math.max(0, now - at) * per_ms)
  end
  tokens[i] = available
  if available < 1 then
    local wait = math.ceil((1 - available) / per_ms)
    if wait > retry_after then
      retry_after = wait
      refused_by = i
    end
  end
end
local reserve_ms = tonumber(ARGV[2 * #KEYS + 1]) or 0
local allowed = 0
if refused_by == 0 or retry_after <= reserve_ms then
  allowed = 1
  refused_by = 0
end
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i - 1])
  local per_ms = tonumber(ARGV[2 * i])
  local left = tokens[i]
  if allowed == 1 then left = left - 1 end
  redis.call('HSET', key, 'tokens', tostring(left), 'at', tostring(now))
  -- A bucket that has refilled is the same as no bucket: let Redis drop it then.
  redis.call('PEXPIRE', key, math.ceil((burst - left) / per_ms) + 1000)
end
return { allowed, retry_after, refused_by }
`;
const TAKE_TOKEN_SHA = createHash('sha1').update(TAKE_TOKEN).digest('hex');

// KEYS: the buckets to empty. ARGV: burst and tokens per millisecond of each. Mirrors
// MemoryRateLimiter.drain(): no token left (those reserved ahead stay owed), on Redis's clock.
const DRAIN = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i - 1])
  local per_ms = tonumber(ARGV[2 * i])
  local bucket = redis.call('HMGET', key, 'tokens', 'at')
  local left = 0
  local available = tonumber(bucket[1])
  local at = tonumber(bucket[2])
  -- Tokens reserved ahead (below zero) stay owed.
  if available ~= nil and at ~= nil then
    left = math.min(0, available + math.max(0, now - at) * per_ms)
  end
  redis.call('HSET', key, 'tokens', tostring(left), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((burst - left) / per_ms) + 1000)
end
return 0
`;
const DRAIN_SHA = createHash('sha1').update(DRAIN).digest('hex');

/** A warning about Redis at most this often, however many requests fail open meanwhile. */
const WARN_EVERY_MS = 30_000;

export interface RedisRateLimiterOptions extends RateLimitOptions {
  url: string;
  log: Logger;
  /** Prepended to every bucket's key (tests use one per run). */
  keyPrefix?: string;
  /** A request waits at most this long for Redis before it is let through. */
  commandTimeoutMs?: number;
  /**
   * Where takeFrom() and drain() turn while Redis does not answer: these buckets (in this
   * process, say) instead of letting everything through. The API's take() always fails open.
   */
  fallback?: TokenBuckets;
}

export class RedisRateLimiter implements RateLimiter, TokenBuckets {
  private readonly redis: Redis;
  private readonly prefix: string;
  private lastWarning = 0;

  private constructor(private readonly options: RedisRateLimiterOptions) {
    this.prefix = options.keyPrefix ?? 'wagraph:rate-limit:';
    this.redis = new Redis(options.url, {
      // Fail fast instead of queueing commands while disconnected: a queued command would
      // hold its request until Redis came back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    // Without a listener, a connection error would be an unhandled 'error' event.
    this.redis.on('error', (error: Error) => this.warn(error));
  }

  /** Connects, waiting up to `connectTimeout` for Redis; unreachable, it starts anyway (fail open) and retries. */
  static async connect(options: RedisRateLimiterOptions): Promise<RedisRateLimiter> {
    const limiter = new RedisRateLimiter(options);
    if (limiter.redis.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          limiter.redis.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, 2_500);
        limiter.redis.once('ready', done);
      });
    }
    return limiter;
  }

  async take(key: string, organizationKey?: string): Promise<RateLimitDecision> {
    const { organization } = this.options;
    const buckets: BucketRequest[] = [{ key, budget: this.options as Budget }];
    if (organizationKey !== undefined && organization) buckets.push({ key: organizationKey, budget: organization });
    return decisionOf(await this.takeFrom(buckets));
  }

  async takeFrom(buckets: readonly BucketRequest[], reserveMs = 0): Promise<RateLimitDecision & { refusedBy: number }> {
    try {
      const [allowed, retryAfterMs, refusedBy] = (await this.run(TAKE_TOKEN, TAKE_TOKEN_SHA, buckets, [reserveMs])) as [
        number,
        number,
        number,
      ];
      return { allowed: allowed === 1, retryAfterMs, refusedBy: refusedBy - 1 };
    } catch (error) {
      this.warn(error as Error);
      return this.options.fallback?.takeFrom(buckets, reserveMs) ?? { allowed: true, retryAfterMs: 0, refusedBy: -1 };
    }
  }

  async drain(buckets: readonly BucketRequest[]): Promise<void> {
    try {
      await this.run(DRAIN, DRAIN_SHA, buckets, []);
    } catch (error) {
      this.warn(error as Error);
      await this.options.fallback?.drain(buckets);
    }
  }

  /** Runs a script on the buckets: by its digest, or (first use on this Redis) sent whole once. */
  private async run(
    script: string,
    sha: string,
    buckets: readonly BucketRequest[],
    extra: readonly number[],
  ): Promise<unknown> {
    const args: [number, ...(string | number)[]] = [
      buckets.length,
      ...buckets.map((bucket) => this.prefix + bucket.key),
      ...buckets.flatMap(({ budget }) => [budget.burst, budget.perMinute / 60_000]),
      ...extra,
    ];
    try {
      return await this.redis.evalsha(sha, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await this.redis.eval(script, ...args);
    }
  }

  private warn(error: Error): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.options.log.warn(
      { err: { message: error.message } },
      this.options.fallback
        ? 'rate limiting: Redis is unreachable, each process keeps the limits in its own buckets until it is back'
        : 'rate limiting: Redis is unreachable, requests are let through unlimited until it is back',
    );
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
