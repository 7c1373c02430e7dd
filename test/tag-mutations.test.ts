// createTag, updateTag, deleteTag: labels unique per organization regardless of case, also
// under concurrent requests; deleting a tag removes its links, never the tagged rows.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import {
  createContact,
  createConversation,
  createList,
  createOrganization,
  createTag,
  type TestMember,
} from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const TAG = `id label createdAt contacts(first: 50) { totalCount nodes { id } }`;
const ERRORS = `userErrors { field message code }`;
const MUTATIONS = {
  createTag: `mutation($input: CreateTagInput!) { createTag(input: $input) { tag { ${TAG} } ${ERRORS} } }`,
  updateTag: `mutation($input: UpdateTagInput!) { updateTag(input: $input) { tag { ${TAG} } ${ERRORS} } }`,
  deleteTag: `mutation($input: DeleteTagInput!) { deleteTag(input: $input) { deletedId ${ERRORS} } }`,
};

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}
type Payload = { tag?: any; deletedId?: string | null; userErrors: UserError[] };

async function mutate(name: keyof typeof MUTATIONS, input: Record<string, unknown>, as: TestMember): Promise<Payload> {
  const response = await client.gql(MUTATIONS[name], { input }, { as });
  expect(response.status).toBe(200);
  expect(response.errors).toBeUndefined();
  return response.data![name];
}

async function readTag(id: string, as: TestMember) {
  const response = await client.gql(`query($id: ID!) { node(id: $id) { ... on Tag { ${TAG} } } }`, { id }, { as });
  expect(response.errors).toBeUndefined();
  return response.data!.node;
}

function onlyError(payload: Payload) {
  expect(payload.userErrors).toHaveLength(1);
  const [{ field, code, message }] = payload.userErrors as [UserError];
  expect(message).not.toBe('');
  return { field, code };
}

/** The dataset of one test: an organization with a tag "Gold", and another organization with its own "VIP". */
async function world() {
  const db = client.db;
  const org = await createOrganization(db);
  const other = await createOrganization(db);
  const longAgo = new Date('2020-01-01T00:00:00.000Z');
  const gold = await createTag(db, org.id, { label: 'Gold', createdAt: longAgo, updatedAt: longAgo });
  const foreignTag = await createTag(db, other.id, { label: 'VIP' });
  const foreignContact = await createContact(db, other.id);
  return {
    org,
    owner: org.owner,
    gold: { ...gold, globalId: globalId('Tag', gold.id) },
    foreign: {
      tagId: globalId('Tag', foreignTag.id),
      rawTagId: foreignTag.id,
      contactId: globalId('Contact', foreignContact.id),
    },
    labels: async () =>
      (await db.prisma.tag.findMany({ where: { organizationId: org.id }, orderBy: { label: 'asc' } })).map(
        (tag) => tag.label,
      ),
  };
}
type World = Awaited<ReturnType<typeof world>>;

const NOT_FOUND_CASES = {
  'an id of another type': (w: World) => w.foreign.contactId,
  'an id of another organization': (w: World) => w.foreign.tagId,
  'an id that does not exist': () => globalId('Tag', randomUUID()),
  'a string that is not an id': () => '',
};

describe('createTag', () => {
  it('creates a tag with its label trimmed; the read API returns what the payload did', async () => {
    const w = await world();
    const payload = await mutate('createTag', { label: '  Wholesale  ' }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.tag).toMatchObject({ label: 'Wholesale', contacts: { totalCount: 0, nodes: [] } });
    expect(await readTag(payload.tag.id, w.owner)).toEqual(payload.tag);
    const search = await client.gql(`{ tags(search: "whole") { nodes { id label } } }`, {}, { as: w.owner });
    expect(search.data?.tags.nodes).toEqual([{ id: payload.tag.id, label: 'Wholesale' }]);
  });

  it.each(['gold', 'GOLD', ' gOLd '])('refuses %j while "Gold" exists: TAKEN on ["input","label"]', async (label) => {
    const w = await world();
    const payload = await mutate('createTag', { label }, w.owner);
    expect(payload.tag).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'label'], code: 'TAKEN' });
    expect(await w.labels()).toEqual(['Gold']);
  });

  it('compares labels regardless of case beyond ASCII too', async () => {
    const w = await world();
    expect((await mutate('createTag', { label: 'Été' }, w.owner)).userErrors).toEqual([]);
    const payload = await mutate('createTag', { label: 'ÉTÉ' }, w.owner);
    expect(onlyError(payload)).toEqual({ field: ['input', 'label'], code: 'TAKEN' });
    expect(await w.labels()).toEqual(['Gold', 'Été']);
  });

  it('accepts a label that only another organization has', async () => {
    const w = await world();
    const payload = await mutate('createTag', { label: 'vip' }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.tag.label).toBe('vip');
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['256 characters long', 't'.repeat(256)],
  ])('refuses a label that is %s as INVALID on ["input","label"]', async (_case, label) => {
    const w = await world();
    const payload = await mutate('createTag', { label }, w.owner);
    expect(payload.tag).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'label'], code: 'INVALID' });
    expect(await w.labels()).toEqual(['Gold']);
  });

  it('accepts a label of 255 characters', async () => {
    const w = await world();
    const payload = await mutate('createTag', { label: 'ü'.repeat(255) }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.tag.label).toBe('ü'.repeat(255));
  });

  it('under 20 concurrent requests with labels differing only in case, creates exactly one tag; 19 get TAKEN', async () => {
    const w = await world();
    const variants = ['Platinum', 'PLATINUM', 'platinum', 'PlAtInUm', 'pLATINUM'];
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        client.gql(MUTATIONS.createTag, { input: { label: variants[index % variants.length] } }, { as: w.owner }),
      ),
    );
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.errors).toBeUndefined();
    }
    const payloads: Payload[] = responses.map((response) => response.data!.createTag);
    const created = payloads.filter((payload) => payload.tag !== null);
    expect(created).toHaveLength(1);
    const refused = payloads.filter((payload) => payload.tag === null);
    expect(refused).toHaveLength(19);
    for (const payload of refused) expect(onlyError(payload)).toEqual({ field: ['input', 'label'], code: 'TAKEN' });
    const labels = await w.labels();
    expect(labels).toHaveLength(2);
    expect(labels).toContain(created[0]!.tag.label);
  });

  it('runs two creations of one request in order: the second, same label in other case, is TAKEN', async () => {
    const w = await world();
    const response = await client.gql(
      `mutation {
        first: createTag(input: { label: "Silver" }) { tag { label } userErrors { code } }
        second: createTag(input: { label: "SILVER" }) { tag { label } userErrors { field code } }
        third: createTag(input: { label: "Bronze" }) { tag { label } userErrors { code } }
      }`,
      {},
      { as: w.owner },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      first: { tag: { label: 'Silver' }, userErrors: [] },
      second: { tag: null, userErrors: [{ field: ['input', 'label'], code: 'TAKEN' }] },
      third: { tag: { label: 'Bronze' }, userErrors: [] },
    });
    expect(await w.labels()).toEqual(['Bronze', 'Gold', 'Silver']);
  });
});

describe('updateTag', () => {
  it('renames a tag; the read API agrees; updatedAt moves in the database', async () => {
    const w = await world();
    const payload = await mutate('updateTag', { id: w.gold.globalId, label: ' Golden ' }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.tag).toMatchObject({ id: w.gold.globalId, label: 'Golden' });
    expect(await readTag(w.gold.globalId, w.owner)).toEqual(payload.tag);
    const row = await client.db.prisma.tag.findUniqueOrThrow({ where: { id: w.gold.id } });
    expect(row.createdAt.toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(row.updatedAt.getTime()).toBeGreaterThan(row.createdAt.getTime());
  });

  it('lets a tag change the case of its own label', async () => {
    const w = await world();
    const payload = await mutate('updateTag', { id: w.gold.globalId, label: 'GOLD' }, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.tag.label).toBe('GOLD');
  });

  it('refuses the label of another tag, in any case: TAKEN on ["input","label"]', async () => {
    const w = await world();
    const silver = await mutate('createTag', { label: 'Silver' }, w.owner);
    const payload = await mutate('updateTag', { id: silver.tag.id, label: 'gOLD' }, w.owner);
    expect(payload.tag).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'label'], code: 'TAKEN' });
    expect(await w.labels()).toEqual(['Gold', 'Silver']);
  });

  it.each([
    ['blank', ' '],
    ['256 characters long', 'g'.repeat(256)],
  ])('refuses a label that is %s and changes nothing', async (_case, label) => {
    const w = await world();
    const payload = await mutate('updateTag', { id: w.gold.globalId, label }, w.owner);
    expect(onlyError(payload)).toEqual({ field: ['input', 'label'], code: 'INVALID' });
    expect(await w.labels()).toEqual(['Gold']);
  });

  it.each(Object.entries(NOT_FOUND_CASES))(
    'refuses a tag id that is %s as NOT_FOUND on ["input","id"]',
    async (_case, badId) => {
      const w = await world();
      const payload = await mutate('updateTag', { id: badId(w), label: 'Hijacked' }, w.owner);
      expect(payload.tag).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
      expect(await client.db.prisma.tag.count({ where: { label: 'Hijacked' } })).toBe(0);
    },
  );
});

describe('deleteTag', () => {
  it('deletes the tag and its links to contacts, lists and conversations, but not those rows', async () => {
    const w = await world();
    const db = client.db;
    const silver = await createTag(db, w.org.id, { label: 'Silver' });
    const contact = await createContact(db, w.org.id);
    const list = await createList(db, w.org.id);
    const conversation = await createConversation(db, w.org.id, { contactId: contact.id });
    for (const tagId of [w.gold.id, silver.id]) {
      await db.prisma.contactTag.create({ data: { organizationId: w.org.id, contactId: contact.id, tagId } });
      await db.prisma.listTag.create({ data: { organizationId: w.org.id, listId: list.id, tagId } });
      await db.prisma.conversationTag.create({
        data: { organizationId: w.org.id, conversationId: conversation.id, tagId },
      });
    }

    const payload = await mutate('deleteTag', { id: w.gold.globalId }, w.owner);
    expect(payload).toEqual({ deletedId: w.gold.globalId, userErrors: [] });

    expect(await readTag(w.gold.globalId, w.owner)).toBeNull();
    const read = await client.gql(
      `query($contact: ID!, $list: ID!, $conversation: ID!) {
        contact: node(id: $contact) { ... on Contact { tags { nodes { label } } } }
        list: node(id: $list) { ... on List { tags { nodes { label } } } }
        conversation: node(id: $conversation) { ... on Conversation { tags { nodes { label } } } }
        tags { nodes { label } }
      }`,
      {
        contact: globalId('Contact', contact.id),
        list: globalId('List', list.id),
        conversation: globalId('Conversation', conversation.id),
      },
      { as: w.owner },
    );
    const silverOnly = { tags: { nodes: [{ label: 'Silver' }] } };
    expect(read.data).toEqual({
      contact: silverOnly,
      list: silverOnly,
      conversation: silverOnly,
      tags: { nodes: [{ label: 'Silver' }] },
    });
    for (const table of [db.prisma.contactTag, db.prisma.listTag, db.prisma.conversationTag] as const) {
      expect(await (table as typeof db.prisma.contactTag).count({ where: { tagId: w.gold.id } })).toBe(0);
    }
  });

  it('frees the label for a new tag', async () => {
    const w = await world();
    await mutate('deleteTag', { id: w.gold.globalId }, w.owner);
    const payload = await mutate('createTag', { label: 'GOLD' }, w.owner);
    expect(payload.userErrors).toEqual([]);
  });

  it.each(Object.entries(NOT_FOUND_CASES))(
    'refuses a tag id that is %s as NOT_FOUND on ["input","id"] and deletes nothing',
    async (_case, badId) => {
      const w = await world();
      const payload = await mutate('deleteTag', { id: badId(w) }, w.owner);
      expect(payload.deletedId).toBeNull();
      expect(onlyError(payload)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
      expect(await w.labels()).toEqual(['Gold']);
      expect(await client.db.prisma.tag.count({ where: { id: w.foreign.rawTagId } })).toBe(1);
    },
  );
});
