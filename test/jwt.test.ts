import { generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { isJwt } from '../src/auth/credentials.js';
import { loadConfig } from '../src/config.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { createMember, createOrganization, type TestMember, type TestOrganization } from './helpers/factories.js';
import { JWT_SECRET, memberClaims, signJwt, unsignedJwt } from './helpers/jwt.js';

const VIEWER = `{ viewer { permissions member { id name } organization { id name } } }`;
const INVALID =
  'The JWT is not valid (signature, algorithm or claims are wrong, or its member is not in its organization).';

let client: TestClient;
let acme: TestOrganization;
let globex: TestOrganization;
let agent: TestMember;

beforeAll(async () => {
  client = await createTestClient({ jwt: loadConfig({ JWT_SECRET }).jwt });
  acme = await createOrganization(client.db, 'JWT Acme');
  globex = await createOrganization(client.db, 'JWT Globex');
  agent = await createMember(client.db, acme.id, { name: 'Agent', permissions: ['Get:Contact'] });
});

function withToken(token: string, header: 'authorization' | 'x-access-token' = 'authorization') {
  return client.gql(
    VIEWER,
    {},
    { as: null, headers: { [header]: header === 'authorization' ? `Bearer ${token}` : token } },
  );
}

async function expectRefused(token: string, message = INVALID) {
  const response = await withToken(token);
  expect(response.status).toBe(401);
  expect(response.data).toBeUndefined();
  expect(response.errors).toEqual([{ message, extensions: { code: 'UNAUTHENTICATED' } }]);
}

describe('JWT authentication (JWT_SECRET)', () => {
  it('acts as the member the token names, with its permissions', async () => {
    const response = await withToken(await signJwt(memberClaims(agent)));
    expect(response.status).toBe(200);
    expect(response.data?.viewer).toEqual({
      permissions: ['Get:Contact'],
      member: { id: globalId('OrganizationMember', agent.id), name: 'Agent' },
      organization: { id: globalId('Organization', acme.id), name: 'JWT Acme' },
    });
  });

  it('takes the token from x-access-token too', async () => {
    const response = await withToken(await signJwt(memberClaims(acme.owner)), 'x-access-token');
    expect(response.status).toBe(200);
    expect(response.data?.viewer.member.id).toBe(globalId('OrganizationMember', acme.owner.id));
  });

  it('refuses an expired token, and says so', async () => {
    await expectRefused(
      await signJwt(memberClaims(agent, { exp: Math.floor(Date.now() / 1000) - 60 })),
      'The JWT has expired: get a new one.',
    );
  });

  it('refuses a token signed with another secret, or tampered with, in the same words', async () => {
    await expectRefused(await signJwt(memberClaims(agent), 'another-secret-that-is-32-chars-long-too'));
    // Another member's claims under the agent's signature.
    const [header, , signature] = (await signJwt(memberClaims(agent))).split('.');
    const payload = Buffer.from(JSON.stringify(memberClaims(acme.owner))).toString('base64url');
    await expectRefused(`${header}.${payload}.${signature}`);
  });

  it('refuses alg: none and every algorithm but HS256', async () => {
    await expectRefused(unsignedJwt(memberClaims(agent)));
    await expectRefused(await signJwt(memberClaims(agent), JWT_SECRET, 'HS512'));
    await expectRefused(await signJwt(memberClaims(agent), JWT_SECRET, 'HS384'));
    const { privateKey } = await generateKeyPair('RS256');
    await expectRefused(await new SignJWT(memberClaims(agent)).setProtectedHeader({ alg: 'RS256' }).sign(privateKey));
  });

  it('refuses a token without exp, sub or org', async () => {
    for (const claim of ['exp', 'sub', 'org']) {
      await expectRefused(await signJwt(memberClaims(agent, { [claim]: undefined })));
    }
  });

  it('refuses sub and org that are not the global ids of a member and an organization', async () => {
    await expectRefused(await signJwt(memberClaims(agent, { sub: agent.id })));
    await expectRefused(await signJwt(memberClaims(agent, { sub: globalId('Contact', agent.id) })));
    await expectRefused(await signJwt(memberClaims(agent, { org: globalId('OrganizationMember', acme.id) })));
  });

  it('refuses a token not yet valid (nbf)', async () => {
    await expectRefused(await signJwt(memberClaims(agent, { nbf: Math.floor(Date.now() / 1000) + 600 })));
  });

  it('refuses a member of another organization than the token names', async () => {
    await expectRefused(await signJwt(memberClaims(agent, { org: globalId('Organization', globex.id) })));
  });

  it('refuses a member removed after the token was issued', async () => {
    const leaving = await createMember(client.db, acme.id, { name: 'Leaving' });
    const token = await signJwt(memberClaims(leaving));
    expect((await withToken(token)).status).toBe(200);
    await client.db.prisma.organizationMember.delete({ where: { id: leaving.id } });
    await expectRefused(token);
  });

  it('refuses a malformed token that looks like one without a server error', async () => {
    await expectRefused('abc.def.ghi');
    await expectRefused('eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln');
  });

  it('refuses every JWT when JWT_SECRET is unset', async () => {
    const keysOnly = await createTestClient();
    const response = await keysOnly.gql(
      VIEWER,
      {},
      {
        as: null,
        headers: { authorization: `Bearer ${await signJwt(memberClaims(agent))}` },
      },
    );
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.message).toBe('JWT authentication is not enabled on this server: use an API key.');
    // API keys still work beside JWTs.
    expect((await client.gql(VIEWER, {}, { as: agent })).status).toBe(200);
  });
});

describe('telling a JWT from an API key', () => {
  it('reads three base64url segments as a JWT, anything else as an API key', () => {
    expect(isJwt('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl')).toBe(true);
    expect(isJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toBe(true); // alg: none
    expect(isJwt('wag_3Qct1i4rruVp2lFa6BTwec9rU9MrJba0')).toBe(false);
    expect(isJwt('demo-key-acme-0001-local-only-xyz')).toBe(false);
    expect(isJwt('a.b')).toBe(false);
    expect(isJwt('a.b.c.d')).toBe(false);
    expect(isJwt('a+b.c/d.e')).toBe(false);
  });

  it('does not accept a DEMO_API_KEY that would read as a JWT', () => {
    expect(() => loadConfig({ DEMO_API_KEY: 'demo.key.for-a-test.that-is-long-enough' })).toThrow(
      /must not contain "\."/,
    );
  });
});

describe('JWT_ISSUER and JWT_AUDIENCE', () => {
  const ISSUER = 'https://id.example.com';
  const AUDIENCE = 'wagraph';

  async function statusWith(checked: TestClient, claims: Record<string, unknown>) {
    const token = await signJwt(memberClaims(agent, claims));
    return (await checked.gql(VIEWER, {}, { as: null, headers: { authorization: `Bearer ${token}` } })).status;
  }

  it('when set, require a token issued by that issuer for that audience', async () => {
    const checked = await createTestClient({
      jwt: loadConfig({ JWT_SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE }).jwt,
    });
    expect(await statusWith(checked, { iss: ISSUER, aud: AUDIENCE })).toBe(200);
    expect(await statusWith(checked, { iss: ISSUER, aud: ['another-api', AUDIENCE] })).toBe(200);
    expect(await statusWith(checked, {})).toBe(401);
    expect(await statusWith(checked, { aud: AUDIENCE })).toBe(401);
    expect(await statusWith(checked, { iss: ISSUER })).toBe(401);
    expect(await statusWith(checked, { iss: 'https://evil.example.com', aud: AUDIENCE })).toBe(401);
    expect(await statusWith(checked, { iss: ISSUER, aud: 'another-api' })).toBe(401);
    // The refusal reads like every other one: which claim was wrong goes to the log only.
    const token = await signJwt(memberClaims(agent, { iss: ISSUER, aud: 'another-api' }));
    const refused = await checked.gql(VIEWER, {}, { as: null, headers: { authorization: `Bearer ${token}` } });
    expect(refused.errors).toEqual([{ message: INVALID, extensions: { code: 'UNAUTHENTICATED' } }]);
  });

  it('when unset, leave iss and aud unchecked', async () => {
    expect(await statusWith(client, { iss: 'anyone', aud: 'anything' })).toBe(200);
  });

  it('need JWT_SECRET', () => {
    expect(() => loadConfig({ JWT_ISSUER: ISSUER })).toThrow(
      'Invalid JWT_ISSUER="https://id.example.com": needs JWT_SECRET (without it, JWTs are not accepted at all)',
    );
    expect(() => loadConfig({ JWT_AUDIENCE: AUDIENCE })).toThrow(/^Invalid JWT_AUDIENCE="wagraph": needs JWT_SECRET/);
  });
});

describe('JWT_SECRET', () => {
  it('must be at least 32 characters, and a bad one is never printed', () => {
    expect(() => loadConfig({ JWT_SECRET: 'too-short-secret' })).toThrow(
      'Invalid JWT_SECRET (value not shown): must be at least 32 characters long',
    );
    expect(loadConfig({}).jwt).toBeUndefined();
  });
});
