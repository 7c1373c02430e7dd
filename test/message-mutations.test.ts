// sendMessage: what is recorded, what is handed to the delivery transport, and that a failed
// delivery (or a failure of the database half-way) records nothing and delivers nothing.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage, OutboundTransport } from '../src/messaging/transport.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { failInsertsWhere } from './helpers/failures.js';
import {
  createContact,
  createConversation,
  createMessages,
  createOrganization,
  type TestMember,
} from './helpers/factories.js';

/** Everything handed to the transport, by organization (each test has its own). */
const delivered = new Map<string, OutboundMessage[]>();
/** Organizations whose deliveries fail, as a provider outage would. */
const failingDeliveries = new Set<string>();

const capturingTransport: OutboundTransport = {
  async send(message) {
    if (failingDeliveries.has(message.organizationId))
      throw new Error('WhatsApp Cloud API: 503 Service Unavailable (secret-token-123)');
    const list = delivered.get(message.organizationId) ?? [];
    list.push(message);
    delivered.set(message.organizationId, list);
    return { whatsAppMessageId: `wamid.${message.messageId}` };
  },
};

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient({ transport: capturingTransport });
});

const MESSAGE = `id direction status messageType messageData text whatsAppMessageId createdAt
  replyTo { id text }
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
 * The dataset of one test: a conversation (with the given status, last message long ago)
 * holding two inbound messages, a second conversation of the same contact, and another
 * organization's conversation and message.
 */
async function world(status: 'ACTIVE' | 'CLOSED' | 'RESOLVED' = 'ACTIVE') {
  const db = client.db;
  const org = await createOrganization(db);
  const other = await createOrganization(db);
  const contact = await createContact(db, org.id, { phone: '+14155550123' });
  const longAgo = new Date('2020-01-01T00:00:00.000Z');
  const conversation = await createConversation(db, org.id, {
    contactId: contact.id,
    status,
    lastMessageAt: longAgo,
    createdAt: longAgo,
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
    deliveries: () => delivered.get(org.id) ?? [],
    outboundInDatabase: () => db.prisma.message.count({ where: { organizationId: org.id, direction: 'OUTBOUND' } }),
    conversationRow: () => db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } }),
  };
}
type World = Awaited<ReturnType<typeof world>>;

describe('sendMessage', () => {
  it('records an OUTBOUND TEXT message with status SENT, delivers it, and moves the conversation’s lastMessageAt to it', async () => {
    const w = await world();
    const text = 'Your order has shipped 📦\nTrack it at https://example.com/t/42';
    const payload = await sendMessage({ conversationId: w.conversation.globalId, text }, w.owner);
    expect(payload.userErrors).toEqual([]);
    const message = payload.message;
    expect(message).toMatchObject({
      direction: 'OUTBOUND',
      status: 'SENT',
      messageType: 'TEXT',
      messageData: { text },
      text,
      replyTo: null,
      conversation: { id: w.conversation.globalId, status: 'ACTIVE', totalMessages: 3 },
    });
    expect(message.conversation.lastMessageAt).toBe(message.createdAt);
    expect(new Date(message.createdAt).getTime()).toBeGreaterThan(Date.parse('2020-01-01T00:00:00.000Z'));

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
    expect(w.deliveries()).toEqual([
      {
        organizationId: w.org.id,
        conversationId: w.conversation.id,
        messageId: rawId,
        to: '+14155550123',
        text,
        replyToWhatsAppMessageId: null,
      },
    ]);
    expect(message.whatsAppMessageId).toBe(`wamid.${rawId}`);
  });

  it.each(['CLOSED', 'RESOLVED'] as const)('reopens a %s conversation as ACTIVE', async (status) => {
    const w = await world(status);
    const payload = await sendMessage({ conversationId: w.conversation.globalId, text: 'Following up' }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.message.conversation.status).toBe('ACTIVE');
    expect((await w.conversationRow()).status).toBe('ACTIVE');
  });

  it('replies to a message of the same conversation, passing its WhatsApp id to the transport', async () => {
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
    expect(w.deliveries()[0]?.replyToWhatsAppMessageId).toBe(original.whatsAppMessageId);
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
      expect(w.deliveries()).toEqual([]);
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
    expect(w.deliveries()).toEqual([]);
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
    expect(w.deliveries().map((message) => message.text.length)).toEqual([1, 4_096, 8_192]);
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
    expect(w.deliveries()).toEqual([]);
    expect(await w.outboundInDatabase()).toBe(0);
    expect(await w.conversationRow()).toMatchObject({
      status: 'CLOSED',
      lastMessageAt: new Date('2020-01-01T00:00:00.000Z'),
    });
  });

  it('records nothing when the delivery fails, and leaves the conversation as it was', async () => {
    const w = await world('RESOLVED');
    failingDeliveries.add(w.org.id);
    const response = await client.gql(
      SEND_MESSAGE,
      { input: { conversationId: w.conversation.globalId, text: 'Lost' } },
      { as: w.owner },
    );
    expect(response.status).toBe(200);
    expect(response.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
    expect(JSON.stringify(response)).not.toMatch(/503|secret-token|WhatsApp Cloud/);
    expect(await w.outboundInDatabase()).toBe(0);
    expect(await w.conversationRow()).toMatchObject({
      status: 'RESOLVED',
      lastMessageAt: new Date('2020-01-01T00:00:00.000Z'),
    });
    const read = await client.gql(
      `query($id: ID!) { node(id: $id) { ... on Conversation { status totalMessages lastMessageAt } } }`,
      { id: w.conversation.globalId },
      { as: w.owner },
    );
    expect(read.data?.node).toEqual({
      status: 'RESOLVED',
      totalMessages: 2,
      lastMessageAt: '2020-01-01T00:00:00.000Z',
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
    expect(w.deliveries()).toEqual([]);
    expect(await w.outboundInDatabase()).toBe(0);
    expect(await w.conversationRow()).toMatchObject({
      status: 'CLOSED',
      lastMessageAt: new Date('2020-01-01T00:00:00.000Z'),
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
    expect(w.deliveries().map((message) => message.text)).toEqual(['One', 'Two']);
    const newest = await client.gql(
      `query($id: ID!) { node(id: $id) { ... on Conversation { messages(last: 2) { nodes { text } } } } }`,
      { id: w.conversation.globalId },
      { as: w.owner },
    );
    expect(newest.data?.node.messages.nodes).toEqual([{ text: 'One' }, { text: 'Two' }]);
  });
});
