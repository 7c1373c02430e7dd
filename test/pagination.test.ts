// Keyset pagination of every connection: forward and backward to the end and back under
// every ordering, pageInfo, the `nodes` shortcut, totalCount, stability under inserts, and
// the errors of bad page arguments and cursors.
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import {
  dataOf,
  errorOf,
  expectConsistentPage,
  expectWalksBothWays,
  idsBackward,
  PAGE_FIELDS,
  rawIds,
  walkBackward,
  type Connection,
  type FetchPage,
} from './helpers/connections.js';
import {
  at,
  createCampaign,
  createContact,
  createConversation,
  createList,
  createMember,
  createMessages,
  createOrganization,
  createTag,
  type TestOrganization,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

/** Ids that sort before / after (almost surely) every random UUID, yet unique. */
const lowId = () => `00000000-0000-4000-8000-${randomBytes(6).toString('hex')}`;
const highId = () => `ffffffff-ffff-4fff-bfff-${randomBytes(6).toString('hex')}`;

interface Row {
  id: string;
}

/** Sorts rows by `key` then id, as the API's keyset orderings do. */
function sortedIds<R extends Row>(rows: R[], key: (row: R) => string | number | null, descending = false): string[] {
  const sorted = [...rows].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    if (ka !== kb) {
      if (ka === null) return -1; // NULL is the smallest value
      if (kb === null) return 1;
      return ka < kb ? -1 : 1;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  const ids = sorted.map((row) => row.id);
  return descending ? ids.reverse() : ids;
}

// Letters only, one case, so that every collation (C on PGlite, en_US or C.UTF-8 on a
// server) sorts them as JavaScript does. Names repeat to make ties that only the id breaks.
const NAMES = [
  'Mike',
  'Alpha',
  'Kilo',
  'Bravo',
  'Bravo',
  'Echo',
  'Zulu',
  'Delta',
  'Bravo',
  'Golf',
  'Hotel',
  'India',
  'Juliet',
  'Lima',
  'Alpha',
  'November',
  'Oscar',
  'Papa',
  'Quebec',
  'Romeo',
  'Sierra',
  'Tango',
  'Mike',
];

/** 23 contacts with tied names and, three at a time, tied creation times. */
async function contactDataset(org: TestOrganization) {
  const rows = NAMES.map((name, index) => ({
    id: randomUUID(),
    organizationId: org.id,
    name,
    // A permutation of the indexes, so phone order is unrelated to creation or name order.
    phone: `+1555${String((index * 7919) % 1000).padStart(7, '0')}`,
    createdAt: at(Math.floor(index / 3) * 60),
  }));
  await client.db.prisma.contact.createMany({ data: rows });
  return rows;
}

function rootContacts(org: TestOrganization, orderBy?: { field: string; direction: string }): FetchPage {
  return async (args) =>
    dataOf(
      await client.gql<{ contacts: Connection }>(
        `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: ContactOrder) {
          contacts(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) { ${PAGE_FIELDS} }
        }`,
        { ...args, orderBy },
        { as: org.owner },
      ),
    ).contacts;
}

/** A connection under `node(id)`: `field` is the connection with its fixed arguments, e.g. `messages(filter: …)`. */
function nested(org: TestOrganization, typename: string, id: string, field: string, fixed = ''): FetchPage {
  return async (args) => {
    const data = dataOf(
      await client.gql<{ node: Record<string, Connection> }>(
        `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
          node(id: $id) { ... on ${typename} { page: ${field}(first: $first, after: $after, last: $last, before: $before${fixed}) { ${PAGE_FIELDS} } } }
        }`,
        { id: globalId(typename, id), ...args },
        { as: org.owner },
      ),
    );
    return data.node.page!;
  };
}

describe('contacts: every ordering, forward and backward, to the end and back', () => {
  const orderings = [
    { field: 'CREATED_AT', key: (row: { createdAt: Date }) => row.createdAt.getTime() },
    { field: 'NAME', key: (row: { name: string }) => row.name },
    { field: 'PHONE', key: (row: { phone: string }) => row.phone },
  ] as const;

  for (const { field, key } of orderings) {
    for (const direction of ['ASC', 'DESC'] as const) {
      it(`${field} ${direction}, in pages of 5 and of 7, with ties broken by id`, async () => {
        const org = await createOrganization(client.db);
        const rows = await contactDataset(org);
        const expected = sortedIds(rows, key as (row: (typeof rows)[number]) => string | number, direction === 'DESC');
        const fetch = rootContacts(org, { field, direction });
        await expectWalksBothWays(fetch, 5, expected);
        await expectWalksBothWays(fetch, 7, expected);
      });
    }
  }

  it('defaults to CREATED_AT ASC and to pages of 20', async () => {
    const org = await createOrganization(client.db);
    const rows = await contactDataset(org);
    const page = await rootContacts(org)({});
    expectConsistentPage(page);
    expect(rawIds(page)).toEqual(sortedIds(rows, (row) => row.createdAt.getTime()).slice(0, 20));
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(page.totalCount).toBe(23);
  });

  it('accepts first: 100 and first: 0 (an empty page that still tells whether rows follow)', async () => {
    const org = await createOrganization(client.db);
    const rows = await contactDataset(org);
    const all = await rootContacts(org)({ first: 100 });
    expect(rawIds(all)).toEqual(sortedIds(rows, (row) => row.createdAt.getTime()));
    expect(all.pageInfo.hasNextPage).toBe(false);
    const none = await rootContacts(org)({ first: 0 });
    expect(none).toEqual({
      totalCount: 23,
      edges: [],
      nodes: [],
      pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('pages an empty connection as one empty page', async () => {
    const org = await createOrganization(client.db);
    await expectWalksBothWays(rootContacts(org, { field: 'NAME', direction: 'ASC' }), 5, []);
  });

  it('pages the rows between two cursors (after and before together)', async () => {
    const org = await createOrganization(client.db);
    const rows = await contactDataset(org);
    const expected = sortedIds(rows, (row) => row.name);
    const fetch = rootContacts(org, { field: 'NAME', direction: 'ASC' });
    const edges = (await fetch({ first: 23 })).edges;
    const between = await fetch({ first: 50, after: edges[4]!.cursor, before: edges[12]!.cursor });
    expect(rawIds(between)).toEqual(expected.slice(5, 12));
    expect(between.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    const lastBetween = await fetch({ last: 3, after: edges[4]!.cursor, before: edges[12]!.cursor });
    expect(rawIds(lastBetween)).toEqual(expected.slice(9, 12));
    expect(lastBetween.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });
});

describe('conversations: CREATED_AT and LAST_MESSAGE_AT, with nulls and ties', () => {
  /** 25 conversations: 5 never messaged (lastMessageAt null), the others tied three at a time; creation tied four at a time. */
  async function conversationDataset(org: TestOrganization) {
    const contact = await createContact(client.db, org.id);
    const rows = Array.from({ length: 25 }, (_, index) => ({
      id: randomUUID(),
      organizationId: org.id,
      contactId: contact.id,
      createdAt: at(Math.floor(index / 4) * 10),
      lastMessageAt: index % 5 === 0 ? null : at(1_000 + Math.floor(((index * 7) % 25) / 3) * 10),
    }));
    await client.db.prisma.conversation.createMany({ data: rows });
    return rows;
  }

  function rootConversations(org: TestOrganization, orderBy: { field: string; direction: string }): FetchPage {
    return async (args) =>
      dataOf(
        await client.gql<{ conversations: Connection }>(
          `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: ConversationOrder) {
            conversations(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) { ${PAGE_FIELDS} }
          }`,
          { ...args, orderBy },
          { as: org.owner },
        ),
      ).conversations;
  }

  for (const direction of ['ASC', 'DESC'] as const) {
    it(`CREATED_AT ${direction}, in pages of 4 and of 6`, async () => {
      const org = await createOrganization(client.db);
      const rows = await conversationDataset(org);
      const expected = sortedIds(rows, (row) => row.createdAt.getTime(), direction === 'DESC');
      await expectWalksBothWays(rootConversations(org, { field: 'CREATED_AT', direction }), 4, expected);
      await expectWalksBothWays(rootConversations(org, { field: 'CREATED_AT', direction }), 6, expected);
    });

    it(`LAST_MESSAGE_AT ${direction}: never-messaged conversations sort as the oldest, in pages of 3, 4 and 6`, async () => {
      const org = await createOrganization(client.db);
      const rows = await conversationDataset(org);
      const expected = sortedIds(rows, (row) => row.lastMessageAt?.getTime() ?? null, direction === 'DESC');
      const nulls = rows.filter((row) => row.lastMessageAt === null).map((row) => row.id);
      // ASC: nulls first; DESC: nulls last.
      if (direction === 'ASC') expect(new Set(expected.slice(0, 5))).toEqual(new Set(nulls));
      else expect(new Set(expected.slice(-5))).toEqual(new Set(nulls));
      for (const size of [3, 4, 6]) {
        await expectWalksBothWays(rootConversations(org, { field: 'LAST_MESSAGE_AT', direction }), size, expected);
      }
    });
  }

  it('continues exactly where it left off when newer conversations arrive between two pages of the inbox', async () => {
    const org = await createOrganization(client.db);
    const rows = await conversationDataset(org);
    const expected = sortedIds(rows, (row) => row.lastMessageAt?.getTime() ?? null, true);
    const fetch = rootConversations(org, { field: 'LAST_MESSAGE_AT', direction: 'DESC' });
    const first = await fetch({ first: 6 });
    expect(rawIds(first)).toEqual(expected.slice(0, 6));

    // New chats sort before the cursor: at the top of the inbox, and one tied with the
    // cursor's row whose larger id puts it first among the ties (DESC breaks ties by id DESC).
    const contact = await createContact(client.db, org.id);
    const cursorRow = rows.find((row) => row.id === expected[5])!;
    await client.db.prisma.conversation.createMany({
      data: [
        { id: randomUUID(), organizationId: org.id, contactId: contact.id, lastMessageAt: at(100_000) },
        { id: randomUUID(), organizationId: org.id, contactId: contact.id, lastMessageAt: at(100_001) },
        { id: highId(), organizationId: org.id, contactId: contact.id, lastMessageAt: cursorRow.lastMessageAt },
      ],
    });
    const second = await fetch({ first: 6, after: first.pageInfo.endCursor! });
    expect(rawIds(second)).toEqual(expected.slice(6, 12));
    expect(second.totalCount).toBe(28);
  });
});

describe('stable cursors', () => {
  it('continue exactly where they left off when rows that sort before them are inserted between two requests', async () => {
    const org = await createOrganization(client.db);
    const rows = await contactDataset(org);
    const expected = sortedIds(rows, (row) => row.name);
    const fetch = rootContacts(org, { field: 'NAME', direction: 'ASC' });
    const first = await fetch({ first: 5 });
    expect(rawIds(first)).toEqual(expected.slice(0, 5));

    // "Aaron" sorts before everything; a fourth "Bravo" ties with the cursor's row (the
    // last of the page, the third "Bravo") and sorts before it by its smaller id.
    expect(rows.find((row) => row.id === expected[4])!.name).toBe('Bravo');
    await createContact(client.db, org.id, { name: 'Aaron' });
    await createContact(client.db, org.id, { name: 'Bravo', id: lowId() });
    const second = await fetch({ first: 5, after: first.pageInfo.endCursor! });
    expect(rawIds(second)).toEqual(expected.slice(5, 10));
    expect(second.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('continue backwards when rows that sort after them are inserted, and survive the deletion of their own row', async () => {
    const org = await createOrganization(client.db);
    const rows = await contactDataset(org);
    const expected = sortedIds(rows, (row) => row.phone, true);
    const fetch = rootContacts(org, { field: 'PHONE', direction: 'DESC' });
    const last = await fetch({ last: 5 });
    expect(rawIds(last)).toEqual(expected.slice(-5));

    await createContact(client.db, org.id, { phone: '+15540000000' }); // the smallest phone: after everything in DESC
    await client.db.prisma.contact.delete({ where: { id: expected.at(-5)! } }); // the row the cursor points at
    const previous = await fetch({ last: 5, before: last.pageInfo.startCursor! });
    expect(rawIds(previous)).toEqual(expected.slice(-10, -5));
    expect(previous.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('scroll a chat back with `before` while new messages arrive at its end', async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    const messages = await createMessages(client.db, org.id, conversation.id, 30);
    const fetch = nested(org, 'Conversation', conversation.id, 'messages');
    const newest = await fetch({ last: 10 });
    expect(rawIds(newest)).toEqual(messages.slice(20).map((message) => message.id));
    await createMessages(client.db, org.id, conversation.id, 3, (index) => ({ createdAt: at(10_000_000 + index) }));
    const older = await fetch({ last: 10, before: newest.pageInfo.startCursor! });
    expect(rawIds(older)).toEqual(messages.slice(10, 20).map((message) => message.id));
    expect(older.totalCount).toBe(33);
  });
});

describe('nested connections page like root ones', () => {
  it('List.contacts under every ordering, with a filter', async () => {
    const org = await createOrganization(client.db);
    const rows = await contactDataset(org);
    const list = await createList(client.db, org.id);
    const inList = rows.filter((_, index) => index % 4 !== 0);
    await client.db.prisma.contactListMembership.createMany({
      data: inList.map((row) => ({ organizationId: org.id, listId: list.id, contactId: row.id })),
    });
    const blocked = inList.filter((_, index) => index % 3 === 0);
    await client.db.prisma.contact.updateMany({
      where: { id: { in: blocked.map((row) => row.id) } },
      data: { status: 'BLOCKED' },
    });
    const active = inList.filter((row) => !blocked.includes(row));
    for (const [field, key] of [
      ['NAME', (row: (typeof rows)[number]) => row.name],
      ['PHONE', (row: (typeof rows)[number]) => row.phone],
      ['CREATED_AT', (row: (typeof rows)[number]) => row.createdAt.getTime()],
    ] as const) {
      for (const direction of ['ASC', 'DESC']) {
        const fetch = nested(
          org,
          'List',
          list.id,
          'contacts',
          `, filter: { status: [ACTIVE] }, orderBy: { field: ${field}, direction: ${direction} }`,
        );
        await expectWalksBothWays(fetch, 4, sortedIds(active, key, direction === 'DESC'));
      }
    }
  });

  it('Conversation.messages is oldest first: `last` is the newest page and `before` scrolls back to the first message', async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    // Two messages per second: a chat is in the order its messages were committed (here, the
    // order of the insert), not in createdAt order, which ties.
    const messages = await createMessages(client.db, org.id, conversation.id, 45, (index) => ({
      createdAt: at(Math.floor(index / 2)),
    }));
    const expected = messages.map((message) => message.id);
    const fetch = nested(org, 'Conversation', conversation.id, 'messages');

    const newest = await fetch({ last: 20 });
    expect(rawIds(newest)).toEqual(expected.slice(-20));
    expect(newest.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const scrolledBack = await walkBackward(fetch, 20);
    expect(scrolledBack.map((page) => page.edges.length)).toEqual([20, 20, 5]);
    expect(idsBackward(scrolledBack)).toEqual(expected);
    const byDefault = await fetch({});
    expect(rawIds(byDefault)).toEqual(expected.slice(0, 20));
    await expectWalksBothWays(fetch, 8, expected);
  });

  it('Conversation.messages with a filter', async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    const messages = await createMessages(client.db, org.id, conversation.id, 30, (index) => ({
      direction: index % 3 === 0 ? 'OUTBOUND' : 'INBOUND',
    }));
    const inbound = messages.filter((message) => message.direction === 'INBOUND');
    const fetch = nested(org, 'Conversation', conversation.id, 'messages', ', filter: { direction: INBOUND }');
    await expectWalksBothWays(
      fetch,
      6,
      sortedIds(inbound, (message) => new Date(message.createdAt!).getTime()),
    );
  });

  it('Contact.lists, Contact.tags, Contact.conversations, List.tags, Tag.contacts and Conversation.tags, oldest first', async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    const tag = await createTag(client.db, org.id);
    const list = await createList(client.db, org.id);
    const byCreation = (rows: { id: string; createdAt: Date }[]) => sortedIds(rows, (row) => row.createdAt.getTime());
    // Seven of each, created in an order unrelated to their ids, two of them at the same instant.
    const times = [5, 1, 3, 3, 7, 2, 6].map((second) => at(second));

    const lists = await Promise.all(times.map((createdAt) => createList(client.db, org.id, { createdAt })));
    const tags = await Promise.all(times.map((createdAt) => createTag(client.db, org.id, { createdAt })));
    const contacts = await Promise.all(times.map((createdAt) => createContact(client.db, org.id, { createdAt })));
    const conversations = await Promise.all(
      times.map((createdAt) => createConversation(client.db, org.id, { contactId: contact.id, createdAt })),
    );
    const organizationId = org.id;
    await client.db.prisma.contactListMembership.createMany({
      data: lists.map((row) => ({ organizationId, listId: row.id, contactId: contact.id })),
    });
    await client.db.prisma.contactTag.createMany({
      data: tags.map((row) => ({ organizationId, tagId: row.id, contactId: contact.id })),
    });
    await client.db.prisma.listTag.createMany({
      data: tags.map((row) => ({ organizationId, tagId: row.id, listId: list.id })),
    });
    await client.db.prisma.contactTag.createMany({
      data: contacts.map((row) => ({ organizationId, tagId: tag.id, contactId: row.id })),
    });
    await client.db.prisma.conversationTag.createMany({
      data: tags.map((row) => ({ organizationId, tagId: row.id, conversationId: conversation.id })),
    });

    await expectWalksBothWays(nested(org, 'Contact', contact.id, 'lists'), 3, byCreation(lists));
    await expectWalksBothWays(nested(org, 'Contact', contact.id, 'tags'), 3, byCreation(tags));
    await expectWalksBothWays(
      nested(org, 'Contact', contact.id, 'conversations'),
      3,
      byCreation([conversation, ...conversations]),
    );
    await expectWalksBothWays(nested(org, 'List', list.id, 'tags'), 3, byCreation(tags));
    await expectWalksBothWays(nested(org, 'Tag', tag.id, 'contacts'), 3, byCreation(contacts));
    await expectWalksBothWays(nested(org, 'Conversation', conversation.id, 'tags'), 3, byCreation(tags));
  });
});

describe('root connections without an orderBy page oldest first', () => {
  const times = [4, 1, 3, 3, 9, 2, 6, 8].map((second) => at(second));
  const byCreation = (rows: { id: string; createdAt: Date }[]) => sortedIds(rows, (row) => row.createdAt.getTime());

  function root(org: TestOrganization, field: string): FetchPage {
    return async (args) =>
      dataOf(
        await client.gql<Record<string, Connection>>(
          `query($first: Int, $after: String, $last: Int, $before: String) {
            page: ${field}(first: $first, after: $after, last: $last, before: $before) { ${PAGE_FIELDS} }
          }`,
          { ...args },
          { as: org.owner },
        ),
      ).page!;
  }

  it('lists', async () => {
    const org = await createOrganization(client.db);
    const rows = await Promise.all(times.map((createdAt) => createList(client.db, org.id, { createdAt })));
    await expectWalksBothWays(root(org, 'lists'), 3, byCreation(rows));
  });

  it('tags', async () => {
    const org = await createOrganization(client.db);
    const rows = await Promise.all(times.map((createdAt) => createTag(client.db, org.id, { createdAt })));
    await expectWalksBothWays(root(org, 'tags'), 3, byCreation(rows));
  });

  it('campaigns', async () => {
    const org = await createOrganization(client.db);
    const rows = await Promise.all(times.map((createdAt) => createCampaign(client.db, org.id, { createdAt })));
    await expectWalksBothWays(root(org, 'campaigns'), 3, byCreation(rows));
  });

  it('members', async () => {
    const org = await createOrganization(client.db);
    const members = await Promise.all(times.map(() => createMember(client.db, org.id)));
    await Promise.all(
      members.map((member, index) =>
        client.db.prisma.organizationMember.update({ where: { id: member.id }, data: { createdAt: times[index]! } }),
      ),
    );
    const rows = await client.db.prisma.organizationMember.findMany({ where: { organizationId: org.id } });
    expect(rows).toHaveLength(9); // the owner and the eight
    await expectWalksBothWays(root(org, 'members'), 3, byCreation(rows));
  });
});

describe('page arguments that are errors', () => {
  const cases = [
    {
      args: 'first: 101',
      message: '`first` must be at most 100 (got 101); page through the rest with `after`.',
      argumentName: 'first',
    },
    {
      args: 'last: 101',
      message: '`last` must be at most 100 (got 101); page through the rest with `before`.',
      argumentName: 'last',
    },
    { args: 'first: -1', message: '`first` must not be negative (got -1).', argumentName: 'first' },
    { args: 'last: -3', message: '`last` must not be negative (got -3).', argumentName: 'last' },
    { args: 'first: 5, last: 5', message: 'Pass either `first` or `last`, not both.', argumentName: 'last' },
  ];

  for (const { args, message, argumentName } of cases) {
    it(`${args} → "${message}" on root and nested connections`, async () => {
      const org = await createOrganization(client.db);
      const contact = await createContact(client.db, org.id);
      await createConversation(client.db, org.id, { contactId: contact.id });
      for (const [query, path] of [
        [`{ contacts(${args}) { totalCount } }`, ['contacts']],
        [`{ conversations(${args}) { nodes { id } } }`, ['conversations']],
        [`{ members(${args}) { nodes { id } } }`, ['members']],
        [`{ conversations { nodes { messages(${args}) { totalCount } } } }`, ['conversations', 'nodes', 0, 'messages']],
        [
          `query($id: ID!) { node(id: $id) { ... on Contact { conversations(${args}) { nodes { id } } } } }`,
          ['node', 'conversations'],
        ],
      ] as const) {
        const response = await client.gql(query, { id: globalId('Contact', contact.id) }, { as: org.owner });
        expect(response.errors).toEqual([
          expect.objectContaining({ message, path, extensions: { code: 'BAD_USER_INPUT', argumentName } }),
        ]);
      }
    });
  }
});

describe('cursors that are errors', () => {
  const NOT_A_CURSOR = (argument: string) =>
    `\`${argument}\` is not a cursor of this connection and ordering; pass a cursor this connection returned with the same orderBy.`;
  const forge = (values: unknown[]) => Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');

  async function cursorError(org: TestOrganization, query: string, variables: Record<string, unknown>) {
    return errorOf(await client.gql(query, variables, { as: org.owner }));
  }

  it('garbage, and cursors forged with values of the wrong type', async () => {
    const org = await createOrganization(client.db);
    await contactDataset(org);
    const id = randomUUID();
    const query = `query($after: String, $before: String, $orderBy: ContactOrder) {
      contacts(after: $after, before: $before, orderBy: $orderBy) { nodes { id } }
    }`;
    const bad = [
      'garbage',
      '',
      forge(['contacts:CREATED_AT_ASC']),
      forge(['contacts:CREATED_AT_ASC', '2026-01-01T00:00:00.000Z', 'not-a-uuid']),
      forge(['contacts:CREATED_AT_ASC', 'yesterday', id]),
      forge(['contacts:CREATED_AT_ASC', '1', id]), // Date.parse accepts "1"; PostgreSQL does not
      forge(['contacts:CREATED_AT_ASC', '2026-02-30T00:00:00.000Z', id]), // nor February 30th
      forge(['contacts:CREATED_AT_ASC', null, id]), // createdAt is never null
      forge(['contacts:CREATED_AT_ASC', 42, id]),
      forge({ ordering: 'contacts:CREATED_AT_ASC' } as never),
    ];
    for (const cursor of bad) {
      expect(await cursorError(org, query, { after: cursor })).toEqual({
        message: NOT_A_CURSOR('after'),
        code: 'BAD_USER_INPUT',
        path: ['contacts'],
      });
      expect(await cursorError(org, query, { before: cursor })).toEqual({
        message: NOT_A_CURSOR('before'),
        code: 'BAD_USER_INPUT',
        path: ['contacts'],
      });
    }
    // PostgreSQL text cannot hold a NUL character.
    const byName = { field: 'NAME', direction: 'ASC' };
    expect(
      await cursorError(org, query, { orderBy: byName, after: forge(['contacts:NAME_ASC', 'Bravo\u0000', id]) }),
    ).toEqual({
      message: NOT_A_CURSOR('after'),
      code: 'BAD_USER_INPUT',
      path: ['contacts'],
    });
    // The well-formed version of the same forgery is accepted.
    const fine = await client.gql(
      query,
      { after: forge(['contacts:CREATED_AT_ASC', '2026-01-01T00:00:00.000Z', id]) },
      { as: org.owner },
    );
    expect(dataOf(fine).contacts.nodes).toHaveLength(20);
  });

  it('a cursor of another ordering, direction or connection', async () => {
    const org = await createOrganization(client.db);
    const rows = await contactDataset(org);
    const list = await createList(client.db, org.id);
    await client.db.prisma.contactListMembership.createMany({
      data: rows.map((row) => ({ organizationId: org.id, listId: list.id, contactId: row.id })),
    });
    const byName = (await rootContacts(org, { field: 'NAME', direction: 'ASC' })({ first: 2 })).pageInfo.endCursor!;
    const byDefault = (await rootContacts(org)({ first: 2 })).pageInfo.endCursor!;
    const ofList = (await nested(org, 'List', list.id, 'contacts')({ first: 2 })).pageInfo.endCursor!;
    const ofLists = dataOf(await client.gql(`{ lists { pageInfo { endCursor } } }`, {}, { as: org.owner })).lists
      .pageInfo.endCursor;
    const ofMembers = dataOf(await client.gql(`{ members { pageInfo { endCursor } } }`, {}, { as: org.owner })).members
      .pageInfo.endCursor;

    const contacts = `query($after: String, $orderBy: ContactOrder) { contacts(after: $after, orderBy: $orderBy) { nodes { id } } }`;
    for (const [after, orderBy] of [
      [byName, { field: 'NAME', direction: 'DESC' }],
      [byName, { field: 'PHONE', direction: 'ASC' }],
      [byName, undefined],
      [byDefault, { field: 'NAME', direction: 'ASC' }],
      [ofList, undefined],
      [ofLists, undefined],
      [ofMembers, undefined],
    ] as const) {
      expect(await cursorError(org, contacts, { after, orderBy })).toEqual({
        message: NOT_A_CURSOR('after'),
        code: 'BAD_USER_INPUT',
        path: ['contacts'],
      });
    }
    const listContacts = `query($id: ID!, $before: String) { node(id: $id) { ... on List { contacts(before: $before) { nodes { id } } } } }`;
    expect(await cursorError(org, listContacts, { id: globalId('List', list.id), before: byDefault })).toEqual({
      message: NOT_A_CURSOR('before'),
      code: 'BAD_USER_INPUT',
      path: ['node', 'contacts'],
    });
    // Each cursor still works where it came from.
    expect(
      dataOf(
        await client.gql(contacts, { after: byName, orderBy: { field: 'NAME', direction: 'ASC' } }, { as: org.owner }),
      ).contacts.nodes,
    ).toHaveLength(20);
  });

  it('a bad cursor is an error even when only totalCount is asked for', async () => {
    const org = await createOrganization(client.db);
    await contactDataset(org);
    const byName = (await rootContacts(org, { field: 'NAME', direction: 'ASC' })({ first: 2 })).pageInfo.endCursor!;
    expect(await cursorError(org, `{ contacts(after: "garbage") { totalCount } }`, {})).toEqual({
      message: NOT_A_CURSOR('after'),
      code: 'BAD_USER_INPUT',
      path: ['contacts'],
    });
    expect(
      await cursorError(org, `query($before: String) { contacts(before: $before) { totalCount } }`, { before: byName }),
    ).toEqual({
      message: NOT_A_CURSOR('before'),
      code: 'BAD_USER_INPUT',
      path: ['contacts'],
    });
  });
});
