// Hostile battery, permission edges: what a member holding some permissions but not others
// receives when an answer reaches something it may not read.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import {
  createContact,
  createConversation,
  createMember,
  createOrganization,
  createTag,
  type TestOrganization,
  uniquePhone,
} from './helpers/factories.js';

let client: TestClient;
let org: TestOrganization;

beforeAll(async () => {
  client = await createTestClient();
  org = await createOrganization(client.db, 'Permission edges');
});

describe('class 9: permission edges', () => {
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
