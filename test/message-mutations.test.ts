// sendMessage: what is recorded (a PENDING message, sent by the viewer), that its delivery is
// enqueued in the same transaction (a failure of the database half-way records nothing and
// enqueues nothing), and WhatsApp's 24-hour window. No job runs here: the delivery
// itself is test/whatsapp-outbound.test.ts.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { deliverMessages } from '../src/whatsapp/outbound.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { failInsertsWhere } from './helpers/failures.js';
import {
  createContact,
  createConversation,
  createMember,
  createMessages,
  createOrganization,
  type TestMember,
} from './helpers/factories.js';
import { jobsOf } from './helpers/jobs.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const MESSAGE = `id direction status messageType messageData text whatsAppMessageId createdAt
  replyTo { id text }
  sentBy { id }
  conversation { id status lastMessageAt totalMessages }`;
const SEND_MESSAGE = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { message { ${MESSAGE} } userErrors { field message code } }
}`;

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}

async function sendMessage(input: Record<string, unknown>, as: TestMember) {
  const response = await client.gql(SEND_MESSAGE, { input }, { as });
  expect(response.errors).toBeUndefined();
  return response.data!.sendMessage as { message: any; userErrors: UserError[] };
}

function onlyError(payload: { userErrors: UserError[] }) {
  expect(payload.userErrors).toHaveLength(1);
  const [{ field, code, message }] = payload.userErrors as [UserError];
  expect(message).not.toBe('');
  return { field, code };
}

/**
 * The dataset of one test: a conversation (with the given status, last message an hour ago,
 * so inside WhatsApp's 24-hour window) holding two inbound messages, a second conversation of
 * the same contact, and another organization's conversation and message.
 */
async function world(status: 'ACTIVE' | 'CLOSED' | 'RESOLVED' = 'ACTIVE') {
  const db = client.db;
  const org = await createOrganization(db);
  const other = await createOrganization(db);
  const contact = await createContact(db, org.id, { phone: '+14155550123' });
  const longAgo = new Date(Date.now() - 3_600_000);
  const conversation = await createConversation(db, org.id, {
    contactId: contact.id,
    status,
    lastMessageAt: longAgo,
    lastInboundMessageAt: longAgo,
    createdAt: new Date(longAgo.getTime() - 10_000),
  });
  const inbound = await createMessages(db, org.id, conversation.id, 2, (index) => ({
    direction: 'INBOUND',
    status: 'DELIVERED',
    whatsAppMessageId: `wamid.inbound-${index}-${randomUUID()}`,
    messageData: { text: `Hello ${index}` },
    // Before the conversation's lastMessageAt, which the trigger keeps at the newest message.
    createdAt: new Date(longAgo.getTime() - (2 - index) * 1000),
  }));
  const sibling = await createConversation(db, org.id, { contactId: contact.id });
  const [siblingMessage] = await createMessages(db, org.id, sibling.id, 1);
  const foreignContact = await createContact(db, other.id);
  const foreignConversation = await createConversation(db, other.id, { contactId: foreignContact.id });
  const [foreignMessage] = await createMessages(db, other.id, foreignConversation.id, 1);
  return {
    org,
    owner: org.owner,
    contact,
    conversation: { ...conversation, globalId: globalId('Conversation', conversation.id) },
    inbound: inbound.map((message) => ({ ...message, globalId: globalId('Message', message.id) })),
    sibling: { messageId: globalId('Message', siblingMessage!.id) },
    foreign: {
      conversationId: globalId('Conversation', foreignConversation.id),
      messageId: globalId('Message', foreignMessage!.id),
    },
    longAgo,
    /** The delivery jobs enqueued (nothing runs them in this file). */
    deliveries: async () => (await jobsOf(db, deliverMessages.name, org.id)).map((job) => job.data),
    outboundInDatabase: () => db.prisma.message.count({ where: { organizationId: org.id, direction: 'OUTBOUND' } }),
    conversationRow: () => db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } }),
  };
}
type World = Awaited<ReturnType<typeof world>>;

describe('sendMessage', () => {
  it('records an OUTBOUND TEXT message PENDING, sent by the viewer, enqueues its delivery, and moves the conversation’s lastMessageAt to it', async () => {
    const w = await world();
    const text = 'Your order has shipped 📦\nTrack it at https://example.com/t/42';
    const payload = await sendMessage({ conversationId: w.conversation.globalId, text }, w.owner);
    expect(payload.userErrors).toEqual([]);
    const message = payload.message;
    expect(message).toMatchObject({
      direction: 'OUTBOUND',
      status: 'PENDING',
      messageType: 'TEXT',
      messageData: { text },
      text,
      whatsAppMessageId: null,
      replyTo: null,
      sentBy: { id: globalId('OrganizationMember', w.owner.id) },
      conversation: { id: w.conversation.globalId, status: 'ACTIVE', totalMessages: 3 },
    });
    expect(message.conversation.lastMessageAt).toBe(message.createdAt);
    expect(new Date(message.createdAt).getTime()).toBeGreaterThan(w.longAgo.getTime());

    const read = await client.gql(
      `query($id: ID!, $conversation: ID!) {
        node(id: $id) { ... on Message { ${MESSAGE} } }
        conversation: node(id: $conversation) { ... on Conversation { lastMessageAt messages(last: 1) { nodes { id } } } }
      }`,
      { id: message.id, conversation: w.conversation.globalId },
      { as: w.owner },
    );
    expect(read.data?.node).toEqual(message);
    expect(read.data?.conversation).toEqual({
      lastMessageAt: message.createdAt,
      messages: { nodes: [{ id: message.id }] },
    });

    const rawId = (
      await client.db.prisma.message.findFirstOrThrow({ where: { organizationId: w.org.id, direction: 'OUTBOUND' } })
    ).id;
    expect(globalId('Message', rawId)).toBe(message.id);
    // One job for the conversation, keyed and queued by it (its messages go out in order).
    const jobs = await jobsOf(client.db, deliverMessages.name, w.org.id);
    expect(jobs).toEqual([
      expect.objectContaining({
        data: { conversationId: w.conversation.id },
        key: `${w.org.id}:whatsapp.send:${w.conversation.id}`,
        queue: `${w.org.id}:whatsapp.send:${w.conversation.id}`,
      }),
    ]);
  });

  it('records the member who sent it', async () => {
    const w = await world();
    const agent = await createMember(client.db, w.org.id, { permissions: ['Update:Conversation', 'Get:Conversation'] });
    const payload = await sendMessage({ conversationId: w.conversation.globalId, text: 'On it' }, agent);
    expect(payload.userErrors).toEqual([]);
    const row = await client.db.prisma.message.findFirstOrThrow({
      where: { organizationId: w.org.id, direction: 'OUTBOUND' },
    });
    expect(row.sentById).toBe(agent.id);
    // The owner reads who sent it; inbound messages have nobody.
    const read = await client.gql(
      `query($id: ID!, $inbound: ID!) {
        node(id: $id) { ... on Message { sentBy { id name } } }
        inbound: node(id: $inbound) { ... on Message { sentBy { id } } }
      }`,
      { id: payload.message.id, inbound: w.inbound[0]!.globalId },
      { as: w.owner },
    );
    expect(read.data).toEqual({
      node: { sentBy: { id: globalId('OrganizationMember', agent.id), name: expect.any(String) } },
      inbound: { sentBy: null },
    });
  });

  it.each(['CLOSED', 'RESOLVED'] as const)('reopens a %s conversation as ACTIVE', async (status) => {
    const w = await world(status);
    const payload = await sendMessage({ conversationId: w.conversation.globalId, text: 'Following up' }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.message.conversation.status).toBe('ACTIVE');
    expect((await w.conversationRow()).status).toBe('ACTIVE');
  });

  it('replies to a message of the same conversation', async () => {
    const w = await world();
    const original = w.inbound[1]!;
    const payload = await sendMessage(
      { conversationId: w.conversation.globalId, text: 'Yes!', replyToId: original.globalId },
      w.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.message.replyTo).toEqual({ id: original.globalId, text: 'Hello 1' });
    const read = await client.gql(
      `query($id: ID!) { node(id: $id) { ... on Message { replyTo { id } } } }`,
      { id: payload.message.id },
      { as: w.owner },
    );
    expect(read.data?.node.replyTo).toEqual({ id: original.globalId });
    expect(await w.deliveries()).toEqual([{ conversationId: w.conversation.id }]);
  });

  it.each([
    ['a message of another conversation', (w: World) => w.sibling.messageId],
    ['a message of another organization', (w: World) => w.foreign.messageId],
    ['an id of another type', (w: World) => w.conversation.globalId],
    ['an id that does not exist', () => globalId('Message', randomUUID())],
    ['a string that is not an id', () => '🙃'],
  ])(
    'refuses a replyToId that is %s as NOT_FOUND on ["input","replyToId"]; nothing is sent or recorded',
    async (_case, badId) => {
      const w = await world();
      const payload = await sendMessage(
        { conversationId: w.conversation.globalId, text: 'Re:', replyToId: badId(w) },
        w.owner,
      );
      expect(payload.message).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'replyToId'], code: 'NOT_FOUND' });
      expect(await w.deliveries()).toEqual([]);
      expect(await w.outboundInDatabase()).toBe(0);
    },
  );

  it.each([
    ['an id of another organization', (w: World) => w.foreign.conversationId],
    ['an id of another type', (w: World) => w.inbound[0]!.globalId],
    ['an id that does not exist', () => globalId('Conversation', randomUUID())],
    ['a string that is not an id', () => 'x'],
  ])('refuses a conversationId that is %s as NOT_FOUND on ["input","conversationId"]', async (_case, badId) => {
    const w = await world();
    const payload = await sendMessage({ conversationId: badId(w), text: 'Hello?' }, w.owner);
    expect(payload.message).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'conversationId'], code: 'NOT_FOUND' });
    expect(await w.deliveries()).toEqual([]);
    expect(
      await client.db.prisma.message.count({
        where: { direction: 'OUTBOUND', messageData: { equals: { text: 'Hello?' } } },
      }),
    ).toBe(0);
  });

  it('accepts a text of 1 and of 4,096 characters (counted as characters, not UTF-16 units)', async () => {
    const w = await world();
    for (const text of ['k', 'a'.repeat(4_096), '😀'.repeat(4_096)]) {
      const payload = await sendMessage({ conversationId: w.conversation.globalId, text }, w.owner);
      expect(payload.userErrors).toEqual([]);
      expect(payload.message.text).toBe(text);
    }
    // One waiting job per conversation, whatever the number of messages.
    expect(await w.deliveries()).toEqual([{ conversationId: w.conversation.id }]);
  });

  it.each([
    ['empty', '', 'INVALID'],
    ['only whitespace', ' \n\t ', 'INVALID'],
    ['4,097 characters long', 'a'.repeat(4_097), 'LIMIT_EXCEEDED'],
  ])('refuses a text that is %s on ["input","text"]; nothing is sent or recorded', async (_case, text, code) => {
    const w = await world('CLOSED');
    const payload = await sendMessage({ conversationId: w.conversation.globalId, text }, w.owner);
    expect(payload.message).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'text'], code });
    expect(await w.deliveries()).toEqual([]);
    expect(await w.outboundInDatabase()).toBe(0);
    expect(await w.conversationRow()).toMatchObject({
      status: 'CLOSED',
      lastMessageAt: w.longAgo,
    });
  });

  it('neither delivers nor records anything when the database fails half-way', async () => {
    const w = await world('CLOSED');
    const restore = await failInsertsWhere(client.db, 'Message', 'conversationId', w.conversation.id);
    try {
      const response = await client.gql(
        SEND_MESSAGE,
        { input: { conversationId: w.conversation.globalId, text: 'Half' } },
        { as: w.owner },
      );
      expect(response.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
    } finally {
      await restore();
    }
    expect(await w.deliveries()).toEqual([]);
    expect(await w.outboundInDatabase()).toBe(0);
    expect(await w.conversationRow()).toMatchObject({
      status: 'CLOSED',
      lastMessageAt: w.longAgo,
    });
  });

  it('sends two messages of one request in order, each payload showing its own result', async () => {
    const w = await world();
    const response = await client.gql(
      `mutation($id: ID!) {
        first: sendMessage(input: { conversationId: $id, text: "One" }) { message { text createdAt conversation { totalMessages lastMessageAt } } }
        second: sendMessage(input: { conversationId: $id, text: "Two" }) { message { text createdAt conversation { totalMessages lastMessageAt } } }
      }`,
      { id: w.conversation.globalId },
      { as: w.owner },
    );
    expect(response.errors).toBeUndefined();
    const { first, second } = response.data!;
    expect(first.message).toMatchObject({
      text: 'One',
      conversation: { totalMessages: 3, lastMessageAt: first.message.createdAt },
    });
    expect(second.message).toMatchObject({
      text: 'Two',
      conversation: { totalMessages: 4, lastMessageAt: second.message.createdAt },
    });
    expect(await w.deliveries()).toEqual([{ conversationId: w.conversation.id }]);
    const newest = await client.gql(
      `query($id: ID!) { node(id: $id) { ... on Conversation { messages(last: 2) { nodes { text } } } } }`,
      { id: w.conversation.globalId },
      { as: w.owner },
    );
    expect(newest.data?.node.messages.nodes).toEqual([{ text: 'One' }, { text: 'Two' }]);
  });
});

describe('sendMessage and WhatsApp’s 24-hour customer-service window', () => {
  const HOUR = 3_600_000;
  const SEND = `mutation($input: SendMessageInput!) {
    sendMessage(input: $input) { message { id } userErrors { field message code } }
  }`;
  const WINDOW = `query($id: ID!) { node(id: $id) { ... on Conversation { serviceWindowExpiresAt } } }`;

  async function conversationWrittenAt(lastInboundMessageAt: Date | null) {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, {
      contactId: contact.id,
      lastInboundMessageAt,
      status: 'RESOLVED',
    });
    return { org, id: globalId('Conversation', conversation.id), rowId: conversation.id };
  }

  it.each([
    ['the contact never wrote', null, /never written/],
    ['the contact last wrote 24 hours and a minute ago', new Date(Date.now() - 24 * HOUR - 60_000), /window closed at/],
  ])(
    'refuses a free-form message when %s: OUTSIDE_SERVICE_WINDOW, nothing recorded or enqueued',
    async (_case, at, says) => {
      const c = await conversationWrittenAt(at);
      const response = await client.gql(
        SEND,
        { input: { conversationId: c.id, text: 'Hello again' } },
        { as: c.org.owner },
      );
      expect(response.errors).toBeUndefined();
      const payload = response.data!.sendMessage;
      expect(payload.message).toBeNull();
      expect(payload.userErrors).toEqual([
        { field: ['input', 'conversationId'], code: 'OUTSIDE_SERVICE_WINDOW', message: expect.stringMatching(says) },
      ]);
      expect(payload.userErrors[0].message).toMatch(/template/);
      expect(await client.db.prisma.message.count({ where: { conversationId: c.rowId } })).toBe(0);
      expect(await jobsOf(client.db, deliverMessages.name, c.org.id)).toEqual([]);
      expect((await client.db.prisma.conversation.findUniqueOrThrow({ where: { id: c.rowId } })).status).toBe(
        'RESOLVED',
      );
      const window = await client.gql(WINDOW, { id: c.id }, { as: c.org.owner });
      expect(window.data?.node.serviceWindowExpiresAt).toBe(
        at === null ? null : new Date(at.getTime() + 24 * HOUR).toISOString(),
      );
    },
  );

  it('sends 23 hours after the contact’s last message, and shows when the window closes', async () => {
    const at = new Date(Date.now() - 23 * HOUR);
    const c = await conversationWrittenAt(at);
    const response = await client.gql(
      SEND,
      { input: { conversationId: c.id, text: 'Still here' } },
      { as: c.org.owner },
    );
    expect(response.data?.sendMessage.userErrors).toEqual([]);
    const window = await client.gql(WINDOW, { id: c.id }, { as: c.org.owner });
    expect(window.data?.node.serviceWindowExpiresAt).toBe(new Date(at.getTime() + 24 * HOUR).toISOString());
  });

  it('opens with an inbound message (and only moves forward), not with an outbound one', async () => {
    const c = await conversationWrittenAt(null);
    const now = Date.now();
    // An outbound message does not open it.
    await createMessages(client.db, c.org.id, c.rowId, 1, () => ({
      direction: 'OUTBOUND',
      status: 'READ',
      createdAt: new Date(now - HOUR),
    }));
    let row = await client.db.prisma.conversation.findUniqueOrThrow({ where: { id: c.rowId } });
    expect(row.lastInboundMessageAt).toBeNull();
    // Two inbound messages: the newer one counts; an older one delivered later leaves it.
    await createMessages(client.db, c.org.id, c.rowId, 2, (index) => ({
      direction: 'INBOUND',
      createdAt: new Date(now - (index + 1) * HOUR),
    }));
    await createMessages(client.db, c.org.id, c.rowId, 1, () => ({
      direction: 'INBOUND',
      createdAt: new Date(now - 30 * HOUR),
    }));
    row = await client.db.prisma.conversation.findUniqueOrThrow({ where: { id: c.rowId } });
    expect(row.lastInboundMessageAt).toEqual(new Date(now - HOUR));
    const response = await client.gql(
      SEND,
      { input: { conversationId: c.id, text: 'Thanks for writing' } },
      { as: c.org.owner },
    );
    expect(response.data?.sendMessage.userErrors).toEqual([]);
  });
});
