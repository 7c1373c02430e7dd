// Nothing of another organization is ever returned: not through a root connection, a
// nested connection, a relation, a count, a filter or node(id). Each test builds two
// organizations with the same shape of data and reads everything reachable as one of them.
import { describe, expect, it, beforeAll } from 'vitest';
import { DEFAULT_LIMITS } from '../src/plugins/limits.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { dataOf, rawId } from './helpers/connections.js';
import {
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
  // One document reaches every root field, nested connection and relation at once: far
  // more than the page-cost limit lets a client ask for in one request.
  client = await createTestClient({ limits: { ...DEFAULT_LIMITS, maxCost: 10_000_000, maxDepth: 30 } });
});

/** An organization with one of everything, linked every way the data model allows; returns every raw id it holds. */
async function populate(org: TestOrganization) {
  const db = client.db;
  const organizationId = org.id;
  const member = await createMember(db, organizationId, { permissions: ['Get:Contact'] });
  const role = await db.prisma.roleAssignment.findFirstOrThrow({ where: { memberId: member.id } });
  const contacts = [await createContact(db, organizationId), await createContact(db, organizationId)];
  const list = await createList(db, organizationId);
  const tag = await createTag(db, organizationId);
  const campaign = await createCampaign(db, organizationId, { status: 'RUNNING' });
  await db.prisma.campaignList.create({ data: { organizationId, campaignId: campaign.id, listId: list.id } });
  await db.prisma.listTag.create({ data: { organizationId, listId: list.id, tagId: tag.id } });
  for (const contact of contacts) {
    await db.prisma.contactListMembership.create({ data: { organizationId, listId: list.id, contactId: contact.id } });
    await db.prisma.contactTag.create({ data: { organizationId, contactId: contact.id, tagId: tag.id } });
  }
  const conversations = [
    await createConversation(db, organizationId, {
      contactId: contacts[0]!.id,
      campaignId: campaign.id,
      assignedToId: member.id,
      lastMessageAt: new Date(),
    }),
    await createConversation(db, organizationId, { contactId: contacts[1]!.id }),
  ];
  await db.prisma.conversationTag.create({
    data: { organizationId, conversationId: conversations[0]!.id, tagId: tag.id },
  });
  const messages = await createMessages(db, organizationId, conversations[0]!.id, 3, (index) => ({
    direction: index === 1 ? 'OUTBOUND' : 'INBOUND',
    status: index === 2 ? 'DELIVERED' : 'READ',
  }));
  await db.prisma.message.update({ where: { id: messages[2]!.id }, data: { replyToId: messages[1]!.id } });
  const ids = new Set([
    organizationId,
    org.owner.id,
    member.id,
    role.roleId,
    ...contacts.map((contact) => contact.id),
    list.id,
    tag.id,
    campaign.id,
    ...conversations.map((conversation) => conversation.id),
    ...messages.map((message) => message.id),
  ]);
  return { ids, member, contacts, list, tag, campaign, conversations, messages };
}

const CONTACT_FIELDS = `id name
  lists { totalCount nodes { id numberOfContacts numberOfCampaignsSent tags { totalCount nodes { id } } contacts { totalCount nodes { id } } } }
  tags { totalCount nodes { id contacts { totalCount nodes { id } } } }
  conversations { totalCount nodes { id } }`;

const CONVERSATION_FIELDS = `id numberOfUnreadMessages totalMessages
  contact { id }
  campaign { id }
  assignedTo { id roles { id } }
  tags { totalCount nodes { id } }
  messages { totalCount nodes { id conversation { id } replyTo { id conversation { id } } } }`;

/** Everything the API can reach, from every root field. */
const EVERYTHING = `{
  viewer { member { id roles { id } } organization { id } }
  members { totalCount nodes { id roles { id } } }
  contacts { totalCount nodes { ${CONTACT_FIELDS} } }
  lists { totalCount nodes { id contacts { totalCount nodes { ${CONTACT_FIELDS} } } } }
  tags { totalCount nodes { id contacts { totalCount nodes { id } } } }
  campaigns { totalCount nodes { id } }
  conversations { totalCount nodes { ${CONVERSATION_FIELDS} } }
}`;

/** Every global id anywhere in a response, as raw ids. */
function idsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) idsIn(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'id' && typeof item === 'string') found.push(rawId(item));
      else idsIn(item, found);
    }
  }
  return found;
}

describe('two organizations with the same data', () => {
  it('each sees exactly its own rows and counts, through every root field, nested connection and relation', async () => {
    const a = await createOrganization(client.db);
    const b = await createOrganization(client.db);
    const ofA = await populate(a);
    const ofB = await populate(b);
    for (const [org, own] of [
      [a, ofA],
      [b, ofB],
    ] as const) {
      const data = dataOf(await client.gql(EVERYTHING, {}, { as: org.owner }));
      const seen = new Set(idsIn(data));
      expect(seen).toEqual(own.ids);
      expect(data.contacts.totalCount).toBe(2);
      expect(data.members.totalCount).toBe(2);
      expect(data.conversations.totalCount).toBe(2);
      expect(data.lists.nodes[0].contacts.totalCount).toBe(2);
      expect(data.contacts.nodes[0].lists.nodes[0]).toMatchObject({ numberOfContacts: 2, numberOfCampaignsSent: 1 });
      expect(data.conversations.nodes[0]).toMatchObject({ numberOfUnreadMessages: 1, totalMessages: 3 });
    }
  });

  it('resolves the other organization’s ids to null in node and nodes, whatever their type', async () => {
    const a = await createOrganization(client.db);
    const b = await createOrganization(client.db);
    await populate(a);
    const ofB = await populate(b);
    const foreign = [
      globalId('Organization', b.id),
      globalId('OrganizationMember', ofB.member.id),
      globalId('Contact', ofB.contacts[0]!.id),
      globalId('List', ofB.list.id),
      globalId('Tag', ofB.tag.id),
      globalId('Campaign', ofB.campaign.id),
      globalId('Conversation', ofB.conversations[0]!.id),
      globalId('Message', ofB.messages[0]!.id),
    ];
    const response = await client.gql(
      `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
      { ids: foreign },
      { as: a.owner },
    );
    expect(dataOf(response)).toEqual({ nodes: foreign.map(() => null) });
    for (const id of foreign) {
      expect(dataOf(await client.gql(`query($id: ID!) { node(id: $id) { id } }`, { id }, { as: a.owner }))).toEqual({
        node: null,
      });
    }
  });

  it('matches nothing when a filter names the other organization’s rows', async () => {
    const a = await createOrganization(client.db);
    const b = await createOrganization(client.db);
    const ofA = await populate(a);
    const ofB = await populate(b);
    const response = await client.gql(
      `query($listId: ID!, $tagId: ID!, $contactId: ID!, $campaignId: ID!, $memberId: ID!, $listNode: ID!, $contactNode: ID!) {
        byList: contacts(filter: { listId: $listId }) { totalCount nodes { id } }
        byTag: contacts(filter: { tagId: $tagId }) { totalCount nodes { id } }
        listsByTag: lists(filter: { tagId: $tagId }) { totalCount nodes { id } }
        byContact: conversations(filter: { contactId: $contactId }) { totalCount nodes { id } }
        byCampaign: conversations(filter: { campaignId: $campaignId }) { totalCount nodes { id } }
        byConversationList: conversations(filter: { listId: $listId }) { totalCount nodes { id } }
        byConversationTag: conversations(filter: { tagId: $tagId }) { totalCount nodes { id } }
        byAssignee: conversations(filter: { assignedToId: $memberId }) { totalCount nodes { id } }
        ownList: node(id: $listNode) { ... on List { contacts(filter: { tagId: $tagId }) { totalCount nodes { id } } } }
        ownContact: node(id: $contactNode) { ... on Contact { conversations(filter: { campaignId: $campaignId }) { totalCount nodes { id } } } }
      }`,
      {
        listId: globalId('List', ofB.list.id),
        tagId: globalId('Tag', ofB.tag.id),
        contactId: globalId('Contact', ofB.contacts[0]!.id),
        campaignId: globalId('Campaign', ofB.campaign.id),
        memberId: globalId('OrganizationMember', ofB.member.id),
        listNode: globalId('List', ofA.list.id),
        contactNode: globalId('Contact', ofA.contacts[0]!.id),
      },
      { as: a.owner },
    );
    const data = dataOf(response);
    const empty = { totalCount: 0, nodes: [] };
    expect(data).toEqual({
      byList: empty,
      byTag: empty,
      listsByTag: empty,
      byContact: empty,
      byCampaign: empty,
      byConversationList: empty,
      byConversationTag: empty,
      byAssignee: empty,
      ownList: { contacts: empty },
      ownContact: { conversations: empty },
    });
  });
});

describe('links through plain foreign keys', () => {
  // A conversation's campaign and assignee and a message's replyTo are optional relations,
  // which Prisma declares on one column (it cannot null half of a composite key): keeping
  // them inside the organization takes hand-written composite keys, or a check where they
  // are read. Rows may be written by more than the write API (an import, WapiKit itself, a
  // bug). Whichever layer stops it, the database refusing such a link or the read API
  // refusing to follow it, another organization's row must never come back.
  it('never return the other organization’s campaign, member or message', async () => {
    const a = await createOrganization(client.db);
    const b = await createOrganization(client.db);
    const ofA = await populate(a);
    const ofB = await populate(b);
    const [conversation] = ofA.conversations;
    const links = [
      () =>
        client.db.prisma.conversation.update({
          where: { id: conversation!.id },
          data: { campaignId: ofB.campaign.id },
        }),
      () =>
        client.db.prisma.conversation.update({
          where: { id: conversation!.id },
          data: { assignedToId: ofB.member.id },
        }),
      () =>
        client.db.prisma.message.update({
          where: { id: ofA.messages[2]!.id },
          data: { replyToId: ofB.messages[0]!.id },
        }),
    ];
    const accepted: boolean[] = [];
    for (const link of links)
      accepted.push(
        await link().then(
          () => true,
          () => false,
        ),
      );
    // The database refuses all three links (composite foreign keys): nothing to follow.
    if (accepted.every((linked) => !linked)) return;
    expect(accepted).toEqual([true, true, true]);

    const query = `query($id: ID!, $message: ID!) {
      conversations { nodes { id campaign { id name } assignedTo { id name email } messages { nodes { id replyTo { id text } } } } }
      node(id: $id) { ... on Conversation { campaign { id } assignedTo { id } } }
      message: node(id: $message) { ... on Message { replyTo { id } } }
    }`;
    const data = dataOf(
      await client.gql(
        query,
        { id: globalId('Conversation', conversation!.id), message: globalId('Message', ofA.messages[2]!.id) },
        { as: a.owner },
      ),
    );
    for (const id of idsIn(data)) expect(ofA.ids).toContain(id);
    expect(data.conversations.nodes[0]).toMatchObject({ campaign: null, assignedTo: null });
    expect(data.conversations.nodes[0].messages.nodes.map((message: { replyTo: unknown }) => message.replyTo)).toEqual([
      null,
      null,
      null,
    ]);
    expect(data.node).toEqual({ campaign: null, assignedTo: null });
    expect(data.message).toEqual({ replyTo: null });
  });
});
