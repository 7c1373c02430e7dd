// The hostile battery for what a document alone can cost: memory (a document's size and the
// parse cache that keeps documents) and CPU (the work of validating it). Both came from one
// member within its rate limit: distinct documents of nearly a megabyte, mostly comment,
// filled Yoga's parse cache until the process ran out of heap, and `{ viewer { permissions } }`
// written 440 times took up to a second of CPU to validate. (The other limits: limits.test.ts;
// the worst-case figures: bench/parse-validate.ts.)
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { getIntrospectionQuery, parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDocumentCache, DEFAULT_DOCUMENT_CACHE, documentBytes } from '../src/plugins/document-cache.js';
import { countFieldSelections } from '../src/plugins/field-count.js';
import { DEFAULT_LIMITS, LIMIT_ERROR_CODE } from '../src/plugins/limits.js';
import { createTestClient, type GraphQLResponse, type TestClient } from './helpers/client.js';
import { createOrganization, type TestOrganization } from './helpers/factories.js';

let client: TestClient;
let org: TestOrganization;

beforeAll(async () => {
  client = await createTestClient();
  org = await createOrganization(client.db, 'Hardening Documents');
});

const MiB = 1024 * 1024;

function expectLimitError(response: GraphQLResponse, message: RegExp) {
  expect(response.status).toBe(400);
  expect(response.data).toBeUndefined();
  expect(response.errors).toHaveLength(1);
  expect(response.errors![0]!.message).toMatch(message);
  expect(response.errors![0]!.extensions).toEqual({ code: LIMIT_ERROR_CODE });
}

/** The heap in use after a full garbage collection (V8's gc, exposed at run time). */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A distinct document of `bytes` bytes: a small query under a comment that fills the rest. */
function commentedDocument(index: number, bytes: number): string {
  const query = `{ viewer { permissions } }`;
  const head = `# ${index} `;
  return `${head}${'x'.repeat(bytes - head.length - 1 - query.length)}\n${query}`;
}

/** A distinct document of MAX_DOCUMENT_BYTES, nearly MAX_TOKENS, and hardly any work to run. */
function heavyDocument(index: number): string {
  const ids = Array.from({ length: 1_960 }, (_, id) => `"${id}"`).join(',');
  const query = `{ nodes(ids: [${ids}]) { __typename } }`;
  const head = `# ${index}\n`;
  const line = `#${'x'.repeat(39)}\n`;
  const room = DEFAULT_LIMITS.maxDocumentBytes - head.length - query.length;
  return head + line.repeat(Math.floor(room / line.length)) + query;
}

describe('class 1: memory — a separate document size limit, and a parse cache bounded in bytes', () => {
  it('refuses a document over MAX_DOCUMENT_BYTES with 400 before parsing it; variables may still be large', async () => {
    const limit = DEFAULT_LIMITS.maxDocumentBytes;
    expect(limit).toBeLessThanOrEqual(DEFAULT_LIMITS.maxBodyBytes / 8);
    const over = commentedDocument(0, limit + 1);
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      expectLimitError(
        await client.gql(over, undefined, { as: org.owner, headers: { accept } }),
        new RegExp(`^Document size limit of ${limit} bytes exceeded, found ${limit + 1}\\.$`),
      );
    }
    // Bytes, not characters: 30,000 "é" are 60,000 bytes.
    const accented = `# ${'é'.repeat(limit / 2)}\n{ viewer { permissions } }`;
    expectLimitError(
      await client.gql(accented, undefined, { as: org.owner }),
      /^Document size limit of \d+ bytes exceeded/,
    );
    // Refused before parsing: an unparsable document over the limit gets the size error.
    expectLimitError(await client.gql(`${over} {{{`, undefined, { as: org.owner }), /^Document size limit/);
    // Without credentials, still 401 first.
    expect((await client.gql(over, undefined, { as: null })).status).toBe(401);
    // At the limit it runs, and a large variable (half a megabyte) is no part of the document.
    expect((await client.gql(commentedDocument(1, limit), undefined, { as: org.owner })).data).toEqual({
      viewer: { permissions: expect.any(Array) },
    });
    const search = await client.gql(
      'query($s: String!) { contacts(filter: { search: $s }) { totalCount } }',
      { s: 'x'.repeat(500_000) },
      { as: org.owner },
    );
    expect(search.data).toEqual({ contacts: { totalCount: 0 } });
  });

  it('keeps the heap bounded after distinct documents of the largest size and token count allowed', async () => {
    // Each document is 64 KiB: 1,960 ids (tokens) and 1,500 lines of comment, which a parsed
    // document keeps as 800 kB of heap. Yoga's cache kept 1,024 documents: 120 of these were
    // 100 MB of heap, the 500 of the report 400 MB. Now what is kept stays within the parse
    // cache's budget however many come.
    const before = heapAfterGc();
    for (let index = 0; index < 120; index++) {
      const response = await client.gql(heavyDocument(index), undefined, { as: org.owner });
      expect(response.errors?.[0]?.message).toMatch(/at most 100 ids/i);
    }
    const grown = heapAfterGc() - before;
    expect(grown).toBeLessThan(DEFAULT_DOCUMENT_CACHE.maxBytes + 8 * MiB);
  });

  it('bounds the cache by its estimate of each document’s bytes, and caches nothing over the entry limit', async () => {
    const cache = createDocumentCache({ maxBytes: 2 * MiB, maxEntryBytes: 512 * 1024 });
    const small = await createTestClient({ documentCache: cache });
    // 60 kB of comment each: about 250 kB estimated (text, and the copy of the comment).
    for (let index = 0; index < 40; index++) {
      expect((await small.gql(commentedDocument(index, 60_000), undefined, { as: org.owner })).status).toBe(200);
    }
    expect(cache.bytes).toBeLessThanOrEqual(2 * MiB + (2 * MiB) / 8);
    expect(cache.documentCache.size).toBeGreaterThan(0);
    expect(cache.documentCache.size).toBeLessThan(10);
    // 30,000 one-line comments: each a token kept by the parsed document, 2.7 MB in all.
    const comments = `${'#\n'.repeat(30_000)}{ viewer { permissions } }`;
    expect(documentBytes(parse(comments), comments)).toBeGreaterThan(3 * MiB);
    expect((await small.gql(comments, undefined, { as: org.owner })).status).toBe(200);
    expect(cache.documentCache.has(comments)).toBe(false);
    // An ordinary document is kept, and served from the cache the second time.
    const inbox = '{ viewer { member { name } organization { name } } contacts(first: 5) { totalCount } }';
    expect((await small.gql(inbox, undefined, { as: org.owner })).status).toBe(200);
    expect(cache.documentCache.has(inbox)).toBe(true);
    // The default: 32 MiB in all, nothing over 2 MiB.
    expect(DEFAULT_DOCUMENT_CACHE).toEqual({ maxBytes: 32 * MiB, maxEntryBytes: 2 * MiB });
  });
});

describe('class 4: CPU — a limit on the fields a document asks validation to compare', () => {
  const report = `{ ${Array.from({ length: 440 }, () => 'viewer { permissions }').join(' ')} }`;

  it('refuses { viewer { permissions } } written 440 times with 400, before validating it', async () => {
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      const response = await client.gql(report, undefined, { as: org.owner, headers: { accept } });
      expectLimitError(response, /^Field limit of 300 exceeded, found 880\.$/);
    }
    // Refused before validation: an unknown field in it is not even reported.
    const invalid = report.replace(/ }$/, ' noSuchField }');
    expectLimitError(
      await client.gql(invalid, undefined, { as: org.owner }),
      /^Field limit of 300 exceeded, found 881\.$/,
    );
    // Within the limit, the same shape runs; so does GraphiQL's introspection query (240).
    const within = `{ ${Array.from({ length: 150 }, () => 'viewer { permissions }').join(' ')} }`;
    expect((await client.gql(within, undefined, { as: org.owner })).status).toBe(200);
    const introspection = await client.gql(getIntrospectionQuery(), undefined, { as: org.owner });
    expect(introspection.status).toBe(200);
    expect(introspection.errors).toBeUndefined();
    // And the limit is a setting.
    const strict = await createTestClient({ limits: { ...DEFAULT_LIMITS, maxFields: 2 } });
    expectLimitError(
      await strict.gql('{ viewer { member { name } } }', undefined, { as: org.owner }),
      /^Field limit of 2 exceeded, found 3\.$/,
    );
  });

  it('counts fragments where they are spread, so that spreads cannot multiply fields past the limit', async () => {
    // Each level spreads the next ten times: viewer, and the spread of F0 with its
    // 10·(1 + 10·(1 + 10·(1 + 1))) fields and spreads, in 80 tokens and under the depth limit.
    const nested =
      '{ viewer { ...F0 } } ' +
      [0, 1, 2].map((level) => `fragment F${level} on Viewer { ${`...F${level + 1} `.repeat(10)}}`).join(' ') +
      ' fragment F3 on Viewer { permissions }';
    expectLimitError(
      await client.gql(nested, undefined, { as: org.owner }),
      /^Field limit of 300 exceeded, found 2112\.$/,
    );
    // How the count goes: a field is one, a spread is one plus its fragment, an inline
    // fragment is what it holds, and a fragment nothing spreads still counts once.
    expect(countFieldSelections(parse('{ a { ...F ...F ... on X { d } } } fragment F on X { b c }'))).toBe(
      1 + 2 * (1 + 2) + 1,
    );
    expect(countFieldSelections(parse('{ a } fragment Unused on X { b c }'))).toBe(3);
    // Forty levels that each spread the next twice: 2^41 and more, counted in forty steps.
    const doubling = Array.from(
      { length: 40 },
      (_, index) => `fragment F${index} on Query { ...F${index + 1} ...F${index + 1} }`,
    ).join(' ');
    expect(countFieldSelections(parse(`{ ...F0 } ${doubling} fragment F40 on Query { a }`))).toBeGreaterThan(2 ** 41);
    // A cycle (which validation refuses) is counted once round.
    expect(countFieldSelections(parse('{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }'))).toBe(
      5,
    );
  });
});
