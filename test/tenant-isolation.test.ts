import { beforeAll, describe, expect, it } from 'vitest';
import { tenantClient } from '../src/db/tenant.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { createContact, createList, createOrganization, type TestOrganization } from './helpers/factories.js';

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

  it('resolves another organization’s ids to null, as if they did not exist', async () => {
    const ids = [
      globalId('Contact', contactsOf[b.id]![0]!),
      globalId('Organization', b.id),
      globalId('OrganizationMember', b.owner.id),
    ];
    const response = await client.gql(
      `query($ids: [ID!]!, $id: ID!) { nodes(ids: $ids) { id } node(id: $id) { id } }`,
      { ids, id: ids[0] },
      { as: a.owner },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ nodes: [null, null, null], node: null });
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

  it('shows the viewer only the members of its organization', async () => {
    const response = await client.gql(`{ members { totalCount nodes { id } } }`, {}, { as: a.owner });
    expect(response.data?.members).toEqual({
      totalCount: 1,
      nodes: [{ id: globalId('OrganizationMember', a.owner.id) }],
    });
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
      db.conversation.create({ data: { organizationId: a.id, contactId: contact.id, campaignId: foreignCampaign.id } }),
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
