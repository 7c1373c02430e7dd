// WhatsApp's rate limits (src/whatsapp/send-limits.ts) as the delivery jobs keep them, against
// the fake Cloud API keeping the same limits (it answers 130429 / 131056 to a send over one):
// a burst to one recipient is spaced by the pair rate, in order, without failed attempts; a
// channel's throughput (its own messagesPerSecond) holds in every one-second window; the
// limit is shared through Redis by two job runners; Meta's throttling answer empties the
// bucket the retry then waits for. Small limits (5 sends a second, a pair interval of 1.2 s)
// keep the file quick. On a database of its own, like test/whatsapp-outbound.test.ts.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { type JobRunner, installJobSchema, startJobRunner } from '../src/jobs/index.js';
import { MemoryRateLimiter } from '../src/rate-limit/index.js';
import { FakeCloudApi, type FakeSentMessage, SEND_ERRORS } from '../src/whatsapp/fake-cloud-api.js';
import { deliverMessages } from '../src/whatsapp/outbound.js';
import {
  createSendLimiter,
  SendLimiter,
  type SendLimitSettings,
  type SendPermit,
  type SendSlot,
  throughputBudget,
} from '../src/whatsapp/send-limits.js';
import { createTestClient, globalId, silentLogger, type TestClient, testSecretBox } from './helpers/client.js';
import { freshDatabase } from './helpers/database.js';
import { createContact, createConversation, createOrganization, createWhatsAppChannel } from './helpers/factories.js';
import { testRedisUrl } from './helpers/redis.js';

/** The limits of this file: the fake keeps them; the workers' default channel throughput is higher, so that a channel's own field is what keeps it. */
const LIMITS = { messagesPerSecond: 5, pairIntervalMs: 1_200, pairBurst: 2 };
const SETTINGS: SendLimitSettings = { ...LIMITS, messagesPerSecond: 1_000 };

let db: Database;
let fake: FakeCloudApi;
let client: TestClient;
const runners: JobRunner[] = [];
const limiters: SendLimiter[] = [];

const cloudApi = (sendLimiter: SendLimiter) => ({
  url: fake.url,
  secrets: testSecretBox,
  sendTimeoutMs: 2_000,
  sendRetryBaseMs: 300,
  sendLimiter,
});

/** A job runner delivering with `sendLimiter`; `concurrency`: jobs at once (fewer: less PGlite work blocking the event loop while others sleep for their tokens). */
async function startRunner(sendLimiter: SendLimiter, concurrency = 4): Promise<void> {
  runners.push(
    await startJobRunner({
      db,
      log: silentLogger,
      tasks: [deliverMessages],
      concurrency,
      cloudApi: cloudApi(sendLimiter),
    }),
  );
}

beforeAll(async () => {
  db = await freshDatabase();
  await migrate(db);
  await installJobSchema(db, silentLogger);
  fake = await FakeCloudApi.start({ limits: LIMITS });
  client = await createTestClient({ whatsappApiUrl: fake.url }, db);
  // The process's first request loads the HTTP client and connects, which can take a second on
  // a busy machine: a first send that late would reach the fake after the next ones were allowed.
  await fetch(`${fake.url}/0`).then((response) => response.text());
});

afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
  await Promise.all(limiters.map((limiter) => limiter.close()));
  await fake?.close();
});

beforeEach(() => {
  fake.throttled.throughput = 0;
  fake.throttled.pair = 0;
});

async function stopRunners(): Promise<void> {
  await Promise.all(runners.splice(0).map((runner) => runner.stop()));
}

/** An organization and a channel the fake accepts (its own throughput when given). */
async function channelSetup(messagesPerSecond: number | null = null) {
  const org = await createOrganization(db);
  const channel = await createWhatsAppChannel(db, testSecretBox, org.id, { messagesPerSecond });
  fake.acceptToken(channel.secrets.accessToken);
  return { org, channel };
}

async function conversationOn(setup: Awaited<ReturnType<typeof channelSetup>>) {
  const phone = `+1${String(1_000_000_000 + Math.floor(Math.random() * 8_999_999_999))}`;
  const contact = await createContact(db, setup.org.id, { phone });
  const conversation = await createConversation(db, setup.org.id, {
    contactId: contact.id,
    channelId: setup.channel.id,
  });
  return { phone, conversationId: globalId('Conversation', conversation.id), id: conversation.id };
}

const SEND = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id } userErrors { field code message } }
}`;

async function send(org: Awaited<ReturnType<typeof channelSetup>>['org'], conversationId: string, text: string) {
  const response = await client.gql(SEND, { input: { conversationId, text } }, { as: org.owner });
  expect(response.errors).toBeUndefined();
  expect(response.data?.sendMessage.userErrors).toEqual([]);
}

/** Waits until every message of the conversations has left PENDING (at most `timeoutMs`). */
async function allSettled(conversationIds: readonly string[], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = await db.prisma.message.count({
      where: { conversationId: { in: [...conversationIds] }, status: 'PENDING' },
    });
    if (pending === 0) break;
    if (Date.now() > deadline) throw new Error(`${pending} messages still PENDING`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return db.prisma.message.findMany({
    where: { conversationId: { in: [...conversationIds] } },
    select: { status: true, sendAttempts: true, conversationId: true },
    orderBy: { position: 'asc' },
  });
}

/** The most sends in any one-second window (from each send's arrival on). */
function busiestSecond(sent: readonly FakeSentMessage[]): number {
  const times = sent.map((one) => one.at).sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= 1_000) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

describe('WhatsApp send limits', () => {
  it('refills a channel’s throughput bucket under its limit, with a burst of 2 % of it', () => {
    expect(throughputBudget(80)).toEqual({ perMinute: 80 * 60 * 0.96, burst: 1 });
    expect(throughputBudget(1_000)).toEqual({ perMinute: 1_000 * 60 * 0.96, burst: 20 });
  });

  it('spaces a burst to one recipient by the pair rate: all delivered, in order, no attempt counted, Meta never refuses', async () => {
    const limiter = new SendLimiter(new MemoryRateLimiter(), SETTINGS);
    const setup = await channelSetup();
    const conversation = await conversationOn(setup);
    const texts = ['one', 'two', 'three', 'four', 'five'];
    for (const text of texts) await send(setup.org, conversation.conversationId, text);
    await startRunner(limiter);
    const messages = await allSettled([conversation.id]);
    await stopRunners();
    expect(messages.map((message) => [message.status, message.sendAttempts])).toEqual(texts.map(() => ['SENT', 0]));
    const sent = fake.sentTo(conversation.phone);
    expect(sent.map((one) => one.text)).toEqual(texts);
    expect(fake.throttled).toEqual({ throughput: 0, pair: 0 });
    // Two at once, then one per interval: the k-th send (from 0) no sooner than (k − 1) intervals after the first.
    const first = sent[0]?.at ?? 0;
    for (const [index, one] of sent.entries()) {
      const due = Math.max(0, index - LIMITS.pairBurst + 1) * LIMITS.pairIntervalMs;
      expect(one.at - first).toBeGreaterThanOrEqual(due - 100);
    }
    expect((sent.at(-1)?.at ?? 0) - first).toBeGreaterThanOrEqual(3 * LIMITS.pairIntervalMs - 100);
  });

  it('keeps a channel’s own throughput (set by updateWhatsAppChannel) in every one-second window', async () => {
    const setup = await channelSetup();
    const response = await client.gql(
      `mutation($input: UpdateWhatsAppChannelInput!) {
        updateWhatsAppChannel(input: $input) { channel { messagesPerSecond } userErrors { field code } }
      }`,
      { input: { id: globalId('WhatsAppChannel', setup.channel.id), messagesPerSecond: LIMITS.messagesPerSecond } },
      { as: setup.org.owner },
    );
    expect(response.data?.updateWhatsAppChannel).toEqual({
      channel: { messagesPerSecond: LIMITS.messagesPerSecond },
      userErrors: [],
    });
    const conversations = [];
    for (let index = 0; index < 20; index += 1) conversations.push(await conversationOn(setup));
    await Promise.all(conversations.map((one) => send(setup.org, one.conversationId, `to ${one.phone}`)));
    await startRunner(new SendLimiter(new MemoryRateLimiter(), SETTINGS));
    const messages = await allSettled(conversations.map((one) => one.id));
    await stopRunners();
    const sent = fake.sent.filter((one) => one.phoneNumberId === setup.channel.phoneNumberId);
    expect({ throttled: fake.throttled, arrivals: sent.map((one) => one.at - (sent[0]?.at ?? 0)) }).toEqual({
      throttled: { throughput: 0, pair: 0 },
      arrivals: expect.any(Array),
    });
    expect(messages.map((message) => [message.status, message.sendAttempts])).toEqual(messages.map(() => ['SENT', 0]));
    expect(sent).toHaveLength(20);
    expect(busiestSecond(sent)).toBeLessThanOrEqual(LIMITS.messagesPerSecond);
    // Not slower than needed: 20 sends at 4.8 a second, one at once.
    expect((sent.at(-1)?.at ?? 0) - (sent[0]?.at ?? 0)).toBeLessThan(5_500);
    expect(fake.throttled).toEqual({ throughput: 0, pair: 0 });
  });

  it('slows down on Meta’s pair-rate answer: the retry waits for the recipient’s bucket, emptied for every worker', async () => {
    await startRunner(new SendLimiter(new MemoryRateLimiter(), SETTINGS));
    const setup = await channelSetup();
    const conversation = await conversationOn(setup);
    fake.failNextSends(conversation.phone, SEND_ERRORS.pairRate);
    const before = fake.requests.length;
    const startedAt = Date.now();
    await send(setup.org, conversation.conversationId, 'after a refusal');
    const [message] = await allSettled([conversation.id]);
    await stopRunners();
    expect(message).toMatchObject({ status: 'SENT', sendAttempts: 1 });
    expect(fake.requests.length - before).toBe(2);
    // Retried after the emptied bucket refilled (one pair interval), not after the 300 ms back-off.
    expect((fake.sentTo(conversation.phone)[0]?.at ?? 0) - startedAt).toBeGreaterThanOrEqual(
      LIMITS.pairIntervalMs - 100,
    );
  });

  it('refuses a throughput outside 1–1000 with INVALID, and null puts the gateway’s default back', async () => {
    const setup = await channelSetup(10);
    const UPDATE = `mutation($input: UpdateWhatsAppChannelInput!) {
      updateWhatsAppChannel(input: $input) { channel { messagesPerSecond } userErrors { field code message } }
    }`;
    const id = globalId('WhatsAppChannel', setup.channel.id);
    for (const messagesPerSecond of [0, 1_001, -5]) {
      const response = await client.gql(UPDATE, { input: { id, messagesPerSecond } }, { as: setup.org.owner });
      expect(response.data?.updateWhatsAppChannel).toEqual({
        channel: null,
        userErrors: [
          {
            field: ['input', 'messagesPerSecond'],
            code: 'INVALID',
            message: 'Messages per second must be a whole number from 1 to 1000.',
          },
        ],
      });
    }
    expect((await db.prisma.whatsAppChannel.findUnique({ where: { id: setup.channel.id } }))?.messagesPerSecond).toBe(
      10,
    );
    const reset = await client.gql(UPDATE, { input: { id, messagesPerSecond: null } }, { as: setup.org.owner });
    expect(reset.data?.updateWhatsAppChannel).toEqual({ channel: { messagesPerSecond: null }, userErrors: [] });
  });
});

// Needs a Redis server: TEST_REDIS_URL, or redis://127.0.0.1:6379 when one answers there (as on
// a developer's machine and in CI, whose .ci/run starts one).
const redisUrl = await testRedisUrl();
if (redisUrl)
  describe('send limits shared through Redis (REDIS_URL)', () => {
    const prefix = `wagraph:test:send-limit:${randomUUID()}:`;
    /** What the limiters warned of (Redis unreachable: each falls back to its own buckets). */
    const warnings: string[] = [];

    afterAll(async () => {
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    /** A Redis limiter that counts the sends it allowed (to see that both runners sent). */
    async function countingLimiter() {
      const log = silentLogger.child({});
      log.warn = ((_fields: unknown, message: string) => warnings.push(message)) as unknown as typeof log.warn;
      const limiter = await createSendLimiter(SETTINGS, { redisUrl, log, keyPrefix: prefix });
      limiters.push(limiter);
      const counted = { allowed: 0 };
      const take = limiter.take.bind(limiter);
      limiter.take = async (slot: SendSlot, reserveMs?: number): Promise<SendPermit> => {
        const permit = await take(slot, reserveMs);
        if (permit.allowed) counted.allowed += 1;
        return permit;
      };
      return { limiter, counted };
    }

    it('two job runners with their own limiters keep one channel’s throughput together', async () => {
      const [a, b] = [await countingLimiter(), await countingLimiter()];
      const setup = await channelSetup(LIMITS.messagesPerSecond);
      const conversations = [];
      for (let index = 0; index < 20; index += 1) conversations.push(await conversationOn(setup));
      await Promise.all(conversations.map((one) => send(setup.org, one.conversationId, `to ${one.phone}`)));
      await Promise.all([startRunner(a.limiter, 2), startRunner(b.limiter, 2)]);
      const messages = await allSettled(conversations.map((one) => one.id));
      await stopRunners();
      const sent = fake.sent.filter((one) => one.phoneNumberId === setup.channel.phoneNumberId);
      expect({ throttled: fake.throttled, warnings, arrivals: sent.map((one) => one.at - (sent[0]?.at ?? 0)) }).toEqual(
        {
          throttled: { throughput: 0, pair: 0 },
          warnings: [],
          arrivals: expect.any(Array),
        },
      );
      expect(messages.map((message) => [message.status, message.sendAttempts])).toEqual(
        messages.map(() => ['SENT', 0]),
      );
      expect(sent).toHaveLength(20);
      expect(busiestSecond(sent)).toBeLessThanOrEqual(LIMITS.messagesPerSecond);
      expect(a.counted.allowed).toBeGreaterThan(0);
      expect(b.counted.allowed).toBeGreaterThan(0);
      // At least one token per send (a token whose sleep overran is given up and another taken).
      expect(a.counted.allowed + b.counted.allowed).toBeGreaterThanOrEqual(20);
      expect(fake.throttled).toEqual({ throughput: 0, pair: 0 });
    });
  });
