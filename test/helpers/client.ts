// The API under test, called the way clients call it: HTTP requests through `yoga.fetch`
// (no socket), so authentication, context, error masking and serialisation all take part.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { pino } from 'pino';
import type { Database } from '../../src/db/client.js';
import { recordStatements } from './record-statements.js';
import { SecretBox } from '../../src/secrets.js';
import { createWagraphYoga, type WagraphYoga, type YogaOptions } from '../../src/yoga.js';
import { testDatabase } from './database.js';
import type { TestMember } from './factories.js';

export interface GraphQLResponse<Data = Record<string, any>> {
  status: number;
  data?: Data;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface GqlOptions {
  /** The member the request acts as; null sends no credentials. */
  as: TestMember | null;
  headers?: Record<string, string>;
}

export interface TestClient {
  db: Database;
  yoga: WagraphYoga;
  /** A request to /graphql as a client would send it (method, headers and body as given). */
  request(init: RequestInit & { path?: string }): Promise<Response>;
  gql<Data = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: GqlOptions,
  ): Promise<GraphQLResponse<Data>>;
  /** Like gql, plus the SQL statements the request ran. */
  gqlWithSql<Data = Record<string, any>>(
    query: string,
    variables: Record<string, unknown> | undefined,
    options: GqlOptions,
  ): Promise<GraphQLResponse<Data> & { statements: string[] }>;
}

export const silentLogger = pino({ level: 'silent' });

/** SECRETS_KEY of the tests' server (a fixed key: test data is never real). */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 0x5e);
export const testSecretBox = new SecretBox(TEST_SECRETS_KEY);

/** `options`: what the server's configuration would set (limits, JWT secret, rate limiter …). */
export type TestClientOptions = Omit<Partial<YogaOptions>, 'db'>;

/** `database`: the server's database, when a test wraps the file's one (default: the file's one). */
export async function createTestClient(options: TestClientOptions = {}, database?: Database): Promise<TestClient> {
  const db = database ?? (await testDatabase());
  const yoga = createWagraphYoga({ db, log: silentLogger, graphiql: false, secrets: testSecretBox, ...options });
  const gql: TestClient['gql'] = async (query, variables, options = { as: null }) => {
    const response = await yoga.fetch('http://wagraph.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.as ? { authorization: `Bearer ${options.as.apiKey}` } : {}),
        ...options.headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
    return { status: response.status, ...body } as never;
  };
  return {
    db,
    yoga,
    request: ({ path = '/graphql', ...init }) => Promise.resolve(yoga.fetch(`http://wagraph.test${path}`, init)),
    gql,
    async gqlWithSql(query, variables, options) {
      const { result, statements } = await recordStatements(() => gql(query, variables, options));
      return { ...result, statements } as never;
    },
  };
}

/** The global id of a row, as the API encodes it. */
export function globalId(typename: string, id: string): string {
  return encodeGlobalID(typename, id);
}
