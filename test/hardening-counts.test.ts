// Hostile battery, class 3: one request must not be able to hold the database. The counts
// every inbox and contact table shows are counters (exact under racing writers, one row
// read); every other count is priced and bounded; and one request holds at most a bounded
// share of the pool, however many statements it starts.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, type Statement } from '../src/db/client.js';
import { ConnectionShare, withConnectionShare } from '../src/db/connection-share.js';
import { createWagraphYoga, type WagraphYoga } from '../src/yoga.js';
import { createTestClient, globalId, silentLogger, type TestClient } from './helpers/client.js';
import { testDatabaseTarget } from './helpers/database.js';
import {
  createContact,
  createConversation,
  createList,
  createMessages,
  createOrganization,
  type TestMember,
  type TestOrganization,
  uniquePhone,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A database whose search statements (ILIKE) hold their connection for `holdMs` on PostgreSQL
 * (a pool of 4, smaller than what the requests start), or wait in JavaScript on PGlite (one
 * connection); either way `peak()` is how many of them ran at once.
 */
async function slowSearches(holdMs: number) {
  const target = testDatabaseTarget();
  const postgres = target.kind === 'postgres';
  const base: Database = postgres ? await openDatabase({ kind: 'postgres', url: target.url, poolSize: 4 }) : client.db;
  let running = 0;
  let peak = 0;
  const db: Database = {
    ...base,
    async query<Row>(statement: Statement): Promise<Row[]> {
      if (!statement.text.includes('ILIKE')) return base.query<Row>(statement);
      running++;
      peak = Math.max(peak, running);
      try {
        if (postgres) {
          return await base.query<Row>({
            ...statement,
            text: `SELECT x.* FROM (${statement.text}) x CROSS JOIN pg_sleep(${holdMs / 1000})`,
          });
        }
        await sleep(holdMs / 5);
        return await base.query<Row>(statement);
      } finally {
        running--;
      }
    },
  };
  return { postgres, base, db, peak: () => peak, close: () => (postgres ? base.close() : Promise.resolve()) };
}

/** POSTs a query to `yoga` as `member`. */
function requester(yoga: WagraphYoga) {
  return async (query: string, member: TestMember) => {
    const response = await yoga.fetch('http://wagraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${member.apiKey}` },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: any; errors?: unknown[] };
  };
}

describe('class 3: counts cost one row, are priced and bounded, and a request holds a bounded share of the pool', () => {
  it('keeps list, message and unread counters exact under racing inserts, deletes and mark-read, and reads them without counting', {
    timeout: 120_000,
  }, async () => {
    const org = await createOrganization(client.db);
    const db = client.db;
    const lists = await Promise.all([0, 1, 2].map(() => createList(db, org.id)));
    const contacts: Awaited<ReturnType<typeof createContact>>[] = [];
    for (let index = 0; index < 24; index++) contacts.push(await createContact(db, org.id));
    // Every contact starts in one or two lists; the first 8 have a conversation with unread
    // messages (the deletions below take some of those, and some without).
    await db.prisma.contactListMembership.createMany({
      data: contacts.flatMap((contact, index) =>
        [lists[index % 3]!, ...(index % 2 === 0 ? [lists[(index + 1) % 3]!] : [])].map((list) => ({
          organizationId: org.id,
          listId: list.id,
          contactId: contact.id,
        })),
      ),
    });
    const conversations: Awaited<ReturnType<typeof createConversation>>[] = [];
    for (const contact of contacts.slice(0, 8)) {
      const conversation = await createConversation(db, org.id, { contactId: contact.id });
      await createMessages(db, org.id, conversation.id, 6, (index) => ({
        direction: index % 2 === 0 ? 'INBOUND' : 'OUTBOUND',
        status: index % 2 === 0 ? 'DELIVERED' : 'SENT',
      }));
      conversations.push(conversation);
    }

    const as = { as: org.owner };
    const listId = (index: number) => globalId('List', lists[index % 3]!.id);
    const contactId = (index: number) => globalId('Contact', contacts[index]!.id);
    const conversationId = (index: number) => globalId('Conversation', conversations[index % 8]!.id);
    const operations: (() => Promise<unknown>)[] = [];
    for (let round = 0; round < 6; round++) {
      operations.push(
        () =>
          client.gql(
            'mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { code } } }',
            { input: { conversationId: conversationId(round), text: `reply ${round}` } },
            as,
          ),
        () =>
          client.gql(
            'mutation($input: MarkConversationReadInput!) { markConversationRead(input: $input) { userErrors { code } } }',
            { input: { id: conversationId(round + 1) } },
            as,
          ),
        // Inbound messages arrive outside the API (the webhook's insert), while the API marks read.
        () =>
          createMessages(db, org.id, conversations[(round + 1) % 8]!.id, 2, () => ({
            direction: 'INBOUND',
            status: 'DELIVERED',
            createdAt: new Date(),
          })),
        () =>
          client.gql(
            'mutation($input: CreateContactsInput!) { createContacts(input: $input) { userErrors { code } } }',
            {
              input: {
                contacts: [0, 1, 2].map((index) => ({
                  name: `New ${round}.${index}`,
                  phone: uniquePhone(),
                  listIds: [listId(round), listId(round + index)],
                })),
              },
            },
            as,
          ),
        () =>
          client.gql(
            'mutation($input: AddContactsToListInput!) { addContactsToList(input: $input) { userErrors { code } } }',
            { input: { listId: listId(round), contactIds: [8, 9, 10, 11, 12, 13].map(contactId) } },
            as,
          ),
        () =>
          client.gql(
            'mutation($input: RemoveContactsFromListInput!) { removeContactsFromList(input: $input) { userErrors { code } } }',
            { input: { listId: listId(round + 1), contactIds: [8, 9, 10, 11, 12, 13, 14, 15].map(contactId) } },
            as,
          ),
        // Deleting a contact cascades to its memberships, conversations and their messages.
        () =>
          client.gql(
            'mutation($input: DeleteContactInput!) { deleteContact(input: $input) { userErrors { code } } }',
            { input: { id: contactId([16, 6, 18, 7, 20, 8][round]!) } },
            as,
          ),
      );
    }
    await Promise.allSettled(operations.map((operation) => operation()));

    const listRows = await db.query<{ id: string; counter: number; actual: number }>({
      text: `SELECT l."id", l."contactCount" AS counter,
               (SELECT count(*)::int FROM "ContactListMembership" m WHERE m."listId" = l."id") AS actual
             FROM "ContactList" l WHERE l."organizationId" = $1::uuid`,
      values: [org.id],
    });
    expect(listRows).toHaveLength(3);
    for (const row of listRows) expect(row.counter).toBe(row.actual);
    const conversationRows = await db.query<{ counter: number; actual: number; unreadCounter: number; unread: number }>(
      {
        text: `SELECT c."messageCount" AS counter, c."unreadMessageCount" AS "unreadCounter",
               (SELECT count(*)::int FROM "Message" m WHERE m."conversationId" = c."id") AS actual,
               (SELECT count(*)::int FROM "Message" m WHERE m."conversationId" = c."id"
                  AND m."direction" = 'INBOUND' AND m."status" <> 'READ') AS unread
             FROM "Conversation" c WHERE c."organizationId" = $1::uuid`,
        values: [org.id],
      },
    );
    expect(conversationRows.length).toBeGreaterThan(0);
    for (const row of conversationRows) {
      expect(row.counter).toBe(row.actual);
      expect(row.unreadCounter).toBe(row.unread);
    }
    // The races did something: some conversations were marked read, others got new unread messages.
    expect(conversationRows.some((row) => row.unread === 0)).toBe(true);
    expect(conversationRows.some((row) => row.unread > 0)).toBe(true);

    // Through the API: the same numbers, and no statement counts anything.
    const response = await client.gqlWithSql(
      `{ lists(first: 100) { nodes { id numberOfContacts } }
         conversations(first: 50) { nodes { id totalMessages numberOfUnreadMessages } } }`,
      undefined,
      as,
    );
    expect(response.errors).toBeUndefined();
    const byList = new Map(listRows.map((row) => [globalId('List', row.id), row.actual]));
    for (const node of response.data!.lists.nodes) expect(node.numberOfContacts).toBe(byList.get(node.id));
    expect(response.data!.conversations.nodes.map((node: any) => node.totalMessages).sort()).toEqual(
      conversationRows.map((row) => row.actual).sort(),
    );
    expect(response.statements.filter((sql) => /count\(/i.test(sql))).toEqual([]);
  });

  it('prices every count and stops counting at 10,000, saying so', { timeout: 120_000 }, async () => {
    const org = await createOrganization(client.db);
    const as = { as: org.owner };
    // The attack of the issue: 15 aliased filtered counts under 100 lists each (cost 3,000 before).
    const aliases = Array.from(
      { length: 15 },
      (_, index) =>
        `a${index}: lists(first: 100) { nodes { contacts(first: 1, filter: { search: "x${index}" }) { totalCount } } }`,
    ).join('\n');
    const refused = await client.gqlWithSql(`{ ${aliases} }`, undefined, as);
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.message).toMatch(/^Operation cost limit of 25000 exceeded, found 153000:/);
    expect(refused.statements.filter((sql) => /"ContactList"/.test(sql))).toEqual([]);

    // A count over the limit stops there and says so; the counters (no filter) stay exact.
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    await createMessages(client.db, org.id, conversation.id, 10_001);
    const response = await client.gql(
      `query($id: ID!) { node(id: $id) { ... on Conversation {
          totalMessages
          all: messages(first: 1) { totalCount totalCountIsCapped }
          inbound: messages(first: 1, filter: { direction: INBOUND }) { totalCount totalCountIsCapped }
          outbound: messages(first: 1, filter: { direction: OUTBOUND }) { totalCount totalCountIsCapped }
      } } }`,
      { id: globalId('Conversation', conversation.id) },
      as,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.node).toEqual({
      totalMessages: 10_001,
      all: { totalCount: 10_001, totalCountIsCapped: false },
      inbound: { totalCount: 10_000, totalCountIsCapped: true },
      outbound: { totalCount: 0, totalCountIsCapped: false },
    });
  });

  it('lets one request hold at most DB_MAX_CONNECTIONS_PER_REQUEST connections, and another organization is not starved', {
    timeout: 120_000,
  }, async () => {
    const { postgres, base, db, peak, close } = await slowSearches(1_500);
    try {
      const yoga = createWagraphYoga({ db, log: silentLogger, graphiql: false });
      const gql = requester(yoga);
      const noisy: TestOrganization = await createOrganization(client.db);
      const quiet: TestOrganization = await createOrganization(client.db);
      await createContact(client.db, quiet.id, { name: 'Quiet customer' });
      // Eight count shapes: eight statements the loaders start at once.
      const counts = Array.from(
        { length: 8 },
        (_, index) => `c${index}: contacts(first: 1, filter: { search: "n${index}" }) { totalCount }`,
      );
      const heavy = gql(`{ ${counts.join('\n')} }`, noisy.owner);
      await sleep(postgres ? 300 : 50);
      const started = performance.now();
      const trivial = await gql('{ contacts(first: 1) { nodes { name } } }', quiet.owner);
      const trivialMs = performance.now() - started;
      const heavyResult = await heavy;
      expect(heavyResult.errors).toBeUndefined();
      expect(Object.values(heavyResult.data!)).toEqual(Array.from({ length: 8 }, () => ({ totalCount: 0 })));
      expect(trivial.data).toEqual({ contacts: { nodes: [{ name: 'Quiet customer' }] } });
      expect(peak()).toBe(2);
      // Without the share, the quiet organization waits for the noisy one's first 1.5 s wave.
      if (postgres) expect(trivialMs).toBeLessThan(1_000);

      // A share of one place: a mutation's transaction takes it, and still finishes.
      const single = createWagraphYoga({ db, log: silentLogger, graphiql: false, maxConnectionsPerRequest: 1 });
      const response = await single.fetch('http://wagraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${quiet.owner.apiKey}` },
        body: JSON.stringify({
          query: `mutation($input: CreateListInput!) { createList(input: $input) { list { name numberOfContacts } userErrors { code } } }`,
          variables: { input: { name: `List ${randomUUID()}` } },
        }),
      });
      const body = (await response.json()) as { data?: any; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      expect(body.data.createList.list.numberOfContacts).toBe(0);

      // Prisma's statements (relations, payloads) take their place in the share too, in the driver adapter.
      const share = new ConnectionShare(1);
      const release = await share.acquire();
      let answered = false;
      // (Awaited inside: a Prisma query is lazy and runs where it is first awaited, as in a resolver.)
      const pending = withConnectionShare(
        share,
        async () => await base.prisma.organization.findFirst({ where: { id: quiet.id } }),
      ).then(() => {
        answered = true;
      });
      await sleep(300);
      expect(answered).toBe(false);
      release();
      await pending;
      expect(answered).toBe(true);
    } finally {
      await close();
    }
  });
  it('lets one organization hold at most DB_MAX_CONNECTIONS_PER_ORGANIZATION of the pool, however many requests it sends', {
    timeout: 120_000,
  }, async () => {
    // Per-request shares alone do not protect the pool: four requests of two places each fill
    // a pool of four. With the pool shared by organization (two of four for one organization),
    // the noisy organization's statements never hold more than two connections, and the quiet
    // one's query takes a free one at once.
    const { postgres, db, peak, close } = await slowSearches(500);
    try {
      const yoga = createWagraphYoga({
        db,
        log: silentLogger,
        graphiql: false,
        maxConnectionsPerRequest: 2,
        poolShare: { connections: 4, perOrganization: 2 },
      });
      const gql = requester(yoga);
      const noisy = await createOrganization(client.db);
      const quiet = await createOrganization(client.db);
      await createContact(client.db, quiet.id, { name: 'Quiet customer' });
      const counts = Array.from(
        { length: 4 },
        (_, index) => `c${index}: contacts(first: 1, filter: { search: "n${index}" }) { totalCount }`,
      );
      const heavy = Array.from({ length: 4 }, () => gql(`{ ${counts.join('\n')} }`, noisy.owner));
      await sleep(postgres ? 200 : 30);
      const started = performance.now();
      const trivial = await gql('{ contacts(first: 1) { nodes { name } } }', quiet.owner);
      const trivialMs = performance.now() - started;
      const results = await Promise.all(heavy);
      expect(results.map((result) => result.errors)).toEqual([undefined, undefined, undefined, undefined]);
      expect(trivial.data).toEqual({ contacts: { nodes: [{ name: 'Quiet customer' }] } });
      // Four requests of two places each would run eight at once without the organization's share.
      expect(peak()).toBe(2);
      // The noisy organization's 16 statements take 4 s in waves of two; the quiet one waits for none of them.
      if (postgres) expect(trivialMs).toBeLessThan(1_000);
    } finally {
      await close();
    }
  });
});
