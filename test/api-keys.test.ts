// createApiKey and revokeApiKey, and Query.apiKeys: the secret is shown once and works as a
// Bearer key; only its hash and prefix are stored; a revoked key stops working at once.
import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { createContact, createMember, createOrganization, type TestMember } from './helpers/factories.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const API_KEY = `id name prefix createdAt lastUsedAt revokedAt member { id }`;
const ERRORS = `userErrors { field message code }`;
const CREATE_API_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { ${API_KEY} } secret ${ERRORS} } }`;
const REVOKE_API_KEY = `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { ${API_KEY} } ${ERRORS} } }`;
const VIEWER = `{ viewer { member { id } organization { id } } }`;

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}

async function createApiKey(name: string, as: TestMember) {
  const response = await client.gql(CREATE_API_KEY, { input: { name } }, { as });
  expect(response.errors).toBeUndefined();
  return response.data!.createApiKey as { apiKey: any; secret: string | null; userErrors: UserError[] };
}

async function revokeApiKey(id: string, as: TestMember) {
  const response = await client.gql(REVOKE_API_KEY, { input: { id } }, { as });
  expect(response.errors).toBeUndefined();
  return response.data!.revokeApiKey as { apiKey: any; userErrors: UserError[] };
}

/** A request made with a raw secret instead of a member's own key. */
const withSecret = (member: TestMember, secret: string) => ({ ...member, apiKey: secret });

function onlyError(payload: { userErrors: UserError[] }) {
  expect(payload.userErrors).toHaveLength(1);
  const [{ field, code, message }] = payload.userErrors as [UserError];
  expect(message).not.toBe('');
  return { field, code };
}

/** The dataset of one test: an organization with an owner and a plain member; another organization. */
async function world() {
  const org = await createOrganization(client.db);
  const member = await createMember(client.db, org.id, {
    name: 'Integrations bot',
    permissions: ['Get:ApiKey', 'Regenerate:ApiKey'],
  });
  const other = await createOrganization(client.db);
  return {
    org,
    owner: org.owner,
    member,
    other,
    keysInDatabase: async () =>
      (
        await client.db.prisma.apiKey.findMany({ where: { organizationId: org.id }, orderBy: { createdAt: 'asc' } })
      ).map(({ id, name }) => ({ id, name })),
  };
}

describe('createApiKey', () => {
  it('returns a secret once, which then works as a Bearer key acting as the creating member', async () => {
    const w = await world();
    const payload = await createApiKey('  Zapier sync ', w.member);
    expect(payload.userErrors).toEqual([]);
    expect(payload.secret).toMatch(/^wag_[A-Za-z0-9_-]{32}$/);
    expect(payload.apiKey).toMatchObject({
      name: 'Zapier sync',
      prefix: payload.secret!.slice(0, 8),
      lastUsedAt: null,
      revokedAt: null,
      member: { id: globalId('OrganizationMember', w.member.id) },
    });

    const read = await client.gql(
      `query($id: ID!) { node(id: $id) { ... on ApiKey { ${API_KEY} } } }`,
      { id: payload.apiKey.id },
      { as: w.owner },
    );
    expect(read.data?.node).toEqual(payload.apiKey);

    const viewer = await client.gql(VIEWER, {}, { as: withSecret(w.owner, payload.secret!) });
    expect(viewer.status).toBe(200);
    expect(viewer.data?.viewer).toEqual({
      member: { id: globalId('OrganizationMember', w.member.id) },
      organization: { id: globalId('Organization', w.org.id) },
    });
  });

  it('stores only a hash and the prefix of the secret', async () => {
    const w = await world();
    const payload = await createApiKey('Stored', w.owner);
    const secret = payload.secret!;
    const row = await client.db.prisma.apiKey.findFirstOrThrow({ where: { organizationId: w.org.id, name: 'Stored' } });
    expect(row.keyHash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(row.prefix).toBe(secret.slice(0, 12));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain(secret.slice(12));
  });

  it('lists the key in apiKeys without its secret, and no query can show the secret again', async () => {
    const w = await world();
    const payload = await createApiKey('Listed', w.owner);
    const listed = await client.gql(`{ apiKeys { totalCount nodes { ${API_KEY} } } }`, {}, { as: w.owner });
    expect(listed.data?.apiKeys.totalCount).toBe(3); // the owner's and the member's own keys, and this one
    const key = listed.data?.apiKeys.nodes.find((node: { id: string }) => node.id === payload.apiKey.id);
    expect(key).toEqual(payload.apiKey);
    expect(JSON.stringify(listed)).not.toContain(payload.secret!.slice(0, 9));

    const fields = await client.gql(`{ __type(name: "ApiKey") { fields { name } } }`, {}, { as: w.owner });
    const names = fields.data?.__type.fields.map((field: { name: string }) => field.name);
    expect(names).toEqual(expect.arrayContaining(['id', 'name', 'prefix', 'createdAt', 'lastUsedAt', 'revokedAt']));
    expect(names.filter((name: string) => /secret|hash|key$/i.test(name))).toEqual([]);
  });

  it('gives every key its own secret, also for two keys created in one request', async () => {
    const w = await world();
    const response = await client.gql(
      `mutation {
        a: createApiKey(input: { name: "Same name" }) { apiKey { id prefix } secret }
        b: createApiKey(input: { name: "Same name" }) { apiKey { id prefix } secret }
      }`,
      {},
      { as: w.owner },
    );
    const { a, b } = response.data!;
    expect(a.secret).not.toBe(b.secret);
    expect(a.apiKey.id).not.toBe(b.apiKey.id);
    for (const secret of [a.secret, b.secret]) {
      expect((await client.gql(VIEWER, {}, { as: withSecret(w.owner, secret) })).status).toBe(200);
    }
  });

  it.each([
    ['blank', '  '],
    ['256 characters long', 'k'.repeat(256)],
  ])('refuses a name that is %s as INVALID on ["input","name"] and creates no key', async (_case, name) => {
    const w = await world();
    const before = await w.keysInDatabase();
    const payload = await createApiKey(name, w.owner);
    expect(payload).toMatchObject({ apiKey: null, secret: null });
    expect(onlyError(payload)).toEqual({ field: ['input', 'name'], code: 'INVALID' });
    expect(await w.keysInDatabase()).toEqual(before);
  });
});

describe('revokeApiKey', () => {
  it('makes the key stop working on the next request; the key stays listed with revokedAt', async () => {
    const w = await world();
    const created = await createApiKey('Short-lived', w.owner);
    const asKey = withSecret(w.owner, created.secret!);
    expect((await client.gql(VIEWER, {}, { as: asKey })).status).toBe(200);

    const payload = await revokeApiKey(created.apiKey.id, w.owner);
    expect(payload.userErrors).toEqual([]);
    expect(payload.apiKey).toMatchObject({ id: created.apiKey.id, name: 'Short-lived' });
    expect(payload.apiKey.revokedAt).toEqual(expect.any(String));

    const refused = await client.gql(VIEWER, {}, { as: asKey });
    expect(refused.status).toBe(401);
    expect(refused.data).toBeUndefined();

    const listed = await client.gql(`{ apiKeys { nodes { id revokedAt } } }`, {}, { as: w.owner });
    expect(listed.data?.apiKeys.nodes).toContainEqual({ id: created.apiKey.id, revokedAt: payload.apiKey.revokedAt });
    // The other keys keep working.
    expect((await client.gql(VIEWER, {}, { as: w.member })).status).toBe(200);
  });

  it('revokes the key the request itself is made with; the next request with it is refused', async () => {
    const w = await world();
    const created = await createApiKey('Self-revoking', w.member);
    const asKey = withSecret(w.member, created.secret!);
    const payload = await revokeApiKey(created.apiKey.id, asKey);
    expect(payload.userErrors).toEqual([]);
    expect(payload.apiKey.revokedAt).not.toBeNull();
    expect((await client.gql(VIEWER, {}, { as: asKey })).status).toBe(401);
  });

  it('revoking a revoked key changes nothing and is no error', async () => {
    const w = await world();
    const created = await createApiKey('Twice', w.owner);
    const first = await revokeApiKey(created.apiKey.id, w.owner);
    const second = await revokeApiKey(created.apiKey.id, w.owner);
    expect(second).toEqual(first);
  });

  it.each([
    [
      'a key of another organization',
      async (w: Awaited<ReturnType<typeof world>>) => {
        const key = await client.db.prisma.apiKey.findFirstOrThrow({ where: { organizationId: w.other.id } });
        return globalId('ApiKey', key.id);
      },
    ],
    [
      'an id of another type',
      async (w: Awaited<ReturnType<typeof world>>) =>
        globalId('Contact', (await createContact(client.db, w.org.id)).id),
    ],
    ['an id that does not exist', async () => globalId('ApiKey', randomUUID())],
    ['a string that is not an id', async () => 'd2FnXzEyMw=='],
  ])('refuses %s as NOT_FOUND on ["input","id"] and revokes nothing', async (_case, badId) => {
    const w = await world();
    const payload = await revokeApiKey(await badId(w), w.owner);
    expect(payload.apiKey).toBeNull();
    expect(onlyError(payload)).toEqual({ field: ['input', 'id'], code: 'NOT_FOUND' });
    expect(
      await client.db.prisma.apiKey.count({
        where: { organizationId: { in: [w.org.id, w.other.id] }, revokedAt: { not: null } },
      }),
    ).toBe(0);
    expect((await client.gql(VIEWER, {}, { as: w.other.owner })).status).toBe(200);
  });
});
