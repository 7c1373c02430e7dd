// The token buckets on their own (src/rate-limit/token-bucket.ts), on a clock the test moves.
// Through the API, and shared through Redis: test/rate-limit.test.ts.
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/rate-limit/index.js';

describe('the token bucket', () => {
  it('lets a burst through, then one request per refill interval, and refills up to the burst only', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter({ perMinute: 60, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) expect(await limiter.take('a')).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(await limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 1_000 });
    now += 400;
    expect(await limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 600 });
    now += 600;
    expect((await limiter.take('a')).allowed).toBe(true);
    expect((await limiter.take('a')).allowed).toBe(false);
    // Another key has its own bucket.
    expect((await limiter.take('b')).allowed).toBe(true);
    // An hour later the bucket holds the burst, not sixty hours' worth.
    now += 3_600_000;
    const taken = await Promise.all(Array.from({ length: 5 }, () => limiter.take('a')));
    expect(taken.map((decision) => decision.allowed)).toEqual([true, true, true, false, false]);
  });

  it('forgets full buckets when it holds many, and they come back full', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter({ perMinute: 60_000, burst: 1 }, () => now);
    for (let i = 0; i <= 10_001; i++) await limiter.take(`key-${i}`);
    now += 10;
    await limiter.take('another');
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThan(10);
    expect((await limiter.take('key-0')).allowed).toBe(true);
  });

  it('draws on the member’s bucket and the organization’s together: from both or from neither', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(
      { perMinute: 60, burst: 2, organization: { perMinute: 60, burst: 3 } },
      () => now,
    );
    expect((await limiter.take('member-1', 'org')).allowed).toBe(true);
    expect((await limiter.take('member-1', 'org')).allowed).toBe(true);
    // The member's bucket is empty: refused by the member's budget, and the organization's
    // token is not taken.
    expect(await limiter.take('member-1', 'org')).toEqual({ allowed: false, retryAfterMs: 1_000 });
    expect((await limiter.take('member-2', 'org')).allowed).toBe(true);
    // Now the organization's ceiling (3) refuses a member that still has tokens.
    expect(await limiter.take('member-3', 'org')).toEqual({ allowed: false, retryAfterMs: 1_000, organization: true });
    // Without an organization key only the member's budget counts.
    expect((await limiter.take('member-3')).allowed).toBe(true);
    now += 1_000;
    expect((await limiter.take('member-3', 'org')).allowed).toBe(true);
    expect((await limiter.take('member-3', 'org')).organization).toBe(true);
  });
});
