// Conversation: its fields, relations, counts and connections, and the root
// `conversations` connection's filters, alone and combined.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { dataOf, errorOf, rawIds } from './helpers/connections.js';
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

describe('Conversation', () => {
  it('exposes its fields, relations, counts and connections', async () => {
    const org = await createOrganization(client.db);
    const organizationId = org.id;
    const agent = await createMember(client.db, organizationId, { name: 'Agent Ada' });
    const contact = await createContact(client.db, organizationId, { name: 'Carol' });
    const campaign = await createCampaign(client.db, organizationId, { name: 'Welcome', status: 'RUNNING' });
    const conversation = await createConversation(client.db, organizationId, {
      contactId: contact.id,
      campaignId: campaign.id,
      assignedToId: agent.id,
      status: 'CLOSED',
      initiatedBy: 'CAMPAIGN',
      createdAt: at(1),
      lastMessageAt: at(99),
    });
    // Unread = inbound and not READ, whatever else its status; outbound messages never are.
    const messages = await createMessages(client.db, organizationId, conversation.id, 7, (index) => ({
      direction: index < 5 ? 'INBOUND' : 'OUTBOUND',
      status: (['READ', 'SENT', 'DELIVERED', 'FAILED', 'UNDELIVERED', 'SENT', 'DELIVERED'] as const)[index],
      createdAt: at(10 + index),
    }));
    const tags = [
      await createTag(client.db, organizationId, { label: 'urgent', createdAt: at(2) }),
      await createTag(client.db, organizationId, { label: 'billing', createdAt: at(1) }),
    ];
    for (const tag of tags)
      await client.db.prisma.conversationTag.create({
        data: { organizationId, conversationId: conversation.id, tagId: tag.id },
      });

    const query = `query($id: ID!) { node(id: $id) { ... on Conversation {
      id status initiatedBy createdAt lastMessageAt numberOfUnreadMessages totalMessages
      contact { id name }
      campaign { id name }
      assignedTo { id name }
      tags { totalCount nodes { label } }
      messages(last: 2) { totalCount nodes { id } pageInfo { hasPreviousPage hasNextPage } }
    } } }`;
    expect(
      dataOf(await client.gql(query, { id: globalId('Conversation', conversation.id) }, { as: org.owner })).node,
    ).toEqual({
      id: globalId('Conversation', conversation.id),
      status: 'CLOSED',
      initiatedBy: 'CAMPAIGN',
      createdAt: '2026-01-01T00:00:01.000Z',
      lastMessageAt: '2026-01-01T00:01:39.000Z',
      numberOfUnreadMessages: 4,
      totalMessages: 7,
      contact: { id: globalId('Contact', contact.id), name: 'Carol' },
      campaign: { id: globalId('Campaign', campaign.id), name: 'Welcome' },
      assignedTo: { id: globalId('OrganizationMember', agent.id), name: 'Agent Ada' },
      tags: { totalCount: 2, nodes: [{ label: 'billing' }, { label: 'urgent' }] },
      messages: {
        totalCount: 7,
        nodes: messages.slice(5).map((message) => ({ id: globalId('Message', message.id) })),
        pageInfo: { hasPreviousPage: true, hasNextPage: false },
      },
    });
  });

  it('a conversation nobody wrote in yet: no campaign, no assignee, no messages, no lastMessageAt', async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    const query = `query($id: ID!) { node(id: $id) { ... on Conversation {
      status initiatedBy lastMessageAt numberOfUnreadMessages totalMessages campaign { id } assignedTo { id }
      tags { totalCount nodes { id } } messages { totalCount nodes { id } }
    } } }`;
    expect(
      dataOf(await client.gql(query, { id: globalId('Conversation', conversation.id) }, { as: org.owner })).node,
    ).toEqual({
      status: 'ACTIVE',
      initiatedBy: 'CONTACT',
      lastMessageAt: null,
      numberOfUnreadMessages: 0,
      totalMessages: 0,
      campaign: null,
      assignedTo: null,
      tags: { totalCount: 0, nodes: [] },
      messages: { totalCount: 0, nodes: [] },
    });
  });
});

describe('conversations(filter:)', () => {
  /**
   *        contact  status    assignee  tags     unread  campaign
   * one    c1 (L)   ACTIVE    ada       T1       yes     K
   * two    c2 (L)   ACTIVE    -         T1       no      -
   * three  c3       CLOSED    bo        T2       yes     -
   * four   c1 (L)   RESOLVED  -         -        no      -   (no messages)
   * five   c2 (L)   ACTIVE    ada       T1, T2   yes     K
   * six    c3       ACTIVE    bo        -        no      -   (an outbound message not yet read)
   */
  async function inboxDataset(org: TestOrganization) {
    const organizationId = org.id;
    const ada = await createMember(client.db, organizationId, { name: 'Ada' });
    const bo = await createMember(client.db, organizationId, { name: 'Bo' });
    const [c1, c2, c3] = [
      await createContact(client.db, organizationId),
      await createContact(client.db, organizationId),
      await createContact(client.db, organizationId),
    ];
    const list = await createList(client.db, organizationId);
    for (const contact of [c1!, c2!])
      await client.db.prisma.contactListMembership.create({
        data: { organizationId, listId: list.id, contactId: contact.id },
      });
    const campaign = await createCampaign(client.db, organizationId, { status: 'FINISHED' });
    const [t1, t2] = [await createTag(client.db, organizationId), await createTag(client.db, organizationId)];
    const make = async (
      second: number,
      contactId: string,
      status: 'ACTIVE' | 'CLOSED' | 'RESOLVED',
      assignee: { id: string } | null,
      tagIds: string[],
      message: 'unread' | 'read' | 'outbound' | null,
      campaignId: string | null = null,
    ) => {
      const conversation = await createConversation(client.db, organizationId, {
        contactId,
        status,
        assignedToId: assignee?.id ?? null,
        campaignId,
        createdAt: at(second),
      });
      for (const tagId of tagIds)
        await client.db.prisma.conversationTag.create({
          data: { organizationId, conversationId: conversation.id, tagId },
        });
      if (message) {
        await createMessages(client.db, organizationId, conversation.id, 1, () => ({
          direction: message === 'outbound' ? 'OUTBOUND' : 'INBOUND',
          status: message === 'read' ? 'READ' : 'DELIVERED',
        }));
      }
      return conversation.id;
    };
    const ids = {
      one: await make(1, c1!.id, 'ACTIVE', ada, [t1!.id], 'unread', campaign.id),
      two: await make(2, c2!.id, 'ACTIVE', null, [t1!.id], 'read'),
      three: await make(3, c3!.id, 'CLOSED', bo, [t2!.id], 'unread'),
      four: await make(4, c1!.id, 'RESOLVED', null, [], null),
      five: await make(5, c2!.id, 'ACTIVE', ada, [t1!.id, t2!.id], 'unread', campaign.id),
      six: await make(6, c3!.id, 'ACTIVE', bo, [], 'outbound'),
    };
    const gid = {
      c1: globalId('Contact', c1!.id),
      c2: globalId('Contact', c2!.id),
      list: globalId('List', list.id),
      campaign: globalId('Campaign', campaign.id),
      t1: globalId('Tag', t1!.id),
      t2: globalId('Tag', t2!.id),
      ada: globalId('OrganizationMember', ada.id),
      bo: globalId('OrganizationMember', bo.id),
    };
    return { ids, gid };
  }

  async function conversationsWhere(org: TestOrganization, filter: Record<string, unknown>) {
    const data = dataOf(
      await client.gql(
        `query($filter: ConversationFilter) { conversations(filter: $filter) { totalCount nodes { id } } }`,
        { filter },
        { as: org.owner },
      ),
    );
    expect(data.conversations.totalCount).toBe(data.conversations.nodes.length);
    return rawIds(data.conversations);
  }

  it('each filter alone', async () => {
    const org = await createOrganization(client.db);
    const { ids, gid } = await inboxDataset(org);
    const { one, two, three, four, five, six } = ids;
    for (const [filter, expected] of [
      [{}, [one, two, three, four, five, six]],
      [{ status: ['ACTIVE'] }, [one, two, five, six]],
      [{ status: ['CLOSED', 'RESOLVED'] }, [three, four]],
      [{ contactId: gid.c1 }, [one, four]],
      [{ campaignId: gid.campaign }, [one, five]],
      [{ listId: gid.list }, [one, two, four, five]],
      [{ tagId: gid.t1 }, [one, two, five]],
      [{ tagId: gid.t2 }, [three, five]],
      [{ assignedToId: gid.ada }, [one, five]],
      [{ assignedToId: gid.bo }, [three, six]],
      [{ unassigned: true }, [two, four]],
      [{ unassigned: false }, [one, three, five, six]],
      [{ unread: true }, [one, three, five]],
      [{ unread: false }, [two, four, six]],
    ] as const) {
      expect(await conversationsWhere(org, filter), JSON.stringify(filter)).toEqual(expected);
    }
  });

  it('the filters combined, each narrowing the others', async () => {
    const org = await createOrganization(client.db);
    const { ids, gid } = await inboxDataset(org);
    const { one, two, five } = ids;
    const mine = {
      status: ['ACTIVE'],
      listId: gid.list,
      tagId: gid.t1,
      assignedToId: gid.ada,
      unassigned: false,
      unread: true,
    };
    expect(await conversationsWhere(org, mine)).toEqual([one, five]);
    expect(await conversationsWhere(org, { ...mine, contactId: gid.c2 })).toEqual([five]);
    expect(await conversationsWhere(org, { ...mine, campaignId: gid.campaign, tagId: gid.t2 })).toEqual([five]);
    expect(await conversationsWhere(org, { ...mine, assignedToId: gid.bo })).toEqual([]);
    expect(
      await conversationsWhere(org, { status: ['ACTIVE'], listId: gid.list, unassigned: true, unread: false }),
    ).toEqual([two]);
    expect(await conversationsWhere(org, { assignedToId: gid.ada, unassigned: true })).toEqual([]);
  });

  it('the same filters on a contact’s conversations', async () => {
    const org = await createOrganization(client.db);
    const { ids, gid } = await inboxDataset(org);
    const query = `query($id: ID!, $filter: ConversationFilter) { node(id: $id) { ... on Contact { conversations(filter: $filter) { totalCount nodes { id } } } } }`;
    const ofC1 = async (filter: Record<string, unknown>) =>
      rawIds(dataOf(await client.gql(query, { id: gid.c1, filter }, { as: org.owner })).node.conversations);
    expect(await ofC1({})).toEqual([ids.one, ids.four]);
    expect(await ofC1({ unread: true })).toEqual([ids.one]);
    expect(await ofC1({ status: ['RESOLVED'], unassigned: true })).toEqual([ids.four]);
    expect(await ofC1({ contactId: gid.c2 })).toEqual([]);
  });

  it('refuses ids of the wrong type in every id filter', async () => {
    const org = await createOrganization(client.db);
    const { gid } = await inboxDataset(org);
    const query = `query($filter: ConversationFilter) { conversations(filter: $filter) { totalCount } }`;
    for (const [argument, typename, wrong] of [
      ['contactId', 'Contact', gid.list],
      ['campaignId', 'Campaign', gid.t1],
      ['listId', 'List', gid.campaign],
      ['tagId', 'Tag', gid.c1],
      ['assignedToId', 'OrganizationMember', gid.c1],
      ['assignedToId', 'OrganizationMember', 'garbage'],
    ] as const) {
      expect(errorOf(await client.gql(query, { filter: { [argument]: wrong } }, { as: org.owner }))).toEqual({
        message: `\`filter.${argument}\` must be the id of a ${typename}.`,
        code: 'BAD_USER_INPUT',
        path: ['conversations'],
      });
    }
  });
});
