// The change feed: every change a client shows is an event, in commit order, with no gap and
// no duplicate however many writers commit at once; Query.events pages through it, within
// the viewer's organization and permissions; a forward chat pager misses no message; the
// retention refuses cursors older than what it removed.
import { beforeAll, describe, expect, it } from 'vitest';
import { pruneEvents } from '../src/events/retention.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { changeEverything, EVERY_KIND_IN_ORDER } from './helpers/feed-script.js';
import {
  createContact,
  createConversation,
  createMember,
  createMessages,
  createOrganization,
  type TestMember,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const EVENT = `cursor kind occurredAt
  ... on MessageEvent { messageId conversationId message { id text status } }
  ... on ConversationEvent { conversationId conversation { id status assignedTo { id } } }
  ... on ContactEvent { contactId contact { id name } }`;

interface FeedEvent {
  cursor: string;
  kind: string;
  messageId?: string;
  conversationId?: string;
  contactId?: string;
  message?: { id: string; text: string | null; status: string } | null;
  conversation?: { id: string; status: string; assignedTo: { id: string } | null } | null;
  contact?: { id: string; name: string } | null;
}

async function events(as: TestMember, args: { after?: string | null; first?: number; filter?: object } = {}) {
  const response = await client.gql(
    `query($after: String, $first: Int, $filter: EventFilter) {
      events(after: $after, first: $first, filter: $filter) {
        nodes { ${EVENT} } pageInfo { hasNextPage endCursor }
      }
    }`,
    args,
    { as },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.events as { nodes: FeedEvent[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** Every event after `after`, page by page. */
async function allEvents(
  as: TestMember,
  after: string | null | undefined = null,
  filter?: object,
): Promise<FeedEvent[]> {
  const all: FeedEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await events(as, { after: cursor, first: 100, ...(filter ? { filter } : {}) });
    all.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return all;
    cursor = page.pageInfo.endCursor;
  }
}

async function mutate(as: TestMember, document: string, variables: Record<string, unknown>) {
  const response = await client.gql(document, variables, { as });
  expect(response.errors).toBeUndefined();
  const [payload] = Object.values(response.data ?? {}) as { userErrors: unknown[] }[];
  expect(payload?.userErrors).toEqual([]);
  return payload as any;
}

describe('the change feed', () => {
  it('records every kind of change a client shows, in order, each with its node as it is now', async () => {
    const org = await createOrganization(client.db);
    const start = await allEvents(org.owner);
    const { contactId, conversationId, sentMessageId } = await changeEverything(client, org);

    const feed = await allEvents(org.owner, start.at(-1)?.cursor ?? null);
    expect(feed.map((event) => event.kind)).toEqual(EVERY_KIND_IN_ORDER);
    const created = feed.find((event) => event.kind === 'MESSAGE_CREATED');
    // Deleted since, with its contact: the event still names it.
    expect(created).toMatchObject({ messageId: sentMessageId, conversationId, message: null });
    expect(feed.find((event) => event.kind === 'CONTACT_DELETED')).toMatchObject({ contactId, contact: null });
    // Cursors are strictly increasing positions: resuming after any of them gives the rest.
    const middle = feed[4];
    expect((await allEvents(org.owner, middle?.cursor)).map((event) => event.kind)).toEqual(
      EVERY_KIND_IN_ORDER.slice(5),
    );
  });

  it('carries the node as it is now, and a message status change and a read as events', async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    await createMessages(client.db, org.id, conversation.id, 2, () => ({ direction: 'INBOUND', status: 'DELIVERED' }));
    const start = (await allEvents(org.owner)).at(-1)!.cursor;
    await mutate(
      org.owner,
      `mutation($input: MarkConversationReadInput!) { markConversationRead(input: $input) { conversation { id } userErrors { message } } }`,
      { input: { id: globalId('Conversation', conversation.id) } },
    );
    const feed = await allEvents(org.owner, start);
    expect(feed.map((event) => event.kind).sort()).toEqual([
      'CONVERSATION_READ',
      'MESSAGE_STATUS_CHANGED',
      'MESSAGE_STATUS_CHANGED',
    ]);
    for (const event of feed.filter((e) => e.kind === 'MESSAGE_STATUS_CHANGED')) {
      expect(event.message?.status).toBe('READ');
    }
  });

  it('shows a member only the kinds its permissions read, and another organization nothing', async () => {
    const org = await createOrganization(client.db);
    const other = await createOrganization(client.db);
    const contactsOnly = await createMember(client.db, org.id, { permissions: ['Get:Contact'] });
    const conversationsOnly = await createMember(client.db, org.id, { permissions: ['Get:Conversation'] });
    const nothing = await createMember(client.db, org.id, { permissions: [] });
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    await createMessages(client.db, org.id, conversation.id, 1);

    expect((await allEvents(org.owner)).map((event) => event.kind)).toEqual([
      'CONTACT_CREATED',
      'CONVERSATION_CREATED',
      'MESSAGE_CREATED',
    ]);
    expect((await allEvents(contactsOnly)).map((event) => event.kind)).toEqual(['CONTACT_CREATED']);
    expect((await allEvents(conversationsOnly)).map((event) => event.kind)).toEqual([
      'CONVERSATION_CREATED',
      'MESSAGE_CREATED',
    ]);
    expect(await allEvents(nothing)).toEqual([]);
    expect(await allEvents(other.owner)).toEqual([]);
    // Filters narrow further, never widen.
    expect(
      (await allEvents(contactsOnly, null, { kinds: ['MESSAGE_CREATED', 'CONTACT_CREATED'] })).map((e) => e.kind),
    ).toEqual(['CONTACT_CREATED']);
    expect(
      (await allEvents(org.owner, null, { conversationId: globalId('Conversation', conversation.id) })).map(
        (e) => e.kind,
      ),
    ).toEqual(['CONVERSATION_CREATED', 'MESSAGE_CREATED']);
  });

  it('answers a cursor that is not one, a filter id of another type and `first` out of range with clear errors', async () => {
    const org = await createOrganization(client.db);
    const bad = await client.gql(`{ events(after: "nonsense") { nodes { kind } } }`, {}, { as: org.owner });
    expect(bad.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(bad.errors?.[0]?.message).toMatch(/not a cursor of the event feed/);
    const wrongType = await client.gql(
      `query($id: ID!) { events(filter: { conversationId: $id }) { nodes { kind } } }`,
      { id: globalId('Contact', org.id) },
      { as: org.owner },
    );
    expect(wrongType.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const tooMany = await client.gql(`{ events(first: 101) { nodes { kind } } }`, {}, { as: org.owner });
    expect(tooMany.errors?.[0]?.message).toMatch(/between 0 and 100/);
  });

  it('refuses, after the retention removed events, a cursor from before them: the client must refetch', async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    await createMessages(client.db, org.id, conversation.id, 3);
    const before = await allEvents(org.owner);
    expect(before).toHaveLength(5);
    // Everything so far is past the retention.
    await client.db.prisma.event.updateMany({
      where: { organizationId: org.id },
      data: { occurredAt: new Date('2020-01-01T00:00:00Z') },
    });
    const removed = await pruneEvents(client.db.prisma, new Date('2021-01-01T00:00:00Z'));
    expect(removed.events).toBeGreaterThanOrEqual(5);
    await createMessages(client.db, org.id, conversation.id, 1);

    const expired = await client.gql(
      `query($after: String) { events(after: $after) { nodes { kind } } }`,
      { after: before[1]!.cursor },
      { as: org.owner },
    );
    expect(expired.errors?.[0]).toMatchObject({ extensions: { code: 'EVENT_CURSOR_EXPIRED' } });
    expect(expired.errors?.[0]?.message).toMatch(/refetch/);
    // The last position removed is still a place to resume from: nothing after it is lost.
    expect((await allEvents(org.owner, before.at(-1)!.cursor)).map((e) => e.kind)).toEqual(['MESSAGE_CREATED']);
    expect((await allEvents(org.owner)).map((e) => e.kind)).toEqual(['MESSAGE_CREATED']);
  });
});

describe('commit order under concurrent writers', () => {
  it('8 writers, 1,000 events: a follower and clients resuming anywhere see each exactly once, in order; a chat pager misses nothing', async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    const conversationId = globalId('Conversation', conversation.id);
    const head = (await allEvents(org.owner)).at(-1)!.cursor;
    const WRITERS = 8;
    const PER_WRITER = 125;
    let writing = true;

    // Writers insert straight through the database, each message in a transaction of its own
    // that lingers a random moment before committing: transactions commit in another order
    // than they inserted, which is what made polling miss messages.
    const writers = Array.from({ length: WRITERS }, async (_, writer) => {
      for (let index = 0; index < PER_WRITER; index += 1) {
        await client.db.prisma.$transaction(async (tx) => {
          await tx.message.create({
            data: {
              organizationId: org.id,
              conversationId: conversation.id,
              direction: 'OUTBOUND',
              status: 'SENT',
              messageType: 'TEXT',
              messageData: { text: `w${writer}-${index}` },
            },
          });
          // (PGlite has one session: its transactions cannot overlap, so nothing to shuffle.)
          if (client.db.kind === 'postgres' && Math.random() < 0.3) {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
          }
        });
      }
    });
    // A poller following the feed, and one paging the chat forward, while the writers write.
    const followed: FeedEvent[] = [];
    const follower = (async () => {
      let cursor: string | null = head;
      for (;;) {
        const done = !writing;
        const page = await events(org.owner, { after: cursor, first: 100 });
        followed.push(...page.nodes);
        cursor = page.pageInfo.endCursor ?? cursor;
        if (done && !page.pageInfo.hasNextPage) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const paged: string[] = [];
    const pager = (async () => {
      let cursor: string | null = null;
      for (;;) {
        const done = !writing;
        const response: { data?: any } = await client.gql(
          `query($id: ID!, $after: String) { node(id: $id) { ... on Conversation {
            messages(first: 100, after: $after) { nodes { text } pageInfo { hasNextPage endCursor } } } } }`,
          { id: conversationId, after: cursor },
          { as: org.owner },
        );
        const page: { nodes: { text: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } =
          response.data.node.messages;
        paged.push(...page.nodes.map((node) => node.text));
        cursor = page.pageInfo.endCursor ?? cursor;
        if (done && !page.pageInfo.hasNextPage) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await Promise.all(writers);
    writing = false;
    await Promise.all([follower, pager]);

    const feed = await allEvents(org.owner, head);
    expect(feed).toHaveLength(WRITERS * PER_WRITER);
    expect(followed.map((event) => event.cursor)).toEqual(feed.map((event) => event.cursor));
    const texts = feed.map((event) => event.message?.text);
    expect(new Set(texts).size).toBe(WRITERS * PER_WRITER);
    // Each writer's messages appear in the order it sent them.
    for (let writer = 0; writer < WRITERS; writer += 1) {
      const own = texts.filter((text) => text?.startsWith(`w${writer}-`));
      expect(own).toEqual(Array.from({ length: PER_WRITER }, (_, index) => `w${writer}-${index}`));
    }
    // The chat, paged forward while it was written, holds every message once, in feed order.
    expect(paged).toEqual(texts);
    // Resuming from arbitrary positions: the rest of the feed, exactly.
    for (const index of [0, 1, 99, 500, 998]) {
      const rest = await allEvents(org.owner, feed[index]!.cursor);
      expect(rest.map((event) => event.cursor)).toEqual(feed.slice(index + 1).map((event) => event.cursor));
    }
    // lastMessageAt is the newest message's time, whatever order the senders committed in.
    const row = await client.db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } });
    const newest = await client.db.prisma.message.aggregate({
      where: { conversationId: conversation.id },
      _max: { createdAt: true },
    });
    expect(row.lastMessageAt).toEqual(newest._max.createdAt);
  }, 120_000);
});
