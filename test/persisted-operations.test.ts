import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { sha256 } from '../src/plugins/persisted-operations.js';
import { createTestClient, type TestClient } from './helpers/client.js';
import { createOrganization, type TestOrganization } from './helpers/factories.js';

const VIEWER = 'query Viewer { viewer { member { name } } }';
const TAGS = 'query Tags($first: Int) { tags(first: $first) { totalCount } }';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-persisted-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function manifestFile(contents: unknown, name = `manifest-${Math.random().toString(36).slice(2)}.json`): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents));
  return file;
}

let client: TestClient;
let org: TestOrganization;

beforeAll(async () => {
  const config = loadConfig({ PERSISTED_OPERATIONS: manifestFile({ [sha256(VIEWER)]: VIEWER, [sha256(TAGS)]: TAGS }) });
  expect(config.persistedOperations?.size).toBe(2);
  client = await createTestClient({ persistedOperations: config.persistedOperations });
  org = await createOrganization(client.db, 'Persisted Org');
});

async function send(
  body: Record<string, unknown>,
  headers: Record<string, string> = { authorization: `Bearer ${org.owner.apiKey}` },
) {
  const response = await client.request({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

const persisted = (document: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(document) } });

describe('allow-list mode (PERSISTED_OPERATIONS)', () => {
  it('runs a listed operation named by its hash, Apollo’s way, with its variables', async () => {
    const viewer = await send({ extensions: persisted(VIEWER) });
    expect(viewer).toEqual({ status: 200, body: { data: { viewer: { member: { name: 'Owner of Persisted Org' } } } } });
    const tags = await send({ extensions: persisted(TAGS), variables: { first: 5 }, operationName: 'Tags' });
    expect(tags).toEqual({ status: 200, body: { data: { tags: { totalCount: 0 } } } });
  });

  it('runs a listed operation named by its hash in a GET request', async () => {
    const extensions = encodeURIComponent(JSON.stringify(persisted(VIEWER)));
    const response = await client.request({
      path: `/graphql?extensions=${extensions}`,
      method: 'GET',
      headers: { accept: 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: unknown }).data).toEqual({
      viewer: { member: { name: 'Owner of Persisted Org' } },
    });
  });

  it('runs a listed operation sent as its exact document', async () => {
    expect(await send({ query: VIEWER })).toEqual({
      status: 200,
      body: { data: { viewer: { member: { name: 'Owner of Persisted Org' } } } },
    });
  });

  it('refuses an unknown hash with a clear error', async () => {
    const response = await send({ extensions: persisted('{ contacts { totalCount } }') });
    expect(response).toEqual({
      status: 400,
      body: {
        errors: [
          {
            message: 'Unknown persisted operation: no operation with this sha256Hash is in the allow-list.',
            extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' },
          },
        ],
      },
    });
  });

  it('refuses a document that is not listed, even one differing only in spacing, and cannot be taught one', async () => {
    const unlisted = 'query Viewer { viewer { permissions } }';
    for (const body of [
      { query: unlisted },
      { query: VIEWER.replace('{ viewer', '{  viewer') },
      // Apollo's automatic persisted queries register a document this way: not here.
      { query: unlisted, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(unlisted) } } },
    ]) {
      const response = await send(body);
      expect(response.status).toBe(400);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors).toEqual([
        {
          message: expect.stringMatching(
            /^This server runs only the operations of its allow-list, and this document is not one of them/,
          ),
          extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' },
        },
      ]);
    }
  });

  it('refuses a request with no operation', async () => {
    const response = await send({ variables: {} });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'PERSISTED_QUERY_ID_REQUIRED' });
  });

  it('still requires credentials for a listed operation', async () => {
    const response = await send({ extensions: persisted(VIEWER) }, {});
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
  });
});

describe('the manifest', () => {
  const invalid = (file: string, message: string) =>
    expect(() => loadConfig({ PERSISTED_OPERATIONS: file })).toThrow(
      new ConfigError(`Invalid PERSISTED_OPERATIONS=${JSON.stringify(file)}: ${message}`),
    );

  it('must be a readable JSON object of sha256 → a parseable document, each key the hash of its document', () => {
    const missing = path.join(dir, 'missing.json');
    invalid(missing, `cannot read the manifest: ENOENT: no such file or directory, open '${missing}'`);
    const notJson = manifestFile('{ nope');
    expect(() => loadConfig({ PERSISTED_OPERATIONS: notJson })).toThrow(/the manifest is not valid JSON: /);
    invalid(manifestFile([VIEWER]), 'the manifest must be a JSON object of sha256 hash → GraphQL document');
    invalid(manifestFile({}), 'the manifest lists no operations');
    invalid(
      manifestFile({ abc: VIEWER }),
      "operation abc: the key must be the document's sha256 (64 lower-case hex digits)",
    );
    invalid(
      manifestFile({ [sha256(TAGS)]: VIEWER }),
      `operation ${sha256(TAGS)}: the key is not the sha256 of its document`,
    );
    invalid(
      manifestFile({ [sha256('{ viewer {')]: '{ viewer {' }),
      `operation ${sha256('{ viewer {')}: Syntax Error: Expected Name, found <EOF>.`,
    );
    invalid(manifestFile({ [sha256(VIEWER)]: 42 }), `operation ${sha256(VIEWER)}: the document must be a string`);
  });
});
