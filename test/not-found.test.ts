// Unknown paths answer a JSON 404 that points to the API; the known ones are untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, type TestClient } from './helpers/client.js';

let client: TestClient;
beforeAll(async () => {
  client = await createTestClient();
});

describe('unknown paths', () => {
  it.each(['/', '/api', '/graphql/', `/${'x'.repeat(2_000)}`])(
    '%s → 404 with a JSON error pointing to /graphql',
    async (path) => {
      const response = await client.yoga.fetch(`http://wagraph.test${path}`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({
        errors: [
          {
            message: 'Not found: the GraphQL API is at /graphql (POST a query; open it in a browser for GraphiQL).',
            extensions: { code: 'NOT_FOUND' },
          },
        ],
      });
    },
  );

  it('leaves /healthz, /readyz and /graphql alone', async () => {
    expect((await client.yoga.fetch('http://wagraph.test/healthz')).status).toBe(200);
    expect((await client.yoga.fetch('http://wagraph.test/readyz')).status).toBe(200);
    const response = await client.yoga.fetch('http://wagraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(401);
  });
});
