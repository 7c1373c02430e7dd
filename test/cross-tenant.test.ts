// The cross-tenant battery: every id-taking argument of every query and mutation, given
// another organization's ids. Nothing of that organization may be read, changed, or
// revealed to exist: reads come back empty or null, writes answer NOT_FOUND (exactly as
// for an id that does not exist anywhere) and leave the other organization untouched.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import {
  createCampaign,
  createContact,
  createConversation,
  createList,
  createMessages,
  createOrganization,
  createTag,
  type TestOrganization,
  uniquePhone,
} from './helpers/factories.js';

let client: TestClient;
let a: TestOrganization;
let b: TestOrganization;
/** Global ids of organization B's rows (the "foreign" ids). */
let foreign: Record<'contact' | 'list' | 'tag' | 'campaign' | 'conversation' | 'message' | 'member' | 'apiKey', string>;
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
    ]),
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
    ['lists(filter: { tagId })', () => `{ lists(filter: { tagId: "${foreign.tag}" }) { totalCount nodes { name } } }`],
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
    ['conversations(filter: { tagId })', () => `{ conversations(filter: { tagId: "${foreign.tag}" }) { totalCount } }`],
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

  it.each(WRITES)('%s answers NOT_FOUND, as for an id that exists nowhere, and changes nothing', async (name, call) => {
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
    const comparison = await client.gql(`mutation { ${nowhere} { userErrors { field code } } }`, {}, { as: a.owner });
    expect(comparison.data?.[field].userErrors).toEqual(
      userErrors.map(({ field: path, code }) => ({ field: path, code })),
    );
  });

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
