// Subscriptions over SSE (yoga.fetch): every kind of event reaches a permitted subscriber
// and no one else; resuming after a cursor delivers what was missed, then live events, with
// no gap and no duplicate; revocation ends a live subscription within seconds; the limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHub } from '../src/events/hub.js';
import { createTestClient, globalId, silentLogger, type TestClient } from './helpers/client.js';
import { testDatabase } from './helpers/database.js';
import {
  createContact,
  createConversation,
  createMember,
  createMessages,
  createOrganization,
  type TestMember,
} from './helpers/factories.js';
import { changeEverything, EVERY_KIND_IN_ORDER } from './helpers/feed-script.js';
import { subscribe } from './helpers/sse.js';

let client: TestClient;
let hub: EventHub;

beforeAll(async () => {
  const db = await testDatabase();
  // Writes made straight through the database (the factories) announce nothing: a short
  // poll finds them quickly. Mutations wake subscribers at once.
  hub = new EventHub({ db, log: silentLogger, pollIntervalMs: 100 });
  client = await createTestClient({ eventHub: hub, subscriptionLimits: { perMember: 3, perOrganization: 5 } }, db);
});

afterAll(async () => {
  await hub.close();
});

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { message { id } userErrors { message } } }`;

async function send(as: TestMember, conversationId: string, text: string): Promise<string> {
  const response = await client.gql(SEND, { input: { conversationId, text } }, { as });
  expect(response.errors).toBeUndefined();
  return (response.data as any).sendMessage.message.id;
}

async function chat() {
  const org = await createOrganization(client.db);
  const contact = await createContact(client.db, org.id);
  const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
  return { org, contact, conversation, conversationId: globalId('Conversation', conversation.id) };
}

const INBOX = `subscription($after: String, $filter: ConversationFilter) {
  conversationEvents(after: $after, filter: $filter) {
    cursor kind
    ... on MessageEvent { message { text conversation { id lastMessageAt } } }
    ... on ConversationEvent { conversation { id status } }
  }
}`;
const CHAT = `subscription($id: ID!, $after: String) {
  messageEvents(conversationId: $id, after: $after) { cursor kind message { text status } }
}`;
const ALL = `subscription($after: String) { events(after: $after) { cursor kind ... on ContactEvent { contact { name } } } }`;

describe('subscriptions over SSE', () => {
  it('delivers a sent message to the inbox and to the open chat, with the message as it is now', async () => {
    const { org, conversationId } = await chat();
    const inbox = await subscribe(client, INBOX, {}, org.owner);
    const open = await subscribe(client, CHAT, { id: conversationId }, org.owner);
    expect(inbox.status).toBe(200);
    // Subscribed before the write (the stream is open once the status arrived).
    await new Promise((resolve) => setTimeout(resolve, 200));
    await send(org.owner, conversationId, 'Hello there');
    const [fromInbox] = await inbox.take(1);
    expect(fromInbox?.data.conversationEvents).toMatchObject({
      kind: 'MESSAGE_CREATED',
      message: { text: 'Hello there', conversation: { id: conversationId } },
    });
    const [fromChat] = await open.take(1);
    expect(fromChat?.data.messageEvents).toMatchObject({ kind: 'MESSAGE_CREATED', message: { text: 'Hello there' } });
    inbox.close();
    open.close();
  });

  it('delivers every kind of event, in feed order', async () => {
    const org = await createOrganization(client.db);
    const everything = await subscribe(client, ALL, {}, org.owner);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await changeEverything(client, org);
    const delivered = await everything.take(EVERY_KIND_IN_ORDER.length);
    expect(delivered.map((payload) => payload.data.events.kind)).toEqual(EVERY_KIND_IN_ORDER);
    everything.close();
  });

  it('withholds events from a member without the permission and from another organization', async () => {
    const { org, conversationId } = await chat();
    const other = await createOrganization(client.db);
    const contactsOnly = await createMember(client.db, org.id, { permissions: ['Get:Contact'] });
    const refused = await subscribe(client, INBOX, {}, contactsOnly);
    const [error] = await refused.take(1);
    expect(error?.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });

    const contactFeed = await subscribe(client, ALL, {}, contactsOnly);
    const foreign = await subscribe(client, ALL, {}, other.owner);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await send(org.owner, conversationId, 'Not for contacts-only');
    await createContact(client.db, org.id, { name: 'Zoe' });
    const [event] = await contactFeed.take(1);
    // The message came first in the feed, but only the contact reaches this member.
    expect(event?.data.events).toMatchObject({ kind: 'CONTACT_CREATED', contact: { name: 'Zoe' } });
    await expect(foreign.next(1_500)).rejects.toThrow(/no subscription event/);
    contactFeed.close();
    foreign.close();
  });

  it('resumes after a cursor: every missed event once, in order, then live ones', async () => {
    const { org, conversationId } = await chat();
    const first = await subscribe(client, CHAT, { id: conversationId }, org.owner);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await send(org.owner, conversationId, 'one');
    const [one] = await first.take(1);
    first.close();
    // Missed while disconnected:
    for (const text of ['two', 'three', 'four']) await send(org.owner, conversationId, text);
    const resumed = await subscribe(
      client,
      CHAT,
      { id: conversationId, after: one?.data.messageEvents.cursor },
      org.owner,
    );
    const missed = await resumed.take(3);
    expect(missed.map((payload) => payload.data.messageEvents.message.text)).toEqual(['two', 'three', 'four']);
    await send(org.owner, conversationId, 'five');
    const [live] = await resumed.take(1);
    expect(live?.data.messageEvents.message.text).toBe('five');
    await expect(resumed.next(500)).rejects.toThrow(/no subscription event/);
    resumed.close();
  });

  it('ends a live subscription within seconds when its API key is revoked, or its role loses the permission', async () => {
    const { org } = await chat();
    const agent = await createMember(client.db, org.id, { permissions: ['Get:Conversation'] });
    const revoked = await subscribe(client, INBOX, {}, org.owner);
    const demoted = await subscribe(client, INBOX, {}, agent);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await client.db.prisma.apiKey.updateMany({ where: { memberId: org.owner.id }, data: { revokedAt: new Date() } });
    await client.db.prisma.organizationRole.updateMany({
      where: { organizationId: org.id, assignments: { some: { memberId: agent.id } } },
      data: { permissions: ['Get:Contact'] },
    });
    const [ended] = await revoked.take(1, 6_000);
    expect(ended?.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    const [lost] = await demoted.take(1, 6_000);
    expect(lost?.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await revoked.next(2_000)).toBeNull();
  });

  it('refuses a subscription over the per-member and per-organization limits, and a cursor that is not one', async () => {
    const { org } = await chat();
    const open = await Promise.all([1, 2, 3].map(() => subscribe(client, ALL, {}, org.owner)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const over = await subscribe(client, ALL, {}, org.owner);
    const [refusal] = await over.take(1);
    expect(refusal?.errors?.[0]).toMatchObject({ extensions: { code: 'SUBSCRIPTION_LIMIT' } });
    expect(refusal?.errors?.[0]?.message).toMatch(/MAX_SUBSCRIPTIONS_PER_MEMBER/);
    // Another member may open two more; the organization's sixth is refused.
    const colleague = await createMember(client.db, org.id, { permissions: ['Get:Contact'] });
    const more = await Promise.all([1, 2].map(() => subscribe(client, ALL, {}, colleague)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sixth = await subscribe(client, ALL, {}, colleague);
    const [full] = await sixth.take(1);
    expect(full?.errors?.[0]?.message).toMatch(/MAX_SUBSCRIPTIONS_PER_ORGANIZATION/);
    for (const subscription of [...open, ...more]) subscription.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Closed subscriptions give their slots back.
    const again = await subscribe(client, ALL, { after: 'garbage' }, org.owner);
    const [badCursor] = await again.take(1);
    expect(badCursor?.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('ends a subscriber that falls too far behind instead of buffering without bound', async () => {
    const { org, conversation } = await chat();
    const small = new EventHub({ db: client.db, log: silentLogger, pollIntervalMs: 50, maxPendingEvents: 5 });
    try {
      const stop = new AbortController();
      const events = small.events(org.id, undefined, stop.signal);
      // A batch larger than the bound is fine for a subscriber that keeps up…
      const first = events.next();
      await createMessages(client.db, org.id, conversation.id, 10);
      await expect(first).resolves.toMatchObject({ done: false });
      // …but one that takes nothing while two more batches arrive is ended.
      await createMessages(client.db, org.id, conversation.id, 3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await createMessages(client.db, org.id, conversation.id, 3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(events.next()).rejects.toMatchObject({ code: 'SLOW_CONSUMER' });
      stop.abort();
    } finally {
      await small.close();
    }
  });
});
