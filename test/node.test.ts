// Query.node and Query.nodes: every node type by its global id; null, never an error, for
// an id that does not name a row of this organization; at most 100 ids.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient, testSecretBox } from './helpers/client.js';
import { dataOf, errorOf } from './helpers/connections.js';
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
  createWhatsAppChannel,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const NODE_FIELDS = `__typename id
  ... on Organization { name }
  ... on OrganizationMember { email }
  ... on OrganizationRole { permissions }
  ... on Contact { phone }
  ... on List { name }
  ... on Tag { label }
  ... on Campaign { name }
  ... on Conversation { lastMessageAt }
  ... on Message { text }
  ... on WhatsAppChannel { phoneNumberId }`;

/** One row of every node type, and what node(id) answers for it. */
async function oneOfEach(org: TestOrganization) {
  const organizationId = org.id;
  const member = await createMember(client.db, organizationId, { permissions: ['Get:Tag'] });
  const { email } = await client.db.prisma.organizationMember.findUniqueOrThrow({ where: { id: member.id } });
  const { roleId } = await client.db.prisma.roleAssignment.findFirstOrThrow({ where: { memberId: member.id } });
  const contact = await createContact(client.db, organizationId);
  const list = await createList(client.db, organizationId);
  const tag = await createTag(client.db, organizationId);
  const campaign = await createCampaign(client.db, organizationId);
  const conversation = await createConversation(client.db, organizationId, {
    contactId: contact.id,
    lastMessageAt: new Date(Date.UTC(2026, 2, 1)),
  });
  const [message] = await createMessages(client.db, organizationId, conversation.id, 1, () => ({
    messageData: { text: 'hi' },
  }));
  const channel = await createWhatsAppChannel(client.db, testSecretBox, organizationId);
  const node = (typename: string, id: string, fields: Record<string, unknown>) => ({
    id: globalId(typename, id),
    rawId: id,
    typename,
    expected: { __typename: typename, id: globalId(typename, id), ...fields },
  });
  return [
    node('Organization', organizationId, { name: org.name }),
    node('OrganizationMember', member.id, { email }),
    node('OrganizationRole', roleId, { permissions: ['Get:Tag'] }),
    node('Contact', contact.id, { phone: contact.phone }),
    node('List', list.id, { name: list.name }),
    node('Tag', tag.id, { label: tag.label }),
    node('Campaign', campaign.id, { name: campaign.name }),
    node('Conversation', conversation.id, { lastMessageAt: '2026-03-01T00:00:00.000Z' }),
    node('Message', message!.id, { text: 'hi' }),
    node('WhatsAppChannel', channel.id, { phoneNumberId: channel.phoneNumberId }),
  ];
}

async function node(org: TestOrganization, id: string) {
  return dataOf(await client.gql(`query($id: ID!) { node(id: $id) { ${NODE_FIELDS} } }`, { id }, { as: org.owner }))
    .node;
}

async function nodes(org: TestOrganization, ids: string[]) {
  return dataOf(
    await client.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { ${NODE_FIELDS} } }`, { ids }, { as: org.owner }),
  ).nodes;
}

describe('node(id:)', () => {
  it('resolves every node type', async () => {
    const org = await createOrganization(client.db);
    const rows = await oneOfEach(org);
    expect(rows.map((row) => row.typename)).toEqual([
      'Organization',
      'OrganizationMember',
      'OrganizationRole',
      'Contact',
      'List',
      'Tag',
      'Campaign',
      'Conversation',
      'Message',
      'WhatsAppChannel',
    ]);
    for (const row of rows) expect(await node(org, row.id)).toEqual(row.expected);
  });

  it('answers null, with no error, for ids that are malformed, of no node type, of the wrong type, deleted, or of another organization', async () => {
    const org = await createOrganization(client.db);
    const rows = await oneOfEach(org);
    const contact = rows.find((row) => row.typename === 'Contact')!;
    const tag = rows.find((row) => row.typename === 'Tag')!;
    const deleted = await createContact(client.db, org.id);
    await client.db.prisma.contact.delete({ where: { id: deleted.id } });
    const other = await createOrganization(client.db);
    const foreign = await createContact(client.db, other.id);
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    const ids = {
      empty: '',
      garbage: 'garbage',
      'not base64': '!!!',
      'no type': base64(contact.rawId),
      'no id': base64('Contact:'),
      'not a uuid': globalId('Contact', 'not-a-uuid'),
      'a number': globalId('Contact', '1'),
      'a raw uuid': contact.rawId,
      'the database name of List': globalId('ContactList', rows.find((row) => row.typename === 'List')!.rawId),
      'a type that is no node (Viewer)': globalId('Viewer', contact.rawId),
      'a type that is no node (PageInfo)': globalId('PageInfo', contact.rawId),
      'a table that is no node (RoleAssignment)': globalId('RoleAssignment', contact.rawId),
      'a property of every object': globalId('constructor', contact.rawId),
      'a prototype': globalId('__proto__', contact.rawId),
      'a contact’s uuid as a Tag': globalId('Tag', contact.rawId),
      'a tag’s uuid as a Contact': globalId('Contact', tag.rawId),
      'a uuid of nothing': globalId('Contact', randomUUID()),
      'a deleted contact': globalId('Contact', deleted.id),
      'another organization’s contact': globalId('Contact', foreign.id),
      'another organization': globalId('Organization', other.id),
    };
    for (const [what, id] of Object.entries(ids)) expect(await node(org, id), what).toBeNull();
    expect(await nodes(org, Object.values(ids))).toEqual(Object.values(ids).map(() => null));
  });
});

describe('nodes(ids:)', () => {
  it('answers in the order asked, nulls in place, duplicates repeated', async () => {
    const org = await createOrganization(client.db);
    const rows = await oneOfEach(org);
    const reversed = [...rows].reverse();
    const missing = globalId('Contact', randomUUID());
    const ids = [...reversed.map((row) => row.id), missing, rows[3]!.id, 'garbage', rows[3]!.id];
    expect(await nodes(org, ids)).toEqual([
      ...reversed.map((row) => row.expected),
      null,
      rows[3]!.expected,
      null,
      rows[3]!.expected,
    ]);
    expect(await nodes(org, [])).toEqual([]);
  });

  it('takes up to 100 ids; more is an error that says so', async () => {
    const org = await createOrganization(client.db);
    const contacts = [];
    for (let index = 0; index < 101; index++)
      contacts.push({
        id: randomUUID(),
        organizationId: org.id,
        name: `Contact ${index}`,
        phone: `+1222${String(index).padStart(7, '0')}`,
      });
    await client.db.prisma.contact.createMany({ data: contacts });
    const ids = contacts.map((contact) => globalId('Contact', contact.id));
    const hundred = await nodes(org, ids.slice(0, 100));
    expect(hundred.map((found: { id: string }) => found.id)).toEqual(ids.slice(0, 100));
    const response = await client.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids }, { as: org.owner });
    expect(errorOf(response)).toEqual({
      message: '`ids` must hold at most 100 ids (got 101).',
      code: 'BAD_USER_INPUT',
      path: ['nodes'],
    });
    expect(response.data).toBeNull();
  });
});
