// Contact: its fields and connections, and the root `contacts` connection's filters.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { dataOf, errorOf, rawIds } from './helpers/connections.js';
import {
  at,
  createContact,
  createConversation,
  createList,
  createMessages,
  createOrganization,
  createTag,
  type TestOrganization,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

async function contactsWhere(
  org: TestOrganization,
  filter: Record<string, unknown>,
  orderBy?: Record<string, unknown>,
) {
  const data = dataOf(
    await client.gql(
      `query($filter: ContactFilter, $orderBy: ContactOrder) { contacts(first: 100, filter: $filter, orderBy: $orderBy) { totalCount nodes { id } } }`,
      { filter, orderBy },
      { as: org.owner },
    ),
  );
  expect(data.contacts.totalCount).toBe(data.contacts.nodes.length);
  return rawIds(data.contacts);
}

describe('Contact', () => {
  it('exposes its fields, attributes as the JSON object stored', async () => {
    const org = await createOrganization(client.db);
    const attributes = {
      plan: 'gold',
      visits: 3,
      vip: true,
      address: { city: 'Lisbon', zip: null },
      languages: ['pt', 'en'],
    };
    const contact = await createContact(client.db, org.id, {
      name: 'Inês Gold',
      phone: '+351912345678',
      status: 'INACTIVE',
      attributes,
      createdAt: at(1),
      updatedAt: at(2),
    });
    const plain = await createContact(client.db, org.id, { name: 'Plain' });
    const query = `query($id: ID!) { node(id: $id) { ... on Contact { id name phone status attributes createdAt updatedAt } } }`;
    expect(dataOf(await client.gql(query, { id: globalId('Contact', contact.id) }, { as: org.owner })).node).toEqual({
      id: globalId('Contact', contact.id),
      name: 'Inês Gold',
      phone: '+351912345678',
      status: 'INACTIVE',
      attributes,
      createdAt: '2026-01-01T00:00:01.000Z',
      updatedAt: '2026-01-01T00:00:02.000Z',
    });
    expect(
      dataOf(await client.gql(query, { id: globalId('Contact', plain.id) }, { as: org.owner })).node,
    ).toMatchObject({
      status: 'ACTIVE',
      attributes: {},
    });
  });

  it('has its lists, tags and conversations as connections, each with its totalCount', async () => {
    const org = await createOrganization(client.db);
    const organizationId = org.id;
    const contact = await createContact(client.db, organizationId);
    const other = await createContact(client.db, organizationId);
    const lists = [
      await createList(client.db, organizationId, { name: 'Newsletter', createdAt: at(2) }),
      await createList(client.db, organizationId, { name: 'Buyers', createdAt: at(1) }),
    ];
    await createList(client.db, organizationId, { name: 'Not this one' });
    const tags = [
      await createTag(client.db, organizationId, { label: 'vip', createdAt: at(1) }),
      await createTag(client.db, organizationId, { label: 'lead', createdAt: at(2) }),
    ];
    await createTag(client.db, organizationId, { label: 'unused' });
    for (const list of lists)
      await client.db.prisma.contactListMembership.create({
        data: { organizationId, listId: list.id, contactId: contact.id },
      });
    for (const tag of tags)
      await client.db.prisma.contactTag.create({ data: { organizationId, tagId: tag.id, contactId: contact.id } });
    const resolved = await createConversation(client.db, organizationId, {
      contactId: contact.id,
      status: 'RESOLVED',
      createdAt: at(1),
    });
    const active = await createConversation(client.db, organizationId, {
      contactId: contact.id,
      status: 'ACTIVE',
      createdAt: at(2),
    });
    await createMessages(client.db, organizationId, active.id, 2, () => ({ status: 'DELIVERED' }));
    await createConversation(client.db, organizationId, { contactId: other.id });

    const data = dataOf(
      await client.gql(
        `query($id: ID!) { node(id: $id) { ... on Contact {
          lists { totalCount nodes { name } }
          tags { totalCount nodes { label } }
          conversations { totalCount nodes { id status } }
          active: conversations(filter: { status: [ACTIVE] }) { totalCount nodes { id } }
          unread: conversations(filter: { unread: true }) { totalCount nodes { id } }
          firstOnly: conversations(first: 1) { totalCount nodes { id } pageInfo { hasNextPage } }
        } } }`,
        { id: globalId('Contact', contact.id) },
        { as: org.owner },
      ),
    );
    expect(data.node).toEqual({
      lists: { totalCount: 2, nodes: [{ name: 'Buyers' }, { name: 'Newsletter' }] },
      tags: { totalCount: 2, nodes: [{ label: 'vip' }, { label: 'lead' }] },
      conversations: {
        totalCount: 2,
        nodes: [
          { id: globalId('Conversation', resolved.id), status: 'RESOLVED' },
          { id: globalId('Conversation', active.id), status: 'ACTIVE' },
        ],
      },
      active: { totalCount: 1, nodes: [{ id: globalId('Conversation', active.id) }] },
      unread: { totalCount: 1, nodes: [{ id: globalId('Conversation', active.id) }] },
      firstOnly: {
        totalCount: 2,
        nodes: [{ id: globalId('Conversation', resolved.id) }],
        pageInfo: { hasNextPage: true },
      },
    });
  });

  it('has empty connections when it is in no list, has no tag and no conversation', async () => {
    const org = await createOrganization(client.db);
    const contact = await createContact(client.db, org.id);
    const data = dataOf(
      await client.gql(
        `query($id: ID!) { node(id: $id) { ... on Contact { lists { totalCount nodes { id } } tags { totalCount nodes { id } } conversations { totalCount nodes { id } } } } }`,
        { id: globalId('Contact', contact.id) },
        { as: org.owner },
      ),
    );
    const empty = { totalCount: 0, nodes: [] };
    expect(data.node).toEqual({ lists: empty, tags: empty, conversations: empty });
  });
});

describe('contacts(filter:)', () => {
  /** Contacts that each filter tells apart, created one minute apart. */
  async function filterDataset(org: TestOrganization) {
    const organizationId = org.id;
    const make = (minute: number, data: { name: string; phone: string; status?: 'ACTIVE' | 'INACTIVE' | 'BLOCKED' }) =>
      createContact(client.db, organizationId, { ...data, createdAt: at(minute * 60) });
    const rows = {
      anna: await make(1, { name: 'Anna Smith', phone: '+15550102030' }),
      joanna: await make(2, { name: 'JOANNA Blocked', phone: '+15550102031', status: 'BLOCKED' }),
      hannah: await make(3, { name: 'hannah', phone: '+447700900123', status: 'INACTIVE' }),
      percent: await make(4, { name: '100% Juice', phone: '+15550109999' }),
      underscore: await make(5, { name: 'snake_case', phone: '+15550108888' }),
      backslash: await make(6, { name: 'back\\slash', phone: '+15550107777' }),
      plain: await make(7, { name: 'Bob', phone: '+4930123456' }),
    };
    const vip = await createTag(client.db, organizationId, { label: 'vip' });
    const list = await createList(client.db, organizationId, { name: 'Customers' });
    for (const contact of [rows.anna, rows.joanna, rows.hannah, rows.plain]) {
      await client.db.prisma.contactTag.create({ data: { organizationId, tagId: vip.id, contactId: contact.id } });
    }
    for (const contact of [rows.anna, rows.hannah, rows.percent, rows.plain]) {
      await client.db.prisma.contactListMembership.create({
        data: { organizationId, listId: list.id, contactId: contact.id },
      });
    }
    return { rows, vip, list };
  }

  it('status: any of the given statuses', async () => {
    const org = await createOrganization(client.db);
    const { rows } = await filterDataset(org);
    expect(await contactsWhere(org, { status: ['BLOCKED'] })).toEqual([rows.joanna.id]);
    expect(await contactsWhere(org, { status: ['BLOCKED', 'INACTIVE'] })).toEqual([rows.joanna.id, rows.hannah.id]);
    expect(await contactsWhere(org, { status: ['ACTIVE', 'INACTIVE', 'BLOCKED'] })).toHaveLength(7);
  });

  it('tagId and listId: the tag’s and the list’s contacts', async () => {
    const org = await createOrganization(client.db);
    const { rows, vip, list } = await filterDataset(org);
    expect(await contactsWhere(org, { tagId: globalId('Tag', vip.id) })).toEqual([
      rows.anna.id,
      rows.joanna.id,
      rows.hannah.id,
      rows.plain.id,
    ]);
    expect(await contactsWhere(org, { listId: globalId('List', list.id) })).toEqual([
      rows.anna.id,
      rows.hannah.id,
      rows.percent.id,
      rows.plain.id,
    ]);
    expect(await contactsWhere(org, { tagId: globalId('Tag', vip.id), listId: globalId('List', list.id) })).toEqual([
      rows.anna.id,
      rows.hannah.id,
      rows.plain.id,
    ]);
    const emptyTag = await createTag(client.db, org.id);
    expect(await contactsWhere(org, { tagId: globalId('Tag', emptyTag.id) })).toEqual([]);
  });

  it('search: a case-insensitive substring of the name', async () => {
    const org = await createOrganization(client.db);
    const { rows } = await filterDataset(org);
    expect(await contactsWhere(org, { search: 'anna' })).toEqual([rows.anna.id, rows.joanna.id, rows.hannah.id]);
    expect(await contactsWhere(org, { search: 'ANNA' })).toEqual([rows.anna.id, rows.joanna.id, rows.hannah.id]);
    expect(await contactsWhere(org, { search: 'joAnna' })).toEqual([rows.joanna.id]);
    expect(await contactsWhere(org, { search: 'anna s' })).toEqual([rows.anna.id]);
    expect(await contactsWhere(org, { search: 'SMITH' })).toEqual([rows.anna.id]);
    expect(await contactsWhere(org, { search: 'nobody' })).toEqual([]);
  });

  it('search: a substring of the phone number, as stored or as people type it', async () => {
    const org = await createOrganization(client.db);
    const { rows } = await filterDataset(org);
    expect(await contactsWhere(org, { search: '0102030' })).toEqual([rows.anna.id]);
    expect(await contactsWhere(org, { search: '+1555010203' })).toEqual([rows.anna.id, rows.joanna.id]);
    expect(await contactsWhere(org, { search: '+1 (555) 010-2030' })).toEqual([rows.anna.id]);
    expect(await contactsWhere(org, { search: '+44 7700' })).toEqual([rows.hannah.id]);
    expect(await contactsWhere(org, { search: '+49' })).toEqual([rows.plain.id]);
  });

  it('search: %, _ and \\ match themselves, not as LIKE patterns', async () => {
    const org = await createOrganization(client.db);
    const { rows } = await filterDataset(org);
    expect(await contactsWhere(org, { search: '%' })).toEqual([rows.percent.id]);
    expect(await contactsWhere(org, { search: '100%' })).toEqual([rows.percent.id]);
    expect(await contactsWhere(org, { search: '_' })).toEqual([rows.underscore.id]);
    expect(await contactsWhere(org, { search: 'e_c' })).toEqual([rows.underscore.id]);
    expect(await contactsWhere(org, { search: '\\' })).toEqual([rows.backslash.id]);
    expect(await contactsWhere(org, { search: 'k\\s' })).toEqual([rows.backslash.id]);
    expect(await contactsWhere(org, { search: '%%' })).toEqual([]);
    expect(await contactsWhere(org, { search: 'B_b' })).toEqual([]);
  });

  it('createdAfter and createdBefore: strictly after, strictly before', async () => {
    const org = await createOrganization(client.db);
    const { rows } = await filterDataset(org);
    const minute = (n: number) => at(n * 60).toISOString();
    expect(await contactsWhere(org, { createdAfter: minute(5) })).toEqual([rows.backslash.id, rows.plain.id]);
    expect(await contactsWhere(org, { createdBefore: minute(3) })).toEqual([rows.anna.id, rows.joanna.id]);
    expect(await contactsWhere(org, { createdAfter: minute(2), createdBefore: minute(5) })).toEqual([
      rows.hannah.id,
      rows.percent.id,
    ]);
    // Any offset is the same instant.
    expect(
      await contactsWhere(org, {
        createdAfter: '2026-01-01T01:02:00+01:00',
        createdBefore: '2026-01-01T00:05:00.000Z',
      }),
    ).toEqual([rows.hannah.id, rows.percent.id]);
    expect(await contactsWhere(org, { createdAfter: minute(5), createdBefore: minute(2) })).toEqual([]);
  });

  it('all the filters together, each narrowing the others, with an ordering', async () => {
    const org = await createOrganization(client.db);
    const { rows, vip, list } = await filterDataset(org);
    const extra = await createContact(client.db, org.id, {
      name: 'Annabel Late',
      phone: '+15550100000',
      status: 'INACTIVE',
      createdAt: at(20 * 60),
    });
    await client.db.prisma.contactTag.create({ data: { organizationId: org.id, tagId: vip.id, contactId: extra.id } });
    await client.db.prisma.contactListMembership.create({
      data: { organizationId: org.id, listId: list.id, contactId: extra.id },
    });
    const filter = {
      status: ['ACTIVE', 'INACTIVE'],
      tagId: globalId('Tag', vip.id),
      listId: globalId('List', list.id),
      search: 'AN',
      createdAfter: at(0).toISOString(),
      createdBefore: at(10 * 60).toISOString(),
    };
    // anna, hannah (Annabel is created too late; joanna is blocked and not in the list; Bob does not match).
    expect(await contactsWhere(org, filter)).toEqual([rows.anna.id, rows.hannah.id]);
    expect(await contactsWhere(org, filter, { field: 'NAME', direction: 'DESC' })).toEqual([
      rows.hannah.id,
      rows.anna.id,
    ]);
    expect(await contactsWhere(org, { ...filter, createdBefore: undefined })).toEqual([
      rows.anna.id,
      rows.hannah.id,
      extra.id,
    ]);
    expect(await contactsWhere(org, { ...filter, status: ['ACTIVE'] })).toEqual([rows.anna.id]);
    expect(await contactsWhere(org, { ...filter, search: 'hann' })).toEqual([rows.hannah.id]);
  });

  it('refuses an id of the wrong type, or that is not an id, in listId and tagId', async () => {
    const org = await createOrganization(client.db);
    const { vip, list } = await filterDataset(org);
    const query = `query($filter: ContactFilter) { contacts(filter: $filter) { totalCount } }`;
    for (const [filter, argument, typename] of [
      [{ listId: globalId('Tag', vip.id) }, 'filter.listId', 'List'],
      [{ listId: 'not-an-id' }, 'filter.listId', 'List'],
      [{ tagId: globalId('List', list.id) }, 'filter.tagId', 'Tag'],
      [{ tagId: globalId('Tag', 'not-a-uuid') }, 'filter.tagId', 'Tag'],
    ] as const) {
      expect(errorOf(await client.gql(query, { filter }, { as: org.owner }))).toEqual({
        message: `\`${argument}\` must be the id of a ${typename}.`,
        code: 'BAD_USER_INPUT',
        path: ['contacts'],
      });
    }
  });

  it('matches nothing for a deleted list or tag', async () => {
    const org = await createOrganization(client.db);
    const { vip, list } = await filterDataset(org);
    await client.db.prisma.tag.delete({ where: { id: vip.id } });
    await client.db.prisma.contactList.delete({ where: { id: list.id } });
    expect(await contactsWhere(org, { tagId: globalId('Tag', vip.id) })).toEqual([]);
    expect(await contactsWhere(org, { listId: globalId('List', list.id) })).toEqual([]);
  });
});
