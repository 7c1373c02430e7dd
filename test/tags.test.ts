// Tag: its fields and contacts, and the root `tags` connection's search.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { dataOf, rawIds } from './helpers/connections.js';
import { at, createContact, createOrganization, createTag, type TestOrganization } from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

describe('Tag', () => {
  it('exposes its fields and its contacts, oldest contact first', async () => {
    const org = await createOrganization(client.db);
    const tag = await createTag(client.db, org.id, { label: 'VIP', createdAt: at(3) });
    const other = await createTag(client.db, org.id, { label: 'other' });
    const contacts = [
      await createContact(client.db, org.id, { name: 'Late', createdAt: at(20), status: 'BLOCKED' }),
      await createContact(client.db, org.id, { name: 'Early', createdAt: at(10) }),
    ];
    const untagged = await createContact(client.db, org.id, { name: 'Untagged', createdAt: at(5) });
    for (const contact of contacts)
      await client.db.prisma.contactTag.create({
        data: { organizationId: org.id, tagId: tag.id, contactId: contact.id },
      });
    await client.db.prisma.contactTag.create({
      data: { organizationId: org.id, tagId: other.id, contactId: untagged.id },
    });

    const query = `query($id: ID!) { node(id: $id) { ... on Tag { id label createdAt contacts { totalCount nodes { name } } } } }`;
    expect(dataOf(await client.gql(query, { id: globalId('Tag', tag.id) }, { as: org.owner })).node).toEqual({
      id: globalId('Tag', tag.id),
      label: 'VIP',
      createdAt: '2026-01-01T00:00:03.000Z',
      contacts: { totalCount: 2, nodes: [{ name: 'Early' }, { name: 'Late' }] },
    });
  });

  it('has no contacts when none is tagged with it', async () => {
    const org = await createOrganization(client.db);
    const tag = await createTag(client.db, org.id);
    await createContact(client.db, org.id);
    const query = `query($id: ID!) { node(id: $id) { ... on Tag { contacts { totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage } } } } }`;
    expect(dataOf(await client.gql(query, { id: globalId('Tag', tag.id) }, { as: org.owner })).node).toEqual({
      contacts: { totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false } },
    });
  });
});

describe('tags(search:)', () => {
  async function tagsWhere(org: TestOrganization, search?: string) {
    const data = dataOf(
      await client.gql(
        `query($search: String) { tags(search: $search) { totalCount nodes { id } } }`,
        { search },
        { as: org.owner },
      ),
    );
    expect(data.tags.totalCount).toBe(data.tags.nodes.length);
    return rawIds(data.tags);
  }

  it('is a case-insensitive substring of the label, with %, _ and \\ matched literally', async () => {
    const org = await createOrganization(client.db);
    const make = (label: string, second: number) => createTag(client.db, org.id, { label, createdAt: at(second) });
    const vip = await make('VIP', 1);
    const vipGold = await make('vip-gold', 2);
    const percent = await make('10%', 3);
    const underscore = await make('needs_reply', 4);
    const backslash = await make('a\\b', 5);
    expect(await tagsWhere(org)).toEqual([vip.id, vipGold.id, percent.id, underscore.id, backslash.id]);
    expect(await tagsWhere(org, 'vip')).toEqual([vip.id, vipGold.id]);
    expect(await tagsWhere(org, 'GOLD')).toEqual([vipGold.id]);
    expect(await tagsWhere(org, '%')).toEqual([percent.id]);
    expect(await tagsWhere(org, '_')).toEqual([underscore.id]);
    expect(await tagsWhere(org, '\\')).toEqual([backslash.id]);
    expect(await tagsWhere(org, 'v_p')).toEqual([]);
    expect(await tagsWhere(org, 'nothing')).toEqual([]);
  });
});
