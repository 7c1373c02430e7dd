// Tenant isolation: nothing of another organization is ever read, changed, or revealed to
// exist, through the API or the data layer under it.
// - Everything one organization can reach: two organizations with the same shape of data; each
//   reads everything reachable (root connections, nested connections, relations, counts,
//   filters, node(id)) and sees exactly its own rows.
// - Every id-taking argument of every query and mutation, given another organization's ids:
//   reads come back empty or null, writes answer NOT_FOUND (exactly as for an id that exists
//   nowhere) and leave the other organization untouched.
// - Through the API and the data layer: lists and filters, the tenant-scoped client, and the
//   database's composite foreign keys.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { tenantClient } from '../src/db/tenant.js';
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
  uniquePhone,
} from './helpers/factories.js';

describe('everything one organization can reach', () => {
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
      await db.prisma.contactListMembership.create({
        data: { organizationId, listId: list.id, contactId: contact.id },
      });
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
      expect(
        data.conversations.nodes[0].messages.nodes.map((message: { replyTo: unknown }) => message.replyTo),
      ).toEqual([null, null, null]);
      expect(data.node).toEqual({ campaign: null, assignedTo: null });
      expect(data.message).toEqual({ replyTo: null });
    });
  });
});

describe('every id-taking argument, given another organization’s ids', () => {
  let client: TestClient;
  let a: TestOrganization;
  let b: TestOrganization;
  /** Global ids of organization B's rows (the "foreign" ids). */
  let foreign: Record<
    'contact' | 'list' | 'tag' | 'campaign' | 'conversation' | 'message' | 'member' | 'apiKey',
    string
  >;
  /** Global ids of organization A's own rows, to combine with foreign ones. */
  let own: { contact: string; list: string; conversation: string };
  /** Ids of the same types that exist nowhere: what a foreign id must be indistinguishable from. */
  let missing: typeof foreign;
  const SECRET = 'Secret of B';

  beforeAll(async () => {
    client = await createTestClient();
    a = await createOrganization(client.db, 'Tenant A');
    b = await createOrganization(client.db, 'Tenant B');
    const db = client.db;

    const bContact = await createContact(db, b.id, { name: SECRET });
    const bList = await createList(db, b.id, { name: SECRET });
    const bTag = await createTag(db, b.id, { label: SECRET });
    const bCampaign = await createCampaign(db, b.id, { name: SECRET });
    const bConversation = await createConversation(db, b.id, {
      contactId: bContact.id,
      campaignId: bCampaign.id,
      assignedToId: b.owner.id,
    });
    const [bMessage] = await createMessages(db, b.id, bConversation.id, 2, () => ({ messageData: { text: SECRET } }));
    await db.prisma.contactListMembership.create({
      data: { organizationId: b.id, listId: bList.id, contactId: bContact.id },
    });
    await db.prisma.contactTag.create({ data: { organizationId: b.id, contactId: bContact.id, tagId: bTag.id } });
    await db.prisma.conversationTag.create({
      data: { organizationId: b.id, conversationId: bConversation.id, tagId: bTag.id },
    });
    const bKey = await db.prisma.apiKey.findFirstOrThrow({ where: { memberId: b.owner.id } });
    foreign = {
      contact: globalId('Contact', bContact.id),
      list: globalId('List', bList.id),
      tag: globalId('Tag', bTag.id),
      campaign: globalId('Campaign', bCampaign.id),
      conversation: globalId('Conversation', bConversation.id),
      message: globalId('Message', bMessage!.id),
      member: globalId('OrganizationMember', b.owner.id),
      apiKey: globalId('ApiKey', bKey.id),
    };
    missing = Object.fromEntries(
      Object.entries(foreign).map(([key, id]) => [
        key,
        globalId(Buffer.from(id, 'base64').toString().split(':')[0]!, randomUUID()),
      ]),
    ) as typeof foreign;

    const aContact = await createContact(db, a.id);
    const aConversation = await createConversation(db, a.id, { contactId: aContact.id });
    await createMessages(db, a.id, aConversation.id, 1);
    own = {
      contact: globalId('Contact', aContact.id),
      list: globalId('List', (await createList(db, a.id)).id),
      conversation: globalId('Conversation', aConversation.id),
    };
  });

  /** Everything of organization B, to compare before and after. */
  async function stateOfB(): Promise<string> {
    const where = { organizationId: b.id };
    const p = client.db.prisma;
    return JSON.stringify(
      await Promise.all([
        p.contact.findMany({ where, orderBy: { id: 'asc' } }),
        p.contactList.findMany({ where, orderBy: { id: 'asc' } }),
        p.tag.findMany({ where, orderBy: { id: 'asc' } }),
        p.campaign.findMany({ where, orderBy: { id: 'asc' } }),
        p.conversation.findMany({ where, orderBy: { id: 'asc' } }),
        p.message.findMany({ where, orderBy: { id: 'asc' } }),
        p.contactListMembership.findMany({ where, orderBy: { contactId: 'asc' } }),
        p.contactTag.findMany({ where, orderBy: { contactId: 'asc' } }),
        p.conversationTag.findMany({ where, orderBy: { conversationId: 'asc' } }),
        p.apiKey.findMany({ where, orderBy: { id: 'asc' } }),
        p.event.findMany({ where, orderBy: { id: 'asc' } }),
      ]),
      (_key, value) => (typeof value === 'bigint' ? value.toString() : value),
    );
  }

  describe('queries given another organization’s ids', () => {
    const READS: [string, () => string][] = [
      ['node', () => `{ node(id: "${foreign.contact}") { id } }`],
      [
        'nodes',
        () =>
          `{ nodes(ids: [${Object.values(foreign)
            .map((id) => `"${id}"`)
            .join(', ')}]) { id } }`,
      ],
      [
        'contacts(filter: { listId })',
        () => `{ contacts(filter: { listId: "${foreign.list}" }) { totalCount nodes { name } } }`,
      ],
      [
        'contacts(filter: { tagId })',
        () => `{ contacts(filter: { tagId: "${foreign.tag}" }) { totalCount nodes { name } } }`,
      ],
      [
        'lists(filter: { tagId })',
        () => `{ lists(filter: { tagId: "${foreign.tag}" }) { totalCount nodes { name } } }`,
      ],
      [
        'conversations(filter: { contactId })',
        () => `{ conversations(filter: { contactId: "${foreign.contact}" }) { totalCount } }`,
      ],
      [
        'conversations(filter: { campaignId })',
        () => `{ conversations(filter: { campaignId: "${foreign.campaign}" }) { totalCount } }`,
      ],
      [
        'conversations(filter: { listId })',
        () => `{ conversations(filter: { listId: "${foreign.list}" }) { totalCount } }`,
      ],
      [
        'conversations(filter: { tagId })',
        () => `{ conversations(filter: { tagId: "${foreign.tag}" }) { totalCount } }`,
      ],
      [
        'conversations(filter: { assignedToId })',
        () => `{ conversations(filter: { assignedToId: "${foreign.member}" }) { totalCount } }`,
      ],
      [
        'Contact.conversations(filter: { campaignId, tagId, listId })',
        () =>
          `{ contacts { nodes { conversations(filter: { campaignId: "${foreign.campaign}", tagId: "${foreign.tag}", listId: "${foreign.list}" }) { totalCount } } } }`,
      ],
      [
        'List.contacts(filter: { tagId, listId })',
        () =>
          `{ node(id: "${own.list}") { ... on List { contacts(filter: { tagId: "${foreign.tag}", listId: "${foreign.list}" }) { totalCount } } } }`,
      ],
    ];

    it.each(READS)('%s reveals nothing', async (_name, document) => {
      const response = await client.gql(document(), {}, { as: a.owner });
      expect(response.errors).toBeUndefined();
      const text = JSON.stringify(response.data);
      expect(text).not.toContain(SECRET);
      expect(text).not.toMatch(/"totalCount":[1-9]/);
      expect(text).not.toMatch(/"id":"/);
      // Exactly what ids that exist nowhere give.
      const nowhere = await client.gql(
        Object.entries(foreign).reduce(
          (doc, [key, id]) => doc.replaceAll(id, missing[key as keyof typeof missing]),
          document(),
        ),
        {},
        { as: a.owner },
      );
      expect(nowhere).toEqual(response);
    });
  });

  describe('mutations given another organization’s ids', () => {
    const WRITES: [string, () => string][] = [
      [
        'createContact(listIds)',
        () => `createContact(input: { name: "x", phone: "${uniquePhone()}", listIds: ["${foreign.list}"] })`,
      ],
      [
        'createContact(tagIds)',
        () => `createContact(input: { name: "x", phone: "${uniquePhone()}", tagIds: ["${foreign.tag}"] })`,
      ],
      [
        'createContacts(listIds, tagIds)',
        () =>
          `createContacts(input: { contacts: [{ name: "x", phone: "${uniquePhone()}", listIds: ["${foreign.list}"], tagIds: ["${foreign.tag}"] }] })`,
      ],
      ['updateContact(id)', () => `updateContact(input: { id: "${foreign.contact}", name: "hijacked" })`],
      ['updateContact(listIds)', () => `updateContact(input: { id: "${own.contact}", listIds: ["${foreign.list}"] })`],
      ['updateContact(tagIds)', () => `updateContact(input: { id: "${own.contact}", tagIds: ["${foreign.tag}"] })`],
      ['deleteContact(id)', () => `deleteContact(input: { id: "${foreign.contact}" })`],
      ['deleteContacts(ids)', () => `deleteContacts(input: { ids: ["${own.contact}", "${foreign.contact}"] })`],
      ['createList(tagIds)', () => `createList(input: { name: "x", tagIds: ["${foreign.tag}"] })`],
      ['updateList(id)', () => `updateList(input: { id: "${foreign.list}", name: "hijacked" })`],
      ['updateList(tagIds)', () => `updateList(input: { id: "${own.list}", tagIds: ["${foreign.tag}"] })`],
      ['deleteList(id)', () => `deleteList(input: { id: "${foreign.list}" })`],
      [
        'addContactsToList(listId)',
        () => `addContactsToList(input: { listId: "${foreign.list}", contactIds: ["${own.contact}"] })`,
      ],
      [
        'addContactsToList(contactIds)',
        () => `addContactsToList(input: { listId: "${own.list}", contactIds: ["${foreign.contact}"] })`,
      ],
      [
        'removeContactsFromList(listId)',
        () => `removeContactsFromList(input: { listId: "${foreign.list}", contactIds: ["${foreign.contact}"] })`,
      ],
      ['updateTag(id)', () => `updateTag(input: { id: "${foreign.tag}", label: "hijacked" })`],
      ['deleteTag(id)', () => `deleteTag(input: { id: "${foreign.tag}" })`],
      ['updateConversation(id)', () => `updateConversation(input: { id: "${foreign.conversation}", status: CLOSED })`],
      [
        'updateConversation(tagIds)',
        () => `updateConversation(input: { id: "${own.conversation}", tagIds: ["${foreign.tag}"] })`,
      ],
      [
        'assignConversation(id)',
        () =>
          `assignConversation(input: { id: "${foreign.conversation}", memberId: "${globalId('OrganizationMember', a.owner.id)}" })`,
      ],
      [
        'assignConversation(memberId)',
        () => `assignConversation(input: { id: "${own.conversation}", memberId: "${foreign.member}" })`,
      ],
      ['unassignConversation(id)', () => `unassignConversation(input: { id: "${foreign.conversation}" })`],
      ['markConversationRead(id)', () => `markConversationRead(input: { id: "${foreign.conversation}" })`],
      [
        'sendMessage(conversationId)',
        () => `sendMessage(input: { conversationId: "${foreign.conversation}", text: "hi" })`,
      ],
      [
        'sendMessage(replyToId)',
        () =>
          `sendMessage(input: { conversationId: "${own.conversation}", text: "hi", replyToId: "${foreign.message}" })`,
      ],
      ['revokeApiKey(id)', () => `revokeApiKey(input: { id: "${foreign.apiKey}" })`],
    ];

    it.each(WRITES)(
      '%s answers NOT_FOUND, as for an id that exists nowhere, and changes nothing',
      async (name, call) => {
        const field = name.slice(0, name.indexOf('('));
        const before = await stateOfB();
        const response = await client.gql(
          `mutation { ${call()} { userErrors { field message code } } }`,
          {},
          { as: a.owner },
        );
        expect(response.errors).toBeUndefined();
        const { userErrors } = response.data![field] as {
          userErrors: { field: string[]; message: string; code: string }[];
        };
        expect(userErrors.length).toBeGreaterThan(0);
        expect(userErrors.every((error) => error.code === 'NOT_FOUND')).toBe(true);
        expect(JSON.stringify(response)).not.toContain(SECRET);
        expect(await stateOfB()).toBe(before);

        // The same call with ids that exist nowhere gets the same errors, but for the ids in the messages.
        let nowhere = call();
        for (const [key, id] of Object.entries(foreign))
          nowhere = nowhere.replaceAll(id, missing[key as keyof typeof missing]);
        const comparison = await client.gql(
          `mutation { ${nowhere} { userErrors { field code } } }`,
          {},
          { as: a.owner },
        );
        expect(comparison.data?.[field].userErrors).toEqual(
          userErrors.map(({ field: path, code }) => ({ field: path, code })),
        );
      },
    );

    it('removeContactsFromList with another organization’s contacts answers NOT_FOUND and removes nothing of theirs', async () => {
      const before = await stateOfB();
      const response = await client.gql(
        `mutation { removeContactsFromList(input: { listId: "${own.list}", contactIds: ["${foreign.contact}"] }) { userErrors { field code } } }`,
        {},
        { as: a.owner },
      );
      expect(response.data?.removeContactsFromList.userErrors).toEqual([
        { field: ['input', 'contactIds', '0'], code: 'NOT_FOUND' },
      ]);
      expect(await stateOfB()).toBe(before);
    });
  });
});

describe('through the API and the data layer', () => {
  let client: TestClient;
  let a: TestOrganization;
  let b: TestOrganization;
  const contactsOf: Record<string, string[]> = {};

  beforeAll(async () => {
    client = await createTestClient();
    a = await createOrganization(client.db, 'Tenant A');
    b = await createOrganization(client.db, 'Tenant B');
    for (const org of [a, b]) {
      contactsOf[org.id] = [];
      for (let i = 0; i < (org === a ? 3 : 4); i++) {
        contactsOf[org.id]!.push((await createContact(client.db, org.id, { name: `${org.name} contact ${i}` })).id);
      }
    }
  });

  describe('tenant isolation through the API', () => {
    it('lists only the viewer’s organization’s contacts, with its own totalCount', async () => {
      for (const [org, count] of [
        [a, 3],
        [b, 4],
      ] as const) {
        const response = await client.gql(
          `{ contacts(first: 50) { totalCount nodes { id name } } }`,
          {},
          { as: org.owner },
        );
        expect(response.data?.contacts.totalCount).toBe(count);
        expect(response.data?.contacts.nodes.map((node: { id: string }) => node.id)).toEqual(
          contactsOf[org.id]!.map((id) => globalId('Contact', id)),
        );
      }
    });

    it('matches nothing when filtering by another organization’s list', async () => {
      const list = await createList(client.db, b.id);
      await client.db.prisma.contactListMembership.create({
        data: { organizationId: b.id, listId: list.id, contactId: contactsOf[b.id]![0]! },
      });
      const query = `query($listId: ID!) { contacts(filter: { listId: $listId }) { totalCount nodes { id } } }`;
      const asA = await client.gql(query, { listId: globalId('List', list.id) }, { as: a.owner });
      expect(asA.data?.contacts).toEqual({ totalCount: 0, nodes: [] });
      const asB = await client.gql(query, { listId: globalId('List', list.id) }, { as: b.owner });
      expect(asB.data?.contacts.totalCount).toBe(1);
    });
  });

  describe('the tenant-scoped client (src/db/tenant.ts)', () => {
    it('cannot read, change or delete another organization’s rows, whatever the where says', async () => {
      const scoped = tenantClient(client.db.prisma, a.id);
      const foreign = contactsOf[b.id]![1]!;
      expect(await scoped.contact.findUnique({ where: { id: foreign } })).toBeNull();
      expect(await scoped.contact.findMany({ where: { organizationId: b.id } })).toEqual([]);
      expect(await scoped.contact.count({ where: { id: foreign } })).toBe(0);
      expect((await scoped.contact.updateMany({ where: { id: foreign }, data: { name: 'hijacked' } })).count).toBe(0);
      await expect(scoped.contact.update({ where: { id: foreign }, data: { name: 'hijacked' } })).rejects.toThrow();
      expect((await scoped.contact.deleteMany({ where: { id: foreign } })).count).toBe(0);
      expect(await scoped.organization.findUnique({ where: { id: b.id } })).toBeNull();
      const untouched = await client.db.prisma.contact.findUniqueOrThrow({ where: { id: foreign } });
      expect(untouched.name).toBe('Tenant B contact 1');
    });

    it('creates rows in the viewer’s organization even when told otherwise, and never moves them', async () => {
      const scoped = tenantClient(client.db.prisma, a.id);
      const created = await scoped.contact.create({
        data: { organizationId: b.id, name: 'Sneaky', phone: '+15550000001' },
      });
      expect(created.organizationId).toBe(a.id);
      const moved = await scoped.contact.update({ where: { id: created.id }, data: { organizationId: b.id } });
      expect(moved.organizationId).toBe(a.id);
    });

    it('refuses a link between rows of two organizations at the database (composite foreign keys)', async () => {
      const list = await createList(client.db, a.id);
      await expect(
        client.db.prisma.contactListMembership.create({
          data: { organizationId: a.id, listId: list.id, contactId: contactsOf[b.id]![0]! },
        }),
      ).rejects.toThrow();
    });
  });

  describe('optional relations', () => {
    it('cannot point at another organization’s campaign, member or message either', async () => {
      const db = client.db.prisma;
      const contact = await createContact(client.db, a.id);
      const foreignCampaign = await db.campaign.create({ data: { organizationId: b.id, name: 'B campaign' } });
      await expect(
        db.conversation.create({
          data: { organizationId: a.id, contactId: contact.id, campaignId: foreignCampaign.id },
        }),
      ).rejects.toThrow();
      await expect(
        db.conversation.create({ data: { organizationId: a.id, contactId: contact.id, assignedToId: b.owner.id } }),
      ).rejects.toThrow();
      const conversationOfB = await db.conversation.create({
        data: { organizationId: b.id, contactId: contactsOf[b.id]![0]! },
      });
      const messageOfB = await db.message.create({
        data: {
          organizationId: b.id,
          conversationId: conversationOfB.id,
          direction: 'INBOUND',
          status: 'READ',
          messageType: 'TEXT',
        },
      });
      const conversation = await db.conversation.create({ data: { organizationId: a.id, contactId: contact.id } });
      await expect(
        db.message.create({
          data: {
            organizationId: a.id,
            conversationId: conversation.id,
            replyToId: messageOfB.id,
            direction: 'OUTBOUND',
            status: 'SENT',
            messageType: 'TEXT',
          },
        }),
      ).rejects.toThrow();
    });

    it('deleting the campaign or member a conversation points at only clears that link', async () => {
      const db = client.db.prisma;
      const contact = await createContact(client.db, a.id);
      const campaign = await db.campaign.create({ data: { organizationId: a.id, name: 'Doomed' } });
      const member = await db.organizationMember.create({
        data: { organizationId: a.id, name: 'Leaving', email: `leaving-${Date.now()}@a.example` },
      });
      const conversation = await db.conversation.create({
        data: { organizationId: a.id, contactId: contact.id, campaignId: campaign.id, assignedToId: member.id },
      });
      await db.campaign.delete({ where: { id: campaign.id } });
      await db.organizationMember.delete({ where: { id: member.id } });
      const after = await db.conversation.findUniqueOrThrow({ where: { id: conversation.id } });
      expect([after.organizationId, after.campaignId, after.assignedToId]).toEqual([a.id, null, null]);
    });
  });
});
