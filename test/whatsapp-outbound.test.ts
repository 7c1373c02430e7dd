// Outbound delivery (src/whatsapp/outbound.ts) against the fake Cloud API
// (src/whatsapp/fake-cloud-api.ts): sendMessage records the message PENDING and enqueues its
// conversation's delivery job; the runner sends it with the channel's token, records the
// wamid, and the fake plays its statuses back through the signed webhook (stored, then
// processed by the same runner). On a database of its own, so that no other file's runner
// takes these jobs, nor this runner theirs.
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { tenantClient } from '../src/db/tenant.js';
import { transactionSql } from '../src/db/tenant-sql.js';
import { type JobRunner, installJobSchema, startJobRunner } from '../src/jobs/index.js';
import { FakeCloudApi, type GraphError, SEND_ERRORS, type SendFailure } from '../src/whatsapp/fake-cloud-api.js';
import { SEND_MAX_ATTEMPTS } from '../src/whatsapp/cloud-api.js';
import { deliverMessages, enqueueDelivery, retryDelayMs } from '../src/whatsapp/outbound.js';
import { processWebhookDelivery } from '../src/whatsapp/process.js';
import { SendLimiter } from '../src/whatsapp/send-limits.js';
import { MemoryRateLimiter } from '../src/rate-limit/index.js';
import { createTestClient, globalId, silentLogger, type TestClient, testSecretBox } from './helpers/client.js';
import { freshDatabase } from './helpers/database.js';
import {
  createContact,
  createConversation,
  createMessages,
  createOrganization,
  createWhatsAppChannel,
  type TestOrganization,
} from './helpers/factories.js';
import { jobsOf } from './helpers/jobs.js';
import { postDelivery, type ChannelIdentity } from './helpers/whatsapp.js';

let db: Database;
let fake: FakeCloudApi;
let client: TestClient;
let runner: JobRunner;
/** Channels whose sends get their statuses played back (a test leaves its channel out to get none). */
const playing = new Map<string, ChannelIdentity & { appSecret: string }>();
const runners: JobRunner[] = [];

/**
 * Sends time out after 5 s (shorter, and a fake answering late on a busy machine, where PGlite
 * shares the event loop, turned into a retry and a second send), and retries start after 300 ms (3 s by default); the rate limits
 * (one limiter shared by this file's runners) are loose enough for bursts of ten to a recipient:
 * test/whatsapp-send-limits.test.ts tests them.
 */
const sendLimiter = new SendLimiter(new MemoryRateLimiter(), {
  messagesPerSecond: 1_000,
  pairIntervalMs: 20,
  pairBurst: 10,
});
const cloudApi = () => ({
  url: fake.url,
  secrets: testSecretBox,
  sendTimeoutMs: 5_000,
  sendRetryBaseMs: 300,
  sendLimiter,
});

beforeAll(async () => {
  db = await freshDatabase();
  await migrate(db);
  await installJobSchema(db, silentLogger);
  fake = await FakeCloudApi.start();
  client = await createTestClient({ whatsappApiUrl: fake.url }, db);
  fake.playStatuses({
    post: (delivery) => postDelivery(client.yoga.fetch, delivery),
    channel: (phoneNumberId) => playing.get(phoneNumberId),
    stepMs: 40,
  });
  runner = await startJobRunner({
    db,
    log: silentLogger,
    tasks: [deliverMessages, processWebhookDelivery],
    concurrency: 4,
    cloudApi: cloudApi(),
  });
});

afterAll(async () => {
  await Promise.all([runner?.stop(), ...runners.map((other) => other.stop())]);
  await fake?.close();
});

/** Polls `read` until `done` holds (at most `timeoutMs`), returning the last value. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const uniquePhone = () => `+1415${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;

/** An organization with a channel the fake accepts, and a conversation on it inside the window. */
async function setup(options: { statuses?: boolean; channel?: 'none' | 'no-token' } = {}) {
  const org = await createOrganization(db);
  const channel = await createWhatsAppChannel(
    db,
    testSecretBox,
    org.id,
    options.channel === 'no-token' ? { accessTokenSealed: null, accessTokenFingerprint: null } : {},
  );
  fake.acceptToken(channel.secrets.accessToken);
  if (options.statuses !== false)
    playing.set(channel.phoneNumberId, { ...channel, appSecret: channel.secrets.appSecret });
  const phone = uniquePhone();
  const contact = await createContact(db, org.id, { phone });
  const conversation = await createConversation(db, org.id, {
    contactId: contact.id,
    channelId: options.channel === 'none' ? null : channel.id,
  });
  return {
    org,
    channel,
    phone,
    conversation,
    conversationId: globalId('Conversation', conversation.id),
    sendPath: `POST /v21.0/${channel.phoneNumberId}/messages`,
  };
}
type Setup = Awaited<ReturnType<typeof setup>>;

const SEND = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id status } userErrors { field code message } }
}`;

async function send(s: Setup, text: string, replyToId?: string): Promise<string> {
  const response = await client.gql(
    SEND,
    { input: { conversationId: s.conversationId, text, ...(replyToId ? { replyToId } : {}) } },
    { as: s.org.owner },
  );
  expect(response.errors).toBeUndefined();
  expect(response.data?.sendMessage.userErrors).toEqual([]);
  return response.data?.sendMessage.message.id;
}

const MESSAGE = `query($id: ID!) { node(id: $id) { ... on Message {
  status whatsAppMessageId deliveredAt readAt error { code title details } sentBy { id }
} } }`;

async function read(org: TestOrganization, id: string) {
  const response = await client.gql(MESSAGE, { id }, { as: org.owner });
  return response.data?.node as {
    status: string;
    whatsAppMessageId: string | null;
    deliveredAt: string | null;
    readAt: string | null;
    error: { code: number | null; title: string | null; details: string | null } | null;
  };
}

const settled = (message: { status: string }) => message.status !== 'PENDING';
const sendRequests = (s: Setup) => fake.requests.filter((request) => request === s.sendPath).length;

describe('delivery of sendMessage through the WhatsApp Cloud API', () => {
  it('sends the message once with the channel’s token, records its wamid, and applies its statuses up to READ', async () => {
    const s = await setup();
    const [inbound] = await createMessages(db, s.org.id, s.conversation.id, 1, () => ({
      direction: 'INBOUND',
      status: 'DELIVERED',
      whatsAppMessageId: `wamid.inbound-${s.phone}`,
      createdAt: new Date(),
    }));
    const id = await send(s, 'Your order has shipped 📦', globalId('Message', inbound!.id));
    // Each status is a delivery of its own, processed concurrently: `read` may come before `delivered`.
    const message = await until(
      () => read(s.org, id),
      (m) => m.status === 'READ' && m.deliveredAt !== null,
    );
    const [sent, ...more] = fake.sentTo(s.phone);
    expect(more).toEqual([]);
    expect(sent!.phoneNumberId).toBe(s.channel.phoneNumberId);
    expect(sent!.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: s.phone,
      type: 'text',
      text: { preview_url: false, body: 'Your order has shipped 📦' },
      context: { message_id: `wamid.inbound-${s.phone}` },
      biz_opaque_callback_data: `wagraph:message:${(await db.prisma.message.findFirstOrThrow({ where: { organizationId: s.org.id, direction: 'OUTBOUND' } })).id}`,
    });
    expect(message).toMatchObject({ whatsAppMessageId: sent!.wamid, error: null });
    expect(message.deliveredAt).not.toBeNull();
    expect(message.readAt).not.toBeNull();
    expect(sendRequests(s)).toBe(1);
    // The job is done and gone.
    await until(
      () => jobsOf(db, deliverMessages.name, s.org.id),
      (jobs) => jobs.length === 0,
    );
  });

  it('sends nothing when the transaction that enqueued the delivery rolls back', async () => {
    const s = await setup();
    const tenant = tenantClient(db.prisma, s.org.id);
    await expect(
      tenant.$transaction(async (tx) => {
        await tx.message.create({
          data: {
            organizationId: s.org.id,
            conversationId: s.conversation.id,
            direction: 'OUTBOUND',
            status: 'PENDING',
            messageType: 'TEXT',
            messageData: { text: 'Never' },
          },
        });
        await enqueueDelivery(transactionSql(tx, s.org.id), s.conversation.id);
        throw new Error('rolled back after the enqueue');
      }),
    ).rejects.toThrow('rolled back after the enqueue');
    expect(await jobsOf(db, deliverMessages.name, s.org.id)).toEqual([]);
    // A message sent afterwards in the same conversation goes, and only it.
    const id = await send(s, 'Only this one');
    await until(() => read(s.org, id), settled);
    expect(fake.sentTo(s.phone).map((sent) => sent.text)).toEqual(['Only this one']);
    expect(await db.prisma.message.count({ where: { conversationId: s.conversation.id } })).toBe(1);
  });

  it('only records a message of a conversation without a channel: SENT, no wamid, nothing sent', async () => {
    const s = await setup({ channel: 'none' });
    const id = await send(s, 'Recorded only');
    const message = await until(() => read(s.org, id), settled);
    expect(message).toMatchObject({ status: 'SENT', whatsAppMessageId: null, error: null });
    expect(fake.sentTo(s.phone)).toEqual([]);
  });

  it('fails a message whose channel has no access token, without calling the Cloud API', async () => {
    const s = await setup({ channel: 'no-token' });
    const id = await send(s, 'No token');
    const message = await until(() => read(s.org, id), settled);
    expect(message).toMatchObject({
      status: 'FAILED',
      whatsAppMessageId: null,
      error: {
        code: null,
        title: 'The conversation’s WhatsApp channel cannot send: it has no access token.',
        details: null,
      },
    });
    expect(sendRequests(s)).toBe(0);
  });

  it.each<[string, SendFailure]>([
    ['HTTP 429 with 130429 (throughput)', SEND_ERRORS.throughput],
    ['131056 (pair rate)', SEND_ERRORS.pairRate],
    ['HTTP 500 with 131000', SEND_ERRORS.internal],
    ['HTTP 503', SEND_ERRORS.unavailable],
    ['a connection cut without an answer', 'drop'],
  ])('retries after %s, then sends it once', async (_case, failure) => {
    const s = await setup();
    fake.failNextSends(s.phone, failure);
    const id = await send(s, 'Retried');
    const message = await until(
      () => read(s.org, id),
      (m) => m.status === 'READ',
    );
    expect(message.error).toBeNull();
    expect(sendRequests(s)).toBe(2);
    expect(fake.sentTo(s.phone)).toHaveLength(1);
    expect(message.whatsAppMessageId).toBe(fake.sentTo(s.phone)[0]!.wamid);
  });

  it.each<[string, GraphError]>([
    ['131047 (re-engagement: outside the window)', SEND_ERRORS.reEngagement],
    ['131026 (undeliverable)', SEND_ERRORS.undeliverable],
    ['132001 (a template problem)', SEND_ERRORS.templateMissing],
    ['190 (an invalid access token)', SEND_ERRORS.invalidToken],
    ['100 (an invalid parameter)', SEND_ERRORS.invalidParameter],
  ])('ends FAILED with Meta’s error on %s, without retrying', async (_case, failure) => {
    const s = await setup();
    fake.failNextSends(s.phone, failure);
    const id = await send(s, 'Refused');
    const message = await until(() => read(s.org, id), settled);
    expect(message).toMatchObject({
      status: 'FAILED',
      whatsAppMessageId: null,
      error: {
        code: failure.code,
        title: failure.message.replace(/^\(#\d+\) /, ''),
        details: failure.details ?? null,
      },
    });
    await until(
      () => jobsOf(db, deliverMessages.name, s.org.id),
      (jobs) => jobs.length === 0,
    );
    expect(sendRequests(s)).toBe(1);
  });

  it('gives a message up on its last attempt (FAILED with the last error) and goes on with the next', async () => {
    const s = await setup();
    fake.failNextSends(s.phone, SEND_ERRORS.unavailable);
    // A message that already failed all its attempts but one.
    const tenant = tenantClient(db.prisma, s.org.id);
    const first = await tenant.$transaction(async (tx) => {
      const row = await tx.message.create({
        data: {
          organizationId: s.org.id,
          conversationId: s.conversation.id,
          direction: 'OUTBOUND',
          status: 'PENDING',
          messageType: 'TEXT',
          messageData: { text: 'First' },
          sendAttempts: SEND_MAX_ATTEMPTS - 1,
        },
      });
      await enqueueDelivery(transactionSql(tx, s.org.id), s.conversation.id);
      return globalId('Message', row.id);
    });
    const second = await send(s, 'Second');
    expect(await until(() => read(s.org, first), settled)).toMatchObject({
      status: 'FAILED',
      error: { code: 2, title: 'Service temporarily unavailable', details: null },
    });
    expect(
      await until(
        () => read(s.org, second),
        (m) => m.status === 'READ',
      ),
    ).toMatchObject({ error: null });
    expect(fake.sentTo(s.phone).map((sent) => sent.text)).toEqual(['Second']);
    expect(sendRequests(s)).toBe(2);
  });

  it('spaces retries with a doubling delay and jitter', () => {
    const delays = Array.from({ length: 200 }, () => retryDelayMs(3, 1_000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4_000);
    expect(new Set(delays).size).toBeGreaterThan(50);
    expect(retryDelayMs(40)).toBeLessThanOrEqual(10 * 60_000);
  });

  it('keeps the order of sendMessage calls within a conversation under retries, without holding up another conversation', async () => {
    const s = await setup();
    const other = await setup();
    fake.failNextSends(s.phone, SEND_ERRORS.throughput);
    const ids = [];
    for (const text of ['One', 'Two', 'Three']) ids.push(await send(s, text));
    const elsewhere = await send(other, 'Meanwhile');
    await until(() => read(other.org, elsewhere), settled);
    for (const id of ids) await until(() => read(s.org, id), settled);
    expect(fake.sentTo(s.phone).map((sent) => sent.text)).toEqual(['One', 'Two', 'Three']);
    expect(sendRequests(s)).toBe(4);
  });

  it('resolves an unknown outcome by the status webhook: Meta took the send, its answer never came, no second send', async () => {
    const s = await setup();
    // Meta takes the message but its answer is lost; its `sent` status (with our message id as
    // biz_opaque_callback_data) comes back through the webhook within the send's timeout.
    fake.failNextSends(s.phone, 'hang');
    const id = await send(s, 'Did it go?');
    // Each status is a delivery of its own, processed concurrently: `read` may come before `delivered`.
    const message = await until(
      () => read(s.org, id),
      (m) => m.status === 'READ' && m.deliveredAt !== null,
    );
    const [sent, ...more] = fake.sentTo(s.phone);
    expect(more).toEqual([]);
    expect(sent!.answered).toBe(false);
    expect(message.whatsAppMessageId).toBe(sent!.wamid);
    // The retry after the timeout finds it sent, and sends nothing.
    await until(
      () => jobsOf(db, deliverMessages.name, s.org.id),
      (jobs) => jobs.length === 0,
    );
    expect(sendRequests(s)).toBe(1);
  });

  it('sends again when an unknown outcome is never resolved (at least once)', async () => {
    const s = await setup({ statuses: false });
    fake.failNextSends(s.phone, 'hang');
    const id = await send(s, 'Again');
    const message = await until(() => read(s.org, id), settled);
    expect(message.status).toBe('SENT');
    const sent = fake.sentTo(s.phone);
    expect(sent.map((one) => one.answered)).toEqual([false, true]);
    expect(message.whatsAppMessageId).toBe(sent[1]!.wamid);
  });

  it('with two runners, sends every message of two conversations exactly once, each conversation in order', async () => {
    runners.push(
      await startJobRunner({ db, log: silentLogger, tasks: [deliverMessages], concurrency: 2, cloudApi: cloudApi() }),
    );
    const conversations = [await setup(), await setup()];
    const texts = Array.from({ length: 10 }, (_, index) => `Message ${index + 1}`);
    const ids = await Promise.all(
      conversations.map(async (s) => {
        const sent = [];
        for (const text of texts) sent.push(await send(s, text));
        return sent;
      }),
    );
    for (const [index, s] of conversations.entries()) {
      for (const id of ids[index]!) await until(() => read(s.org, id), settled);
      expect(fake.sentTo(s.phone).map((sent) => sent.text)).toEqual(texts);
      expect(sendRequests(s)).toBe(texts.length);
    }
  });
});
