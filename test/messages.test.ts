// Message: its fields and relations, and Conversation.messages with its filter.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { dataOf, rawIds } from './helpers/connections.js';
import {
  at,
  createContact,
  createConversation,
  createMessages,
  createOrganization,
  type TestOrganization,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const MESSAGE_TYPES = [
  'TEXT',
  'IMAGE',
  'VIDEO',
  'AUDIO',
  'DOCUMENT',
  'STICKER',
  'LOCATION',
  'CONTACTS',
  'REACTION',
  'ADDRESS',
  'INTERACTIVE',
  'TEMPLATE',
] as const;

async function chat(org: TestOrganization) {
  const contact = await createContact(client.db, org.id);
  return createConversation(client.db, org.id, { contactId: contact.id });
}

async function messageNode(org: TestOrganization, id: string, fields: string) {
  return dataOf(
    await client.gql(
      `query($id: ID!) { node(id: $id) { ... on Message { ${fields} } } }`,
      { id: globalId('Message', id) },
      { as: org.owner },
    ),
  ).node;
}

describe('Message', () => {
  it('exposes its fields and relations', async () => {
    const org = await createOrganization(client.db);
    const conversation = await chat(org);
    const [question, answer] = await createMessages(client.db, org.id, conversation.id, 2, (index) => ({
      direction: index === 0 ? 'INBOUND' : 'OUTBOUND',
      status: index === 0 ? 'READ' : 'DELIVERED',
      messageData: { text: index === 0 ? 'Do you ship to Porto?' : 'Yes, in 2 days.' },
      whatsAppMessageId: index === 0 ? `wamid.${conversation.id}` : null,
      createdAt: at(index),
    }));
    await client.db.prisma.message.update({ where: { id: answer!.id }, data: { replyToId: question!.id } });
    const fields =
      'id direction status messageType messageData text whatsAppMessageId createdAt conversation { id } replyTo { id text }';
    expect(await messageNode(org, answer!.id, fields)).toEqual({
      id: globalId('Message', answer!.id),
      direction: 'OUTBOUND',
      status: 'DELIVERED',
      messageType: 'TEXT',
      messageData: { text: 'Yes, in 2 days.' },
      text: 'Yes, in 2 days.',
      whatsAppMessageId: null,
      createdAt: '2026-01-01T00:00:01.000Z',
      conversation: { id: globalId('Conversation', conversation.id) },
      replyTo: { id: globalId('Message', question!.id), text: 'Do you ship to Porto?' },
    });
    expect(await messageNode(org, question!.id, 'whatsAppMessageId replyTo { id }')).toEqual({
      whatsAppMessageId: `wamid.${conversation.id}`,
      replyTo: null,
    });
  });

  it('has text only for TEXT messages; messageData is the payload as stored, for every type', async () => {
    const org = await createOrganization(client.db);
    const conversation = await chat(org);
    const payload = (type: string) => ({
      text: `a ${type} message`,
      caption: 'look',
      link: 'https://example.com/file',
      nested: { id: type },
    });
    const messages = await createMessages(client.db, org.id, conversation.id, MESSAGE_TYPES.length, (index) => ({
      messageType: MESSAGE_TYPES[index],
      messageData: payload(MESSAGE_TYPES[index]!),
    }));
    const data = dataOf(
      await client.gql(
        `query($id: ID!) { node(id: $id) { ... on Conversation { messages(first: 20) { nodes { messageType messageData text } } } } }`,
        { id: globalId('Conversation', conversation.id) },
        { as: org.owner },
      ),
    );
    expect(data.node.messages.nodes).toEqual(
      MESSAGE_TYPES.map((type) => ({
        messageType: type,
        messageData: payload(type),
        text: type === 'TEXT' ? 'a TEXT message' : null,
      })),
    );
    expect(messages).toHaveLength(12);
  });

  it('has no text when a TEXT message’s payload holds none', async () => {
    const org = await createOrganization(client.db);
    const conversation = await chat(org);
    const payloads = [{}, { text: 42 }, { text: null }, { body: 'elsewhere' }];
    const messages = await createMessages(client.db, org.id, conversation.id, payloads.length, (index) => ({
      messageData: payloads[index]!,
    }));
    for (const [index, message] of messages.entries()) {
      expect(await messageNode(org, message.id, 'messageData text')).toEqual({
        messageData: payloads[index],
        text: null,
      });
    }
  });
});

describe('Conversation.messages(filter:)', () => {
  it('filters by direction, statuses and types, alone and together, with totalCount', async () => {
    const org = await createOrganization(client.db);
    const conversation = await chat(org);
    const other = await chat(org);
    const shapes = [
      ['INBOUND', 'READ', 'TEXT'],
      ['INBOUND', 'DELIVERED', 'IMAGE'],
      ['OUTBOUND', 'SENT', 'TEXT'],
      ['OUTBOUND', 'FAILED', 'TEMPLATE'],
      ['INBOUND', 'DELIVERED', 'TEXT'],
      ['OUTBOUND', 'READ', 'IMAGE'],
      ['OUTBOUND', 'UNDELIVERED', 'TEXT'],
    ] as const;
    const messages = await createMessages(client.db, org.id, conversation.id, shapes.length, (index) => ({
      direction: shapes[index]![0],
      status: shapes[index]![1],
      messageType: shapes[index]![2],
    }));
    await createMessages(client.db, org.id, other.id, 3);
    const id = (index: number) => messages[index]!.id;
    const where = async (filter: Record<string, unknown>) => {
      const data = dataOf(
        await client.gql(
          `query($id: ID!, $filter: MessageFilter) { node(id: $id) { ... on Conversation { messages(filter: $filter) { totalCount nodes { id } } } } }`,
          { id: globalId('Conversation', conversation.id), filter },
          { as: org.owner },
        ),
      );
      expect(data.node.messages.totalCount).toBe(data.node.messages.nodes.length);
      return rawIds(data.node.messages);
    };
    expect(await where({})).toEqual(messages.map((message) => message.id));
    expect(await where({ direction: 'INBOUND' })).toEqual([id(0), id(1), id(4)]);
    expect(await where({ direction: 'OUTBOUND' })).toEqual([id(2), id(3), id(5), id(6)]);
    expect(await where({ status: ['READ'] })).toEqual([id(0), id(5)]);
    expect(await where({ status: ['FAILED', 'UNDELIVERED'] })).toEqual([id(3), id(6)]);
    expect(await where({ messageType: ['IMAGE', 'TEMPLATE'] })).toEqual([id(1), id(3), id(5)]);
    expect(await where({ direction: 'INBOUND', status: ['DELIVERED'] })).toEqual([id(1), id(4)]);
    expect(await where({ direction: 'INBOUND', status: ['DELIVERED'], messageType: ['TEXT'] })).toEqual([id(4)]);
    expect(
      await where({ direction: 'OUTBOUND', messageType: ['TEXT'], status: ['SENT', 'READ', 'UNDELIVERED'] }),
    ).toEqual([id(2), id(6)]);
    expect(await where({ direction: 'INBOUND', messageType: ['TEMPLATE'] })).toEqual([]);
  });

  it('pages a filtered chat from its newest message back', async () => {
    const org = await createOrganization(client.db);
    const conversation = await chat(org);
    const messages = await createMessages(client.db, org.id, conversation.id, 25, (index) => ({
      direction: index % 2 ? 'OUTBOUND' : 'INBOUND',
    }));
    const inbound = messages.filter((message) => message.direction === 'INBOUND').map((message) => message.id);
    const page = async (args: string) =>
      dataOf(
        await client.gql(
          `query($id: ID!) { node(id: $id) { ... on Conversation { messages(${args}, filter: { direction: INBOUND }) { totalCount nodes { id } pageInfo { hasPreviousPage startCursor } } } } }`,
          { id: globalId('Conversation', conversation.id) },
          { as: org.owner },
        ),
      ).node.messages;
    const newest = await page('last: 5');
    expect(rawIds(newest)).toEqual(inbound.slice(-5));
    expect(newest.totalCount).toBe(13);
    const older = await page(`last: 5, before: "${newest.pageInfo.startCursor}"`);
    expect(rawIds(older)).toEqual(inbound.slice(-10, -5));
    expect(older.pageInfo.hasPreviousPage).toBe(true);
  });
});
