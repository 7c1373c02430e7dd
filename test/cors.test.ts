import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createTestClient, type TestClient } from './helpers/client.js';
import { createOrganization, type TestOrganization } from './helpers/factories.js';

const APP = 'https://app.example.com';
const ADMIN = 'http://localhost:3000';

let open: TestClient;
let closed: TestClient;
let org: TestOrganization;

beforeAll(async () => {
  const { corsOrigins } = loadConfig({ CORS_ORIGINS: `${APP}, ${ADMIN}` });
  expect(corsOrigins).toEqual([APP, ADMIN]);
  open = await createTestClient({ corsOrigins });
  closed = await createTestClient();
  org = await createOrganization(open.db, 'CORS Org');
});

function preflight(client: TestClient, origin: string) {
  return client.request({
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
}

describe('CORS (CORS_ORIGINS)', () => {
  it('answers the preflight of a listed origin with what a browser needs, and no credentials mode', async () => {
    const response = await preflight(open, ADMIN);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ADMIN);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(response.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, x-access-token, x-request-id',
    );
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('lets a listed origin read the response and its request id', async () => {
    const response = await open.request({
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
      body: JSON.stringify({ query: '{ viewer { permissions } }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-expose-headers')).toBe('x-request-id, retry-after');
  });

  it('gives any other origin (and the opaque origin "null") no CORS headers at all', async () => {
    for (const origin of ['https://evil.example', 'null', `${APP}.evil.example`]) {
      const response = await preflight(open, origin);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-methods')).toBeNull();
      expect(response.headers.get('vary')).toMatch(/\bOrigin\b/);
    }
  });

  it('allows no cross-origin access when CORS_ORIGINS is unset', async () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    const response = await preflight(closed, APP);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const post = await closed.request({
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
      body: JSON.stringify({ query: '{ viewer { permissions } }' }),
    });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('accepts only bare origins in CORS_ORIGINS', () => {
    for (const value of [
      'app.example.com',
      'https://app.example.com/',
      'https://app.example.com/graphql',
      'ftp://files.example',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(
        /^Invalid CORS_ORIGINS=.*: must be a comma-separated list of origins/,
      );
    }
  });
});

describe('CORS for loopback origins (development)', () => {
  let developing: TestClient;
  beforeAll(async () => {
    expect(loadConfig({}).corsLoopbackOrigins).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', SECRETS_KEY: 'a'.repeat(64) }).corsLoopbackOrigins).toBe(false);
    developing = await createTestClient({ corsLoopbackOrigins: true });
  });

  it.each(['http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'https://localhost'])(
    'lets %s in',
    async (origin) => {
      const response = await preflight(developing, origin);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
    },
  );

  it.each(['https://evil.example', 'http://localhost.evil.example', 'http://127.0.0.1.evil.example', 'null'])(
    'keeps %s out',
    async (origin) => {
      const response = await preflight(developing, origin);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    },
  );

  it('is off unless asked for (production)', async () => {
    const response = await preflight(closed, 'http://localhost:5173');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
