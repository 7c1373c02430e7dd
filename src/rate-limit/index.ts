// The rate limiter the configuration asks for: none, one in memory, or one shared through Redis.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { RedisRateLimiter } from './redis.js';
import { MemoryRateLimiter, type RateLimitOptions, type RateLimiter } from './token-bucket.js';

export type {
  BucketRequest,
  Budget,
  RateLimitDecision,
  RateLimiter,
  RateLimitOptions,
  TokenBuckets,
} from './token-bucket.js';
export { MemoryRateLimiter } from './token-bucket.js';
export { RedisRateLimiter } from './redis.js';

export async function createRateLimiter(settings: Config['rateLimit'], log: Logger): Promise<RateLimiter | undefined> {
  const { perMinute, burst, organizationPerMinute, organizationBurst, redisUrl } = settings;
  if (perMinute === 0) return undefined;
  const options: RateLimitOptions = {
    perMinute,
    burst,
    organization:
      organizationPerMinute === 0 ? undefined : { perMinute: organizationPerMinute, burst: organizationBurst },
  };
  if (!redisUrl) return new MemoryRateLimiter(options);
  return RedisRateLimiter.connect({ ...options, url: redisUrl, log });
}
