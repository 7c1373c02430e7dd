// The N+1 protection, locked in: the hottest queries run a fixed set of SQL statements,
// the same for a page of 5 and a page of 50, and a nested `messages(last: 10)` reads about
// 10 messages per conversation however long the conversations are. The datasets are
// large, so these tests get more time than the default (no assertion is about time).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '../src/generated/prisma/client.js';
import { tenantStatement } from '../src/db/tenant-sql.js';
import { pageSql } from '../src/loaders/keyset.js';
import { conversationMessages } from '../src/loaders/sources.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { dataOf } from './helpers/connections.js';
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

const pad = (n: number) => String(n).padStart(3, '0');

/**
 * What a statement is, in words: `rows <Table>` for loads of rows by id, by Prisma or by
 * src/loaders and src/auth (the table of its FROM), `page <Table>` / `count <Table>` for the batched keyset pages and
 * counts of src/loaders (the first table of the rows they page or count, e.g. the join
 * table of a contact's tags). Sorted, since independent loaders run concurrently and their
 * order is not fixed.
 */
function describeStatements(statements: string[]): string[] {
  return statements
    .map((sql) => {
      if (/AS "parentKey", o\."hasBefore"/.test(sql)) return `page ${/AS "k\d+", t\.\*\s+FROM "(\w+)"/.exec(sql)?.[1]}`;
      if (/AS "parentKey",\s+\(SELECT count\(\*\)/.test(sql))
        return `count ${/count\(\*\)::int FROM (?:\(SELECT 1 FROM )?"(\w+)"/.exec(sql)?.[1]}`;
      return `rows ${/FROM (?:"public"\.)?"(\w+)"/.exec(sql)?.[1]}`;
    })
    .sort();
}

/** The statement that authenticates the request's API key. */
const AUTH = 'rows ApiKey';

describe('the inbox', () => {
  const INBOX = `query($n: Int!) {
    conversations(first: $n, filter: { status: [ACTIVE] }, orderBy: { field: LAST_MESSAGE_AT, direction: DESC }) {
      totalCount
      nodes {
        id
        contact { name phone tags { nodes { label } } }
        assignedTo { name }
        numberOfUnreadMessages
        totalMessages
        messages(last: 10) { nodes { text direction status createdAt } }
      }
    }
  }`;

  /** 60 active and 10 closed conversations, each with a contact, tags, maybe an assignee, and 12 messages. */
  async function inboxDataset(org: TestOrganization) {
    const db = client.db;
    const organizationId = org.id;
    const members: Awaited<ReturnType<typeof createMember>>[] = [];
    for (const name of ['Agent Ada', 'Agent Bo', 'Agent Cy'])
      members.push(await createMember(db, organizationId, { name }));
    const tags: Awaited<ReturnType<typeof createTag>>[] = [];
    for (const [index, label] of ['vip', 'billing', 'new', 'spanish'].entries()) {
      tags.push(await createTag(db, organizationId, { label, createdAt: at(index) }));
    }
    const contacts = Array.from({ length: 70 }, (_, index) => ({
      id: randomUUID(),
      organizationId,
      name: `Customer ${pad(index)}`,
      phone: `+1444${String(index).padStart(7, '0')}`,
    }));
    await db.prisma.contact.createMany({ data: contacts });
    const tagsOf = contacts.map((_, index) =>
      index % 3 === 0 ? [tags[index % 4]!, tags[(index + 1) % 4]!] : [tags[index % 4]!],
    );
    await db.prisma.contactTag.createMany({
      data: contacts.flatMap((contact, index) =>
        tagsOf[index]!.map((tag) => ({ organizationId, contactId: contact.id, tagId: tag.id })),
      ),
    });
    const conversations = contacts.map((contact, index) => ({
      id: randomUUID(),
      organizationId,
      contactId: contact.id,
      status: index < 60 ? ('ACTIVE' as const) : ('CLOSED' as const),
      // 37 and 70 are coprime: every conversation has its own lastMessageAt, unrelated to its index.
      lastMessageAt: at(100 + ((index * 37) % 70)),
      assignedToId: index % 4 === 3 ? null : members[index % 4]!.id,
    }));
    await db.prisma.conversation.createMany({ data: conversations });
    const messages = conversations.flatMap((conversation, index) =>
      Array.from({ length: 12 }, (_, position) => ({
        id: randomUUID(),
        organizationId,
        conversationId: conversation.id,
        direction: position % 2 === 0 ? ('INBOUND' as const) : ('OUTBOUND' as const),
        // Inbound: some not yet read (DELIVERED), as many as the conversation's index says (mod 4).
        status: position % 2 === 0 && position / 2 < index % 4 ? ('DELIVERED' as const) : ('READ' as const),
        messageType: 'TEXT' as const,
        messageData: { text: `conversation ${index} message ${position}` },
        // Before the conversation's lastMessageAt (the trigger would otherwise move it to the newest).
        createdAt: at(position),
      })),
    );
    await db.prisma.message.createMany({ data: messages });
    return { members, contacts, tagsOf, conversations, messages };
  }

  function expectedInbox(dataset: Awaited<ReturnType<typeof inboxDataset>>, n: number) {
    const { members, contacts, tagsOf, conversations, messages } = dataset;
    const active = conversations
      .filter((conversation) => conversation.status === 'ACTIVE')
      .sort((a, b) => b.lastMessageAt.getTime() - a.lastMessageAt.getTime());
    return {
      conversations: {
        totalCount: 60,
        nodes: active.slice(0, n).map((conversation) => {
          const index = conversations.indexOf(conversation);
          const own = messages.filter((message) => message.conversationId === conversation.id);
          return {
            id: globalId('Conversation', conversation.id),
            contact: {
              name: contacts[index]!.name,
              phone: contacts[index]!.phone,
              tags: {
                nodes: tagsOf[index]!.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((tag) => ({
                  label: tag.label,
                })),
              },
            },
            assignedTo: conversation.assignedToId
              ? { name: members.find((member) => member.id === conversation.assignedToId)!.name }
              : null,
            numberOfUnreadMessages: own.filter(
              (message) => message.direction === 'INBOUND' && message.status !== 'READ',
            ).length,
            totalMessages: 12,
            messages: {
              nodes: own.slice(2).map((message) => ({
                text: message.messageData.text,
                direction: message.direction,
                status: message.status,
                createdAt: message.createdAt.toISOString(),
              })),
            },
          };
        }),
      },
    };
  }

  it('runs the same statements for a page of 5 and a page of 50, and answers correctly', {
    timeout: 120_000,
  }, async () => {
    const org = await createOrganization(client.db);
    const dataset = await inboxDataset(org);
    const expectedStatements = [
      AUTH,
      'count Conversation', // totalCount
      // numberOfUnreadMessages and totalMessages are counters on the conversation rows: no statement.
      'page Conversation', // the page of conversations
      'page ContactTag', // every contact's tags
      'page Message', // every conversation's last 10 messages
      'rows Conversation', // the page's conversations, with their contact and assignee joined in
      // The messages and tags come with their pages: nothing under them selects a relation.
    ].sort();
    for (const n of [5, 50]) {
      const response = await client.gqlWithSql(INBOX, { n }, { as: org.owner });
      expect(dataOf(response)).toEqual(expectedInbox(dataset, n));
      expect(describeStatements(response.statements)).toEqual(expectedStatements);
    }
    // The dataset makes the counts and pages non-trivial: unread counts 0 to 3, tags 1 or 2, nobody assigned.
    const { nodes } = expectedInbox(dataset, 50).conversations;
    expect(new Set(nodes.map((node) => node.numberOfUnreadMessages))).toEqual(new Set([0, 1, 2, 3]));
    expect(new Set(nodes.map((node) => node.contact.tags.nodes.length))).toEqual(new Set([1, 2]));
    expect(nodes.some((node) => node.assignedTo === null)).toBe(true);
  });
});

describe('the contact table', () => {
  const CONTACT_TABLE = `query($n: Int!, $search: String!) {
    contacts(first: $n, filter: { search: $search }) {
      totalCount
      nodes {
        id
        name
        lists { nodes { name numberOfContacts } }
        tags { nodes { label } }
        conversations(first: 3) { totalCount }
      }
    }
  }`;

  /** 60 "Smith" contacts and 10 others, in 1 or 2 of 6 lists, with a tag and 0 to 4 conversations. */
  async function contactTableDataset(org: TestOrganization) {
    const db = client.db;
    const organizationId = org.id;
    const lists: Awaited<ReturnType<typeof createList>>[] = [];
    for (let index = 0; index < 6; index++)
      lists.push(await createList(db, organizationId, { name: `List ${index}`, createdAt: at(index) }));
    const tags: Awaited<ReturnType<typeof createTag>>[] = [];
    for (let index = 0; index < 4; index++)
      tags.push(await createTag(db, organizationId, { label: `Tag ${index}`, createdAt: at(index) }));
    const contacts = Array.from({ length: 70 }, (_, index) => ({
      id: randomUUID(),
      organizationId,
      name: index < 60 ? `Jo Smith ${pad(index)}` : `Other ${pad(index)}`,
      phone: `+1333${String(index).padStart(7, '0')}`,
      createdAt: at(10 + index),
    }));
    await db.prisma.contact.createMany({ data: contacts });
    const listsOf = contacts.map((_, index) =>
      index % 2 === 0 ? [lists[index % 6]!, lists[(index + 2) % 6]!] : [lists[index % 6]!],
    );
    await db.prisma.contactListMembership.createMany({
      data: contacts.flatMap((contact, index) =>
        listsOf[index]!.map((list) => ({ organizationId, contactId: contact.id, listId: list.id })),
      ),
    });
    await db.prisma.contactTag.createMany({
      data: contacts.map((contact, index) => ({ organizationId, contactId: contact.id, tagId: tags[index % 4]!.id })),
    });
    await db.prisma.conversation.createMany({
      data: contacts.flatMap((contact, index) =>
        Array.from({ length: index % 5 }, () => ({ organizationId, contactId: contact.id })),
      ),
    });
    return { lists, tags, contacts, listsOf };
  }

  function expectedTable(dataset: Awaited<ReturnType<typeof contactTableDataset>>, n: number) {
    const { tags, contacts, listsOf } = dataset;
    const members = (listId: string) => listsOf.filter((lists) => lists.some((list) => list.id === listId)).length;
    return {
      contacts: {
        totalCount: 60,
        nodes: contacts.slice(0, n).map((contact, index) => ({
          id: globalId('Contact', contact.id),
          name: contact.name,
          lists: {
            nodes: [...listsOf[index]!]
              .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
              .map((list) => ({ name: list.name, numberOfContacts: members(list.id) })),
          },
          tags: { nodes: [{ label: tags[index % 4]!.label }] },
          conversations: { totalCount: index % 5 },
        })),
      },
    };
  }

  it('runs the same statements for a page of 5 and a page of 50, and answers correctly', {
    timeout: 120_000,
  }, async () => {
    const org = await createOrganization(client.db);
    const dataset = await contactTableDataset(org);
    const expectedStatements = [
      AUTH,
      'count Contact', // totalCount
      // numberOfContacts is a counter on the list rows: no statement.
      'count Conversation', // conversations { totalCount } of every contact
      'page Contact', // the page of contacts
      'page ContactListMembership', // every contact's lists
      'page ContactTag', // every contact's tags
      // The contacts, lists and tags come with their pages: nothing under them selects a relation.
    ].sort();
    for (const n of [5, 50]) {
      const response = await client.gqlWithSql(CONTACT_TABLE, { n, search: 'SMITH' }, { as: org.owner });
      expect(dataOf(response)).toEqual(expectedTable(dataset, n));
      expect(describeStatements(response.statements)).toEqual(expectedStatements);
    }
  });
});

describe('nodes(ids:)', () => {
  const NODES = `query($ids: [ID!]!) {
    nodes(ids: $ids) {
      __typename id
      ... on Organization { name }
      ... on OrganizationMember { name email }
      ... on OrganizationRole { name permissions }
      ... on Contact { name phone }
      ... on List { name }
      ... on Tag { label }
      ... on Campaign { name campaignStatus: status }
      ... on Conversation { conversationStatus: status contact { name } }
      ... on Message { text conversation { id } }
    }
  }`;

  /** 100 rows of the nine node types, and what `nodes` should answer for each. */
  async function mixedDataset(org: TestOrganization) {
    const db = client.db;
    const organizationId = org.id;
    const expected: { id: string; node: Record<string, unknown> }[] = [];
    const add = (typename: string, id: string, fields: Record<string, unknown>) =>
      expected.push({
        id: globalId(typename, id),
        node: { __typename: typename, id: globalId(typename, id), ...fields },
      });

    add('Organization', organizationId, { name: org.name });
    for (let index = 0; index < 11; index++) {
      const member = await createMember(db, organizationId, { permissions: ['Get:Contact'] });
      const row = await db.prisma.organizationMember.findUniqueOrThrow({
        where: { id: member.id },
        include: { roleAssignments: { include: { role: true } } },
      });
      add('OrganizationMember', row.id, { name: row.name, email: row.email });
      const role = row.roleAssignments[0]!.role;
      add('OrganizationRole', role.id, { name: role.name, permissions: ['Get:Contact'] });
    }
    const contacts = [];
    for (let index = 0; index < 13; index++) {
      const contact = await createContact(db, organizationId);
      contacts.push(contact);
      add('Contact', contact.id, { name: contact.name, phone: contact.phone });
    }
    for (let index = 0; index < 13; index++) {
      const list = await createList(db, organizationId);
      add('List', list.id, { name: list.name });
      const tag = await createTag(db, organizationId);
      add('Tag', tag.id, { label: tag.label });
      const campaign = await createCampaign(db, organizationId, { status: 'FINISHED' });
      add('Campaign', campaign.id, { name: campaign.name, campaignStatus: 'FINISHED' });
      const conversation = await createConversation(db, organizationId, {
        contactId: contacts[index]!.id,
        status: 'RESOLVED',
      });
      add('Conversation', conversation.id, {
        conversationStatus: 'RESOLVED',
        contact: { name: contacts[index]!.name },
      });
      const [message] = await createMessages(db, organizationId, conversation.id, 1, () => ({
        messageData: { text: `hello ${index}` },
      }));
      add('Message', message!.id, {
        text: `hello ${index}`,
        conversation: { id: globalId('Conversation', conversation.id) },
      });
    }
    expect(expected).toHaveLength(101);
    // Interleave the types, round after round: the first nine ids are one of each type,
    // and no type's ids are contiguous.
    const byType = new Map<unknown, typeof expected>();
    for (const row of expected) byType.set(row.node.__typename, [...(byType.get(row.node.__typename) ?? []), row]);
    const interleaved: typeof expected = [];
    while (interleaved.length < expected.length) {
      for (const rows of byType.values()) if (rows.length > 0) interleaved.push(rows.shift()!);
    }
    return interleaved;
  }

  async function nodes(org: TestOrganization, rows: { id: string; node: unknown }[]) {
    const response = await client.gqlWithSql(NODES, { ids: rows.map((row) => row.id) }, { as: org.owner });
    expect(dataOf(response)).toEqual({ nodes: rows.map((row) => row.node) });
    return describeStatements(response.statements);
  }

  it('runs one statement per node type asked for, however many ids there are', { timeout: 120_000 }, async () => {
    const org = await createOrganization(client.db);
    const rows = await mixedDataset(org);
    const typename = (row: { node: unknown }) => (row.node as { __typename: string }).__typename;
    const onePerType = [...new Map(rows.map((row) => [typename(row), row])).values()];
    expect(onePerType).toHaveLength(9);
    const everyType = [
      AUTH,
      'rows Campaign',
      'rows Contact',
      'rows ContactList',
      'rows Conversation', // with its contact joined in
      'rows Message', // with its conversation joined in
      'rows Organization',
      'rows OrganizationMember',
      'rows OrganizationRole',
      'rows Tag',
    ].sort();
    expect(await nodes(org, onePerType)).toEqual(everyType);
    expect(await nodes(org, rows.slice(0, 50))).toEqual(everyType);
    expect(await nodes(org, rows.slice(0, 100))).toEqual(everyType);

    // Five types: five statements (and the key's), for 5 ids as for 50.
    const fiveTypes = rows.filter((row) =>
      ['Contact', 'List', 'Tag', 'Conversation', 'Message'].includes(typename(row)),
    );
    const fiveStatements = [
      AUTH,
      'rows Contact',
      'rows ContactList',
      'rows Conversation',
      'rows Message',
      'rows Tag',
    ].sort();
    expect(await nodes(org, [...new Map(fiveTypes.map((row) => [typename(row), row])).values()])).toEqual(
      fiveStatements,
    );
    expect(await nodes(org, fiveTypes.slice(0, 50))).toEqual(fiveStatements);
  });
});

describe('rows read by messages(last: 10) under 50 conversations', () => {
  interface PlanNode {
    'Node Type': string;
    'Relation Name'?: string;
    'Actual Rows': number;
    'Actual Loops': number;
    'Rows Removed by Filter'?: number;
    'Rows Removed by Index Recheck'?: number;
    Plans?: PlanNode[];
  }

  /**
   * Rows of "Message" that the plan's scans read: what they returned plus what their
   * filters threw away, over all their loops (EXPLAIN reports both per loop).
   */
  function messageRowsRead(node: PlanNode): number {
    const own =
      node['Relation Name'] === 'Message'
        ? (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) *
          node['Actual Loops']
        : 0;
    return own + (node.Plans ?? []).reduce((sum, child) => sum + messageRowsRead(child), 0);
  }

  async function explainAnalyze(statement: Prisma.Sql): Promise<PlanNode> {
    const [row] = await client.db.prisma.$queryRaw<{ 'QUERY PLAN': unknown }[]>(
      Prisma.sql`EXPLAIN (ANALYZE, FORMAT JSON) ${statement}`,
    );
    const plan = row!['QUERY PLAN'];
    return (typeof plan === 'string' ? JSON.parse(plan) : plan)[0].Plan;
  }

  const normalize = (sql: string) => sql.replace(/\s+/g, ' ').trim();

  it('stay proportional to 50 × 10, not to the 10,000 messages the conversations hold', {
    timeout: 120_000,
  }, async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversations = Array.from({ length: 50 }, (_, index) => ({
      id: randomUUID(),
      organizationId: org.id,
      contactId: contact.id,
      createdAt: at(index),
      messages: Array.from({ length: 200 }, (_, position) => ({
        id: randomUUID(),
        organizationId: org.id,
        direction: 'INBOUND' as const,
        status: 'READ' as const,
        messageType: 'TEXT' as const,
        createdAt: at(1_000 + position),
      })),
    }));
    await client.db.prisma.conversation.createMany({
      data: conversations.map(({ messages: _messages, ...conversation }) => conversation),
    });
    const messages = conversations.flatMap((conversation) =>
      conversation.messages.map((message) => ({ ...message, conversationId: conversation.id })),
    );
    for (let offset = 0; offset < messages.length; offset += 2_500) {
      await client.db.prisma.message.createMany({ data: messages.slice(offset, offset + 2_500) });
    }
    // Statistics, as autovacuum keeps them on a live database (PGlite has no autovacuum).
    await client.db.prisma.$executeRawUnsafe('ANALYZE "Message"');

    const response = await client.gqlWithSql(
      `{ conversations(first: 50) { nodes { id messages(last: 10) { nodes { id } } } } }`,
      undefined,
      { as: org.owner },
    );
    expect(dataOf(response).conversations.nodes).toEqual(
      conversations.map((conversation) => ({
        id: globalId('Conversation', conversation.id),
        messages: {
          nodes: conversation.messages.slice(-10).map((message) => ({ id: globalId('Message', message.id) })),
        },
      })),
    );

    // The statement the request ran for the messages, rebuilt with its parameters (the
    // recorder keeps the text only), and checked to be exactly that text.
    const pages = response.statements.filter((sql) => /FROM "Message" t/.test(sql) && /o\."hasBefore"/.test(sql));
    expect(pages).toHaveLength(1);
    const query = {
      table: conversationMessages.table,
      conditions: [],
      ordering: conversationMessages.orderings[conversationMessages.defaultOrdering]!,
      backward: true,
    };
    const parents = conversations.map((conversation) => conversation.id);
    const statement = tenantStatement(org.id, (organization) => pageSql({ ...query, size: 10 }, organization, parents));
    expect(normalize(statement.text)).toBe(normalize(pages[0]!));

    const plan = await explainAnalyze(statement);
    const read = messageRowsRead(plan);
    expect(read).toBeGreaterThanOrEqual(500);
    expect(read).toBeLessThanOrEqual(50 * 11); // each conversation's page, plus the one row that tells hasPreviousPage

    // The measurement can tell: the same statement with a per-parent limit that never
    // binds reads every message of the 50 conversations.
    const unlimited = await explainAnalyze(
      tenantStatement(org.id, (organization) => pageSql({ ...query, size: 1_000_000 }, organization, parents)),
    );
    expect(messageRowsRead(unlimited)).toBeGreaterThanOrEqual(10_000);
  });
});
