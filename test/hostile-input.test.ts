// The hostile-input battery: what an attacker (or a buggy client) sends — pattern
// characters, megabyte strings, huge numbers, broken bodies, wrong content types, deep or
// huge variables, invalid UTF-8 — gets a clear 4xx answer or a correct result: never a 500,
// a crash, a leaked internal or another organization's row, and the server answers normally
// afterwards. (Depth, aliases, directives, tokens, cost and body size: test/limits.test.ts;
// 10,000 random documents: test/fuzz.test.ts.)
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, type TestClient } from './helpers/client.js';
import { createContact, createOrganization, type TestOrganization } from './helpers/factories.js';

let client: TestClient;
let org: TestOrganization;
const INTERNALS = /prisma|SELECT |INSERT |node_modules|DriverAdapter|PGlite|\bat .+:\d+:\d+|\.ts:\d+/i;

beforeAll(async () => {
  client = await createTestClient();
  org = await createOrganization(client.db, 'Hostile');
  const other = await createOrganization(client.db, 'Bystander');
  for (const name of ['100% juice', 'a_b', 'back\\slash', "O'Brien", 'Plain Name', 'aXb']) {
    await createContact(client.db, org.id, { name });
  }
  await createContact(client.db, other.id, { name: '100% other' });
});

/** A raw request: the body exactly as given. */
async function send(body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const response = await client.yoga.fetch('http://wagraph.test/graphql', {
    method: 'POST',
    headers: { authorization: `Bearer ${org.owner.apiKey}`, ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, text };
}

function expectClearRefusal(result: { status: number; text: string }) {
  expect(result.status).toBeGreaterThanOrEqual(400);
  expect(result.status).toBeLessThan(500);
  const body = JSON.parse(result.text) as { errors: { message: string }[] };
  expect(body.errors.length).toBeGreaterThan(0);
  expect(body.errors[0]!.message.length).toBeGreaterThan(10);
  expect(result.text).not.toMatch(INTERNALS);
}

describe('search treats SQL and LIKE metacharacters as text', () => {
  it.each([
    ['%', ['100% juice']],
    ['_', ['a_b']],
    ['\\', ['back\\slash']],
    ["'", ["O'Brien"]],
    ["' OR '1'='1", []],
    ['%_%', []],
    ['"; DROP TABLE "Contact"; --', []],
  ])('search %j finds %j', async (search, names) => {
    const response = await client.gql(
      `query($s: String!) { contacts(filter: { search: $s }) { nodes { name } } }`,
      { s: search },
      { as: org.owner },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.contacts.nodes.map((node: { name: string }) => node.name)).toEqual(names);
  });
});

describe('oversized values', () => {
  it('a search of nearly 1 MB is answered (nothing matches), not crashed on', async () => {
    const response = await client.gql(
      `query($s: String!) { contacts(filter: { search: $s }) { totalCount } }`,
      { s: 'x'.repeat(900_000) },
      { as: org.owner },
    );
    expect(response.status).toBe(200);
    expect(response.data?.contacts.totalCount).toBe(0);
  });

  it('a 1 MB name is over the body limit: 413 before anything runs', async () => {
    const result = await send(
      JSON.stringify({
        query: 'mutation($n: String!) { createTag(input: { label: $n }) { tag { id } } }',
        variables: { n: 'x'.repeat(1_100_000) },
      }),
    );
    expect(result.status).toBe(413);
  });

  it('a name of 500,000 characters is a user error naming the field', async () => {
    const response = await client.gql(
      'mutation($n: String!) { createTag(input: { label: $n }) { tag { id } userErrors { field code } } }',
      { n: 'x'.repeat(500_000) },
      { as: org.owner },
    );
    expect(response.data?.createTag).toEqual({
      tag: null,
      userErrors: [{ field: ['input', 'label'], code: 'INVALID' }],
    });
  });

  it.each([
    ['first: 2147483647', /`first` must be at most 100/],
    ['last: -2147483648', /`last` must not be negative/],
    ['first: 99999999999999999999', /Int cannot represent non 32-bit signed integer value/],
    ['first: 1.5', /Int cannot represent non-integer value/],
  ])('a page size of %s is refused clearly', async (argument, message) => {
    const response = await client.gql(`{ contacts(${argument}) { totalCount } }`, {}, { as: org.owner });
    expect(response.status).toBeLessThan(500);
    expect(response.errors?.[0]?.message).toMatch(message);
  });
});

describe('broken requests', () => {
  it.each([
    ['malformed JSON', '{"query": "{ viewer { permissions } }"'],
    ['a JSON string', '"{ viewer { permissions } }"'],
    ['JSON null', 'null'],
    ['a query that is not a string', '{"query": 42}'],
    ['variables that are not an object', '{"query": "{ viewer { permissions } }", "variables": [1, 2]}'],
    ['an empty body', ''],
  ])('%s: a clear 4xx error', async (_name, body) => {
    expectClearRefusal(await send(body));
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['application/xml', 'application/xml'],
    ['no content type', undefined],
  ])('content type %s: a clear 4xx error, not a crash', async (_name, type) => {
    const result = await send('<query>{ viewer { permissions } }</query>', type ? { 'content-type': type } : {});
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.status).toBeLessThan(500);
    expect(result.text).not.toMatch(INTERNALS);
  });

  it('invalid UTF-8 in the body is answered, not crashed on', async () => {
    const bytes = Buffer.concat([
      Buffer.from(
        '{"query": "query($s: String!) { contacts(filter: { search: $s }) { totalCount } }", "variables": {"s": "',
      ),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe]),
      Buffer.from('"}}'),
    ]);
    const result = await send(bytes);
    expect(result.status).toBeLessThan(500);
    expect(result.text).not.toMatch(INTERNALS);
  });

  it('variables nested 20,000 levels deep are refused, not a stack overflow', async () => {
    const deep = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`;
    const result = await send(
      `{"query": "query($s: String) { contacts(filter: { search: $s }) { totalCount } }", "variables": {"s": ${deep}}}`,
    );
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.status).toBeLessThan(500);
    expect(result.text).not.toMatch(INTERNALS);
  });

  it('50,000 unused variables are answered, not choked on', async () => {
    const variables = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`v${i}`, i]));
    const result = await send(JSON.stringify({ query: '{ contacts { totalCount } }', variables }));
    expect(result.status).toBeLessThan(500);
    expect(result.text).not.toMatch(INTERNALS);
  });
});

describe('afterwards', () => {
  it('the server answers normally, and only with the viewer’s rows', async () => {
    const response = await client.gql(`{ contacts { totalCount nodes { name } } }`, {}, { as: org.owner });
    expect(response.status).toBe(200);
    expect(response.data?.contacts.totalCount).toBe(6);
    expect(JSON.stringify(response.data)).not.toContain('other');
  });
});
