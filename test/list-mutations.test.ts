// createList, updateList, deleteList, addContactsToList, removeContactsFromList: through the
// API, on a real database, read back through the read API and, where it proves that nothing
// was written, straight from the database.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { failInsertsWhere } from './helpers/failures.js';
import {
  createCampaign,
  createContact,
  createList,
  createOrganization,
  createTag,
  type TestMember,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const LIST = `id name description createdAt numberOfContacts
  tags(first: 50) { nodes { id } }
  contacts(first: 50) { nodes { id } }`;
const PAYLOAD = `list { ${LIST} } userErrors { field message code }`;

const MUTATIONS = {
  createList: `mutation($input: CreateListInput!) { createList(input: $input) { ${PAYLOAD} } }`,
  updateList: `mutation($input: UpdateListInput!) { updateList(input: $input) { ${PAYLOAD} } }`,
  addContactsToList: `mutation($input: AddContactsToListInput!) { addContactsToList(input: $input) { ${PAYLOAD} } }`,
  removeContactsFromList: `mutation($input: RemoveContactsFromListInput!) { removeContactsFromList(input: $input) { ${PAYLOAD} } }`,
  deleteList: `mutation($input: DeleteListInput!) { deleteList(input: $input) { deletedId userErrors { field message code } } }`,
};
const READ_LIST = `query($id: ID!) { node(id: $id) { ... on List { ${LIST} } } }`;

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}

type Payload = { list?: any; deletedId?: string | null; userErrors: UserError[] };

async function mutate(name: keyof typeof MUTATIONS, input: Record<string, unknown>, as: TestMember): Promise<Payload> {
  const response = await client.gql(MUTATIONS[name], { input }, { as });
  expect(response.errors).toBeUndefined();
  return response.data![name];
}

async function readList(id: string, as: TestMember) {
  const response = await client.gql(READ_LIST, { id }, { as });
  expect(response.errors).toBeUndefined();
  return response.data!.node;
}

function onlyError(payload: Payload) {
  expect(payload.userErrors).toHaveLength(1);
  const [{ field, code, message }] = payload.userErrors as [UserError];
  expect(message).not.toBe('');
  return { field, code };
}

const ids = (connection: { nodes: { id: string }[] }) => connection.nodes.map((node) => node.id).sort();

/** The dataset of one test: an organization with contacts, tags and a list; another organization's rows. */
async function world() {
  const db = client.db;
  const org = await createOrganization(db);
  const other = await createOrganization(db);
  const contacts = await Promise.all([1, 2, 3, 4].map(() => createContact(db, org.id)));
  const tags = await Promise.all([1, 2, 3].map(() => createTag(db, org.id)));
  const longAgo = new Date('2020-01-01T00:00:00.000Z');
  const list = await createList(db, org.id, {
    name: 'Existing',
    description: 'Kept',
    createdAt: longAgo,
    updatedAt: longAgo,
  });
  const foreignContact = await createContact(db, other.id);
  const foreignTag = await createTag(db, other.id);
  const foreignList = await createList(db, other.id);
  return {
    org,
    owner: org.owner,
    other,
    contactIds: contacts.map((contact) => globalId('Contact', contact.id)),
    rawContactIds: contacts.map((contact) => contact.id),
    tagIds: tags.map((tag) => globalId('Tag', tag.id)),
    rawTagIds: tags.map((tag) => tag.id),
    list: { ...list, globalId: globalId('List', list.id) },
    foreign: {
      contactId: globalId('Contact', foreignContact.id),
      tagId: globalId('Tag', foreignTag.id),
      listId: globalId('List', foreignList.id),
    },
    listsInDatabase: () => db.prisma.contactList.count({ where: { organizationId: org.id } }),
    membersOf: (listId: string) =>
      db.prisma.contactListMembership.findMany({
        where: { listId },
        select: { contactId: true },
        orderBy: { contactId: 'asc' },
      }),
  };
}
type World = Awaited<ReturnType<typeof world>>;

/** Ids that must be NOT_FOUND where an id of `typename` is expected. */
function notFoundCases(typename: 'Contact' | 'Tag' | 'List', w: World) {
  const foreign = { Contact: w.foreign.contactId, Tag: w.foreign.tagId, List: w.foreign.listId }[typename];
  return {
    'an id of another type': typename === 'Tag' ? w.contactIds[0]! : w.tagIds[0]!,
    'an id of another organization': foreign,
    'an id that does not exist': globalId(typename, randomUUID()),
    'a string that is not an id': 'bm90IGFuIGlk',
  };
}
const NOT_FOUND_CASES = [
  'an id of another type',
  'an id of another organization',
  'an id that does not exist',
  'a string that is not an id',
] as const;

describe('createList', () => {
  it('creates a list with its tags; the read API returns what the payload did', async () => {
    const w = await world();
    const payload = await mutate(
      'createList',
      { name: '  VIP customers ', description: '  Spent over 1k  ', tagIds: [w.tagIds[0], w.tagIds[2]] },
      w.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.list).toMatchObject({
      name: 'VIP customers',
      description: 'Spent over 1k',
      numberOfContacts: 0,
      contacts: { nodes: [] },
    });
    expect(ids(payload.list.tags)).toEqual([w.tagIds[0], w.tagIds[2]].sort());
    expect(await readList(payload.list.id, w.owner)).toEqual(payload.list);
    const listed = await client.gql(
      `query($tag: ID!) { lists(filter: { tagId: $tag }) { nodes { id } } }`,
      { tag: w.tagIds[2] },
      { as: w.owner },
    );
    expect(listed.data?.lists.nodes).toEqual([{ id: payload.list.id }]);
  });

  it('creates a list without description or tags; a blank description is no description', async () => {
    const w = await world();
    const bare = await mutate('createList', { name: 'Bare' }, w.owner);
    expect(bare.list).toMatchObject({ name: 'Bare', description: null, tags: { nodes: [] } });
    const blank = await mutate('createList', { name: 'Blank', description: '   ' }, w.owner);
    expect(blank.list.description).toBeNull();
    expect(await readList(blank.list.id, w.owner)).toEqual(blank.list);
  });

  it.each([
    ['a blank name', { name: ' \n ' }, ['input', 'name']],
    ['a name of 256 characters', { name: 'L'.repeat(256) }, ['input', 'name']],
    ['a description of 2,001 characters', { name: 'Long', description: 'd'.repeat(2_001) }, ['input', 'description']],
  ])('refuses %s as INVALID and creates nothing', async (_case, input, field) => {
    const w = await world();
    const payload = await mutate('createList', input, w.owner);
    expect(payload.list).toBeNull();
    expect(onlyError(payload)).toEqual({ field, code: 'INVALID' });
    expect(await w.listsInDatabase()).toBe(1);
  });

  it('accepts a name of 255 characters', async () => {
    const w = await world();
    const payload = await mutate('createList', { name: 'L'.repeat(255) }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.list.name).toHaveLength(255);
  });

  it.each(NOT_FOUND_CASES)(
    'refuses a tag id that is %s as NOT_FOUND at ["input","tagIds","1"] and creates nothing',
    async (which) => {
      const w = await world();
      const payload = await mutate(
        'createList',
        { name: 'Tagged', tagIds: [w.tagIds[0], notFoundCases('Tag', w)[which]] },
        w.owner,
      );
      expect(payload.list).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'tagIds', '1'], code: 'NOT_FOUND' });
      expect(await w.listsInDatabase()).toBe(1);
    },
  );

  it('writes nothing when the database fails half-way, after the list row was inserted', async () => {
    const w = await world();
    const restore = await failInsertsWhere(client.db, 'ListTag', 'tagId', w.rawTagIds[1]!);
    try {
      const response = await client.gql(
        MUTATIONS.createList,
        { input: { name: 'Half', tagIds: [w.tagIds[0], w.tagIds[1]] } },
        { as: w.owner },
      );
      expect(response.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
    } finally {
      await restore();
    }
    expect(await w.listsInDatabase()).toBe(1);
    expect(await client.db.prisma.listTag.count({ where: { organizationId: w.org.id } })).toBe(0);
  });
});

describe('updateList', () => {
  it('changes only what is given; updatedAt moves in the database', async () => {
    const w = await world();
    await mutate('updateList', { id: w.list.globalId, tagIds: [w.tagIds[0]] }, w.owner);
    const renamed = await mutate('updateList', { id: w.list.globalId, name: ' Renamed ' }, w.owner);
    expect(renamed.userErrors).toEqual([]);
    expect(renamed.list).toMatchObject({
      name: 'Renamed',
      description: 'Kept',
      tags: { nodes: [{ id: w.tagIds[0] }] },
    });
    expect(await readList(w.list.globalId, w.owner)).toEqual(renamed.list);

    const described = await mutate(
      'updateList',
      { id: w.list.globalId, description: 'New description', name: null, tagIds: null },
      w.owner,
    );
    expect(described.list).toMatchObject({
      name: 'Renamed',
      description: 'New description',
      tags: { nodes: [{ id: w.tagIds[0] }] },
    });

    const row = await client.db.prisma.contactList.findUniqueOrThrow({ where: { id: w.list.id } });
    expect(row.createdAt.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(row.updatedAt.getTime()).toBeGreaterThan(row.createdAt.getTime());
  });

  it('clears the description with an empty string', async () => {
    const w = await world();
    const payload = await mutate('updateList', { id: w.list.globalId, description: '' }, w.owner);
    expect(payload.list.description).toBeNull();
    expect((await readList(w.list.globalId, w.owner)).description).toBeNull();
  });

  it('replaces the whole set of tags when given and clears it with []', async () => {
    const w = await world();
    const first = await mutate('updateList', { id: w.list.globalId, tagIds: [w.tagIds[0], w.tagIds[1]] }, w.owner);
    expect(ids(first.list.tags)).toEqual([w.tagIds[0], w.tagIds[1]].sort());
    const replaced = await mutate(
      'updateList',
      { id: w.list.globalId, tagIds: [w.tagIds[1], w.tagIds[2], w.tagIds[2]] },
      w.owner,
    );
    expect(ids(replaced.list.tags)).toEqual([w.tagIds[1], w.tagIds[2]].sort());
    const cleared = await mutate('updateList', { id: w.list.globalId, tagIds: [] }, w.owner);
    expect(cleared.list.tags.nodes).toEqual([]);
    expect(await readList(w.list.globalId, w.owner)).toEqual(cleared.list);
  });

  it.each([
    ['a blank name', { name: '' }, ['input', 'name']],
    ['a name of 256 characters', { name: 'x'.repeat(256) }, ['input', 'name']],
    ['a description of 2,001 characters', { description: 'x'.repeat(2_001) }, ['input', 'description']],
  ])('refuses %s and changes nothing', async (_case, change, field) => {
    const w = await world();
    const payload = await mutate(
      'updateList',
      { id: w.list.globalId, tagIds: [w.tagIds[0]], description: 'Changed', ...change },
      w.owner,
    );
    expect(payload.list).toBeNull();
    expect(onlyError(payload)).toEqual({ field, code: 'INVALID' });
    const row = await client.db.prisma.contactList.findUniqueOrThrow({
      where: { id: w.list.id },
      include: { tags: true },
    });
    expect(row).toMatchObject({ name: 'Existing', description: 'Kept', tags: [] });
  });

  it.each(NOT_FOUND_CASES)('refuses a list id that is %s as NOT_FOUND on ["input","id"]', async (which) => {
    const w = await world();
    const payload = await mutate('updateList', { id: notFoundCases('List', w)[which], name: 'Hijacked' }, w.owner);
    expect(payload.list).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
    expect(await client.db.prisma.contactList.count({ where: { name: 'Hijacked' } })).toBe(0);
  });

  it.each(NOT_FOUND_CASES)(
    'refuses a tag id that is %s as NOT_FOUND at ["input","tagIds","0"] and changes nothing',
    async (which) => {
      const w = await world();
      const payload = await mutate(
        'updateList',
        { id: w.list.globalId, name: 'Changed', tagIds: [notFoundCases('Tag', w)[which]] },
        w.owner,
      );
      expect(onlyError(payload)).toEqual({ field: ['input', 'tagIds', '0'], code: 'NOT_FOUND' });
      expect((await client.db.prisma.contactList.findUniqueOrThrow({ where: { id: w.list.id } })).name).toBe(
        'Existing',
      );
    },
  );
});

describe('deleteList', () => {
  it('deletes the list and its memberships; the contacts, tags and campaigns stay', async () => {
    const w = await world();
    await mutate('addContactsToList', { listId: w.list.globalId, contactIds: w.contactIds }, w.owner);
    await mutate('updateList', { id: w.list.globalId, tagIds: [w.tagIds[0]] }, w.owner);
    const campaign = await createCampaign(client.db, w.org.id);
    await client.db.prisma.campaignList.create({
      data: { organizationId: w.org.id, campaignId: campaign.id, listId: w.list.id },
    });

    const payload = await mutate('deleteList', { id: w.list.globalId }, w.owner);
    expect(payload).toEqual({ deletedId: w.list.globalId, userErrors: [] });
    expect(await readList(w.list.globalId, w.owner)).toBeNull();
    const rest = await client.gql(
      `{ contacts { totalCount } tags { totalCount } campaigns { totalCount } lists { totalCount } }`,
      {},
      { as: w.owner },
    );
    expect(rest.data).toEqual({
      contacts: { totalCount: 4 },
      tags: { totalCount: 3 },
      campaigns: { totalCount: 1 },
      lists: { totalCount: 0 },
    });
    expect(await w.membersOf(w.list.id)).toEqual([]);
  });

  it.each(NOT_FOUND_CASES)(
    'refuses a list id that is %s as NOT_FOUND on ["input","id"] and deletes nothing',
    async (which) => {
      const w = await world();
      const payload = await mutate('deleteList', { id: notFoundCases('List', w)[which] }, w.owner);
      expect(payload.deletedId).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
      expect(
        await client.db.prisma.contactList.count({ where: { organizationId: { in: [w.org.id, w.other.id] } } }),
      ).toBe(2);
    },
  );
});

describe('addContactsToList', () => {
  it('adds the contacts; the list’s count and contacts show them', async () => {
    const w = await world();
    const payload = await mutate(
      'addContactsToList',
      { listId: w.list.globalId, contactIds: [w.contactIds[0], w.contactIds[2]] },
      w.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.list).toMatchObject({ id: w.list.globalId, numberOfContacts: 2 });
    expect(ids(payload.list.contacts)).toEqual([w.contactIds[0], w.contactIds[2]].sort());
    expect(await readList(w.list.globalId, w.owner)).toEqual(payload.list);
    const contact = await client.gql(
      `query($id: ID!) { node(id: $id) { ... on Contact { lists { nodes { id } } } } }`,
      { id: w.contactIds[2] },
      { as: w.owner },
    );
    expect(contact.data?.node.lists.nodes).toEqual([{ id: w.list.globalId }]);
  });

  it('is idempotent: contacts already in the list, or given twice, are added once', async () => {
    const w = await world();
    await mutate('addContactsToList', { listId: w.list.globalId, contactIds: [w.contactIds[0]] }, w.owner);
    const again = await mutate(
      'addContactsToList',
      { listId: w.list.globalId, contactIds: [w.contactIds[0], w.contactIds[1], w.contactIds[1]] },
      w.owner,
    );
    expect(again.userErrors).toEqual([]);
    expect(again.list.numberOfContacts).toBe(2);
    const same = await mutate(
      'addContactsToList',
      { listId: w.list.globalId, contactIds: [w.contactIds[0], w.contactIds[1]] },
      w.owner,
    );
    expect(same.list).toEqual(again.list);
    expect(await w.membersOf(w.list.id)).toHaveLength(2);
  });

  it.each(NOT_FOUND_CASES)('refuses a list id that is %s as NOT_FOUND on ["input","listId"]', async (which) => {
    const w = await world();
    const payload = await mutate(
      'addContactsToList',
      { listId: notFoundCases('List', w)[which], contactIds: [w.contactIds[0]] },
      w.owner,
    );
    expect(payload.list).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'listId'], code: 'NOT_FOUND' });
    expect(await client.db.prisma.contactListMembership.count({ where: { contactId: w.rawContactIds[0] } })).toBe(0);
  });

  it.each(NOT_FOUND_CASES)(
    'adds none when a contact id is %s, and names it at ["input","contactIds","2"]',
    async (which) => {
      const w = await world();
      const payload = await mutate(
        'addContactsToList',
        { listId: w.list.globalId, contactIds: [w.contactIds[0], w.contactIds[1], notFoundCases('Contact', w)[which]] },
        w.owner,
      );
      expect(payload.list).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'contactIds', '2'], code: 'NOT_FOUND' });
      expect(await w.membersOf(w.list.id)).toEqual([]);
    },
  );

  it('refuses more than 1,000 contact ids with LIMIT_EXCEEDED', async () => {
    const w = await world();
    const contactIds = [w.contactIds[0], ...Array.from({ length: 1_000 }, () => globalId('Contact', randomUUID()))];
    const payload = await mutate('addContactsToList', { listId: w.list.globalId, contactIds }, w.owner);
    expect(payload.userErrors.map(({ field, code }) => ({ field, code }))).toContainEqual({
      field: ['input', 'contactIds'],
      code: 'LIMIT_EXCEEDED',
    });
    expect(await w.membersOf(w.list.id)).toEqual([]);
  });

  it('writes nothing when the database fails half-way through the memberships', async () => {
    const w = await world();
    const restore = await failInsertsWhere(client.db, 'ContactListMembership', 'contactId', w.rawContactIds[3]!);
    try {
      const response = await client.gql(
        MUTATIONS.addContactsToList,
        { input: { listId: w.list.globalId, contactIds: w.contactIds } },
        { as: w.owner },
      );
      expect(response.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
    } finally {
      await restore();
    }
    expect(await w.membersOf(w.list.id)).toEqual([]);
  });
});

describe('removeContactsFromList', () => {
  async function listWith(w: World, contactIds: string[]) {
    const payload = await mutate('addContactsToList', { listId: w.list.globalId, contactIds }, w.owner);
    expect(payload.userErrors).toEqual([]);
  }

  it('removes the contacts from the list; the contacts themselves stay', async () => {
    const w = await world();
    await listWith(w, w.contactIds.slice(0, 3));
    const payload = await mutate(
      'removeContactsFromList',
      { listId: w.list.globalId, contactIds: [w.contactIds[0], w.contactIds[2]] },
      w.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.list).toMatchObject({ numberOfContacts: 1, contacts: { nodes: [{ id: w.contactIds[1] }] } });
    expect(await readList(w.list.globalId, w.owner)).toEqual(payload.list);
    const contacts = await client.gql(`{ contacts { totalCount } }`, {}, { as: w.owner });
    expect(contacts.data?.contacts.totalCount).toBe(4);
  });

  it('is idempotent: contacts that are not in the list (any more) are left alone', async () => {
    const w = await world();
    await listWith(w, w.contactIds.slice(0, 2));
    const first = await mutate(
      'removeContactsFromList',
      { listId: w.list.globalId, contactIds: [w.contactIds[0], w.contactIds[3]] },
      w.owner,
    );
    expect(first.userErrors).toEqual([]);
    const second = await mutate(
      'removeContactsFromList',
      { listId: w.list.globalId, contactIds: [w.contactIds[0], w.contactIds[0]] },
      w.owner,
    );
    expect(second.userErrors).toEqual([]);
    expect(second.list).toEqual(first.list);
    expect(second.list).toMatchObject({ numberOfContacts: 1, contacts: { nodes: [{ id: w.contactIds[1] }] } });
  });

  it.each(NOT_FOUND_CASES)('refuses a list id that is %s as NOT_FOUND on ["input","listId"]', async (which) => {
    const w = await world();
    const payload = await mutate(
      'removeContactsFromList',
      { listId: notFoundCases('List', w)[which], contactIds: [w.contactIds[0]] },
      w.owner,
    );
    expect(payload.list).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'listId'], code: 'NOT_FOUND' });
  });

  it.each(NOT_FOUND_CASES)(
    'removes none when a contact id is %s, and names it at ["input","contactIds","1"]',
    async (which) => {
      const w = await world();
      await listWith(w, w.contactIds.slice(0, 2));
      const payload = await mutate(
        'removeContactsFromList',
        { listId: w.list.globalId, contactIds: [w.contactIds[0], notFoundCases('Contact', w)[which]] },
        w.owner,
      );
      expect(payload.list).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'contactIds', '1'], code: 'NOT_FOUND' });
      expect(await w.membersOf(w.list.id)).toHaveLength(2);
    },
  );

  it('adds and removes in order within one request, each payload showing its own count', async () => {
    const w = await world();
    const response = await client.gql(
      `mutation($list: ID!, $a: ID!, $b: ID!) {
        add: addContactsToList(input: { listId: $list, contactIds: [$a, $b] }) { list { numberOfContacts } userErrors { code } }
        remove: removeContactsFromList(input: { listId: $list, contactIds: [$a] }) { list { numberOfContacts } userErrors { code } }
        addAgain: addContactsToList(input: { listId: $list, contactIds: [$a] }) { list { numberOfContacts contacts { totalCount } } userErrors { code } }
      }`,
      { list: w.list.globalId, a: w.contactIds[0], b: w.contactIds[1] },
      { as: w.owner },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      add: { list: { numberOfContacts: 2 }, userErrors: [] },
      remove: { list: { numberOfContacts: 1 }, userErrors: [] },
      addAgain: { list: { numberOfContacts: 2, contacts: { totalCount: 2 } }, userErrors: [] },
    });
  });
});
