import { parse, validate } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LIMIT_ERROR_CODE } from '../src/plugins/limits.js';
import { operationPageCost, pageCostRule } from '../src/plugins/page-cost.js';
import { schema } from '../src/schema/index.js';
import { createTestClient, globalId, type TestClient } from './helpers/client.js';
import { createOrganization, type TestOrganization } from './helpers/factories.js';

let client: TestClient;
let org: TestOrganization;

beforeAll(async () => {
  client = await createTestClient();
  org = await createOrganization(client.db, 'Limits Org');
});

const HUNDRED_CUBED = `{
  contacts(first: 100) { nodes { conversations(first: 100) { nodes { messages(first: 100) { nodes { id } } } } } }
}`;

function expectLimitError(
  response: { status: number; data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] },
  message: RegExp,
) {
  expect(response.status).toBe(400);
  expect(response.data).toBeUndefined();
  expect(response.errors).toHaveLength(1);
  expect(response.errors![0]!.message).toMatch(message);
  expect(response.errors![0]!.extensions).toEqual({ code: LIMIT_ERROR_CODE });
}

describe('the page-cost limit', () => {
  it('refuses contacts → conversations → messages at 100 each before any of it runs', async () => {
    const response = await client.gqlWithSql(HUNDRED_CUBED, undefined, { as: org.owner });
    expectLimitError(
      response,
      /^Operation cost limit of 25000 exceeded, found 1010100: the cost is the number of rows the connections can return/,
    );
    // Authentication read the API key; nothing read a contact, conversation or message.
    expect(response.statements.filter((sql) => /"(Contact|Conversation|Message)"/.test(sql))).toEqual([]);
  });

  it('prices page sizes given in variables with the values sent, and their defaults', async () => {
    const query = `query Inbox($contacts: Int, $conversations: Int = 100, $messages: Int) {
      contacts(first: $contacts) { nodes { conversations(first: $conversations) { nodes { messages(last: $messages) { nodes { id } } } } } }
    }`;
    const small = await client.gql(query, { contacts: 5, conversations: 5, messages: 5 }, { as: org.owner });
    expect(small.status).toBe(200);
    expect(small.data).toEqual({ contacts: { nodes: [] } });
    // The same document (cached by Yoga once parsed and validated) with large pages.
    const large = await client.gql(query, { contacts: 100, messages: 100 }, { as: org.owner });
    expectLimitError(large, /found 1010100/);
    // $conversations defaults to 100, omitted first/last to 20: 20 + 20·100 + 20·100·20.
    const defaults = await client.gql(query, {}, { as: org.owner });
    expectLimitError(defaults, /found 42020/);
  });

  it('lets the usual inbox query through (50 conversations, their tags, their last 10 messages)', async () => {
    const response = await client.gql(
      `{ conversations(first: 50) {
          nodes { contact { name } numberOfUnreadMessages tags { nodes { label } } messages(last: 10) { nodes { text } } }
        } }`,
      undefined,
      { as: org.owner },
    );
    expect(response.errors).toBeUndefined();
    expect(response.status).toBe(200);
  });

  it('multiplies by the ids of Query.nodes', async () => {
    const ids = Array.from({ length: 100 }, (_, index) =>
      globalId('Contact', `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`),
    );
    const response = await client.gql(
      `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Contact { conversations(first: 100) { nodes { messages(first: 100) { nodes { id } } } } } } }`,
      { ids },
      { as: org.owner },
    );
    expectLimitError(response, /found 1010100/);
  });

  it('prices the contacts createContacts returns as a page of as many as it was sent', () => {
    const errorsOf = (source: string, variables: Record<string, unknown>) =>
      validate(schema, parse(source), [pageCostRule({ maxCost: 25_000, variables })]).map((error) => error.message);
    // Each created contact can reach 100 lists of 100 contacts: 100 + 100·100 rows.
    const deep = `fragment Reach on ContactsPayload { contacts { lists(first: 100) { nodes { contacts(first: 100) { nodes { id } } } } } }`;
    const mutation = `mutation($input: CreateContactsInput!) { createContacts(input: $input) { ...Reach } } ${deep}`;
    const input = (count: number) => ({
      input: {
        contacts: Array.from({ length: count }, (_, index) => ({ name: 'C', phone: `+1555000${1000 + index}` })),
      },
    });
    expect(errorsOf(mutation, input(2))).toEqual([]); // 2 + 2·10,100
    expect(errorsOf(mutation, input(3))[0]).toMatch(/found 30303:/);
    // Written inline, and with the list unknown (not sent): priced at the 1,000 it may hold.
    expect(
      errorsOf(
        `mutation { createContacts(input: { contacts: [{ name: "C", phone: "+15550001000" }] }) { ...Reach } } ${deep}`,
        {},
      ),
    ).toEqual([]);
    expect(errorsOf(mutation, {})[0]).toMatch(/found 10101000:/);
  });

  it('counts a fragment every time it is spread, without expanding it every time', () => {
    // Each level spreads the one below twice: 2^40 expansions if walked naively.
    const levels = Array.from(
      { length: 40 },
      (_, index) => `fragment F${index} on Query { ...F${index + 1} ...F${index + 1} }`,
    ).join('\n');
    const document = parse(`{ ...F0 } ${levels} fragment F40 on Query { contacts(first: 1) { nodes { id } } }`);
    const operation = document.definitions[0]!;
    const fragments = new Map(
      document.definitions.flatMap((definition) =>
        definition.kind === 'FragmentDefinition' ? [[definition.name.value, definition] as const] : [],
      ),
    );
    const started = performance.now();
    const cost = operationPageCost(schema, operation as never, (name) => fragments.get(name));
    expect(cost).toBe(2 ** 40);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('is a validation rule: 20 for an omitted page size, the larger of first and last, only the named operation', () => {
    const errorsOf = (source: string, options: Partial<Parameters<typeof pageCostRule>[0]> = {}) =>
      validate(schema, parse(source), [pageCostRule({ maxCost: 420, ...options })]).map((error) => error.message);
    expect(errorsOf('{ contacts { nodes { tags { nodes { id } } } } }')).toEqual([]); // 20 + 20·20
    expect(errorsOf('{ contacts(first: 21) { nodes { tags { nodes { id } } } } }')[0]).toMatch(/found 441:/);
    expect(errorsOf('{ contacts(first: 1, last: 30) { nodes { id } } }')).toEqual([]);
    expect(errorsOf('{ contacts(first: 1, last: 50) { nodes { tags(first: 9) { nodes { id } } } } }')[0]).toMatch(
      /found 500:/,
    );
    // A page size over 100 is priced at 100: the connection refuses it with the error that says why.
    expect(errorsOf('{ contacts(first: 500) { nodes { tags(first: 9) { nodes { id } } } } }')[0]).toMatch(
      /found 1000:/,
    );
    // A count costs a full page (100) per parent it is counted for.
    expect(
      errorsOf('{ contacts(first: 1, last: 50) { totalCount nodes { tags(first: 9) { totalCount } } } }', {
        maxCost: 5_000,
      })[0],
    ).toMatch(/found 5600:/);
    const two =
      'query Small { contacts(first: 1) { totalCount } } query Big { contacts(first: 50) { nodes { tags(first: 9) { totalCount } } } }';
    expect(errorsOf(two, { operationName: 'Small' })).toEqual([]);
    expect(errorsOf(two, { operationName: 'Big' })).toHaveLength(1);
  });
});

describe('graphql-armor limits', () => {
  it('refuses a query deeper than MAX_DEPTH (12)', async () => {
    // conversations › nodes › messages › nodes › replyTo × 8 › id: 13 levels.
    const replies = `${'replyTo { '.repeat(8)}id${' }'.repeat(8)}`;
    const response = await client.gql(
      `{ conversations(first: 1) { nodes { messages(first: 1) { nodes { ${replies} } } } } }`,
      undefined,
      { as: org.owner },
    );
    expectLimitError(response, /^Query depth limit of 12 exceeded, found 13\.$/);
  });

  it('refuses more aliases than MAX_ALIASES (15)', async () => {
    const aliases = Array.from({ length: 16 }, (_, index) => `a${index}: viewer { permissions }`).join(' ');
    expectLimitError(
      await client.gql(`{ ${aliases} }`, undefined, { as: org.owner }),
      /^Aliases limit of 15 exceeded, found 16\./,
    );
  });

  it('refuses more directives than MAX_DIRECTIVES (50)', async () => {
    const directives = '@include(if: true) '.repeat(51);
    expectLimitError(
      await client.gql(`{ viewer ${directives} { permissions } }`, undefined, { as: org.owner }),
      /^Directives limit of 50 exceeded, found 51\./,
    );
  });

  it('refuses a document of more tokens than MAX_TOKENS (2000), whatever the client accepts', async () => {
    const fields = 'permissions '.repeat(2_000);
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      const response = await client.gql(`{ viewer { ${fields} } }`, undefined, { as: org.owner, headers: { accept } });
      expectLimitError(response, /^Token limit of 2000 exceeded\.$/);
    }
  });

  it('takes its limits from the options', async () => {
    const strict = await createTestClient({ limits: { ...DEFAULT_LIMITS, maxDepth: 2, maxCost: 10 } });
    expectLimitError(
      await strict.gql('{ viewer { member { name } } }', undefined, { as: org.owner }),
      /depth limit of 2 exceeded, found 3/,
    );
    expectLimitError(
      await strict.gql('{ contacts(first: 11) { totalCount } }', undefined, { as: org.owner }),
      /cost limit of 10 exceeded, found 111/,
    );
  });
});

describe('requests', () => {
  it('refuses a body over MAX_BODY_BYTES with 413, before reading credentials or the document', async () => {
    const small = await createTestClient({ limits: { ...DEFAULT_LIMITS, maxBodyBytes: 2_048 } });
    const body = JSON.stringify({ query: '{ viewer { permissions } }', variables: { padding: 'x'.repeat(3_000) } });
    const declared = await small.request({ method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({
      errors: [{ message: 'Request body too large', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } }],
    });
    // Without a Content-Length (chunked), the body is cut off as it streams in.
    const bytes = new TextEncoder().encode(body);
    const stream = new ReadableStream({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 512)
          controller.enqueue(bytes.slice(offset, offset + 512));
        controller.close();
      },
    });
    const streamed = await small.request({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('refuses a batch (an array of operations) with 400 and a clear error', async () => {
    const response = await client.request({
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
      body: JSON.stringify([{ query: '{ viewer { permissions } }' }, { query: '{ viewer { permissions } }' }]),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Batching is not supported.', extensions: { code: 'BAD_REQUEST' } }],
    });
  });
});

describe('introspection, suggestions and GraphiQL', () => {
  const INTROSPECTION = '{ __schema { queryType { name } } }';

  it('answers introspection by default, and refuses it when turned off', async () => {
    expect((await client.gql(INTROSPECTION, undefined, { as: org.owner })).data).toEqual({
      __schema: { queryType: { name: 'Query' } },
    });
    const closed = await createTestClient({ introspection: false });
    const refused = await closed.gql(INTROSPECTION, undefined, { as: org.owner });
    expect(refused.data).toBeUndefined();
    expect(refused.errors?.[0]?.message).toMatch(/introspection has been disabled/);
    expect((await closed.gql('{ viewer { __typename } }', undefined, { as: org.owner })).data).toEqual({
      viewer: { __typename: 'Viewer' },
    });
  });

  it('suggests field names by default, and not when suggestions are off', async () => {
    const typo = '{ contact(first: 1) { totalCount } }';
    expect((await client.gql(typo, undefined, { as: org.owner })).errors?.[0]?.message).toMatch(
      /Did you mean "contacts"/,
    );
    const quiet = await createTestClient({ fieldSuggestions: false });
    const errors = (await quiet.gql(typo, undefined, { as: org.owner })).errors;
    expect(errors?.map((error) => error.message)).toEqual(['Cannot query field "contact" on type "Query".']);
  });

  it('serves GraphiQL only when asked to', async () => {
    const page = { method: 'GET', headers: { accept: 'text/html' } };
    const withGraphiql = await createTestClient({ graphiql: true });
    const served = await withGraphiql.request(page);
    expect(served.status).toBe(200);
    expect(await served.text()).toContain('<title>wagraph</title>');
    const refused = await client.request(page);
    expect(refused.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    expect(await refused.text()).not.toContain('<html');
  });
});
