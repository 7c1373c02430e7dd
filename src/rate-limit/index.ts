// The rate limiter the configuration asks for: none, one in memory, or one shared through Redis.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { RedisRateLimiter } from './redis.js';
import { MemoryRateLimiter, type RateLimiter } from './token-bucket.js';

export type { RateLimitDecision, RateLimiter } from './token-bucket.js';
export { MemoryRateLimiter } from './token-bucket.js';
export { RedisRateLimiter } from './redis.js';

export async function createRateLimiter(settings: Config['rateLimit'], log: Logger): Promise<RateLimiter | undefined> {
  const { perMinute, burst, redisUrl } = settings;
  if (perMinute === 0) return undefined;
  if (!redisUrl) return new MemoryRateLimiter({ perMinute, burst });
  return RedisRateLimiter.connect({ perMinute, burst, url: redisUrl, log });
}
