import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, type TestClient } from './helpers/client.js';
import { createMember, createOrganization, type TestOrganization } from './helpers/factories.js';

const VIEWER = `{ viewer { permissions member { name accessLevel } organization { name } } }`;

let client: TestClient;
let org: TestOrganization;

beforeAll(async () => {
  client = await createTestClient();
  org = await createOrganization(client.db, 'Auth Org');
});

describe('authentication', () => {
  it('answers a request without credentials with HTTP 401 and a JSON GraphQL error', async () => {
    const response = await client.gql(VIEWER, {}, { as: null });
    expect(response.status).toBe(401);
    expect(response.data).toBeUndefined();
    expect(response.errors).toEqual([
      {
        message: 'Authentication required: send `Authorization: Bearer <api key or JWT>`.',
        extensions: { code: 'UNAUTHENTICATED' },
      },
    ]);
  });

  it('refuses an unknown key and a malformed header with 401', async () => {
    const unknown = await client.gql(
      VIEWER,
      {},
      { as: { ...org.owner, apiKey: 'wag_thisKeyDoesNotExist000000000000' } },
    );
    expect(unknown.status).toBe(401);
    expect(unknown.errors?.[0]?.message).toBe('The API key is not valid (unknown or revoked).');
    const basic = await client.gql(VIEWER, {}, { as: null, headers: { authorization: `Basic ${org.owner.apiKey}` } });
    expect(basic.status).toBe(401);
  });

  it('stops accepting a key on the request after it is revoked', async () => {
    const member = await createMember(client.db, org.id);
    expect((await client.gql(VIEWER, {}, { as: member })).status).toBe(200);
    await client.db.prisma.apiKey.updateMany({ where: { memberId: member.id }, data: { revokedAt: new Date() } });
    const after = await client.gql(VIEWER, {}, { as: member });
    expect(after.status).toBe(401);
  });

  it('acts as the key’s member, with the union of its roles’ permissions', async () => {
    const member = await createMember(client.db, org.id, {
      name: 'Two Roles',
      permissions: ['Get:Contact', 'Get:Tag'],
    });
    const role = await client.db.prisma.organizationRole.create({
      data: {
        organizationId: org.id,
        name: 'Second role',
        permissions: ['Get:Tag', 'Update:Conversation', 'Not:APermission'],
      },
    });
    await client.db.prisma.roleAssignment.create({
      data: { organizationId: org.id, memberId: member.id, roleId: role.id },
    });
    const response = await client.gql(VIEWER, {}, { as: member });
    expect(response.data?.viewer).toEqual({
      permissions: ['Get:Contact', 'Get:Tag', 'Update:Conversation'],
      member: { name: 'Two Roles', accessLevel: 'MEMBER' },
      organization: { name: 'Auth Org' },
    });
  });

  it('gives an owner every permission', async () => {
    const response = await client.gql(VIEWER, {}, { as: org.owner });
    expect(response.data?.viewer.permissions).toContain('Delete:Contact');
    expect(response.data?.viewer.permissions).toContain('Regenerate:ApiKey');
    expect(response.data?.viewer.member.accessLevel).toBe('OWNER');
  });

  it('records when a key was last used', async () => {
    const member = await createMember(client.db, org.id);
    await client.gql(VIEWER, {}, { as: member });
    await expect
      .poll(async () => (await client.db.prisma.apiKey.findFirst({ where: { memberId: member.id } }))?.lastUsedAt)
      .toBeInstanceOf(Date);
  });
});

describe('authentication comes first', () => {
  it('answers an anonymous request with 401 before looking at its document', async () => {
    for (const query of ['{ contact { id } }', '{ viewer {', '{ __schema { types { name } } }']) {
      const response = await client.gql(query, {}, { as: null });
      expect(response.status).toBe(401);
      expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('says how to authenticate in WWW-Authenticate', async () => {
    const response = await client.request({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('WapiKit’s x-access-token header', () => {
  it('carries an API key like Authorization does, bare or as Bearer', async () => {
    for (const value of [org.owner.apiKey, `Bearer ${org.owner.apiKey}`]) {
      const response = await client.gql(VIEWER, {}, { as: null, headers: { 'x-access-token': value } });
      expect(response.status).toBe(200);
      expect(response.data?.viewer.organization).toEqual({ name: 'Auth Org' });
    }
  });

  it('may repeat the Authorization credential, but not contradict it', async () => {
    const other = await createMember(client.db, org.id);
    const same = await client.gql(VIEWER, {}, { as: org.owner, headers: { 'x-access-token': org.owner.apiKey } });
    expect(same.status).toBe(200);
    const different = await client.gql(VIEWER, {}, { as: org.owner, headers: { 'x-access-token': other.apiKey } });
    expect(different.status).toBe(401);
    expect(different.errors?.[0]?.message).toBe(
      'Send one credential: the `Authorization` and `x-access-token` headers differ.',
    );
  });

  it('refuses an unknown key in it', async () => {
    const response = await client.gql(
      VIEWER,
      {},
      { as: null, headers: { 'x-access-token': 'wag_unknownKey000000000000000000' } },
    );
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.message).toBe('The API key is not valid (unknown or revoked).');
  });
});
