// createContact, updateContact, deleteContact, createContacts, deleteContacts: through the
// API, on a real database, with what was written read back through the read API and, where
// it proves that nothing was written, straight from the database.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type GraphQLResponse, type TestClient } from './helpers/client.js';
import { failInsertsWhere } from './helpers/failures.js';
import {
  createContact as insertContact,
  createConversation,
  createList,
  createMessages,
  createOrganization,
  createTag,
  type TestMember,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const CONTACT = `id name phone status attributes createdAt updatedAt
  lists(first: 50) { nodes { id } }
  tags(first: 50) { nodes { id } }`;
const USER_ERRORS = `userErrors { field message code }`;

const CREATE_CONTACT = `mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { ${CONTACT} } ${USER_ERRORS} }
}`;
const UPDATE_CONTACT = `mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { ${CONTACT} } ${USER_ERRORS} }
}`;
const DELETE_CONTACT = `mutation($input: DeleteContactInput!) {
  deleteContact(input: $input) { deletedId ${USER_ERRORS} }
}`;
const CREATE_CONTACTS = `mutation($input: CreateContactsInput!) {
  createContacts(input: $input) { contacts { id name phone status attributes tags(first: 5) { nodes { id } } } ${USER_ERRORS} }
}`;
const DELETE_CONTACTS = `mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) { deletedIds ${USER_ERRORS} }
}`;
const READ_CONTACT = `query($id: ID!) { node(id: $id) { ... on Contact { ${CONTACT} } } }`;

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}

/** The dataset of one test: an organization with lists and tags, and another organization's rows. */
async function world() {
  const db = client.db;
  const org = await createOrganization(db);
  const other = await createOrganization(db);
  const lists = await Promise.all([createList(db, org.id), createList(db, org.id)]);
  const tags = await Promise.all([createTag(db, org.id), createTag(db, org.id), createTag(db, org.id)]);
  const foreignList = await createList(db, other.id);
  const foreignTag = await createTag(db, other.id);
  const foreignContact = await insertContact(db, other.id);
  return {
    org,
    owner: org.owner,
    listIds: lists.map((list) => globalId('List', list.id)),
    tagIds: tags.map((tag) => globalId('Tag', tag.id)),
    rawTagIds: tags.map((tag) => tag.id),
    other,
    foreign: {
      listId: globalId('List', foreignList.id),
      tagId: globalId('Tag', foreignTag.id),
      contactId: globalId('Contact', foreignContact.id),
    },
    /** A contact inserted directly, last changed long ago (so that a change of updatedAt shows). */
    async contact(data: Parameters<typeof insertContact>[2] = {}) {
      const longAgo = new Date('2020-01-01T00:00:00.000Z');
      const row = await insertContact(db, org.id, { createdAt: longAgo, updatedAt: longAgo, ...data });
      return { ...row, globalId: globalId('Contact', row.id) };
    },
    contactsInDatabase: () => db.prisma.contact.count({ where: { organizationId: org.id } }),
  };
}

/** Ids that must all be NOT_FOUND where an id of `typename` is expected. */
function notFoundIds(typename: string, w: Awaited<ReturnType<typeof world>>) {
  const wrongType = typename === 'Tag' ? w.listIds[0]! : w.tagIds[0]!;
  const foreign = { List: w.foreign.listId, Tag: w.foreign.tagId, Contact: w.foreign.contactId }[typename]!;
  return [
    ['an id of another type', wrongType],
    ['an id of another organization', foreign],
    ['an id that does not exist', globalId(typename, randomUUID())],
    ['a string that is not an id', 'not-an-id'],
  ] as const;
}

async function createContact(input: Record<string, unknown>, as: TestMember) {
  const response = await client.gql(CREATE_CONTACT, { input }, { as });
  expect(response.errors).toBeUndefined();
  return response.data!.createContact as { contact: any; userErrors: UserError[] };
}

async function updateContact(input: Record<string, unknown>, as: TestMember) {
  const response = await client.gql(UPDATE_CONTACT, { input }, { as });
  expect(response.errors).toBeUndefined();
  return response.data!.updateContact as { contact: any; userErrors: UserError[] };
}

async function readContact(id: string, as: TestMember) {
  const response = await client.gql(READ_CONTACT, { id }, { as });
  expect(response.errors).toBeUndefined();
  return response.data!.node;
}

const ids = (connection: { nodes: { id: string }[] }) => connection.nodes.map((node) => node.id).sort();

/** The one user error of a payload, without its message (messages are for people). */
function onlyError(payload: { userErrors: UserError[] }) {
  expect(payload.userErrors).toHaveLength(1);
  const [{ field, code, message }] = payload.userErrors as [UserError];
  expect(message).not.toBe('');
  return { field, code };
}

describe('createContact', () => {
  it('creates a contact with its lists and tags, and the read API returns exactly what the payload did', async () => {
    const w = await world();
    const payload = await createContact(
      {
        name: '  Ana Silva  ',
        phone: '+351 (912) 345-678',
        status: 'INACTIVE',
        attributes: { city: 'Lisbon', vip: true, orders: [1, 2] },
        listIds: [w.listIds[0], w.listIds[1]],
        tagIds: [w.tagIds[2]],
      },
      w.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.contact).toMatchObject({
      name: 'Ana Silva',
      phone: '+351912345678',
      status: 'INACTIVE',
      attributes: { city: 'Lisbon', vip: true, orders: [1, 2] },
    });
    expect(ids(payload.contact.lists)).toEqual([...w.listIds].sort());
    expect(ids(payload.contact.tags)).toEqual([w.tagIds[2]]);
    expect(payload.contact.updatedAt).toBe(payload.contact.createdAt);

    expect(await readContact(payload.contact.id, w.owner)).toEqual(payload.contact);
    const listed = await client.gql(
      `query($listId: ID!) { contacts(filter: { listId: $listId }) { nodes { id } } }`,
      { listId: w.listIds[1] },
      { as: w.owner },
    );
    expect(listed.data?.contacts.nodes).toEqual([{ id: payload.contact.id }]);
  });

  it('defaults to status ACTIVE, empty attributes and no lists or tags', async () => {
    const w = await world();
    const payload = await createContact({ name: 'Bo', phone: '+14155550100' }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.contact).toMatchObject({
      status: 'ACTIVE',
      attributes: {},
      lists: { nodes: [] },
      tags: { nodes: [] },
    });
    expect(await readContact(payload.contact.id, w.owner)).toEqual(payload.contact);
  });

  it.each([
    ['+1 (415) 555-0123', '+14155550123'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+49-30-[1234]-5678', '+493012345678'],
    ['\t+1 415\u00a0555 0124 ', '+14155550124'],
    ['+12345678', '+12345678'],
    ['+123456789012345', '+123456789012345'],
  ])('normalises the phone %j to E.164 %s', async (input, stored) => {
    const w = await world();
    const payload = await createContact({ name: 'Normalised', phone: input }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.contact.phone).toBe(stored);
    expect((await readContact(payload.contact.id, w.owner)).phone).toBe(stored);
  });

  it.each([
    ['without a leading +', '14155550123'],
    ['with 7 digits', '+1234567'],
    ['with 16 digits', '+1234567890123456'],
    ['with letters', '+1 415 555 01AB'],
    ['with a + in the middle', '+1415+5550123'],
    ['with dots', '+1.415.555.0123'],
    ['empty', ''],
  ])('refuses a phone %s as INVALID on ["input","phone"] and writes nothing', async (_case, phone) => {
    const w = await world();
    const payload = await createContact({ name: 'Bad phone', phone }, w.owner);
    expect(payload.contact).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'phone'], code: 'INVALID' });
    expect(await w.contactsInDatabase()).toBe(0);
  });

  it('refuses a phone that another contact of the organization has, however it is written: TAKEN on ["input","phone"]', async () => {
    const w = await world();
    await w.contact({ phone: '+14155550123' });
    const payload = await createContact({ name: 'Twin', phone: '+1 (415) 555-0123' }, w.owner);
    expect(payload.contact).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'phone'], code: 'TAKEN' });
    expect(await w.contactsInDatabase()).toBe(1);
  });

  it('accepts a phone that only another organization has', async () => {
    const w = await world();
    await insertContact(client.db, w.other.id, { phone: '+14155550123' });
    const payload = await createContact({ name: 'Same number, other tenant', phone: '+14155550123' }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.contact.phone).toBe('+14155550123');
  });

  it('trims the name and accepts 1 to 255 characters (counted as characters, not bytes)', async () => {
    const w = await world();
    for (const [index, name] of ['x', 'a'.repeat(255), `  ${'b'.repeat(255)}\n`, '🙂'.repeat(255)].entries()) {
      const payload = await createContact({ name, phone: `+3519000000${index}` }, w.owner);
      expect(payload.userErrors).toEqual([]);
      expect(payload.contact.name).toBe(name.trim());
    }
  });

  it.each([
    ['empty', ''],
    ['blank', ' \t\n '],
    ['256 characters long', 'c'.repeat(256)],
  ])('refuses a name that is %s as INVALID on ["input","name"]', async (_case, name) => {
    const w = await world();
    const payload = await createContact({ name, phone: '+14155550123' }, w.owner);
    expect(payload.contact).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'name'], code: 'INVALID' });
    expect(await w.contactsInDatabase()).toBe(0);
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', 'city=Lisbon'],
    ['a number', 42],
    ['a boolean', true],
  ])('refuses attributes that are %s as INVALID on ["input","attributes"]', async (_case, attributes) => {
    const w = await world();
    const payload = await createContact({ name: 'Attr', phone: '+14155550123', attributes }, w.owner);
    expect(payload.contact).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'attributes'], code: 'INVALID' });
    expect(await w.contactsInDatabase()).toBe(0);
  });

  it('accepts attributes of exactly 64 KiB serialized, and refuses one byte more (LIMIT_EXCEEDED)', async () => {
    const w = await world();
    const overhead = JSON.stringify({ note: '' }).length;
    const exactly = { note: 'n'.repeat(64 * 1024 - overhead) };
    expect(Buffer.byteLength(JSON.stringify(exactly))).toBe(65_536);
    const fits = await createContact({ name: 'Big', phone: '+14155550123', attributes: exactly }, w.owner);
    expect(fits.userErrors).toEqual([]);
    expect((await readContact(fits.contact.id, w.owner)).attributes).toEqual(exactly);

    // Multi-byte characters count as the bytes they take in UTF-8.
    const tooBig = { note: `${'é'.repeat(32_762)}xx` };
    expect(Buffer.byteLength(JSON.stringify(tooBig))).toBe(65_537);
    expect(JSON.stringify(tooBig).length).toBeLessThan(65_536);
    const refused = await createContact({ name: 'Too big', phone: '+14155550124', attributes: tooBig }, w.owner);
    expect(refused.contact).toBeNull();
    expect(onlyError(refused)).toEqual({ field: ['input', 'attributes'], code: 'LIMIT_EXCEEDED' });
    expect(await w.contactsInDatabase()).toBe(1);
  });

  it('reports every invalid field at once', async () => {
    const w = await world();
    const payload = await createContact({ name: ' ', phone: '555', attributes: [] }, w.owner);
    expect(payload.userErrors.map(({ field, code }) => ({ field, code }))).toEqual([
      { field: ['input', 'name'], code: 'INVALID' },
      { field: ['input', 'phone'], code: 'INVALID' },
      { field: ['input', 'attributes'], code: 'INVALID' },
    ]);
  });

  describe.each(['listIds', 'tagIds'] as const)('with %s', (argument) => {
    const typename = argument === 'listIds' ? 'List' : 'Tag';
    it.each([0, 1, 2, 3])(
      `refuses id case %i as NOT_FOUND at ["input","${argument}","1"] and creates no contact`,
      async (which) => {
        const w = await world();
        const [, bad] = notFoundIds(typename, w)[which]!;
        const good = argument === 'listIds' ? w.listIds[0] : w.tagIds[0];
        const payload = await createContact(
          { name: 'Linked', phone: '+14155550123', [argument]: [good, bad] },
          w.owner,
        );
        expect(payload.contact).toBeNull();
        expect(onlyError(payload)).toEqual({ field: ['input', argument, '1'], code: 'NOT_FOUND' });
        expect(payload.userErrors[0]!.message).toContain(bad);
        expect(await w.contactsInDatabase()).toBe(0);
        expect(await client.db.prisma.contactTag.count({ where: { organizationId: w.org.id } })).toBe(0);
        expect(await client.db.prisma.contactListMembership.count({ where: { organizationId: w.org.id } })).toBe(0);
      },
    );
  });

  it('treats the same list or tag given twice as once', async () => {
    const w = await world();
    const payload = await createContact(
      {
        name: 'Twice',
        phone: '+14155550123',
        listIds: [w.listIds[0], w.listIds[0]],
        tagIds: [w.tagIds[1], w.tagIds[1]],
      },
      w.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(ids(payload.contact.lists)).toEqual([w.listIds[0]]);
    expect(ids(payload.contact.tags)).toEqual([w.tagIds[1]]);
  });

  it('writes nothing when the database fails half-way, after the contact row was inserted', async () => {
    const w = await world();
    // The contact's own row goes in first; the link to this tag is refused afterwards.
    const restore = await failInsertsWhere(client.db, 'ContactTag', 'tagId', w.rawTagIds[1]!);
    try {
      const response = await client.gql(
        CREATE_CONTACT,
        { input: { name: 'Half', phone: '+14155550123', listIds: [w.listIds[0]], tagIds: [w.tagIds[0], w.tagIds[1]] } },
        { as: w.owner },
      );
      expect(response.status).toBe(200);
      expect(response.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
      expect(JSON.stringify(response)).not.toMatch(/injected|ContactTag|INSERT/);
    } finally {
      await restore();
    }
    expect(await w.contactsInDatabase()).toBe(0);
    expect(await client.db.prisma.contactListMembership.count({ where: { organizationId: w.org.id } })).toBe(0);
    expect(await client.db.prisma.contactTag.count({ where: { organizationId: w.org.id } })).toBe(0);
  });

  it('under 20 concurrent requests with the same phone, creates exactly one contact; the other 19 get TAKEN', async () => {
    const w = await world();
    const formats = ['+1 415 555 0177', '+1-415-555-0177', '+1 (415) 555-0177', '+14155550177'];
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        client.gql(
          CREATE_CONTACT,
          { input: { name: `Racer ${index}`, phone: formats[index % formats.length] } },
          { as: w.owner },
        ),
      ),
    );
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.errors).toBeUndefined();
    }
    const payloads = responses.map((response) => response.data!.createContact);
    const created = payloads.filter((payload) => payload.contact !== null);
    expect(created).toHaveLength(1);
    expect(created[0].userErrors).toEqual([]);
    const refused = payloads.filter((payload) => payload.contact === null);
    expect(refused).toHaveLength(19);
    for (const payload of refused) expect(onlyError(payload)).toEqual({ field: ['input', 'phone'], code: 'TAKEN' });
    expect(
      await client.db.prisma.contact.findMany({ where: { organizationId: w.org.id }, select: { phone: true } }),
    ).toEqual([{ phone: '+14155550177' }]);
  });
});

describe('updateContact', () => {
  it('changes only the fields given; updatedAt moves, createdAt does not; the read API agrees', async () => {
    const w = await world();
    const contact = await w.contact({
      name: 'Old name',
      phone: '+14155550100',
      status: 'BLOCKED',
      attributes: { tier: 'gold' },
    });
    await client.gql(
      `mutation($c: ID!, $l: ID!, $t: ID!) {
        addContactsToList(input: { listId: $l, contactIds: [$c] }) { userErrors { code } }
        updateContact(input: { id: $c, tagIds: [$t] }) { userErrors { code } }
      }`,
      { c: contact.globalId, l: w.listIds[0], t: w.tagIds[0] },
      { as: w.owner },
    );
    const before = await readContact(contact.globalId, w.owner);

    const payload = await updateContact({ id: contact.globalId, name: '  New name ' }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.contact).toEqual({ ...before, name: 'New name', updatedAt: payload.contact.updatedAt });
    expect(payload.contact.createdAt).toBe('2020-01-01T00:00:00.000Z');
    expect(new Date(payload.contact.updatedAt).getTime()).toBeGreaterThan(new Date(before.updatedAt).getTime());
    expect(await readContact(contact.globalId, w.owner)).toEqual(payload.contact);
  });

  it('treats null like an omitted field', async () => {
    const w = await world();
    const contact = await w.contact({ name: 'Kept', phone: '+14155550100', attributes: { a: 1 } });
    const payload = await updateContact(
      { id: contact.globalId, name: null, phone: null, status: null, attributes: null, listIds: null, tagIds: null },
      w.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.contact).toMatchObject({
      name: 'Kept',
      phone: '+14155550100',
      status: 'ACTIVE',
      attributes: { a: 1 },
    });
  });

  it('changes phone (normalised), status and attributes; attributes given replace the whole object', async () => {
    const w = await world();
    const contact = await w.contact({ attributes: { city: 'Lisbon', tier: 'gold' } });
    const payload = await updateContact(
      { id: contact.globalId, phone: '+44 (20) 7946-0958', status: 'BLOCKED', attributes: { language: 'pt' } },
      w.owner,
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.contact).toMatchObject({
      phone: '+442079460958',
      status: 'BLOCKED',
      attributes: { language: 'pt' },
    });
    expect(await readContact(contact.globalId, w.owner)).toEqual(payload.contact);
    const attributes = await updateContact({ id: contact.globalId, attributes: {} }, w.owner);
    expect(attributes.contact.attributes).toEqual({});
  });

  it('replaces the whole set of lists or tags when given, keeps it when omitted, and clears it with []', async () => {
    const w = await world();
    const contact = await w.contact();
    const first = await updateContact(
      { id: contact.globalId, listIds: [w.listIds[0]], tagIds: [w.tagIds[0], w.tagIds[1]] },
      w.owner,
    );
    expect(ids(first.contact.lists)).toEqual([w.listIds[0]]);
    expect(ids(first.contact.tags)).toEqual([w.tagIds[0], w.tagIds[1]].sort());

    const replaced = await updateContact({ id: contact.globalId, tagIds: [w.tagIds[1], w.tagIds[2]] }, w.owner);
    expect(ids(replaced.contact.tags)).toEqual([w.tagIds[1], w.tagIds[2]].sort());
    expect(ids(replaced.contact.lists)).toEqual([w.listIds[0]]);

    const lists = await updateContact({ id: contact.globalId, listIds: [w.listIds[1]] }, w.owner);
    expect(ids(lists.contact.lists)).toEqual([w.listIds[1]]);
    expect(ids(lists.contact.tags)).toEqual([w.tagIds[1], w.tagIds[2]].sort());

    const cleared = await updateContact({ id: contact.globalId, listIds: [], tagIds: [] }, w.owner);
    expect(cleared.contact.lists.nodes).toEqual([]);
    expect(cleared.contact.tags.nodes).toEqual([]);
    expect(await readContact(contact.globalId, w.owner)).toEqual(cleared.contact);
    // The lists and tags themselves are still there.
    const tags = await client.gql(`{ tags { totalCount } lists { totalCount } }`, {}, { as: w.owner });
    expect(tags.data).toEqual({ tags: { totalCount: 3 }, lists: { totalCount: 2 } });
  });

  it('moves updatedAt when only the tags change', async () => {
    const w = await world();
    const contact = await w.contact();
    const payload = await updateContact({ id: contact.globalId, tagIds: [w.tagIds[0]] }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(new Date(payload.contact.updatedAt).getTime()).toBeGreaterThan(Date.parse('2020-01-01T00:00:00.000Z'));
  });

  it('refuses the phone of another contact with TAKEN on ["input","phone"], and accepts the contact’s own phone', async () => {
    const w = await world();
    await w.contact({ phone: '+14155550100' });
    const contact = await w.contact({ name: 'Mine', phone: '+14155550101' });
    const taken = await updateContact({ id: contact.globalId, name: 'Renamed', phone: '+1 415 555 0100' }, w.owner);
    expect(taken.contact).toBeNull();
    expect(onlyError(taken)).toEqual({ field: ['input', 'phone'], code: 'TAKEN' });
    const row = await client.db.prisma.contact.findUniqueOrThrow({ where: { id: contact.id } });
    expect(row).toMatchObject({ name: 'Mine', phone: '+14155550101' });

    const own = await updateContact({ id: contact.globalId, phone: '+1 (415) 555-0101' }, w.owner);
    expect(own.userErrors).toEqual([]);
    expect(own.contact.phone).toBe('+14155550101');
  });

  it.each([
    ['a blank name', { name: '  ' }, ['input', 'name'], 'INVALID'],
    ['a name of 256 characters', { name: 'n'.repeat(256) }, ['input', 'name'], 'INVALID'],
    ['a phone that is not E.164', { phone: '0044 20 7946 0958' }, ['input', 'phone'], 'INVALID'],
    ['attributes that are an array', { attributes: ['a'] }, ['input', 'attributes'], 'INVALID'],
    ['attributes over 64 KiB', { attributes: { blob: 'x'.repeat(65_536) } }, ['input', 'attributes'], 'LIMIT_EXCEEDED'],
  ])('refuses %s and changes nothing', async (_case, change, field, code) => {
    const w = await world();
    const contact = await w.contact({ name: 'Stable', phone: '+14155550100', attributes: { a: 1 } });
    const payload = await updateContact(
      { id: contact.globalId, status: 'BLOCKED', tagIds: [w.tagIds[0]], ...change },
      w.owner,
    );
    expect(payload.contact).toBeNull();
    expect(onlyError(payload)).toEqual({ field, code });
    const row = await client.db.prisma.contact.findUniqueOrThrow({
      where: { id: contact.id },
      include: { tags: true },
    });
    expect(row).toMatchObject({
      name: 'Stable',
      phone: '+14155550100',
      status: 'ACTIVE',
      attributes: { a: 1 },
      tags: [],
    });
    expect(row.updatedAt.toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });

  it.each([0, 1, 2, 3])('refuses a contact id of case %i as NOT_FOUND on ["input","id"]', async (which) => {
    const w = await world();
    const [, bad] = notFoundIds('Contact', w)[which]!;
    const payload = await updateContact({ id: bad, name: 'Hijacked' }, w.owner);
    expect(payload.contact).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
    expect(await client.db.prisma.contact.count({ where: { name: 'Hijacked' } })).toBe(0);
  });

  it.each([0, 1, 2, 3])(
    'refuses a tag id of case %i as NOT_FOUND at ["input","tagIds","1"] and changes nothing',
    async (which) => {
      const w = await world();
      const [, bad] = notFoundIds('Tag', w)[which]!;
      const contact = await w.contact({ name: 'Untouched' });
      const payload = await updateContact(
        { id: contact.globalId, name: 'Changed', tagIds: [w.tagIds[0], bad] },
        w.owner,
      );
      expect(onlyError(payload)).toEqual({ field: ['input', 'tagIds', '1'], code: 'NOT_FOUND' });
      const row = await client.db.prisma.contact.findUniqueOrThrow({
        where: { id: contact.id },
        include: { tags: true },
      });
      expect(row).toMatchObject({ name: 'Untouched', tags: [] });
    },
  );

  it('refuses a list id of another organization as NOT_FOUND at ["input","listIds","0"]', async () => {
    const w = await world();
    const contact = await w.contact();
    const payload = await updateContact({ id: contact.globalId, listIds: [w.foreign.listId, w.listIds[0]] }, w.owner);
    expect(onlyError(payload)).toEqual({ field: ['input', 'listIds', '0'], code: 'NOT_FOUND' });
  });

  it('writes nothing when the database fails half-way, after the contact row was updated', async () => {
    const w = await world();
    const contact = await w.contact({ name: 'Before', phone: '+14155550100' });
    await updateContact({ id: contact.globalId, listIds: [w.listIds[0]], tagIds: [w.tagIds[0]] }, w.owner);
    const before = await client.db.prisma.contact.findUniqueOrThrow({
      where: { id: contact.id },
      include: { tags: true, listMemberships: true },
    });
    // The contact row is updated and its old links deleted before the new tag link is refused.
    const restore = await failInsertsWhere(client.db, 'ContactTag', 'tagId', w.rawTagIds[2]!);
    try {
      const response = await client.gql(
        UPDATE_CONTACT,
        {
          input: {
            id: contact.globalId,
            name: 'After',
            phone: '+14155550199',
            listIds: [w.listIds[1]],
            tagIds: [w.tagIds[2]],
          },
        },
        { as: w.owner },
      );
      expect(response.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
    } finally {
      await restore();
    }
    const after = await client.db.prisma.contact.findUniqueOrThrow({
      where: { id: contact.id },
      include: { tags: true, listMemberships: true },
    });
    expect(after).toEqual(before);
  });

  it('runs two updates of one request in order, each payload showing its own result', async () => {
    const w = await world();
    const contact = await w.contact({ name: 'Start' });
    const response = await client.gql(
      `mutation($id: ID!, $tag: ID!) {
        first: updateContact(input: { id: $id, name: "First", tagIds: [$tag] }) {
          contact { name tags { totalCount } } userErrors { code }
        }
        second: updateContact(input: { id: $id, name: "Second", tagIds: [] }) {
          contact { name tags { totalCount } } userErrors { code }
        }
        third: updateContact(input: { id: $id, name: "" }) {
          contact { name } userErrors { field code }
        }
      }`,
      { id: contact.globalId, tag: w.tagIds[0] },
      { as: w.owner },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      first: { contact: { name: 'First', tags: { totalCount: 1 } }, userErrors: [] },
      second: { contact: { name: 'Second', tags: { totalCount: 0 } }, userErrors: [] },
      third: { contact: null, userErrors: [{ field: ['input', 'name'], code: 'INVALID' }] },
    });
    expect((await readContact(contact.globalId, w.owner)).name).toBe('Second');
  });
});

describe('deleteContact', () => {
  it('deletes the contact with its conversations and messages, and nothing else', async () => {
    const w = await world();
    const contact = await w.contact();
    const kept = await w.contact();
    const conversation = await createConversation(client.db, w.org.id, { contactId: contact.id });
    await createMessages(client.db, w.org.id, conversation.id, 3);
    await updateContact({ id: contact.globalId, listIds: [w.listIds[0]], tagIds: [w.tagIds[0]] }, w.owner);

    const response = await client.gql(DELETE_CONTACT, { input: { id: contact.globalId } }, { as: w.owner });
    expect(response.data?.deleteContact).toEqual({ deletedId: contact.globalId, userErrors: [] });

    expect(await readContact(contact.globalId, w.owner)).toBeNull();
    expect(await readContact(kept.globalId, w.owner)).not.toBeNull();
    const prisma = client.db.prisma;
    expect(await prisma.conversation.count({ where: { contactId: contact.id } })).toBe(0);
    expect(await prisma.message.count({ where: { conversationId: conversation.id } })).toBe(0);
    const lists = await client.gql(
      `query($id: ID!) { node(id: $id) { ... on List { numberOfContacts } } }`,
      { id: w.listIds[0] },
      { as: w.owner },
    );
    expect(lists.data?.node).toEqual({ numberOfContacts: 0 });
    expect(await prisma.tag.count({ where: { organizationId: w.org.id } })).toBe(3);
  });

  it.each([0, 1, 2, 3])(
    'refuses a contact id of case %i as NOT_FOUND on ["input","id"] and deletes nothing',
    async (which) => {
      const w = await world();
      const [, bad] = notFoundIds('Contact', w)[which]!;
      const response = await client.gql(DELETE_CONTACT, { input: { id: bad } }, { as: w.owner });
      const payload = response.data!.deleteContact;
      expect(payload.deletedId).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
      expect(await client.db.prisma.contact.count({ where: { organizationId: w.other.id } })).toBe(1);
    },
  );

  it('answers NOT_FOUND when the contact is deleted a second time', async () => {
    const w = await world();
    const contact = await w.contact();
    await client.gql(DELETE_CONTACT, { input: { id: contact.globalId } }, { as: w.owner });
    const again = await client.gql(DELETE_CONTACT, { input: { id: contact.globalId } }, { as: w.owner });
    expect(onlyError(again.data!.deleteContact)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
  });
});

describe('deleteContacts', () => {
  it('deletes every contact given and returns their ids', async () => {
    const w = await world();
    const [a, b, c] = [await w.contact(), await w.contact(), await w.contact()];
    const response = await client.gql(
      DELETE_CONTACTS,
      { input: { ids: [a.globalId, c.globalId, a.globalId] } },
      { as: w.owner },
    );
    expect(response.data?.deleteContacts).toEqual({ deletedIds: [a.globalId, c.globalId], userErrors: [] });
    const left = await client.gql(`{ contacts { nodes { id } } }`, {}, { as: w.owner });
    expect(left.data?.contacts.nodes).toEqual([{ id: b.globalId }]);
  });

  it.each([0, 1, 2, 3])(
    'deletes none when one id (case %i) is not found, and names it at ["input","ids","1"]',
    async (which) => {
      const w = await world();
      const [, bad] = notFoundIds('Contact', w)[which]!;
      const [a, b] = [await w.contact(), await w.contact()];
      const response = await client.gql(
        DELETE_CONTACTS,
        { input: { ids: [a.globalId, bad, b.globalId] } },
        { as: w.owner },
      );
      const payload = response.data!.deleteContacts;
      expect(payload.deletedIds).toEqual([]);
      expect(onlyError(payload)).toEqual({ field: ['input', 'ids', '1'], code: 'NOT_FOUND' });
      expect(await w.contactsInDatabase()).toBe(2);
      expect(await client.db.prisma.contact.count({ where: { organizationId: w.other.id } })).toBe(1);
    },
  );

  it('refuses more than 1,000 ids with LIMIT_EXCEEDED', async () => {
    const w = await world();
    const contact = await w.contact();
    const many = [contact.globalId, ...Array.from({ length: 1_000 }, () => globalId('Contact', randomUUID()))];
    const response = await client.gql(DELETE_CONTACTS, { input: { ids: many } }, { as: w.owner });
    expect(onlyError(response.data!.deleteContacts)).toEqual({ field: ['input', 'ids'], code: 'LIMIT_EXCEEDED' });
    expect(await w.contactsInDatabase()).toBe(1);
  });
});

describe('createContacts', () => {
  const phoneOf = (index: number) => `+3519${String(index).padStart(8, '0')}`;
  const batch = (size: number) =>
    Array.from({ length: size }, (_, index) => ({ name: `Imported ${index}`, phone: phoneOf(index) }));

  async function createContacts(contacts: unknown[], as: TestMember) {
    const response: GraphQLResponse = await client.gql(CREATE_CONTACTS, { input: { contacts } }, { as });
    expect(response.errors).toBeUndefined();
    return response.data!.createContacts as { contacts: any[]; userErrors: UserError[] };
  }

  it('creates 1,000 contacts in one call, returned in the order given', async () => {
    const w = await world();
    const contacts = batch(1_000);
    contacts[7] = {
      ...contacts[7]!,
      phone: '+351 9-0000-0007 ',
      status: 'BLOCKED',
      attributes: { source: 'csv' },
      tagIds: [w.tagIds[0]],
    } as never;
    const payload = await createContacts(contacts, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.contacts).toHaveLength(1_000);
    expect(payload.contacts.map((contact) => contact.name)).toEqual(contacts.map((contact) => contact.name));
    expect(payload.contacts[7]).toMatchObject({
      phone: '+351900000007',
      status: 'BLOCKED',
      attributes: { source: 'csv' },
      tags: { nodes: [{ id: w.tagIds[0] }] },
    });

    const read = await client.gql(`{ contacts(first: 1) { totalCount } }`, {}, { as: w.owner });
    expect(read.data?.contacts.totalCount).toBe(1_000);
    const sample = [0, 7, 999].map((index) => payload.contacts[index].id);
    const nodes = await client.gql(
      `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Contact { id name phone status attributes tags(first: 5) { nodes { id } } } } }`,
      { ids: sample },
      { as: w.owner },
    );
    expect(nodes.data?.nodes).toEqual([0, 7, 999].map((index) => payload.contacts[index]));
  });

  it('writes nothing from a batch of 1,000 with one bad row, and names that row', async () => {
    const w = await world();
    const contacts = batch(1_000);
    contacts[3] = { name: 'Bad row', phone: '+1 415 CALL NOW' };
    const payload = await createContacts(contacts, w.owner);
    expect(payload.contacts).toEqual([]);
    expect(onlyError(payload)).toEqual({ field: ['input', 'contacts', '3', 'phone'], code: 'INVALID' });
    expect(await w.contactsInDatabase()).toBe(0);
  });

  it('names every bad field of every bad row', async () => {
    const w = await world();
    const contacts: Record<string, unknown>[] = batch(6);
    contacts[1] = { name: '', phone: phoneOf(1) };
    contacts[4] = { name: 'Attr', phone: phoneOf(4), attributes: 'x', listIds: [w.listIds[0], w.foreign.listId] };
    contacts[5] = { name: 'Tags', phone: phoneOf(5), tagIds: [w.listIds[0]] };
    const payload = await createContacts(contacts, w.owner);
    expect(payload.userErrors.map(({ field, code }) => ({ field, code }))).toEqual(
      expect.arrayContaining([
        { field: ['input', 'contacts', '1', 'name'], code: 'INVALID' },
        { field: ['input', 'contacts', '4', 'attributes'], code: 'INVALID' },
        { field: ['input', 'contacts', '4', 'listIds', '1'], code: 'NOT_FOUND' },
        { field: ['input', 'contacts', '5', 'tagIds', '0'], code: 'NOT_FOUND' },
      ]),
    );
    expect(payload.userErrors).toHaveLength(4);
    expect(await w.contactsInDatabase()).toBe(0);
  });

  it('refuses more than 1,000 contacts with LIMIT_EXCEEDED on ["input","contacts"]', async () => {
    const w = await world();
    const payload = await createContacts(batch(1_001), w.owner);
    expect(payload.contacts).toEqual([]);
    expect(onlyError(payload)).toEqual({ field: ['input', 'contacts'], code: 'LIMIT_EXCEEDED' });
    expect(await w.contactsInDatabase()).toBe(0);
  });

  it('refuses duplicate phones inside the batch and phones of existing contacts with TAKEN at the right index', async () => {
    const w = await world();
    await w.contact({ phone: phoneOf(2) });
    const contacts = batch(5);
    contacts[4] = { name: 'Same as row 0, written differently', phone: `+351 9 ${phoneOf(0).slice(5)}` };
    const payload = await createContacts(contacts, w.owner);
    expect(payload.contacts).toEqual([]);
    expect(payload.userErrors.map(({ field, code }) => ({ field, code }))).toEqual(
      expect.arrayContaining([
        { field: ['input', 'contacts', '4', 'phone'], code: 'TAKEN' },
        { field: ['input', 'contacts', '2', 'phone'], code: 'TAKEN' },
      ]),
    );
    expect(payload.userErrors).toHaveLength(2);
    expect(await w.contactsInDatabase()).toBe(1);
  });

  it('creates nothing for an empty batch', async () => {
    const w = await world();
    expect(await createContacts([], w.owner)).toEqual({ contacts: [], userErrors: [] });
  });

  it('writes nothing when the database fails half-way, after the contact rows were inserted', async () => {
    const w = await world();
    const contacts = batch(10).map((contact, index) => ({
      ...contact,
      listIds: [w.listIds[0]],
      tagIds: index === 9 ? [w.tagIds[1]] : [w.tagIds[0]],
    }));
    const restore = await failInsertsWhere(client.db, 'ContactTag', 'tagId', w.rawTagIds[1]!);
    try {
      const response = await client.gql(CREATE_CONTACTS, { input: { contacts } }, { as: w.owner });
      expect(response.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
    } finally {
      await restore();
    }
    expect(await w.contactsInDatabase()).toBe(0);
    expect(await client.db.prisma.contactListMembership.count({ where: { organizationId: w.org.id } })).toBe(0);
    expect(await client.db.prisma.contactTag.count({ where: { organizationId: w.org.id } })).toBe(0);
  });
});
