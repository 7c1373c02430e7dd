// The permission matrix: for every query field and mutation, a member holding exactly the
// permission it needs succeeds, and a member holding every other permission is refused —
// queries with a GraphQL error (extensions.code FORBIDDEN), mutations with a FORBIDDEN
// user error and no write. Then the edges: what a member receives when an answer reaches
// something it may not read.
import { beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, type Permission } from '../src/auth/permissions.js';
import { createTestClient, globalId, type TestClient, testSecretBox } from './helpers/client.js';
import {
  createCampaign,
  createContact,
  createConversation,
  createList,
  createMember,
  createMessages,
  createOrganization,
  createTag,
  createWhatsAppChannel,
  type TestMember,
  type TestOrganization,
  uniqueMetaId,
  uniquePhone,
} from './helpers/factories.js';

let client: TestClient;
let org: TestOrganization;

beforeAll(async () => {
  client = await createTestClient();
  org = await createOrganization(client.db, 'Permissions');
});

function only(permission: Permission): Promise<TestMember> {
  return createMember(client.db, org.id, { permissions: [permission] });
}
function allBut(permission: Permission): Promise<TestMember> {
  return createMember(client.db, org.id, { permissions: PERMISSIONS.filter((p) => p !== permission) });
}

/** Fresh rows for one run of one operation (deletes and updates need their own). */
async function fixture() {
  const contact = await createContact(client.db, org.id);
  const list = await createList(client.db, org.id);
  const tag = await createTag(client.db, org.id);
  const campaign = await createCampaign(client.db, org.id);
  const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
  const [message] = await createMessages(client.db, org.id, conversation.id, 1);
  const owner = await client.db.prisma.apiKey.findFirstOrThrow({ where: { memberId: org.owner.id } });
  const someone = await createMember(client.db, org.id);
  const someonesKey = await client.db.prisma.apiKey.findFirstOrThrow({ where: { memberId: someone.id } });
  const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
  return {
    channel: globalId('WhatsAppChannel', channel.id),
    contact: globalId('Contact', contact.id),
    list: globalId('List', list.id),
    tag: globalId('Tag', tag.id),
    campaign: globalId('Campaign', campaign.id),
    conversation: globalId('Conversation', conversation.id),
    message: globalId('Message', message!.id),
    member: globalId('OrganizationMember', org.owner.id),
    apiKey: globalId('ApiKey', owner.id),
    /** A key of a member who is not an owner (revoking one's own key is in api-keys.test.ts). */
    memberApiKey: globalId('ApiKey', someonesKey.id),
  };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

const QUERIES: [string, Permission, (f: Fixture) => string][] = [
  ['contacts', 'Get:Contact', () => `{ contacts { totalCount } }`],
  ['lists', 'Get:List', () => `{ lists { totalCount } }`],
  ['tags', 'Get:Tag', () => `{ tags { totalCount } }`],
  ['campaigns', 'Get:Campaign', () => `{ campaigns { totalCount } }`],
  ['conversations', 'Get:Conversation', () => `{ conversations { totalCount } }`],
  ['members', 'Get:OrganizationMember', () => `{ members { totalCount } }`],
  ['apiKeys', 'Get:ApiKey', () => `{ apiKeys { totalCount } }`],
  ['channels', 'Get:WhatsAppChannel', () => `{ channels { totalCount } }`],
  ['node (a WhatsAppChannel)', 'Get:WhatsAppChannel', (f) => `{ node(id: "${f.channel}") { id } }`],
  ['node (a Contact)', 'Get:Contact', (f) => `{ node(id: "${f.contact}") { id } }`],
  ['node (a List)', 'Get:List', (f) => `{ node(id: "${f.list}") { id } }`],
  ['node (a Tag)', 'Get:Tag', (f) => `{ node(id: "${f.tag}") { id } }`],
  ['node (a Campaign)', 'Get:Campaign', (f) => `{ node(id: "${f.campaign}") { id } }`],
  ['node (a Conversation)', 'Get:Conversation', (f) => `{ node(id: "${f.conversation}") { id } }`],
  ['node (a Message)', 'Get:Conversation', (f) => `{ node(id: "${f.message}") { id } }`],
  ['node (an ApiKey)', 'Get:ApiKey', (f) => `{ node(id: "${f.apiKey}") { id } }`],
  ['nodes (another member)', 'Get:OrganizationMember', (f) => `{ nodes(ids: ["${f.member}"]) { id } }`],
];

describe.each(QUERIES)('query %s', (name, permission, document) => {
  it(`succeeds with exactly ${permission}`, async () => {
    const response = await client.gql(document(await fixture()), {}, { as: await only(permission) });
    expect(response.errors).toBeUndefined();
    expect(JSON.stringify(response.data)).not.toContain('null');
  });

  it(`is refused without ${permission}, with a FORBIDDEN error (node and nodes: null, as for a missing id)`, async () => {
    const response = await client.gql(document(await fixture()), {}, { as: await allBut(permission) });
    if (name.startsWith('node')) {
      // Telling "exists but forbidden" from "missing" would let a member probe for ids.
      expect(response.errors).toBeUndefined();
      expect(Object.values(response.data ?? {}).flat()).toEqual([null]);
      return;
    }
    expect(response.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN', permissions: [permission] });
    expect(response.errors?.[0]?.message).toBe(`You do not have the ${permission} permission.`);
  });
});

describe('nested fields obey the permission of what they return', () => {
  const NESTED: [string, Permission, Permission, (f: Fixture) => string][] = [
    [
      'conversation.contact',
      'Get:Conversation',
      'Get:Contact',
      () => `{ conversations(first: 1) { nodes { contact { name } } } }`,
    ],
    [
      'contact.conversations',
      'Get:Contact',
      'Get:Conversation',
      () => `{ contacts(first: 1) { nodes { conversations { totalCount } } } }`,
    ],
    ['contact.lists', 'Get:Contact', 'Get:List', () => `{ contacts(first: 1) { nodes { lists { totalCount } } } }`],
    ['contact.tags', 'Get:Contact', 'Get:Tag', () => `{ contacts(first: 1) { nodes { tags { totalCount } } } }`],
    ['list.contacts', 'Get:List', 'Get:Contact', () => `{ lists(first: 1) { nodes { contacts { totalCount } } } }`],
    ['tag.contacts', 'Get:Tag', 'Get:Contact', () => `{ tags(first: 1) { nodes { contacts { totalCount } } } }`],
    [
      'conversation.assignedTo',
      'Get:Conversation',
      'Get:OrganizationMember',
      (f) => `{ node(id: "${f.conversation}") { ... on Conversation { assignedTo { name } } } }`,
    ],
    [
      'message.conversation via node',
      'Get:Conversation',
      'Get:Contact',
      (f) => `{ node(id: "${f.message}") { ... on Message { conversation { contact { phone } } } } }`,
    ],
  ];

  it.each(NESTED)('%s needs %s and %s', async (_name, outer, inner, document) => {
    const f = await fixture();
    await client.db.prisma.conversation.updateMany({
      where: { organizationId: org.id },
      data: { assignedToId: (await createMember(client.db, org.id)).id },
    });
    const both = await client.gql(
      document(f),
      {},
      { as: await createMember(client.db, org.id, { permissions: [outer, inner] }) },
    );
    expect(both.errors).toBeUndefined();
    const withoutInner = await client.gql(document(f), {}, { as: await only(outer) });
    expect(withoutInner.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(withoutInner.errors?.[0]?.extensions?.permissions).toEqual([inner]);
    expect(JSON.stringify(withoutInner.data ?? null)).not.toMatch(/"name":"|"phone":"|"totalCount":\d/);
  });

  it('lets every member read itself, but not other members, without Get:OrganizationMember', async () => {
    const member = await only('Get:Contact');
    const self = await client.gql(
      `{ viewer { member { name } organization { name } permissions } }`,
      {},
      { as: member },
    );
    expect(self.data?.viewer).toEqual({
      member: { name: member.name },
      organization: { name: 'Permissions' },
      permissions: ['Get:Contact'],
    });
    const other = await client.gql(
      `{ node(id: "${globalId('OrganizationMember', org.owner.id)}") { ... on OrganizationMember { name } } }`,
      {},
      { as: member },
    );
    expect(other.data?.node).toBeNull();
    expect(other.errors).toBeUndefined();
  });
});

/** A mutation, the permission it needs, and how to call it on a fixture. */
const MUTATIONS: [string, Permission, (f: Fixture) => string][] = [
  [
    'createContact',
    'Create:Contact',
    () => `createContact(input: { name: "Matrix", phone: "${uniquePhone()}" }) { userErrors { code } }`,
  ],
  [
    'createContacts',
    'BulkImport:Contacts',
    () => `createContacts(input: { contacts: [{ name: "Bulk", phone: "${uniquePhone()}" }] }) { userErrors { code } }`,
  ],
  [
    'updateContact',
    'Update:Contact',
    (f) => `updateContact(input: { id: "${f.contact}", name: "Renamed" }) { userErrors { code } }`,
  ],
  ['deleteContact', 'Delete:Contact', (f) => `deleteContact(input: { id: "${f.contact}" }) { userErrors { code } }`],
  [
    'deleteContacts',
    'Delete:Contact',
    (f) => `deleteContacts(input: { ids: ["${f.contact}"] }) { userErrors { code } }`,
  ],
  ['createList', 'Create:List', () => `createList(input: { name: "Matrix list" }) { userErrors { code } }`],
  [
    'updateList',
    'Update:List',
    (f) => `updateList(input: { id: "${f.list}", name: "Renamed" }) { userErrors { code } }`,
  ],
  ['deleteList', 'Delete:List', (f) => `deleteList(input: { id: "${f.list}" }) { userErrors { code } }`],
  [
    'addContactsToList',
    'Update:List',
    (f) => `addContactsToList(input: { listId: "${f.list}", contactIds: ["${f.contact}"] }) { userErrors { code } }`,
  ],
  [
    'removeContactsFromList',
    'Update:List',
    (f) =>
      `removeContactsFromList(input: { listId: "${f.list}", contactIds: ["${f.contact}"] }) { userErrors { code } }`,
  ],
  ['createTag', 'Create:Tag', () => `createTag(input: { label: "matrix-${uniquePhone()}" }) { userErrors { code } }`],
  [
    'updateTag',
    'Update:Tag',
    (f) => `updateTag(input: { id: "${f.tag}", label: "renamed-${uniquePhone()}" }) { userErrors { code } }`,
  ],
  ['deleteTag', 'Delete:Tag', (f) => `deleteTag(input: { id: "${f.tag}" }) { userErrors { code } }`],
  [
    'updateConversation',
    'Update:Conversation',
    (f) => `updateConversation(input: { id: "${f.conversation}", status: RESOLVED }) { userErrors { code } }`,
  ],
  [
    'assignConversation',
    'Assign:Conversation',
    (f) => `assignConversation(input: { id: "${f.conversation}", memberId: "${f.member}" }) { userErrors { code } }`,
  ],
  [
    'unassignConversation',
    'Unassign:Conversation',
    (f) => `unassignConversation(input: { id: "${f.conversation}" }) { userErrors { code } }`,
  ],
  [
    'markConversationRead',
    'Update:Conversation',
    (f) => `markConversationRead(input: { id: "${f.conversation}" }) { userErrors { code } }`,
  ],
  [
    'sendMessage',
    'Update:Conversation',
    (f) => `sendMessage(input: { conversationId: "${f.conversation}", text: "hi" }) { userErrors { code } }`,
  ],
  ['createApiKey', 'Regenerate:ApiKey', () => `createApiKey(input: { name: "matrix" }) { secret userErrors { code } }`],
  ['revokeApiKey', 'Revoke:ApiKey', (f) => `revokeApiKey(input: { id: "${f.memberApiKey}" }) { userErrors { code } }`],
  [
    'connectWhatsAppChannel',
    'Create:WhatsAppChannel',
    () =>
      `connectWhatsAppChannel(input: { name: "Matrix", phoneNumberId: "${uniqueMetaId()}", businessAccountId: "1", displayPhoneNumber: "+1 555 0100", appSecret: "matrix-app-secret", verifyToken: "matrix-verify-token-0001" }) { userErrors { code } }`,
  ],
  [
    'updateWhatsAppChannel',
    'Update:WhatsAppChannel',
    (f) => `updateWhatsAppChannel(input: { id: "${f.channel}", name: "Renamed" }) { userErrors { code } }`,
  ],
  [
    'disconnectWhatsAppChannel',
    'Delete:WhatsAppChannel',
    (f) => `disconnectWhatsAppChannel(input: { id: "${f.channel}" }) { userErrors { code } }`,
  ],
];

/** A fingerprint of everything a mutation could change in the organization. */
async function organizationState() {
  const where = { organizationId: org.id };
  const p = client.db.prisma;
  return JSON.stringify(
    await Promise.all([
      p.contact.findMany({ where, orderBy: { id: 'asc' } }),
      p.contactList.findMany({ where, orderBy: { id: 'asc' } }),
      p.tag.findMany({ where, orderBy: { id: 'asc' } }),
      p.contactListMembership.count({ where }),
      p.conversation.findMany({ where, orderBy: { id: 'asc' } }),
      p.message.findMany({ where, orderBy: { id: 'asc' } }),
      p.apiKey.findMany({ where, orderBy: { id: 'asc' }, select: { id: true, revokedAt: true } }),
      p.whatsAppChannel.findMany({ where, orderBy: { id: 'asc' } }),
      p.event.findMany({ where, orderBy: { id: 'asc' } }),
    ]),
    (_key, value) => (typeof value === 'bigint' ? value.toString() : value),
  );
}

describe.each(MUTATIONS)('mutation %s', (name, permission, call) => {
  it(`runs with exactly ${permission}`, async () => {
    const f = await fixture();
    const before = await organizationState();
    const response = await client.gql(`mutation { ${call(f)} }`, {}, { as: await only(permission) });
    expect(response.errors).toBeUndefined();
    expect(response.data?.[name].userErrors).toEqual([]);
    expect(await organizationState()).not.toBe(before);
  });

  it(`is refused without ${permission}, with a FORBIDDEN user error and no write`, async () => {
    const f = await fixture();
    const member = await allBut(permission);
    const before = await organizationState();
    const response = await client.gql(`mutation { ${call(f)} }`, {}, { as: member });
    expect(response.errors).toBeUndefined();
    expect(response.data?.[name].userErrors).toEqual([{ code: 'FORBIDDEN' }]);
    expect(await organizationState()).toBe(before);
  });
});

it('gives the FORBIDDEN user error a message naming the permission', async () => {
  const response = await client.gql(
    `mutation { createTag(input: { label: "x" }) { tag { id } userErrors { field message code } } }`,
    {},
    { as: await allBut('Create:Tag') },
  );
  expect(response.data?.createTag).toEqual({
    tag: null,
    userErrors: [{ field: null, message: 'You do not have the Create:Tag permission.', code: 'FORBIDDEN' }],
  });
});

// Hostile battery, class 9: what a member holding some permissions but not others receives
// when an answer reaches something it may not read.
describe('class 9: permission edges', () => {
  // Its own organization: the members these tests create do not meet the matrix's.
  let org: TestOrganization;
  beforeAll(async () => {
    org = await createOrganization(client.db, 'Permission edges');
  });

  it('a committed createContacts answers its payload and userErrors even when the member cannot read contacts', async () => {
    const importer = await createMember(client.db, org.id, { permissions: ['BulkImport:Contacts'] });
    const phones = [uniquePhone(), uniquePhone()];
    const document = `mutation($input: CreateContactsInput!) {
      createContacts(input: $input) { contacts { id name } userErrors { field code } }
    }`;
    const variables = { input: { contacts: phones.map((phone, index) => ({ name: `Imported ${index}`, phone })) } };

    const response = await client.gql(document, variables, { as: importer });
    expect(response.data?.createContacts).toEqual({ contacts: null, userErrors: [] });
    // The one error says why the contacts are not shown, at their own path.
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.path).toEqual(['createContacts', 'contacts']);
    expect(response.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', permissions: ['Get:Contact'] });
    expect(await client.db.prisma.contact.count({ where: { organizationId: org.id, phone: { in: phones } } })).toBe(2);

    // A member that also reads contacts sees them, as before.
    const reader = await createMember(client.db, org.id, { permissions: ['BulkImport:Contacts', 'Get:Contact'] });
    const more = { input: { contacts: [{ name: 'Read back', phone: uniquePhone() }] } };
    const readBack = await client.gql(document, more, { as: reader });
    expect(readBack.errors).toBeUndefined();
    expect(readBack.data?.createContacts.contacts).toEqual([{ id: expect.any(String), name: 'Read back' }]);
  });

  it('a committed single-object mutation answers userErrors with the unreadable object as null', async () => {
    const tagger = await createMember(client.db, org.id, { permissions: ['Create:Tag'] });
    const label = `edge-${uniquePhone()}`;
    const response = await client.gql(
      `mutation($label: String!) { createTag(input: { label: $label }) { tag { label } userErrors { code } } }`,
      { label },
      { as: tagger },
    );
    expect(response.data?.createTag).toEqual({ tag: null, userErrors: [] });
    expect(await client.db.prisma.tag.count({ where: { organizationId: org.id, label } })).toBe(1);
  });

  it('every member reads its own roles, without Get:OrganizationRole or Get:OrganizationMember', async () => {
    const agent = await createMember(client.db, org.id, { permissions: ['Get:Contact'] });
    const response = await client.gql(
      `{ viewer { member { name roles { id name permissions } } permissions } }`,
      {},
      { as: agent },
    );
    expect(response.errors).toBeUndefined();
    const [role] = await client.db.prisma.roleAssignment.findMany({
      where: { memberId: agent.id },
      include: { role: true },
    });
    expect(response.data?.viewer).toEqual({
      member: {
        name: agent.name,
        roles: [
          { id: globalId('OrganizationRole', role!.roleId), name: role!.role.name, permissions: ['Get:Contact'] },
        ],
      },
      permissions: ['Get:Contact'],
    });
    // Its own role by id too; another member's role reads like a missing one.
    const other = await createMember(client.db, org.id, { permissions: ['Get:Tag'] });
    const [otherRole] = await client.db.prisma.roleAssignment.findMany({ where: { memberId: other.id } });
    const byId = await client.gql(
      `query($own: ID!, $other: ID!) { own: node(id: $own) { ... on OrganizationRole { name } } other: node(id: $other) { id } }`,
      { own: globalId('OrganizationRole', role!.roleId), other: globalId('OrganizationRole', otherRole!.roleId) },
      { as: agent },
    );
    expect(byId.errors).toBeUndefined();
    expect(byId.data).toEqual({ own: { name: role!.role.name }, other: null });
  });

  it('node and nodes answer an existing row of an unreadable type exactly like a missing one', async () => {
    const contact = await createContact(client.db, org.id);
    const tag = await createTag(client.db, org.id);
    const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
    const member = await createMember(client.db, org.id, { permissions: ['Get:Tag'] });
    const missing = '00000000-0000-4000-8000-000000000000';
    const pairs = [
      ['Contact', contact.id],
      ['Conversation', conversation.id],
      ['OrganizationMember', org.owner.id],
    ] as const;
    for (const [typename, id] of pairs) {
      const existing = await client.gql(
        `query($id: ID!) { node(id: $id) { id } }`,
        { id: globalId(typename, id) },
        { as: member },
      );
      const absent = await client.gql(
        `query($id: ID!) { node(id: $id) { id } }`,
        { id: globalId(typename, missing) },
        { as: member },
      );
      expect(existing, typename).toEqual(absent);
      expect(existing).toEqual({ status: 200, data: { node: null } });
    }
    const ids = [globalId('Contact', contact.id), globalId('Tag', tag.id), globalId('Contact', missing)];
    const many = await client.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids }, { as: member });
    expect(many).toEqual({ status: 200, data: { nodes: [null, { id: ids[1] }, null] } });
  });

  it('the organization itself is readable by every member (no Get:Organization needed)', async () => {
    const member = await createMember(client.db, org.id);
    const response = await client.gql(
      `query($id: ID!) { viewer { organization { name } } node(id: $id) { ... on Organization { name } } }`,
      { id: globalId('Organization', org.id) },
      { as: member },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ viewer: { organization: { name: org.name } }, node: { name: org.name } });
  });
});
