import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../src/auth/api-keys.js';
import { loadConfig } from '../src/config.js';
import { createRateLimiter, MemoryRateLimiter, RedisRateLimiter } from '../src/rate-limit/index.js';
import { createTestClient, silentLogger, type TestClient } from './helpers/client.js';
import { createMember, createOrganization, type TestMember, type TestOrganization } from './helpers/factories.js';
import { JWT_SECRET, memberClaims, signJwt } from './helpers/jwt.js';
import { testRedisUrl } from './helpers/redis.js';

const VIEWER = '{ viewer { permissions } }';

let org: TestOrganization;
let member: TestMember;

async function status(client: TestClient, headers: Record<string, string>, query = VIEWER) {
  const response = await client.request({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as any,
  };
}
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

describe('the rate limit through the API (in memory)', () => {
  let client: TestClient;

  beforeAll(async () => {
    client = await createTestClient({
      jwt: { secret: JWT_SECRET },
      // One token a minute: no refill can happen between a test's requests, however slow.
      rateLimiter: new MemoryRateLimiter({ perMinute: 1, burst: 2 }),
    });
    org = await createOrganization(client.db, 'Rate Org');
    member = await createMember(client.db, org.id, { name: 'Busy' });
  });

  it('answers a credential over its budget with 429, Retry-After and a JSON GraphQL error', async () => {
    expect((await status(client, bearer(member.apiKey))).status).toBe(200);
    expect((await status(client, bearer(member.apiKey))).status).toBe(200);
    const refused = await status(client, bearer(member.apiKey));
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(55);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(refused.body).toEqual({
      errors: [
        {
          message: `Rate limit exceeded for this member: retry in ${refused.retryAfter} s.`,
          extensions: { code: 'RATE_LIMITED' },
        },
      ],
    });
    // Refused before its document is looked at.
    expect((await status(client, bearer(member.apiKey), '{ nonsense')).status).toBe(429);
  });

  it('keeps one budget per member, shared by all its API keys and JWTs, whatever the IP', async () => {
    const second = await createMember(client.db, org.id);
    const otherKey = newApiKey();
    await client.db.prisma.apiKey.create({
      data: {
        organizationId: org.id,
        memberId: second.id,
        name: 'Second key',
        prefix: otherKey.prefix,
        keyHash: otherKey.keyHash,
      },
    });
    expect((await status(client, { ...bearer(second.apiKey), 'x-forwarded-for': '10.0.0.1' })).status).toBe(200);
    expect((await status(client, { ...bearer(otherKey.secret), 'x-forwarded-for': '10.0.0.2' })).status).toBe(200);
    expect((await status(client, { ...bearer(second.apiKey), 'x-forwarded-for': '10.0.0.3' })).status).toBe(429);
    expect((await status(client, bearer(await signJwt(memberClaims(second))))).status).toBe(429);
    // Another member of the organization has a budget of its own.
    const third = await createMember(client.db, org.id);
    expect((await status(client, bearer(await signJwt(memberClaims(third))))).status).toBe(200);
    expect((await status(client, bearer(third.apiKey))).status).toBe(200);
    expect((await status(client, bearer(third.apiKey))).status).toBe(429);
  });

  it('does not count requests that fail authentication against anyone', async () => {
    const fresh = await createMember(client.db, org.id);
    for (let i = 0; i < 3; i++)
      expect((await status(client, bearer('wag_notAKey00000000000000000000'))).status).toBe(401);
    expect((await status(client, bearer(fresh.apiKey))).status).toBe(200);
  });
});

describe('the rate-limit settings', () => {
  it('default to 600 a minute with bursts of 100, in memory, and 0 turns the limit off', async () => {
    expect(loadConfig({}).rateLimit).toEqual({
      perMinute: 600,
      burst: 100,
      organizationPerMinute: 3_000,
      organizationBurst: 500,
      redisUrl: undefined,
    });
    expect(await createRateLimiter(loadConfig({}).rateLimit, silentLogger)).toBeInstanceOf(MemoryRateLimiter);
    expect(await createRateLimiter(loadConfig({ RATE_LIMIT_PER_MINUTE: '0' }).rateLimit, silentLogger)).toBeUndefined();
    expect(() => loadConfig({ REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(
      /^Invalid REDIS_URL="http:\/\/127\.0\.0\.1:6379": must be a redis:\/\//,
    );
  });
});

describe('Redis unreachable', () => {
  it('lets requests through and warns once, rather than refusing every tenant', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const limiter = await RedisRateLimiter.connect({
      url: 'redis://127.0.0.1:1',
      perMinute: 60,
      burst: 1,
      log,
      commandTimeoutMs: 200,
    });
    try {
      for (let i = 0; i < 3; i++) expect(await limiter.take('someone')).toEqual({ allowed: true, retryAfterMs: 0 });
      const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        level: 40,
        msg: expect.stringMatching(/Redis is unreachable, requests are let through/),
      });
    } finally {
      await limiter.close();
    }
  });
});

// Needs a Redis server: TEST_REDIS_URL, or redis://127.0.0.1:6379 when one answers there (as on
// every development machine and in CI, where they always run). Without one they are not
// registered.
const redisUrl = await testRedisUrl();
if (redisUrl)
  describe('several instances sharing Redis (REDIS_URL)', () => {
    const prefix = `wagraph-test:${randomUUID()}:`;
    const limiters: RedisRateLimiter[] = [];
    let redis: Redis;
    let a: TestClient;
    let b: TestClient;
    let shared: TestOrganization;
    const connect = (perMinute: number) =>
      RedisRateLimiter.connect({ url: redisUrl!, keyPrefix: prefix, perMinute, burst: 3, log: silentLogger }).then(
        (limiter) => {
          limiters.push(limiter);
          return limiter;
        },
      );

    beforeAll(async () => {
      redis = new Redis(redisUrl!);
      // Two gateways, as two processes behind a load balancer would be: each its own limiter
      // and Redis connection. One token a minute: no refill between a test's requests.
      a = await createTestClient({ rateLimiter: await connect(1) });
      b = await createTestClient({ rateLimiter: await connect(1) });
      shared = await createOrganization(a.db, 'Shared Budget Org');
    });

    afterAll(async () => {
      await Promise.all(limiters.map((limiter) => limiter.close()));
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    it('enforce one budget per member across instances', async () => {
      const busy = await createMember(a.db, shared.id);
      const statuses = [];
      for (const instance of [a, b, a, b, a]) statuses.push((await status(instance, bearer(busy.apiKey))).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const refused = await status(b, bearer(busy.apiKey));
      expect(Number(refused.retryAfter)).toBeGreaterThan(55);
      expect(refused.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED' });
      // Another credential is not affected; a bucket expires once it would be full again.
      expect((await status(b, bearer(shared.owner.apiKey))).status).toBe(200);
      const buckets = await redis.keys(`${prefix}member:*`);
      expect(buckets).toHaveLength(2);
      for (const bucket of buckets) {
        expect(await redis.pttl(bucket)).toBeGreaterThan(0);
        expect(await redis.pttl(bucket)).toBeLessThanOrEqual(3 * 60_000 + 1_000);
      }
    });

    it('refill on Redis’s clock', async () => {
      const limiter = await connect(60);
      const key = `refill-${randomUUID()}`;
      for (let i = 0; i < 3; i++) expect((await limiter.take(key)).allowed).toBe(true);
      const refused = await limiter.take(key);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(1_000);
      await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs + 50));
      expect((await limiter.take(key)).allowed).toBe(true);
    });

    it('load the script again after Redis forgot it (SCRIPT FLUSH, a restart)', async () => {
      await redis.script('FLUSH');
      expect((await limiters[1]!.take(`flushed-${randomUUID()}`)).allowed).toBe(true);
    });
  });
