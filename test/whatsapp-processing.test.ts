// Processing stored webhook deliveries (src/whatsapp/process.ts), through the real path: a
// signed delivery POSTed to /webhooks/whatsapp is stored with its job, which the in-process
// runner picks up; the test waits (bounded) for the row to leave RECEIVED and reads the result.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRunner } from '../src/jobs/index.js';
import { startJobRunner } from '../src/jobs/index.js';
import { processWebhookDelivery } from '../src/whatsapp/process.js';
import { createTestClient, globalId, silentLogger, type TestClient, testSecretBox } from './helpers/client.js';
import {
  createContact,
  createConversation,
  createMessages,
  createOrganization,
  createWhatsAppChannel,
  type TestOrganization,
} from './helpers/factories.js';
import { discardJobs } from './helpers/jobs.js';
import { recordStatements } from './helpers/record-statements.js';
import { deliveryFor, postDelivery, signed, statusValue, textMessageValue, wamid } from './helpers/whatsapp.js';

let client: TestClient;
let runner: JobRunner;

beforeAll(async () => {
  client = await createTestClient();
  // Deliveries other files stored but did not process are not this file's: without this, the
  // runner would work through them (10,000 events in one of them) before this file's own.
  await discardJobs(client.db, processWebhookDelivery.name);
  runner = await startJobRunner({
    db: client.db,
    log: silentLogger,
    tasks: [processWebhookDelivery],
    concurrency: 2,
  });
});

afterAll(async () => {
  await runner.stop();
});

type Channel = Awaited<ReturnType<typeof createWhatsAppChannel>>;

async function setup(): Promise<{ org: TestOrganization; channel: Channel }> {
  const org = await createOrganization(client.db);
  const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
  return { org, channel };
}

const digestOf = (body: string) => createHash('sha256').update(body).digest('hex');

/** Waits (at most 15 s) until no row of this body is RECEIVED any more; returns the rows. */
async function processed(body: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await client.db.prisma.webhookDelivery.findMany({ where: { bodyDigest: digestOf(body) } });
    if (rows.length > 0 && rows.every((row) => row.status !== 'RECEIVED')) return rows;
    if (Date.now() > deadline) throw new Error(`Delivery not processed in time: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** POSTs `values` (each one change) for the channel, signed, and waits for their processing. */
async function deliver(channel: Channel, ...values: Record<string, unknown>[]) {
  const delivery = signed(deliveryFor(channel, ...values), channel.secrets.appSecret);
  const response = await postDelivery((url, init) => client.yoga.fetch(url, init), delivery);
  expect(response.status).toBe(200);
  const [row] = await processed(delivery.body);
  return row!;
}

/** One inbound message of any shape (`fields` beside the envelope fields), as a change's value. */
function messageValue(from: string, fields: Record<string, unknown>, options: { id?: string; at?: Date } = {}) {
  const id = options.id ?? wamid();
  return {
    contacts: [{ profile: { name: 'Ana' }, wa_id: from }],
    messages: [
      {
        from,
        id,
        timestamp: String(Math.floor((options.at ?? new Date()).getTime() / 1000)),
        ...fields,
      },
    ],
  };
}

const uniqueWaId = () => `55119${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

const messagesOf = (organizationId: string) =>
  client.db.prisma.message.findMany({ where: { organizationId }, orderBy: { createdAt: 'asc' } });

describe('processing inbound messages', () => {
  it('creates the contact, the conversation and the message, with exact counters, and marks the row PROCESSED', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const sentAt = new Date(Date.UTC(2026, 10, 1, 12, 0, 0));
    const id = wamid();
    const row = await deliver(channel, textMessageValue({ from, name: 'Ana Souza', body: 'Olá!', id, at: sentAt }));
    expect(row).toMatchObject({ status: 'PROCESSED', reason: null, problems: [] });
    expect(row.processedAt).toBeInstanceOf(Date);

    const contacts = await client.db.prisma.contact.findMany({ where: { organizationId: org.id } });
    expect(contacts).toEqual([expect.objectContaining({ phone: `+${from}`, name: 'Ana Souza' })]);
    const conversations = await client.db.prisma.conversation.findMany({ where: { organizationId: org.id } });
    expect(conversations).toEqual([
      expect.objectContaining({
        contactId: contacts[0]!.id,
        channelId: channel.id,
        status: 'ACTIVE',
        initiatedBy: 'CONTACT',
        lastMessageAt: sentAt,
        messageCount: 1,
        unreadMessageCount: 1,
      }),
    ]);
    const messages = await messagesOf(org.id);
    expect(messages).toEqual([
      expect.objectContaining({
        conversationId: conversations[0]!.id,
        direction: 'INBOUND',
        status: 'DELIVERED',
        messageType: 'TEXT',
        whatsAppMessageId: id,
        createdAt: sentAt,
      }),
    ]);

    const result = await client.gql(
      `query ($id: ID!) { node(id: $id) { ... on Message { text messageType whatsAppMessageId createdAt deliveredAt readAt error { code } } } }`,
      { id: globalId('Message', messages[0]!.id) },
      { as: org.owner },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.node).toEqual({
      text: 'Olá!',
      messageType: 'TEXT',
      whatsAppMessageId: id,
      createdAt: sentAt.toISOString(),
      deliveredAt: null,
      readAt: null,
      error: null,
    });
  });

  it('finds an existing contact by phone and keeps its name', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const contact = await createContact(client.db, org.id, { phone: `+${from}`, name: 'Ana (customer)' });
    await deliver(channel, textMessageValue({ from, name: 'Ana', body: 'hi' }));
    const contacts = await client.db.prisma.contact.findMany({ where: { organizationId: org.id } });
    expect(contacts).toEqual([expect.objectContaining({ id: contact.id, name: 'Ana (customer)' })]);
  });

  it('yields one message for the same delivery twice, the same wamid in another body, and both at once', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const id = wamid();
    const value = textMessageValue({ from, body: 'once', id });
    await deliver(channel, value);
    await deliver(channel, value); // the same body: a replay, not stored again
    await deliver(channel, value, statusValue({ id: wamid(), status: 'sent', recipient: from })); // another body
    expect(await messagesOf(org.id)).toHaveLength(1);

    const other = wamid();
    const value2 = textMessageValue({ from, body: 'twice at once', id: other });
    const bodies = [
      signed(deliveryFor(channel, value2), channel.secrets.appSecret),
      signed(deliveryFor(channel, value2, value2), channel.secrets.appSecret),
      signed(deliveryFor(channel, { ...value2, contacts: [] }), channel.secrets.appSecret),
    ];
    const responses = await Promise.all(
      bodies.map((body) => postDelivery((url, init) => client.yoga.fetch(url, init), body)),
    );
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    for (const body of bodies) await processed(body.body);
    const messages = await messagesOf(org.id);
    expect(messages.filter((message) => message.whatsAppMessageId === other)).toHaveLength(1);
    const conversations = await client.db.prisma.conversation.findMany({ where: { organizationId: org.id } });
    expect(conversations).toEqual([expect.objectContaining({ messageCount: 2, unreadMessageCount: 2 })]);
  });

  it('reopens a RESOLVED conversation as ACTIVE, and never moves lastMessageAt back', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const contact = await createContact(client.db, org.id, { phone: `+${from}` });
    const last = new Date(Date.UTC(2026, 10, 2));
    const conversation = await createConversation(client.db, org.id, {
      contactId: contact.id,
      channelId: channel.id,
      status: 'RESOLVED',
      lastMessageAt: last,
    });
    const older = new Date(Date.UTC(2026, 10, 1));
    await deliver(channel, textMessageValue({ from, body: 'late', at: older }));
    let row = await client.db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } });
    expect(row).toMatchObject({ status: 'ACTIVE', lastMessageAt: last, messageCount: 1 });

    const newer = new Date(Date.UTC(2026, 10, 3));
    await deliver(channel, textMessageValue({ from, body: 'new', at: newer }));
    row = await client.db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } });
    expect(row).toMatchObject({ status: 'ACTIVE', lastMessageAt: newer, messageCount: 2 });
    // A conversation on another channel is not this one's.
    expect(await client.db.prisma.conversation.count({ where: { organizationId: org.id } })).toBe(1);
  });

  it('links a reply and a reaction to the message they answer', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const first = wamid();
    await deliver(channel, textMessageValue({ from, body: 'question', id: first }));
    await deliver(channel, textMessageValue({ from, body: 'an answer', replyTo: first }));
    await deliver(channel, messageValue(from, { type: 'reaction', reaction: { message_id: first, emoji: '👍' } }));
    const messages = await messagesOf(org.id);
    const original = messages.find((message) => message.whatsAppMessageId === first)!;
    const reply = messages.find((message) => message.messageType === 'TEXT' && message.id !== original.id)!;
    const reaction = messages.find((message) => message.messageType === 'REACTION')!;
    expect(reply.replyToId).toBe(original.id);
    expect(reaction).toMatchObject({
      replyToId: original.id,
      messageData: expect.objectContaining({ reaction: { message_id: first, emoji: '👍' } }),
    });
    const result = await client.gql(
      `query ($id: ID!) { node(id: $id) { ... on Message { text replyTo { text } } } }`,
      { id: globalId('Message', reply.id) },
      { as: org.owner },
    );
    expect(result.data!.node).toEqual({ text: 'an answer', replyTo: { text: 'question' } });
  });

  it('maps every type Meta sends, keeps an unknown one as received, and reads a caption as the text', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const image = { type: 'image', image: { id: '1', mime_type: 'image/jpeg', sha256: 'x', caption: 'a cat' } };
    const unknown = { type: 'hologram', hologram: { depth: 3 } };
    await deliver(
      channel,
      messageValue(from, image),
      messageValue(from, { type: 'button', button: { text: 'Yes', payload: 'yes' } }),
      messageValue(from, { type: 'order', order: { catalog_id: '1', product_items: [] } }),
      messageValue(from, { type: 'system', system: { body: 'changed number' } }),
      messageValue(from, { type: 'unsupported', errors: [{ code: 131051 }] }),
      messageValue(from, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'a' } } }),
      messageValue(from, unknown),
    );
    const messages = await messagesOf(org.id);
    expect(messages.map((message) => message.messageType).sort()).toEqual(
      ['BUTTON', 'IMAGE', 'INTERACTIVE', 'ORDER', 'SYSTEM', 'UNSUPPORTED', 'UNSUPPORTED'].sort(),
    );
    const kept = messages.find((message) => (message.messageData as { type?: string }).type === 'hologram')!;
    expect(kept).toMatchObject({ messageType: 'UNSUPPORTED', messageData: expect.objectContaining(unknown) });
    const photo = messages.find((message) => message.messageType === 'IMAGE')!;
    const result = await client.gql(
      `query ($id: ID!) { node(id: $id) { ... on Message { text } } }`,
      { id: globalId('Message', photo.id) },
      { as: org.owner },
    );
    expect(result.data!.node).toEqual({ text: 'a cat' });
  });

  it('processes a good event of a delivery whose other event is bad, and records the bad one', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const row = await deliver(
      channel,
      messageValue('not-a-phone', { type: 'text', text: { body: 'bad' } }),
      textMessageValue({ from, body: 'good' }),
      statusValue({ id: wamid(), status: 'deleted' as never, recipient: from }),
    );
    expect(row.status).toBe('PROCESSED');
    expect(row.problems).toEqual([
      { event: 'entry[0].changes[0].value.messages[0]', reason: expect.stringContaining('from') },
      { event: 'entry[0].changes[2].value.statuses[0]', reason: expect.stringContaining('"deleted"') },
    ]);
    expect((await messagesOf(org.id)).map((message) => message.messageData)).toEqual([
      expect.objectContaining({ text: { body: 'good' } }),
    ]);

    const rejected = await deliver(channel, messageValue(from, { type: 'text' }, { at: new Date(Number.NaN) }));
    expect(rejected).toMatchObject({ status: 'REJECTED', reason: expect.stringContaining('messages[0]') });
  });
  it('stores what PostgreSQL would refuse (NUL, lone surrogates, huge numbers) as it can, or records it, never blocking', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const id = wamid();
    const row = await deliver(
      channel,
      {
        contacts: [{ profile: { name: 'A\u0000na \ud800' }, wa_id: from }],
        messages: [
          {
            from,
            id,
            timestamp: '1764400000',
            type: 'text',
            text: { body: 'x\u0000y \udc00' },
            'k\u0000': '\ud83d',
          },
        ],
      },
      messageValue(from, { type: 'text', text: { body: 'far future' } }, { at: new Date(8.64e15) }),
      messageValue(from, { type: 'text', text: { body: 'bad id' }, id: 'wamid.\u0000' }),
      statusValue({ id, status: 'failed', recipient: from, errors: [{ code: 2 ** 40, title: 'T\u0000' }] }),
    );
    expect(row.status).toBe('PROCESSED');
    expect(row.problems).toEqual([
      { event: 'entry[0].changes[1].value.messages[0]', reason: expect.stringContaining('timestamp') },
      { event: 'entry[0].changes[2].value.messages[0]', reason: expect.stringContaining('id') },
    ]);
    const [message] = await messagesOf(org.id);
    expect(message).toMatchObject({
      whatsAppMessageId: id,
      status: 'FAILED',
      errorCode: null,
      errorTitle: 'T',
      messageData: expect.objectContaining({ text: { body: 'xy \ufffd' }, k: '\ufffd' }),
    });
    const contact = await client.db.prisma.contact.findFirstOrThrow({ where: { organizationId: org.id } });
    expect(contact.name).toBe('Ana \ufffd');
  });
});

describe('processing statuses', () => {
  /** An outbound message of a new organization's channel, with a wamid. */
  async function outbound() {
    const { org, channel } = await setup();
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id, channelId: channel.id });
    const id = wamid();
    const [message] = await createMessages(client.db, org.id, conversation.id, 1, () => ({
      direction: 'OUTBOUND',
      status: 'SENT',
      whatsAppMessageId: id,
    }));
    return { org, channel, id, messageId: message!.id, recipient: contact.phone.slice(1) };
  }

  const t = (seconds: number) => new Date(Date.UTC(2026, 10, 5, 0, 0, seconds));
  const state = (id: string) =>
    client.db.prisma.message.findUniqueOrThrow({
      where: { id },
      select: { status: true, deliveredAt: true, readAt: true, errorCode: true },
    });

  const orders: ('sent' | 'delivered' | 'read')[][] = [
    ['sent', 'delivered', 'read'],
    ['sent', 'read', 'delivered'],
    ['delivered', 'sent', 'read'],
    ['delivered', 'read', 'sent'],
    ['read', 'sent', 'delivered'],
    ['read', 'delivered', 'sent'],
  ];
  const seconds = { sent: 1, delivered: 2, read: 3 };

  it.each(orders)('ends in the same state whatever the order: %s, %s, %s', async (...order) => {
    const { channel, id, messageId, recipient } = await outbound();
    for (const status of order) await deliver(channel, statusValue({ id, status, recipient, at: t(seconds[status]) }));
    expect(await state(messageId)).toEqual({ status: 'READ', deliveredAt: t(2), readAt: t(3), errorCode: null });
  });

  it('moves to READ on a read without delivered, and the same status twice changes nothing', async () => {
    const { channel, id, messageId, recipient } = await outbound();
    await deliver(channel, statusValue({ id, status: 'read', recipient, at: t(3) }));
    await deliver(channel, statusValue({ id, status: 'read', recipient, at: t(3) }), { statuses: [] });
    expect(await state(messageId)).toEqual({ status: 'READ', deliveredAt: null, readAt: t(3), errorCode: null });
  });

  it('records the error of a failed status, readable as Message.error', async () => {
    const { org, channel, id, messageId, recipient } = await outbound();
    const errors = [{ code: 131047, title: 'Re-engagement message', details: 'More than 24 hours have passed' }];
    await deliver(channel, statusValue({ id, status: 'failed', recipient, errors }));
    const result = await client.gql(
      `query ($id: ID!) { node(id: $id) { ... on Message { status error { code title details } } } }`,
      { id: globalId('Message', messageId) },
      { as: org.owner },
    );
    expect(result.data!.node).toEqual({
      status: 'FAILED',
      error: { code: 131047, title: 'Re-engagement message', details: 'More than 24 hours have passed' },
    });
  });

  it('keeps a status that arrives before its message and applies it when the message appears', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const id = wamid();
    await deliver(channel, statusValue({ id, status: 'read', recipient: from, at: t(9) }));
    expect(await client.db.prisma.pendingStatus.count({ where: { organizationId: org.id, wamid: id } })).toBe(1);
    await deliver(channel, textMessageValue({ from, body: 'here now', id }));
    const [message] = await messagesOf(org.id);
    expect(message).toMatchObject({ whatsAppMessageId: id, status: 'READ', readAt: t(9) });
    expect(await client.db.prisma.pendingStatus.count({ where: { organizationId: org.id } })).toBe(0);
    const conversation = await client.db.prisma.conversation.findFirstOrThrow({ where: { organizationId: org.id } });
    expect(conversation).toMatchObject({ messageCount: 1, unreadMessageCount: 0 });
  });

  it('never applies a status to another organization’s message', async () => {
    const mine = await outbound();
    const other = await setup();
    await deliver(other.channel, statusValue({ id: mine.id, status: 'read', recipient: mine.recipient, at: t(4) }));
    expect(await state(mine.messageId)).toEqual({ status: 'SENT', deliveredAt: null, readAt: null, errorCode: null });
    expect(await client.db.prisma.pendingStatus.findMany({ where: { wamid: mine.id } })).toEqual([
      expect.objectContaining({ organizationId: other.org.id, status: 'READ' }),
    ]);
  });
});

describe('processing deliveries in batches', () => {
  /** A RECEIVED row of these changes, stored without a job: only `run` processes it. */
  async function stored(org: TestOrganization, channel: Channel, ...values: Record<string, unknown>[]) {
    const body = JSON.stringify(deliveryFor(channel, ...values));
    const row = await client.db.prisma.webhookDelivery.create({
      data: { organizationId: org.id, channelId: channel.id, status: 'RECEIVED', body, bodyDigest: digestOf(body) },
    });
    return row.id;
  }

  /** What the runner does with a job of this delivery. */
  const run = (organizationId: string, deliveryId: string) =>
    processWebhookDelivery.handler(
      { deliveryId },
      {
        organizationId,
        db: client.db,
        log: silentLogger,
        job: { id: '0', attempt: 1, maxAttempts: 10 },
        signal: undefined,
        feed: { committed: () => {} },
        cloudApi: { url: 'http://127.0.0.1:9', secrets: undefined },
      },
    );

  const statusesOf = async (ids: string[]) =>
    (
      await client.db.prisma.webhookDelivery.findMany({ where: { id: { in: ids } }, orderBy: { receivedAt: 'asc' } })
    ).map((row) => row.status);

  it('processes the pending deliveries of the organization in one transaction of a few statements, however many events', async () => {
    const { org, channel } = await setup();
    const known = await createContact(client.db, org.id, { phone: `+${uniqueWaId()}`, name: 'Known' });
    const first = wamid();
    const ids: string[] = [];
    ids.push(await stored(org, channel, textMessageValue({ from: known.phone.slice(1), body: 'first', id: first })));
    for (let index = 0; index < 9; index += 1) {
      const from = uniqueWaId();
      ids.push(
        await stored(
          org,
          channel,
          textMessageValue({ from, body: `hello ${index}` }),
          textMessageValue({ from, body: `a reply ${index}`, replyTo: first }),
          statusValue({ id: wamid(), status: 'read', recipient: from }),
        ),
      );
    }
    const { statements } = await recordStatements(() => run(org.id, ids[0]!));
    expect(await statusesOf(ids)).toEqual(ids.map(() => 'PROCESSED'));
    // The status read, claim, locks, known wamids, contacts (insert, lock), conversations,
    // messages, statuses, the rows marked, COMMIT: not one more per delivery or event.
    expect(statements.length).toBeLessThanOrEqual(11);

    const messages = await messagesOf(org.id);
    expect(messages).toHaveLength(19);
    const original = messages.find((message) => message.whatsAppMessageId === first)!;
    expect(messages.filter((message) => message.replyToId === original.id)).toHaveLength(9);
    const conversations = await client.db.prisma.conversation.findMany({ where: { organizationId: org.id } });
    expect(conversations).toHaveLength(10);
    expect(conversations.map((conversation) => conversation.messageCount).sort()).toEqual([1, ...Array(9).fill(2)]);
    expect(await client.db.prisma.contact.findUniqueOrThrow({ where: { id: known.id } })).toMatchObject({
      name: 'Known',
    });
    expect(await client.db.prisma.pendingStatus.count({ where: { organizationId: org.id } })).toBe(9);

    // The other deliveries' jobs find them processed: one read each, nothing written.
    const again = await recordStatements(() => run(org.id, ids[5]!));
    expect(again.statements).toHaveLength(1);
  });

  it('links a reply to a message earlier in the same batch, and applies a status to a message of the batch', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const question = wamid();
    const at = new Date(Date.UTC(2026, 10, 5, 0, 0, 9));
    const first = await stored(
      org,
      channel,
      statusValue({ id: question, status: 'read', recipient: from, at }),
      textMessageValue({ from, body: 'question', id: question }),
    );
    await stored(
      org,
      channel,
      textMessageValue({ from, body: 'answer', replyTo: question }),
      messageValue(from, { type: 'reaction', reaction: { message_id: question, emoji: '👍' } }),
    );
    await run(org.id, first);
    const messages = await messagesOf(org.id);
    const original = messages.find((message) => message.whatsAppMessageId === question)!;
    expect(original).toMatchObject({ status: 'READ', readAt: at });
    expect(messages.filter((message) => message.replyToId === original.id)).toHaveLength(2);
    expect(await client.db.prisma.pendingStatus.count({ where: { organizationId: org.id } })).toBe(0);
    const [conversation] = await client.db.prisma.conversation.findMany({ where: { organizationId: org.id } });
    expect(conversation).toMatchObject({ messageCount: 3, unreadMessageCount: 2 });
  });

  it('falls back to one transaction per event when the batch fails, leaving the other deliveries to their jobs', async () => {
    const { org, channel } = await setup();
    // A database refusal that only the set-based path meets: more than one message of this
    // organization in one statement.
    const trigger = `refuse_batches_${org.id.replaceAll('-', '')}`;
    await client.db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION "${trigger}"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT count(*) FROM new_rows WHERE "organizationId" = '${org.id}') > 1 THEN
          RAISE EXCEPTION 'more than one message in a statement';
        END IF;
        RETURN NULL;
      END $$`);
    await client.db.prisma.$executeRawUnsafe(
      `CREATE TRIGGER "${trigger}" AFTER INSERT ON "Message" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "${trigger}"()`,
    );
    try {
      const from = uniqueWaId();
      const both = await stored(
        org,
        channel,
        textMessageValue({ from, body: 'one' }),
        textMessageValue({ from, body: 'two' }),
        messageValue('not-a-phone', { type: 'text', text: { body: 'bad' } }),
      );
      const other = await stored(org, channel, textMessageValue({ from, body: 'three' }));
      await run(org.id, both);
      expect(await statusesOf([both, other])).toEqual(['PROCESSED', 'RECEIVED']);
      const row = await client.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: both } });
      expect(row.problems).toEqual([
        { event: 'entry[0].changes[2].value.messages[0]', reason: expect.stringContaining('from') },
      ]);
      await run(org.id, other);
      expect(await statusesOf([both, other])).toEqual(['PROCESSED', 'PROCESSED']);
      expect((await messagesOf(org.id)).map((message) => (message.messageData as any).text.body).sort()).toEqual([
        'one',
        'three',
        'two',
      ]);
    } finally {
      await client.db.prisma.$executeRawUnsafe(`DROP TRIGGER "${trigger}" ON "Message"`);
      await client.db.prisma.$executeRawUnsafe(`DROP FUNCTION "${trigger}"()`);
    }
  });

  it('a job whose delivery another batch holds processes others meanwhile, then waits, and takes its own back from a rollback', async () => {
    const { org, channel } = await setup();
    const held = await stored(org, channel, textMessageValue({ from: uniqueWaId(), body: 'held' }));
    const free = await stored(org, channel, textMessageValue({ from: uniqueWaId(), body: 'free' }));
    let job: Promise<void> | undefined;
    let finished = false;
    await expect(
      client.db.prisma.$transaction(async (tx) => {
        // What another job's batch does: hold the row until its transaction ends.
        await tx.$queryRawUnsafe(`SELECT 1 FROM "WebhookDelivery" WHERE "id" = $1::uuid FOR UPDATE`, held);
        job = run(org.id, held).then(() => {
          finished = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(finished).toBe(false);
        throw new Error('the other batch rolled back');
      }),
    ).rejects.toThrow('the other batch rolled back');
    await job;
    expect(await statusesOf([held, free])).toEqual(['PROCESSED', 'PROCESSED']);
    expect(await messagesOf(org.id)).toHaveLength(2);
  });

  it('yields one message, one contact and one conversation when jobs of the same messages run concurrently', async () => {
    const { org, channel } = await setup();
    const from = uniqueWaId();
    const values = [0, 1, 2].map((index) =>
      textMessageValue({ from, body: `m${index}`, id: `wamid.concurrent${index}` }),
    );
    const ids = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((copy) => stored(org, channel, ...values, { statuses: [], copy } as never)),
    );
    await Promise.all(ids.map((id) => run(org.id, id)));
    expect(await statusesOf(ids)).toEqual(ids.map(() => 'PROCESSED'));
    expect(await messagesOf(org.id)).toHaveLength(3);
    expect(await client.db.prisma.contact.count({ where: { organizationId: org.id } })).toBe(1);
    const conversations = await client.db.prisma.conversation.findMany({ where: { organizationId: org.id } });
    expect(conversations).toEqual([expect.objectContaining({ messageCount: 3 })]);
  });
});
