// Hostile battery, class 6 of the hardening issue: credentials. A member cannot multiply its
// rate budget by minting keys, nor an organization by adding members; a flood of made-up
// keys does not become a flood of database lookups; a member manages its own keys only;
// the API shows too little of a key to guess the rest; a JWT cannot live for ever.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../src/auth/api-keys.js';
import { loadConfig } from '../src/config.js';
import { recordStatements } from './helpers/record-statements.js';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from '../src/rate-limit/index.js';
import { createTestClient, globalId, silentLogger, type TestClient } from './helpers/client.js';
import { createMember, createOrganization, type TestMember } from './helpers/factories.js';
import { JWT_SECRET, memberClaims, signJwt } from './helpers/jwt.js';
import { testRedisUrl } from './helpers/redis.js';

const VIEWER = '{ viewer { member { id } } }';
const ERRORS = 'userErrors { field message code }';
const CREATE_API_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id prefix } secret ${ERRORS} } }`;
const REVOKE_API_KEY = `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { id revokedAt } ${ERRORS} } }`;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** A request to /graphql with a credential, as if from `address` (the socket's remote address). */
async function send(
  client: TestClient,
  credential: string,
  options: { address?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const serverContext = options.address ? { req: { socket: { remoteAddress: options.address } } } : {};
  const response = await client.yoga.fetch(
    'http://wagraph.test/graphql',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}`, ...options.headers },
      body: JSON.stringify({ query: VIEWER }),
    },
    serverContext as never,
  );
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Answer['body'],
  };
}

/** Another API key of `member`, inserted directly (minting through the API would spend its budget). */
async function anotherKey(client: TestClient, member: TestMember): Promise<string> {
  const key = newApiKey();
  await client.db.prisma.apiKey.create({
    data: {
      organizationId: member.organizationId,
      memberId: member.id,
      name: `key ${randomUUID()}`,
      prefix: key.prefix,
      keyHash: key.keyHash,
    },
  });
  return key.secret;
}

const statuses = (answers: Answer[]) => answers.map((answer) => answer.status);

describe('class 6 (a): the rate budget belongs to the member, under an organization ceiling; active keys per member are capped', () => {
  // One token a minute: nothing refills between a test's requests, however slow the machine.
  const budgets = async (limiter: RateLimiter) => {
    const client = await createTestClient({ rateLimiter: limiter });
    const org = await createOrganization(client.db);
    return { client, org };
  };

  async function keysDoNotMultiplyTheBudget(limiter: RateLimiter) {
    const { client, org } = await budgets(limiter);
    const member = await createMember(client.db, org.id);
    const keys = [member.apiKey];
    for (let i = 0; i < 4; i++) keys.push(await anotherKey(client, member));
    // Five keys, two requests each: the member's burst of 3 is all it gets.
    const answers: Answer[] = [];
    for (const key of [...keys, ...keys]) answers.push(await send(client, key));
    expect(statuses(answers)).toEqual([200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
    expect(answers[3]!.body.errors![0]!.message).toMatch(/^Rate limit exceeded for this member: retry in \d+ s\.$/);
    // A JWT of the same member draws on the same budget.
    const jwtClient = await createTestClient({ rateLimiter: limiter, jwt: { secret: JWT_SECRET } });
    expect((await send(jwtClient, await signJwt(memberClaims(member)))).status).toBe(429);
  }

  async function membersShareAnOrganizationCeiling(limiter: RateLimiter) {
    const { client, org } = await budgets(limiter);
    const members = [org.owner, await createMember(client.db, org.id), await createMember(client.db, org.id)];
    const answers: Answer[] = [];
    for (const member of [...members, ...members]) answers.push(await send(client, member.apiKey));
    // Each member could send 2; together they may send 4.
    expect(statuses(answers)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(answers[4]!.body.errors![0]).toMatchObject({
      message: expect.stringMatching(
        /^Rate limit exceeded for your organization \(all its members together\): retry in \d+ s\.$/,
      ),
      extensions: { code: 'RATE_LIMITED' },
    });
    expect(Number(answers[4]!.retryAfter)).toBeGreaterThan(0);
    // A refused request costs no member anything: another organization is untouched.
    const other = await createOrganization(client.db);
    expect((await send(client, other.owner.apiKey)).status).toBe(200);
  }

  it('in memory: five keys of one member share one budget, also with a JWT', async () => {
    await keysDoNotMultiplyTheBudget(new MemoryRateLimiter({ perMinute: 1, burst: 3 }));
  });

  it('in memory: the members of an organization share its ceiling', async () => {
    await membersShareAnOrganizationCeiling(
      new MemoryRateLimiter({ perMinute: 1, burst: 2, organization: { perMinute: 1, burst: 4 } }),
    );
  });

  it('the ceiling defaults to five members’ budgets and can be set or turned off', () => {
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '100', RATE_LIMIT_BURST: '20' }).rateLimit).toMatchObject({
      perMinute: 100,
      burst: 20,
      organizationPerMinute: 500,
      organizationBurst: 100,
    });
    expect(loadConfig({ RATE_LIMIT_ORGANIZATION_PER_MINUTE: '0' }).rateLimit.organizationPerMinute).toBe(0);
    expect(loadConfig({}).maxApiKeysPerMember).toBe(10);
  });

  it('a member holds at most MAX_API_KEYS_PER_MEMBER (default 10) active keys; revoking one frees a place', async () => {
    const client = await createTestClient();
    const org = await createOrganization(client.db);
    const member = await createMember(client.db, org.id, { permissions: ['Get:ApiKey', 'Regenerate:ApiKey'] });
    const created: string[] = [];
    for (let i = 0; i < 9; i++) {
      const response = await client.gql(CREATE_API_KEY, { input: { name: `key ${i}` } }, { as: member });
      expect(response.data?.createApiKey.userErrors).toEqual([]);
      created.push(response.data!.createApiKey.apiKey.id);
    }
    const refused = await client.gql(CREATE_API_KEY, { input: { name: 'one too many' } }, { as: member });
    expect(refused.data?.createApiKey).toEqual({
      apiKey: null,
      secret: null,
      userErrors: [
        {
          field: null,
          message: 'A member holds at most 10 active API keys: revoke one you no longer use first.',
          code: 'LIMIT_EXCEEDED',
        },
      ],
    });
    expect(await client.db.prisma.apiKey.count({ where: { memberId: member.id, revokedAt: null } })).toBe(10);
    // Another member is not affected by this one's keys.
    expect(
      (await client.gql(CREATE_API_KEY, { input: { name: 'owner' } }, { as: org.owner })).data?.createApiKey.userErrors,
    ).toEqual([]);

    expect(
      (await client.gql(REVOKE_API_KEY, { input: { id: created[0] } }, { as: member })).data?.revokeApiKey.userErrors,
    ).toEqual([]);
    expect(
      (await client.gql(CREATE_API_KEY, { input: { name: 'in its place' } }, { as: member })).data?.createApiKey
        .userErrors,
    ).toEqual([]);

    // Sent at once, creations are counted one after the other: never more than the cap.
    const small = await createTestClient({ maxApiKeysPerMember: 3 });
    const racer = await createMember(small.db, org.id, { permissions: ['Regenerate:ApiKey'] });
    const raced = await Promise.all(
      Array.from({ length: 6 }, (_, i) => small.gql(CREATE_API_KEY, { input: { name: `race ${i}` } }, { as: racer })),
    );
    const codes = raced.map((response) => response.data?.createApiKey.userErrors[0]?.code ?? 'OK').sort();
    expect(codes).toEqual(['LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'OK', 'OK']);
    expect(await small.db.prisma.apiKey.count({ where: { memberId: racer.id, revokedAt: null } })).toBe(3);
  });
});

// Needs a Redis server (TEST_REDIS_URL, or redis://127.0.0.1:6379 when one answers there).
const redisUrl = await testRedisUrl();
if (redisUrl)
  describe('class 6 (a) with Redis (REDIS_URL): the same budgets, shared by every instance', () => {
    const limiters: RedisRateLimiter[] = [];
    const connect = async (organization?: { perMinute: number; burst: number }) => {
      const limiter = await RedisRateLimiter.connect({
        url: redisUrl,
        keyPrefix: `wagraph-test:${randomUUID()}:`,
        log: silentLogger,
        perMinute: 1,
        burst: organization ? 2 : 3,
        organization,
      });
      limiters.push(limiter);
      return limiter;
    };
    afterAll(async () => {
      await Promise.all(limiters.map((limiter) => limiter.close()));
    });

    it('five keys of one member share one budget', async () => {
      const limiter = await connect();
      const client = await createTestClient({ rateLimiter: limiter });
      const member = await createMember(client.db, (await createOrganization(client.db)).id);
      const keys = [member.apiKey, await anotherKey(client, member), await anotherKey(client, member)];
      const answers: Answer[] = [];
      for (const key of [...keys, ...keys]) answers.push(await send(client, key));
      expect(statuses(answers)).toEqual([200, 200, 200, 429, 429, 429]);
    });

    it('the members of an organization share its ceiling, and a refused request takes no token', async () => {
      const limiter = await connect({ perMinute: 1, burst: 4 });
      const client = await createTestClient({ rateLimiter: limiter });
      const org = await createOrganization(client.db);
      const members = [org.owner, await createMember(client.db, org.id), await createMember(client.db, org.id)];
      const answers: Answer[] = [];
      for (const member of [...members, ...members]) answers.push(await send(client, member.apiKey));
      expect(statuses(answers)).toEqual([200, 200, 200, 200, 429, 429]);
      expect(answers[5]!.body.errors![0]!.message).toMatch(/^Rate limit exceeded for your organization/);
    });
  });

describe('class 6 (b): failed authentication is throttled per client address, before the lookup', () => {
  let client: TestClient;
  let member: TestMember;

  beforeAll(async () => {
    client = await createTestClient({ authFailuresPerMinute: 5 });
    member = await createMember(client.db, (await createOrganization(client.db)).id);
  });

  const bogus = () => `wag_${randomUUID().replace(/-/g, '')}`;
  /** The API-key lookups among the statements. */
  const lookups = (statements: string[]) => statements.filter((sql) => sql.includes('FROM "ApiKey" k')).length;

  it('answers an address that keeps sending made-up keys 429 with Retry-After, without looking them up', async () => {
    const { result: answers, statements } = await recordStatements(async () => {
      const sent: Answer[] = [];
      for (let i = 0; i < 60; i++) sent.push(await send(client, bogus(), { address: '203.0.113.7' }));
      return sent;
    });
    expect(statuses(answers)).toEqual([...Array(5).fill(401), ...Array(55).fill(429)]);
    expect(lookups(statements)).toBe(5);
    const refused = answers[5]!;
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(12);
    expect(refused.body.errors).toEqual([
      {
        message: `Too many refused credentials from your address: retry in ${refused.retryAfter} s.`,
        extensions: { code: 'RATE_LIMITED' },
      },
    ]);
    // While it lasts, the address is refused whatever it sends; other addresses are not.
    expect((await send(client, member.apiKey, { address: '203.0.113.7' })).status).toBe(429);
    expect((await send(client, member.apiKey, { address: '203.0.113.8' })).status).toBe(200);
    expect((await send(client, bogus(), { address: '203.0.113.8' })).status).toBe(401);
  });

  it('counts a flood sent all at once: lookups in flight count against a failing address', async () => {
    expect((await send(client, bogus(), { address: '198.51.100.20' })).status).toBe(401);
    const { result: answers, statements } = await recordStatements(() =>
      Promise.all(Array.from({ length: 200 }, () => send(client, bogus(), { address: '198.51.100.20' }))),
    );
    expect(lookups(statements)).toBeLessThanOrEqual(4);
    expect(statuses(answers).filter((code) => code === 429).length).toBeGreaterThanOrEqual(196);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY says how many proxies append to it', async () => {
    // Untrusted: a made-up X-Forwarded-For per request does not make a new client.
    const spoofed: number[] = [];
    for (let i = 0; i < 8; i++) {
      spoofed.push(
        (await send(client, bogus(), { address: '192.0.2.50', headers: { 'x-forwarded-for': `10.1.1.${i}` } })).status,
      );
    }
    expect(spoofed).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);

    // One trusted proxy (TRUST_PROXY=true): the client is the address it appended, the last
    // entry; what the client wrote before it is still not believed.
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(1);
    expect(loadConfig({}).trustProxy).toBe(0);
    expect(() => loadConfig({ TRUST_PROXY: 'yes' })).toThrow(
      /^Invalid TRUST_PROXY="yes": must be true, false or a number of proxies/,
    );
    const behindProxy = await createTestClient({ authFailuresPerMinute: 5, trustProxy: 1 });
    const viaProxy = (client: string, forged = '') =>
      send(behindProxy, bogus(), { address: '10.0.0.1', headers: { 'x-forwarded-for': `${forged}${client}` } });
    const attacker: number[] = [];
    for (let i = 0; i < 7; i++) attacker.push((await viaProxy('203.0.113.99', `172.16.0.${i}, `)).status);
    expect(attacker).toEqual([401, 401, 401, 401, 401, 429, 429]);
    // Another client behind the same proxy is not held back.
    expect((await viaProxy('203.0.113.100')).status).toBe(401);
  });

  it('counts an IPv6 client by its /64, and does it with the socket of a real server', async () => {
    const server = http.createServer(client.yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
      const over: number[] = [];
      for (let i = 0; i < 7; i++) {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${bogus()}`,
            'x-forwarded-for': `10.9.9.${i}`,
          },
          body: JSON.stringify({ query: VIEWER }),
        });
        over.push(response.status);
        await response.arrayBuffer();
      }
      expect(over).toEqual([401, 401, 401, 401, 401, 429, 429]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    const v6: number[] = [];
    for (let i = 0; i < 7; i++) v6.push((await send(client, bogus(), { address: `2001:db8:1:2::${i + 1}` })).status);
    expect(v6).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect((await send(client, bogus(), { address: '2001:db8:1:3::1' })).status).toBe(401);
  });

  it('defaults to 30 refused credentials a minute per address; 0 turns it off', () => {
    expect(loadConfig({}).authFailuresPerMinute).toBe(30);
    expect(loadConfig({ AUTH_FAILURES_PER_MINUTE: '0' }).authFailuresPerMinute).toBe(0);
  });
});

describe('class 6 (c): a member manages its own keys; others’ need an owner or Revoke:ApiKey; every change is recorded', () => {
  let client: TestClient;

  beforeAll(async () => {
    client = await createTestClient();
  });

  const revoke = async (id: string, as: TestMember) =>
    (await client.gql(REVOKE_API_KEY, { input: { id } }, { as })).data?.revokeApiKey as {
      apiKey: any;
      userErrors: any[];
    };
  const keyOf = async (member: TestMember) =>
    globalId('ApiKey', (await client.db.prisma.apiKey.findFirstOrThrow({ where: { memberId: member.id } })).id);

  it('refuses a member with Get:ApiKey and Regenerate:ApiKey the owner’s key, and another member’s', async () => {
    const org = await createOrganization(client.db);
    const member = await createMember(client.db, org.id, { permissions: ['Get:ApiKey', 'Regenerate:ApiKey'] });
    const colleague = await createMember(client.db, org.id);

    expect(await revoke(await keyOf(org.owner), member)).toEqual({
      apiKey: null,
      userErrors: [
        { field: ['input', 'id'], message: 'Only an owner can revoke an owner’s API key.', code: 'FORBIDDEN' },
      ],
    });
    expect(await revoke(await keyOf(colleague), member)).toEqual({
      apiKey: null,
      userErrors: [
        {
          field: ['input', 'id'],
          message: 'You do not have the Revoke:ApiKey permission. It is needed to revoke another member’s API key.',
          code: 'FORBIDDEN',
        },
      ],
    });
    expect((await client.gql(VIEWER, {}, { as: org.owner })).status).toBe(200);
    expect((await client.gql(VIEWER, {}, { as: colleague })).status).toBe(200);
    // Its own key it may revoke.
    expect((await revoke(await keyOf(member), member)).userErrors).toEqual([]);

    // Without Get:ApiKey, another member's key reads as one that does not exist.
    const blind = await createMember(client.db, org.id, { permissions: ['Regenerate:ApiKey'] });
    expect((await revoke(await keyOf(colleague), blind)).userErrors).toEqual([
      expect.objectContaining({ field: ['input', 'id'], code: 'NOT_FOUND' }),
    ]);
  });

  it('lets Revoke:ApiKey revoke other members’ keys but not an owner’s; an owner revokes any', async () => {
    const org = await createOrganization(client.db);
    const admin = await createMember(client.db, org.id, { permissions: ['Get:ApiKey', 'Revoke:ApiKey'] });
    const colleague = await createMember(client.db, org.id);
    const secondOwner = await createMember(client.db, org.id, { accessLevel: 'OWNER' });
    expect((await revoke(await keyOf(colleague), admin)).userErrors).toEqual([]);
    expect((await client.gql(VIEWER, {}, { as: colleague })).status).toBe(401);
    expect((await revoke(await keyOf(secondOwner), admin)).userErrors).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    expect((await revoke(await keyOf(secondOwner), org.owner)).userErrors).toEqual([]);
    // Its own keys are managed with Regenerate:ApiKey, which it does not have.
    expect((await revoke(await keyOf(admin), admin)).userErrors).toEqual([
      { field: ['input', 'id'], message: 'You do not have the Regenerate:ApiKey permission.', code: 'FORBIDDEN' },
    ]);
    expect((await client.gql(VIEWER, {}, { as: secondOwner })).status).toBe(401);
  });

  it('records who created and who revoked which key, and when', async () => {
    const org = await createOrganization(client.db);
    const member = await createMember(client.db, org.id, { permissions: ['Get:ApiKey', 'Regenerate:ApiKey'] });
    const before = new Date(Date.now() - 1_000);
    const created = (await client.gql(CREATE_API_KEY, { input: { name: 'Recorded' } }, { as: member })).data!
      .createApiKey;
    expect(created.userErrors).toEqual([]);
    expect((await revoke(created.apiKey.id, org.owner)).userErrors).toEqual([]);
    // Revoking it again changes nothing, and records nothing.
    expect((await revoke(created.apiKey.id, org.owner)).userErrors).toEqual([]);
    // A refused attempt records nothing either.
    const refused = await createMember(client.db, org.id, { permissions: ['Get:ApiKey', 'Regenerate:ApiKey'] });
    await revoke(await keyOf(org.owner), refused);

    const events = await client.db.prisma.apiKeyEvent.findMany({
      where: { organizationId: org.id },
      orderBy: [{ createdAt: 'asc' }, { action: 'asc' }],
    });
    const keyId = (await client.db.prisma.apiKey.findFirstOrThrow({ where: { memberId: member.id, name: 'Recorded' } }))
      .id;
    const memberKeyId = (
      await client.db.prisma.apiKey.findFirstOrThrow({ where: { memberId: member.id, name: { not: 'Recorded' } } })
    ).id;
    const ownerKeyId = (await client.db.prisma.apiKey.findFirstOrThrow({ where: { memberId: org.owner.id } })).id;
    expect(events.map(({ id: _id, createdAt: _at, ...event }) => event)).toEqual([
      {
        organizationId: org.id,
        action: 'CREATED',
        apiKeyId: keyId,
        keyPrefix: created.secret.slice(0, 8),
        keyMemberId: member.id,
        actorMemberId: member.id,
        actorApiKeyId: memberKeyId,
      },
      {
        organizationId: org.id,
        action: 'REVOKED',
        apiKeyId: keyId,
        keyPrefix: created.secret.slice(0, 8),
        keyMemberId: member.id,
        actorMemberId: org.owner.id,
        actorApiKeyId: ownerKeyId,
      },
    ]);
    for (const event of events) {
      expect(event.createdAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
      expect(event.createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    }
  });
});

describe('class 6 (d): DEMO_API_KEY is 32+ characters and the API shows only 8 of any key', () => {
  it('refuses a DEMO_API_KEY under 32 characters', () => {
    expect(() => loadConfig({ DEMO_API_KEY: 'demo-key-acme-0001' })).toThrow(
      /^Invalid DEMO_API_KEY="demo-key-acme-0001": must be at least 32 characters long$/,
    );
    expect(() => loadConfig({ DEMO_API_KEY_2: 'x'.repeat(31) })).toThrow(/^Invalid DEMO_API_KEY_2=.*at least 32/);
    expect(loadConfig({ DEMO_API_KEY: 'demo-key-acme-0001-local-only-xyz' }).demoApiKeys[0]).toBe(
      'demo-key-acme-0001-local-only-xyz',
    );
  });

  it('shows every Get:ApiKey holder the first 8 characters of a key, nothing more', async () => {
    const client = await createTestClient();
    const org = await createOrganization(client.db);
    const secret = 'demo-key-acme-0001-local-only-xyz';
    const key = newApiKey(secret);
    await client.db.prisma.apiKey.create({
      data: {
        organizationId: org.id,
        memberId: org.owner.id,
        name: 'Demo key',
        prefix: key.prefix,
        keyHash: key.keyHash,
      },
    });
    const reader = await createMember(client.db, org.id, { permissions: ['Get:ApiKey'] });
    const listed = await client.gql(`{ apiKeys(first: 100) { nodes { name prefix } } }`, {}, { as: reader });
    expect(listed.data?.apiKeys.nodes).toContainEqual({ name: 'Demo key', prefix: 'demo-key' });
    expect(JSON.stringify(listed)).not.toContain(secret.slice(0, 9));
    for (const node of listed.data?.apiKeys.nodes ?? []) expect(node.prefix).toHaveLength(8);
  });
});

describe('class 6 (e): a JWT lives at most JWT_MAX_LIFETIME_SECONDS (default 24 h)', () => {
  let client: TestClient;
  let member: TestMember;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    client = await createTestClient({ jwt: loadConfig({ JWT_SECRET }).jwt });
    member = await createMember(client.db, (await createOrganization(client.db)).id);
  });

  const statusOf = async (claims: Parameters<typeof memberClaims>[1], as = client) =>
    (await send(as, await signJwt(memberClaims(member, claims)))).status;

  it('refuses exp: 1e300, and any token valid for longer than the limit, as invalid; accepts one within it', async () => {
    const response = await send(client, await signJwt(memberClaims(member, { exp: 1e300 })));
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.message).toMatch(/^The JWT is not valid/);
    expect(await statusOf({ exp: now() + 25 * 3_600 })).toBe(401);
    expect(await statusOf({ exp: now() + 25 * 3_600, iat: undefined })).toBe(401);
    // Issued long ago, for two days: too long, even though one day is left.
    expect(await statusOf({ iat: now() - 24 * 3_600, exp: now() + 24 * 3_600 })).toBe(401);
    // A future iat cannot stretch the lifetime.
    expect(await statusOf({ iat: now() + 10 * 365 * 86_400, exp: now() + 10 * 365 * 86_400 + 60 })).toBe(401);
    // Within the limit, with or without iat: accepted.
    expect(await statusOf({ exp: now() + 23 * 3_600 })).toBe(200);
    expect(await statusOf({ exp: now() + 3_600, iat: undefined })).toBe(200);
    expect(await statusOf({ iat: now() - 12 * 3_600, exp: now() + 12 * 3_600 })).toBe(200);
  });

  it('reads JWT_MAX_LIFETIME_SECONDS', async () => {
    expect(loadConfig({ JWT_SECRET }).jwt?.maxLifetimeSeconds).toBe(86_400);
    const strict = await createTestClient({ jwt: loadConfig({ JWT_SECRET, JWT_MAX_LIFETIME_SECONDS: '600' }).jwt });
    expect(await statusOf({ exp: now() + 3_600 }, strict)).toBe(401);
    expect(await statusOf({ exp: now() + 540 }, strict)).toBe(200);
  });
});
