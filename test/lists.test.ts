// List: its fields, counts and connections, and the root `lists` connection's filters.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { dataOf, errorOf, rawIds } from './helpers/connections.js';
import {
  at,
  createCampaign,
  createContact,
  createList,
  createOrganization,
  createTag,
  type TestOrganization,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const CAMPAIGN_STATUSES = ['DRAFT', 'SCHEDULED', 'RUNNING', 'PAUSED', 'FINISHED', 'CANCELLED'] as const;

async function addToList(org: TestOrganization, listId: string, contactIds: string[]) {
  await client.db.prisma.contactListMembership.createMany({
    data: contactIds.map((contactId) => ({ organizationId: org.id, listId, contactId })),
  });
}

async function listNode(org: TestOrganization, id: string, fields: string) {
  return dataOf(
    await client.gql(
      `query($id: ID!) { node(id: $id) { ... on List { ${fields} } } }`,
      { id: globalId('List', id) },
      { as: org.owner },
    ),
  ).node;
}

describe('List', () => {
  it('exposes its fields', async () => {
    const org = await createOrganization(client.db);
    const list = await createList(client.db, org.id, {
      name: 'Spring promo',
      description: 'Everyone who bought in March',
      createdAt: at(5),
    });
    const bare = await createList(client.db, org.id, { name: 'Bare' });
    expect(
      await listNode(org, list.id, 'id name description createdAt numberOfContacts numberOfCampaignsSent'),
    ).toEqual({
      id: globalId('List', list.id),
      name: 'Spring promo',
      description: 'Everyone who bought in March',
      createdAt: '2026-01-01T00:00:05.000Z',
      numberOfContacts: 0,
      numberOfCampaignsSent: 0,
    });
    expect(await listNode(org, bare.id, 'description')).toEqual({ description: null });
  });

  it('numberOfContacts counts the list’s contacts, whatever their status', async () => {
    const org = await createOrganization(client.db);
    const [list, other] = [await createList(client.db, org.id), await createList(client.db, org.id)];
    const contacts = [];
    for (const status of ['ACTIVE', 'INACTIVE', 'BLOCKED', 'ACTIVE'] as const)
      contacts.push(await createContact(client.db, org.id, { status }));
    await addToList(
      org,
      list!.id,
      contacts.map((contact) => contact.id),
    );
    await addToList(org, other!.id, [contacts[0]!.id]);
    expect(await listNode(org, list!.id, 'numberOfContacts contacts { totalCount }')).toEqual({
      numberOfContacts: 4,
      contacts: { totalCount: 4 },
    });
    expect(await listNode(org, other!.id, 'numberOfContacts')).toEqual({ numberOfContacts: 1 });
  });

  it('numberOfCampaignsSent counts the campaigns that used the list and are RUNNING or FINISHED', async () => {
    const org = await createOrganization(client.db);
    const organizationId = org.id;
    // Created at distinct times: the page is in creation order, and rows created in the same
    // millisecond would come in id order.
    const [list, other, unused] = [
      await createList(client.db, organizationId, { createdAt: at(1) }),
      await createList(client.db, organizationId, { createdAt: at(2) }),
      await createList(client.db, organizationId, { createdAt: at(3) }),
    ];
    // One campaign of every status on `list`; the RUNNING and a second FINISHED one also on `other`.
    for (const status of CAMPAIGN_STATUSES) {
      const campaign = await createCampaign(client.db, organizationId, { status });
      await client.db.prisma.campaignList.create({
        data: { organizationId, campaignId: campaign.id, listId: list!.id },
      });
      if (status === 'RUNNING')
        await client.db.prisma.campaignList.create({
          data: { organizationId, campaignId: campaign.id, listId: other!.id },
        });
    }
    const finished = await createCampaign(client.db, organizationId, { status: 'FINISHED' });
    await client.db.prisma.campaignList.create({
      data: { organizationId, campaignId: finished.id, listId: other!.id },
    });
    // Sent campaigns that did not use the lists count for neither.
    await createCampaign(client.db, organizationId, { status: 'RUNNING' });

    const data = dataOf(await client.gql(`{ lists { nodes { id numberOfCampaignsSent } } }`, {}, { as: org.owner }));
    expect(data.lists.nodes).toEqual([
      { id: globalId('List', list!.id), numberOfCampaignsSent: 2 },
      { id: globalId('List', other!.id), numberOfCampaignsSent: 2 },
      { id: globalId('List', unused!.id), numberOfCampaignsSent: 0 },
    ]);
  });

  it('has its tags, oldest first', async () => {
    const org = await createOrganization(client.db);
    const list = await createList(client.db, org.id);
    const tags = [
      await createTag(client.db, org.id, { label: 'b2b', createdAt: at(2) }),
      await createTag(client.db, org.id, { label: 'europe', createdAt: at(1) }),
    ];
    await createTag(client.db, org.id, { label: 'not on the list' });
    await client.db.prisma.listTag.createMany({
      data: tags.map((tag) => ({ organizationId: org.id, listId: list.id, tagId: tag.id })),
    });
    expect(await listNode(org, list.id, 'tags { totalCount nodes { label } }')).toEqual({
      tags: { totalCount: 2, nodes: [{ label: 'europe' }, { label: 'b2b' }] },
    });
  });

  it('has its contacts, with a filter and an ordering', async () => {
    const org = await createOrganization(client.db);
    const list = await createList(client.db, org.id);
    const otherList = await createList(client.db, org.id);
    const vip = await createTag(client.db, org.id);
    const make = (name: string, minute: number, status: 'ACTIVE' | 'BLOCKED' = 'ACTIVE') =>
      createContact(client.db, org.id, { name, status, createdAt: at(minute * 60) });
    const carla = await make('Carla', 1);
    const alba = await make('Alba', 2);
    const bruno = await make('Bruno', 3, 'BLOCKED');
    const dora = await make('Dora', 4);
    const outside = await make('Abel', 0);
    await addToList(org, list.id, [carla.id, alba.id, bruno.id, dora.id]);
    await addToList(org, otherList.id, [outside.id, alba.id, dora.id]);
    for (const contact of [carla, alba, bruno, outside]) {
      await client.db.prisma.contactTag.create({
        data: { organizationId: org.id, tagId: vip.id, contactId: contact.id },
      });
    }
    const contacts = async (args: string) =>
      rawIds((await listNode(org, list.id, `contacts${args ? `(${args})` : ''} { totalCount nodes { id } }`)).contacts);

    expect(await contacts('')).toEqual([carla.id, alba.id, bruno.id, dora.id]);
    expect(await contacts('orderBy: { field: NAME, direction: ASC }')).toEqual([alba.id, bruno.id, carla.id, dora.id]);
    expect(await contacts('orderBy: { field: CREATED_AT, direction: DESC }')).toEqual([
      dora.id,
      bruno.id,
      alba.id,
      carla.id,
    ]);
    expect(await contacts('filter: { status: [ACTIVE] }, orderBy: { field: NAME, direction: DESC }')).toEqual([
      dora.id,
      carla.id,
      alba.id,
    ]);
    expect(await contacts(`filter: { tagId: "${globalId('Tag', vip.id)}", search: "r" }`)).toEqual([
      carla.id,
      bruno.id,
    ]);
    expect(await contacts(`filter: { listId: "${globalId('List', otherList.id)}" }`)).toEqual([alba.id, dora.id]);
    expect(
      await contacts(`filter: { createdAfter: "${at(60).toISOString()}", createdBefore: "${at(240).toISOString()}" }`),
    ).toEqual([alba.id, bruno.id]);
    const counted = await listNode(org, list.id, `contacts(first: 1, filter: { status: [ACTIVE] }) { totalCount }`);
    expect(counted).toEqual({ contacts: { totalCount: 3 } });
  });
});

describe('lists(filter:)', () => {
  async function listDataset(org: TestOrganization) {
    const lists = {
      spring: await createList(client.db, org.id, { name: 'Spring Promo', createdAt: at(1) }),
      springVip: await createList(client.db, org.id, { name: 'SPRING vip', createdAt: at(2) }),
      winter: await createList(client.db, org.id, { name: 'Winter', createdAt: at(3) }),
      percent: await createList(client.db, org.id, { name: '50% off', createdAt: at(4) }),
      underscore: await createList(client.db, org.id, { name: 'old_customers', createdAt: at(5) }),
    };
    const seasonal = await createTag(client.db, org.id, { label: 'seasonal' });
    for (const list of [lists.spring, lists.winter, lists.percent]) {
      await client.db.prisma.listTag.create({ data: { organizationId: org.id, listId: list.id, tagId: seasonal.id } });
    }
    return { lists, seasonal };
  }

  async function listsWhere(org: TestOrganization, filter: Record<string, unknown>) {
    const data = dataOf(
      await client.gql(
        `query($filter: ListFilter) { lists(filter: $filter) { totalCount nodes { id } } }`,
        { filter },
        { as: org.owner },
      ),
    );
    expect(data.lists.totalCount).toBe(data.lists.nodes.length);
    return rawIds(data.lists);
  }

  it('search: a case-insensitive substring of the name, %, _ and \\ literal', async () => {
    const org = await createOrganization(client.db);
    const { lists } = await listDataset(org);
    expect(await listsWhere(org, { search: 'spring' })).toEqual([lists.spring.id, lists.springVip.id]);
    expect(await listsWhere(org, { search: 'PROMO' })).toEqual([lists.spring.id]);
    expect(await listsWhere(org, { search: '%' })).toEqual([lists.percent.id]);
    expect(await listsWhere(org, { search: '_' })).toEqual([lists.underscore.id]);
    expect(await listsWhere(org, { search: '\\' })).toEqual([]);
    expect(await listsWhere(org, {})).toHaveLength(5);
  });

  it('tagId, alone and with search', async () => {
    const org = await createOrganization(client.db);
    const { lists, seasonal } = await listDataset(org);
    const tagId = globalId('Tag', seasonal.id);
    expect(await listsWhere(org, { tagId })).toEqual([lists.spring.id, lists.winter.id, lists.percent.id]);
    expect(await listsWhere(org, { tagId, search: 'spring' })).toEqual([lists.spring.id]);
    expect(await listsWhere(org, { tagId, search: 'vip' })).toEqual([]);
  });

  it('refuses an id that is not a Tag’s in tagId', async () => {
    const org = await createOrganization(client.db);
    const { lists } = await listDataset(org);
    const response = await client.gql(
      `query($tagId: ID!) { lists(filter: { tagId: $tagId }) { totalCount } }`,
      { tagId: globalId('List', lists.spring.id) },
      { as: org.owner },
    );
    expect(errorOf(response)).toEqual({
      message: '`filter.tagId` must be the id of a Tag.',
      code: 'BAD_USER_INPUT',
      path: ['lists'],
    });
  });
});
