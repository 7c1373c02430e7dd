// updateConversation, assignConversation, unassignConversation, markConversationRead:
// through the API, on a real database, read back through the read API.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { failInsertsWhere } from './helpers/failures.js';
import {
  createContact,
  createConversation,
  createMember,
  createMessages,
  createOrganization,
  createTag,
  type TestMember,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const CONVERSATION = `id status lastMessageAt numberOfUnreadMessages totalMessages
  assignedTo { id name }
  tags(first: 50) { nodes { id } }`;
const ERRORS = `userErrors { field message code }`;
const MUTATIONS = {
  updateConversation: `mutation($input: UpdateConversationInput!) { updateConversation(input: $input) { conversation { ${CONVERSATION} } ${ERRORS} } }`,
  assignConversation: `mutation($input: AssignConversationInput!) { assignConversation(input: $input) { conversation { ${CONVERSATION} } ${ERRORS} } }`,
  unassignConversation: `mutation($input: UnassignConversationInput!) { unassignConversation(input: $input) { conversation { ${CONVERSATION} } ${ERRORS} } }`,
  markConversationRead: `mutation($input: MarkConversationReadInput!) { markConversationRead(input: $input) { conversation { ${CONVERSATION} } ${ERRORS} } }`,
};

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}
type Payload = { conversation: any; userErrors: UserError[] };

async function mutate(name: keyof typeof MUTATIONS, input: Record<string, unknown>, as: TestMember): Promise<Payload> {
  const response = await client.gql(MUTATIONS[name], { input }, { as });
  expect(response.errors).toBeUndefined();
  return response.data![name];
}

async function readConversation(id: string, as: TestMember) {
  const response = await client.gql(
    `query($id: ID!) { node(id: $id) { ... on Conversation { ${CONVERSATION} } } }`,
    { id },
    { as },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.node;
}

function onlyError(payload: { userErrors: UserError[] }) {
  expect(payload.userErrors).toHaveLength(1);
  const [{ field, code, message }] = payload.userErrors as [UserError];
  expect(message).not.toBe('');
  return { field, code };
}

const ids = (connection: { nodes: { id: string }[] }) => connection.nodes.map((node) => node.id).sort();

/**
 * The dataset of one test: an organization with an agent, tags and a CLOSED conversation
 * last changed long ago, with messages in both directions; another organization's rows.
 */
async function world() {
  const db = client.db;
  const org = await createOrganization(db);
  const other = await createOrganization(db);
  const agent = await createMember(db, org.id, { name: 'Agent Smith' });
  const tags = await Promise.all([1, 2, 3].map(() => createTag(db, org.id)));
  const contact = await createContact(db, org.id);
  const longAgo = new Date('2020-01-01T00:00:00.000Z');
  const conversation = await createConversation(db, org.id, {
    contactId: contact.id,
    status: 'CLOSED',
    lastMessageAt: longAgo,
    createdAt: longAgo,
    updatedAt: longAgo,
  });
  const statuses = ['SENT', 'DELIVERED', 'READ', 'FAILED', 'UNDELIVERED'] as const;
  // Inbound messages of every status, then outbound ones that are not READ.
  await createMessages(db, org.id, conversation.id, 8, (index) =>
    index < 5 ? { direction: 'INBOUND', status: statuses[index]! } : { direction: 'OUTBOUND', status: 'DELIVERED' },
  );
  const otherConversation = await createConversation(db, org.id, { contactId: contact.id });
  await createMessages(db, org.id, otherConversation.id, 2, () => ({ direction: 'INBOUND', status: 'DELIVERED' }));

  const foreignContact = await createContact(db, other.id);
  const foreignConversation = await createConversation(db, other.id, { contactId: foreignContact.id });
  const foreignTag = await createTag(db, other.id);
  return {
    org,
    owner: org.owner,
    agent: { ...agent, globalId: globalId('OrganizationMember', agent.id) },
    tagIds: tags.map((tag) => globalId('Tag', tag.id)),
    rawTagIds: tags.map((tag) => tag.id),
    conversation: { ...conversation, globalId: globalId('Conversation', conversation.id) },
    otherConversation: { ...otherConversation, globalId: globalId('Conversation', otherConversation.id) },
    foreign: {
      conversationId: globalId('Conversation', foreignConversation.id),
      rawConversationId: foreignConversation.id,
      tagId: globalId('Tag', foreignTag.id),
      memberId: globalId('OrganizationMember', other.owner.id),
    },
    row: () => db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id }, include: { tags: true } }),
  };
}
type World = Awaited<ReturnType<typeof world>>;

const NOT_FOUND_CONVERSATION = {
  'an id of another type': (w: World) => w.tagIds[0]!,
  'an id of another organization': (w: World) => w.foreign.conversationId,
  'an id that does not exist': () => globalId('Conversation', randomUUID()),
  'a string that is not an id': () => 'Q29udmVyc2F0aW9uOjQy',
};

describe('updateConversation', () => {
  it('changes the status and replaces the tags; the read API agrees; updatedAt moves', async () => {
    const w = await world();
    const before = await w.row();
    const payload = await mutate(
      'updateConversation',
      { id: w.conversation.globalId, status: 'RESOLVED', tagIds: [w.tagIds[0], w.tagIds[1]] },
      w.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.conversation).toMatchObject({ id: w.conversation.globalId, status: 'RESOLVED' });
    expect(ids(payload.conversation.tags)).toEqual([w.tagIds[0], w.tagIds[1]].sort());
    expect(await readConversation(w.conversation.globalId, w.owner)).toEqual(payload.conversation);
    const row = await w.row();
    expect(row.updatedAt.getTime()).toBeGreaterThan(row.createdAt.getTime());
    expect(row.lastMessageAt).toEqual(before.lastMessageAt);
  });

  it('leaves what is omitted (or null) unchanged; tagIds [] clears the tags', async () => {
    const w = await world();
    await mutate('updateConversation', { id: w.conversation.globalId, tagIds: [w.tagIds[0]] }, w.owner);
    const statusOnly = await mutate(
      'updateConversation',
      { id: w.conversation.globalId, status: 'ACTIVE', tagIds: null },
      w.owner,
    );
    expect(statusOnly.conversation).toMatchObject({ status: 'ACTIVE', tags: { nodes: [{ id: w.tagIds[0] }] } });
    const tagsOnly = await mutate(
      'updateConversation',
      { id: w.conversation.globalId, tagIds: [w.tagIds[2]] },
      w.owner,
    );
    expect(tagsOnly.conversation).toMatchObject({ status: 'ACTIVE', tags: { nodes: [{ id: w.tagIds[2] }] } });
    const cleared = await mutate('updateConversation', { id: w.conversation.globalId, tagIds: [] }, w.owner);
    expect(cleared.conversation).toMatchObject({ status: 'ACTIVE', tags: { nodes: [] } });
    expect(await readConversation(w.conversation.globalId, w.owner)).toEqual(cleared.conversation);
  });

  it.each(Object.entries(NOT_FOUND_CONVERSATION))(
    'refuses a conversation id that is %s as NOT_FOUND on ["input","id"]',
    async (_case, badId) => {
      const w = await world();
      const payload = await mutate('updateConversation', { id: badId(w), status: 'RESOLVED' }, w.owner);
      expect(payload.conversation).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
      const foreign = await client.db.prisma.conversation.findUniqueOrThrow({
        where: { id: w.foreign.rawConversationId },
      });
      expect(foreign.status).toBe('ACTIVE');
    },
  );

  it.each([
    ['an id of another type', (w: World) => w.conversation.globalId],
    ['an id of another organization', (w: World) => w.foreign.tagId],
    ['an id that does not exist', () => globalId('Tag', randomUUID())],
  ])('refuses a tag id that is %s as NOT_FOUND at ["input","tagIds","1"] and changes nothing', async (_case, badId) => {
    const w = await world();
    const payload = await mutate(
      'updateConversation',
      { id: w.conversation.globalId, status: 'ACTIVE', tagIds: [w.tagIds[0], badId(w)] },
      w.owner,
    );
    expect(onlyError(payload)).toEqual({ field: ['input', 'tagIds', '1'], code: 'NOT_FOUND' });
    expect(await w.row()).toMatchObject({ status: 'CLOSED', tags: [] });
  });

  it('writes nothing when the database fails half-way, after the status was changed', async () => {
    const w = await world();
    const restore = await failInsertsWhere(client.db, 'ConversationTag', 'tagId', w.rawTagIds[1]!);
    try {
      const response = await client.gql(
        MUTATIONS.updateConversation,
        { input: { id: w.conversation.globalId, status: 'RESOLVED', tagIds: [w.tagIds[0], w.tagIds[1]] } },
        { as: w.owner },
      );
      expect(response.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
    } finally {
      await restore();
    }
    const row = await w.row();
    expect(row).toMatchObject({ status: 'CLOSED', tags: [] });
    expect(row.updatedAt.toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });
});

describe('assignConversation and unassignConversation', () => {
  it('assigns a member of the organization, reassigns, and unassigns; the read API agrees', async () => {
    const w = await world();
    const assigned = await mutate(
      'assignConversation',
      { id: w.conversation.globalId, memberId: w.agent.globalId },
      w.owner,
    );
    expect(assigned.userErrors).toEqual([]);
    expect(assigned.conversation.assignedTo).toEqual({ id: w.agent.globalId, name: 'Agent Smith' });
    expect(await readConversation(w.conversation.globalId, w.owner)).toEqual(assigned.conversation);
    const mine = await client.gql(
      `query($m: ID!) { conversations(filter: { assignedToId: $m }) { nodes { id } } }`,
      { m: w.agent.globalId },
      { as: w.owner },
    );
    expect(mine.data?.conversations.nodes).toEqual([{ id: w.conversation.globalId }]);

    const ownerId = globalId('OrganizationMember', w.owner.id);
    const reassigned = await mutate('assignConversation', { id: w.conversation.globalId, memberId: ownerId }, w.owner);
    expect(reassigned.conversation.assignedTo.id).toBe(ownerId);

    const unassigned = await mutate('unassignConversation', { id: w.conversation.globalId }, w.owner);
    expect(unassigned.userErrors).toEqual([]);
    expect(unassigned.conversation.assignedTo).toBeNull();
    expect(await readConversation(w.conversation.globalId, w.owner)).toEqual(unassigned.conversation);
    expect((await w.row()).assignedToId).toBeNull();
  });

  it('leaves the status, tags and messages as they were', async () => {
    const w = await world();
    const before = await readConversation(w.conversation.globalId, w.owner);
    const payload = await mutate(
      'assignConversation',
      { id: w.conversation.globalId, memberId: w.agent.globalId },
      w.owner,
    );
    expect(payload.conversation).toEqual({ ...before, assignedTo: { id: w.agent.globalId, name: 'Agent Smith' } });
  });

  it('unassigning a conversation that is not assigned changes nothing and is no error', async () => {
    const w = await world();
    const payload = await mutate('unassignConversation', { id: w.conversation.globalId }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.conversation.assignedTo).toBeNull();
  });

  it.each([
    ['an id of another type', (w: World) => w.tagIds[0]!],
    ['a member of another organization', (w: World) => w.foreign.memberId],
    ['an id that does not exist', () => globalId('OrganizationMember', randomUUID())],
    ['a string that is not an id', () => 'nobody'],
  ])('refuses a member id that is %s as NOT_FOUND on ["input","memberId"]', async (_case, badId) => {
    const w = await world();
    const payload = await mutate('assignConversation', { id: w.conversation.globalId, memberId: badId(w) }, w.owner);
    expect(payload.conversation).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'memberId'], code: 'NOT_FOUND' });
    expect((await w.row()).assignedToId).toBeNull();
  });

  it.each(Object.entries(NOT_FOUND_CONVERSATION))(
    'refuses a conversation id that is %s as NOT_FOUND on ["input","id"]',
    async (_case, badId) => {
      const w = await world();
      const assign = await mutate('assignConversation', { id: badId(w), memberId: w.agent.globalId }, w.owner);
      expect(onlyError(assign)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
      const unassign = await mutate('unassignConversation', { id: badId(w) }, w.owner);
      expect(onlyError(unassign)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
      const foreign = await client.db.prisma.conversation.findUniqueOrThrow({
        where: { id: w.foreign.rawConversationId },
      });
      expect(foreign.assignedToId).toBeNull();
    },
  );

  it('runs assign, unassign and assign of one request in order, each payload showing its own result', async () => {
    const w = await world();
    const response = await client.gql(
      `mutation($id: ID!, $agent: ID!) {
        a: assignConversation(input: { id: $id, memberId: $agent }) { conversation { assignedTo { name } } }
        b: unassignConversation(input: { id: $id }) { conversation { assignedTo { name } } }
        c: assignConversation(input: { id: $id, memberId: $agent }) { conversation { assignedTo { name } } }
      }`,
      { id: w.conversation.globalId, agent: w.agent.globalId },
      { as: w.owner },
    );
    expect(response.data).toEqual({
      a: { conversation: { assignedTo: { name: 'Agent Smith' } } },
      b: { conversation: { assignedTo: null } },
      c: { conversation: { assignedTo: { name: 'Agent Smith' } } },
    });
  });
});

describe('markConversationRead', () => {
  const MESSAGES = `query($id: ID!) { node(id: $id) { ... on Conversation { messages(first: 50) { nodes { direction status } } } } }`;

  it('makes every inbound message that is not READ, READ; outbound messages and other conversations keep their status', async () => {
    const w = await world();
    const before = await readConversation(w.conversation.globalId, w.owner);
    expect(before.numberOfUnreadMessages).toBe(4);

    const payload = await mutate('markConversationRead', { id: w.conversation.globalId }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.conversation).toEqual({ ...before, numberOfUnreadMessages: 0 });
    expect(await readConversation(w.conversation.globalId, w.owner)).toEqual(payload.conversation);

    const messages = await client.gql(MESSAGES, { id: w.conversation.globalId }, { as: w.owner });
    expect(messages.data?.node.messages.nodes).toEqual([
      ...Array.from({ length: 5 }, () => ({ direction: 'INBOUND', status: 'READ' })),
      ...Array.from({ length: 3 }, () => ({ direction: 'OUTBOUND', status: 'DELIVERED' })),
    ]);
    const unread = await client.gql(
      `{ conversations(filter: { unread: true }) { nodes { id numberOfUnreadMessages } } }`,
      {},
      { as: w.owner },
    );
    expect(unread.data?.conversations.nodes).toEqual([{ id: w.otherConversation.globalId, numberOfUnreadMessages: 2 }]);
  });

  it('is idempotent', async () => {
    const w = await world();
    const first = await mutate('markConversationRead', { id: w.conversation.globalId }, w.owner);
    const second = await mutate('markConversationRead', { id: w.conversation.globalId }, w.owner);
    expect(second).toEqual(first);
  });

  it.each(Object.entries(NOT_FOUND_CONVERSATION))(
    'refuses a conversation id that is %s as NOT_FOUND on ["input","id"]',
    async (_case, badId) => {
      const w = await world();
      const payload = await mutate('markConversationRead', { id: badId(w) }, w.owner);
      expect(payload.conversation).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
      expect(
        await client.db.prisma.message.count({
          where: { organizationId: w.org.id, direction: 'INBOUND', status: { not: 'READ' } },
        }),
      ).toBe(6);
    },
  );
});
