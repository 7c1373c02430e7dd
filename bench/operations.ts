// The benchmark's operations: for each target the request it sends, and how a response
// is checked (errors and empty pages fail loudly) and reduced to a canonical summary,
// which the runner compares across targets to show that they returned the same data.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Fixture, TypedId } from './fixture.js';

export const TARGETS = ['wagraph', 'postgraphile', 'raw-sql'] as const;
export type TargetName = (typeof TARGETS)[number];

export const OPERATION_NAMES = ['inbox', 'contacts', 'nodes', 'chat', 'createContacts'] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

export interface HttpRequest {
  path: string;
  body: string;
}

export interface Operation {
  name: OperationName;
  title: string;
  /**
   * Per target: a factory of requests (called once per request sent, so an operation can
   * send a different body each time), or absent when the target does not run it.
   */
  requests: Partial<Record<TargetName, (fixture: Fixture) => () => HttpRequest>>;
  /** True when every request must differ (the factory is called per request). */
  varies?: boolean;
  /** Throws OperationCheckError, or returns the summary compared across targets. */
  check(target: TargetName, response: unknown, fixture: Fixture): unknown;
}

export class OperationCheckError extends Error {
  override name = 'OperationCheckError';
}

function fail(message: string): never {
  throw new OperationCheckError(message);
}

// --- helpers --------------------------------------------------------------------------------

function graphql(query: string, variables: Record<string, unknown> = {}): HttpRequest {
  return { path: '/graphql', body: JSON.stringify({ query, variables }) };
}

function constant(request: HttpRequest): () => HttpRequest {
  return () => request;
}

/** The response's `data`, or a clear error with the GraphQL errors it holds. */
function dataOf(response: unknown): Record<string, any> {
  const body = response as { data?: Record<string, any> | null; errors?: { message: string }[] };
  if (body?.errors?.length) {
    const messages = body.errors.slice(0, 3).map((error) => error.message);
    fail(
      `GraphQL errors: ${messages.join(' | ')}${body.errors.length > 3 ? ` (+${body.errors.length - 3} more)` : ''}`,
    );
  }
  if (!body?.data) fail(`no data in the response: ${JSON.stringify(response).slice(0, 300)}`);
  return body.data;
}

/** Timestamps compare as instants: the servers format them differently. */
function instant(value: unknown): string | null {
  return value == null ? null : new Date(String(value)).toISOString();
}

/** wagraph derives `text` from messageData; the peer returns messageData itself. */
function textOf(message: { text?: string | null; messageData?: { text?: string } | null }): string | null {
  return message.text !== undefined ? message.text : (message.messageData?.text ?? null);
}

function wagraphId({ type, id }: TypedId): string {
  return encodeGlobalID(type, id);
}

/** PostGraphile's node ids: base64 of [typeName, primary key]; the List type is ContactList there. */
function postgraphileId({ type, id }: TypedId): string {
  return Buffer.from(JSON.stringify([type === 'List' ? 'ContactList' : type, id])).toString('base64');
}

// --- (1) the inbox ----------------------------------------------------------------------------

const WAGRAPH_INBOX = /* GraphQL */ `
  query Inbox {
    conversations(first: 50, filter: { status: [ACTIVE] }, orderBy: { field: LAST_MESSAGE_AT, direction: DESC }) {
      totalCount
      nodes {
        contact { name phone tags { nodes { label } } }
        assignedTo { name }
        numberOfUnreadMessages
        totalMessages
        messages(last: 10) { nodes { text direction status createdAt } }
      }
    }
  }`;

// Unread = inbound and not READ; the dataset's only unread inbound status is DELIVERED,
// and a condition argument can only test equality, so the peer counts DELIVERED ones.
const POSTGRAPHILE_INBOX = /* GraphQL */ `
  query Inbox {
    conversations: allConversations(first: 50, condition: { status: ACTIVE }, orderBy: [LAST_MESSAGE_AT_DESC, ROW_ID_DESC]) {
      totalCount
      nodes {
        contact: contactByOrganizationIdAndContactId {
          name phone
          tags: contactTagsByOrganizationIdAndContactId(first: 20) { nodes { tag: tagByOrganizationIdAndTagId { label } } }
        }
        assignedTo: organizationMemberByAssignedToId { name }
        unread: messagesByOrganizationIdAndConversationId(condition: { direction: INBOUND, status: DELIVERED }) { totalCount }
        total: messagesByOrganizationIdAndConversationId { totalCount }
        messages: messagesByOrganizationIdAndConversationId(last: 10, orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) {
          nodes { messageData direction status createdAt }
        }
      }
    }
  }`;

const inbox: Operation = {
  name: 'inbox',
  title: 'inbox: 50 ACTIVE conversations by last message, contact + tags, assignee, counts, last 10 messages',
  requests: {
    wagraph: () => constant(graphql(WAGRAPH_INBOX)),
    postgraphile: () => constant(graphql(POSTGRAPHILE_INBOX)),
    'raw-sql': () => constant({ path: '/inbox', body: '{}' }),
  },
  check(target, response) {
    const connection = dataOf(response).conversations;
    const nodes: any[] = connection?.nodes ?? [];
    if (!(connection?.totalCount > 0) || nodes.length === 0) fail('the inbox is empty');
    if (nodes.length !== Math.min(50, connection.totalCount)) fail(`expected 50 conversations, got ${nodes.length}`);
    if (nodes.some((node) => !node.contact || !(node.messages?.nodes?.length > 0))) {
      fail('a conversation came back without its contact or its messages');
    }
    return {
      totalCount: connection.totalCount,
      conversations: nodes.map((node) => ({
        phone: node.contact.phone,
        tags: (node.contact.tags.nodes as any[])
          .map((tag) => (target === 'postgraphile' ? tag.tag.label : tag.label))
          .sort(),
        assignedTo: node.assignedTo?.name ?? null,
        unread: target === 'postgraphile' ? node.unread.totalCount : node.numberOfUnreadMessages,
        total: target === 'postgraphile' ? node.total.totalCount : node.totalMessages,
        messages: (node.messages.nodes as any[]).map((m) => [instant(m.createdAt), textOf(m), m.direction, m.status]),
      })),
    };
  },
};

// --- (2) the contact table ----------------------------------------------------------------------

const WAGRAPH_CONTACTS = /* GraphQL */ `
  query ContactTable($search: String!) {
    contacts(first: 50, filter: { search: $search }) {
      totalCount
      nodes {
        name phone
        lists { nodes { name numberOfContacts } }
        tags { nodes { label } }
        conversations(first: 3) { totalCount }
      }
    }
  }`;

// Nested connections get first: 20, wagraph's default page size.
const POSTGRAPHILE_CONTACTS = /* GraphQL */ `
  query ContactTable($search: String!) {
    contacts: benchPeerSearchContacts(term: $search, first: 50) {
      totalCount
      nodes {
        name phone
        lists: contactListMembershipsByOrganizationIdAndContactId(first: 20, orderBy: [CREATED_AT_ASC]) {
          nodes { list: contactListByOrganizationIdAndListId { name members: contactListMembershipsByOrganizationIdAndListId { totalCount } } }
        }
        tags: contactTagsByOrganizationIdAndContactId(first: 20) { nodes { tag: tagByOrganizationIdAndTagId { label } } }
        conversations: conversationsByOrganizationIdAndContactId(first: 3) { totalCount }
      }
    }
  }`;

const contacts: Operation = {
  name: 'contacts',
  title: 'contact table: search, 50 contacts with lists (+ member counts), tags, conversation count',
  requests: {
    wagraph: (fixture) => constant(graphql(WAGRAPH_CONTACTS, { search: fixture.contactSearch })),
    postgraphile: (fixture) => constant(graphql(POSTGRAPHILE_CONTACTS, { search: fixture.contactSearch })),
    'raw-sql': (fixture) => constant({ path: '/contacts', body: JSON.stringify({ search: fixture.contactSearch }) }),
  },
  check(target, response) {
    const connection = dataOf(response).contacts;
    const nodes: any[] = connection?.nodes ?? [];
    if (!(connection?.totalCount > 0) || nodes.length === 0) fail('the search found no contacts');
    if (!nodes.some((node) => node.lists?.nodes?.length > 0)) fail('no contact of the page is in a list');
    return {
      totalCount: connection.totalCount,
      contacts: nodes.map((node) => ({
        phone: node.phone,
        lists: (node.lists.nodes as any[])
          .map((list) =>
            target === 'postgraphile'
              ? `${list.list.name}:${list.list.members.totalCount}`
              : `${list.name}:${list.numberOfContacts}`,
          )
          .sort(),
        tags: (node.tags.nodes as any[]).map((tag) => (target === 'postgraphile' ? tag.tag.label : tag.label)).sort(),
        conversations: node.conversations.totalCount,
      })),
    };
  },
};

// --- (3) nodes(ids:) ------------------------------------------------------------------------------

const WAGRAPH_NODES = /* GraphQL */ `
  query Nodes($ids: [ID!]!) {
    nodes(ids: $ids) {
      __typename id
      ... on Organization { name }
      ... on OrganizationMember { name email }
      ... on Contact { name phone }
      ... on List { name }
      ... on Tag { label }
      ... on Campaign { name campaignStatus: status }
      ... on Conversation { conversationStatus: status lastMessageAt }
      ... on Message { text direction createdAt }
    }
  }`;

/** PostGraphile has node(id:) but no nodes(ids:): one aliased node field per id. */
function postgraphileNodes(ids: TypedId[]): string {
  const fields = ids.map((id, index) => `n${index}: node(id: ${JSON.stringify(postgraphileId(id))}) { ...Fields }`);
  return /* GraphQL */ `
    query Nodes {
      ${fields.join('\n      ')}
    }
    fragment Fields on Node {
      __typename id
      ... on Organization { name }
      ... on OrganizationMember { name email }
      ... on Contact { name phone }
      ... on ContactList { name }
      ... on Tag { label }
      ... on Campaign { name campaignStatus: status }
      ... on Conversation { conversationStatus: status lastMessageAt }
      ... on Message { messageData direction createdAt }
    }`;
}

/** What identifies a node of each type in the summary, whatever the server. */
function nodeKey(type: TypedId['type'], node: any): string {
  switch (type) {
    case 'Organization':
    case 'List':
    case 'Campaign':
      return node.name;
    case 'OrganizationMember':
      return node.email;
    case 'Contact':
      return node.phone;
    case 'Tag':
      return node.label;
    case 'Conversation':
      // Aliased in the queries: two \`status\` fields of different enum types cannot share a name.
      return `${node.conversationStatus} ${instant(node.lastMessageAt)}`;
    case 'Message':
      return `${node.direction} ${instant(node.createdAt)} ${textOf(node)}`;
  }
}

const nodes: Operation = {
  name: 'nodes',
  title:
    'nodes(ids:) of 50 mixed ids (contacts, conversations, messages, lists, tags, members, campaign, organization)',
  requests: {
    wagraph: (fixture) => constant(graphql(WAGRAPH_NODES, { ids: fixture.nodeIds.map(wagraphId) })),
    postgraphile: (fixture) => constant(graphql(postgraphileNodes(fixture.nodeIds))),
    'raw-sql': (fixture) => constant({ path: '/nodes', body: JSON.stringify({ ids: fixture.nodeIds }) }),
  },
  check(target, response, fixture) {
    const data = dataOf(response);
    const found: any[] = target === 'postgraphile' ? fixture.nodeIds.map((_, index) => data[`n${index}`]) : data.nodes;
    if (found?.length !== fixture.nodeIds.length)
      fail(`expected ${fixture.nodeIds.length} nodes, got ${found?.length}`);
    const missing = fixture.nodeIds.filter((_, index) => !found[index]);
    if (missing.length) {
      const types = [...new Set(missing.map(({ type }) => type))].join(', ');
      fail(`${missing.length} of ${fixture.nodeIds.length} ids resolved to null (types: ${types})`);
    }
    return fixture.nodeIds.map(({ type }, index) => `${type} ${nodeKey(type, found[index])}`);
  },
};

// --- (4) the deep chat view ---------------------------------------------------------------------

const WAGRAPH_CHAT = /* GraphQL */ `
  query Chat($id: ID!) {
    node(id: $id) {
      ... on Contact {
        name
        conversations(first: 5) {
          nodes {
            id status
            messages(last: 20) { nodes { id text direction status createdAt replyTo { id text } } }
          }
        }
      }
    }
  }`;

const POSTGRAPHILE_CHAT = /* GraphQL */ `
  query Chat($id: ID!) {
    node(id: $id) {
      ... on Contact {
        name
        conversations: conversationsByOrganizationIdAndContactId(first: 5, orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) {
          nodes {
            id status
            messages: messagesByOrganizationIdAndConversationId(last: 20, orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) {
              nodes { id messageData direction status createdAt replyTo: messageByReplyToId { id messageData } }
            }
          }
        }
      }
    }
  }`;

const chat: Operation = {
  name: 'chat',
  title: 'deep chat view: node(id:) Contact → 5 conversations → last 20 messages → replyTo',
  requests: {
    wagraph: (fixture) =>
      constant(graphql(WAGRAPH_CHAT, { id: wagraphId({ type: 'Contact', id: fixture.chatContactId }) })),
    postgraphile: (fixture) =>
      constant(graphql(POSTGRAPHILE_CHAT, { id: postgraphileId({ type: 'Contact', id: fixture.chatContactId }) })),
    'raw-sql': (fixture) => constant({ path: '/chat', body: JSON.stringify({ contactId: fixture.chatContactId }) }),
  },
  check(_target, response) {
    const contact = dataOf(response).node;
    if (!contact) fail('the contact resolved to null');
    const conversations: any[] = contact.conversations?.nodes ?? [];
    if (conversations.length === 0) fail('the contact has no conversations');
    if (conversations.some((conversation) => !(conversation.messages?.nodes?.length > 0))) {
      fail('a conversation came back without messages');
    }
    if (!conversations.some((conversation) => conversation.messages.nodes.some((m: any) => m.replyTo))) {
      fail('no message of the page has a replyTo');
    }
    return {
      name: contact.name,
      conversations: conversations.map((conversation) => ({
        status: conversation.status,
        messages: (conversation.messages.nodes as any[]).map((m) => [
          instant(m.createdAt),
          textOf(m),
          m.direction,
          m.status,
          m.replyTo ? (textOf(m.replyTo) ?? '(no text)') : null,
        ]),
      })),
    };
  },
};

// --- (5) createContacts -------------------------------------------------------------------------

export const CREATE_CONTACTS_BATCH = 1000;
/**
 * Bench-created contacts get phones +7 and 13 digits made of the run and a counter: no
 * seeded phone starts with +7, so the runner can delete them afterwards.
 */
export const BENCH_PHONE_PREFIX = '+7';

/**
 * 13 digits that look like a real number's: n times an odd multiplier not divisible by 5,
 * modulo 10^13, which is a bijection, so distinct (run, counter) pairs give distinct
 * phones. Sequential digits ("…000001", "…000002") would share far more trigrams than
 * real phones do, and make wagraph's trigram search index look worse than it is.
 */
function benchDigits(n: bigint): string {
  return ((n * 2_862_933_555_777_941_757n) % 10_000_000_000_000n).toString().padStart(13, '0');
}

const WAGRAPH_CREATE_CONTACTS = /* GraphQL */ `
  mutation CreateContacts($input: CreateContactsInput!) {
    createContacts(input: $input) {
      contacts { id }
      userErrors { field message code }
    }
  }`;

const createContacts: Operation = {
  name: 'createContacts',
  title: `createContacts of ${CREATE_CONTACTS_BATCH} new contacts (unique phones per request)`,
  varies: true,
  requests: {
    wagraph: () => {
      const run = BigInt(Math.floor(Date.now() / 1000) % 100_000);
      let counter = 0n;
      return () => {
        const contacts = Array.from({ length: CREATE_CONTACTS_BATCH }, () => {
          counter++;
          return {
            name: `Bench Contact ${counter}`,
            phone: `${BENCH_PHONE_PREFIX}${benchDigits(run * 100_000_000n + counter)}`,
            attributes: { source: 'bench' },
          };
        });
        return graphql(WAGRAPH_CREATE_CONTACTS, { input: { contacts } });
      };
    },
  },
  check(_target, response) {
    const payload = dataOf(response).createContacts;
    if (payload?.userErrors?.length) fail(`userErrors: ${JSON.stringify(payload.userErrors.slice(0, 3))}`);
    if (payload?.contacts?.length !== CREATE_CONTACTS_BATCH) {
      fail(`expected ${CREATE_CONTACTS_BATCH} contacts, got ${payload?.contacts?.length}`);
    }
    return null;
  },
};

export const OPERATIONS: readonly Operation[] = [inbox, contacts, nodes, chat, createContacts];
