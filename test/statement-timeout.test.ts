import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { MIGRATION_LOCK, migrate } from '../src/db/migrate.js';
import { databaseTarget } from '../src/db/setup.js';
import { createWagraphYoga } from '../src/yoga.js';
import { silentLogger } from './helpers/client.js';
import { testDatabaseTarget } from './helpers/database.js';
import { createOrganization } from './helpers/factories.js';

describe('DB_STATEMENT_TIMEOUT_MS', () => {
  it('is 10 s by default and goes to the PostgreSQL pool (0: none)', () => {
    const url = 'postgres://postgres@127.0.0.1:5432/wagraph';
    expect(databaseTarget(loadConfig({ DATABASE_URL: url }))).toMatchObject({
      kind: 'postgres',
      statementTimeoutMs: 10_000,
    });
    expect(databaseTarget(loadConfig({ DATABASE_URL: url, DB_STATEMENT_TIMEOUT_MS: '250' }))).toMatchObject({
      statementTimeoutMs: 250,
    });
    expect(databaseTarget(loadConfig({ DATABASE_URL: url, DB_STATEMENT_TIMEOUT_MS: '0' }))).toMatchObject({
      statementTimeoutMs: 0,
    });
  });
});

// Needs a PostgreSQL server: registered in the suite's PostgreSQL pass (.ci/run sets
// TEST_DATABASE_URL); the embedded database has a single connection in this process and no
// statement timeout.
const target = testDatabaseTarget();
if (target.kind === 'postgres')
  describe('a statement over DB_STATEMENT_TIMEOUT_MS on PostgreSQL', () => {
    const url = target.kind === 'postgres' ? target.url : '';
    const opened: Database[] = [];
    const clients: pg.Client[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.end().catch(() => {})));
      await Promise.all(opened.map((db) => db.close()));
    });
    async function timeoutDatabase(statementTimeoutMs: number) {
      const db = await openDatabase({ kind: 'postgres', url, poolSize: 2, statementTimeoutMs });
      opened.push(db);
      return db;
    }
    async function client() {
      const connection = new pg.Client({ connectionString: url });
      await connection.connect();
      clients.push(connection);
      return connection;
    }

    it('is cancelled by the server', async () => {
      const db = await timeoutDatabase(200);
      await expect(db.prisma.$queryRaw`SELECT pg_sleep(2)`).rejects.toThrow(/statement timeout/);
      expect(await db.prisma.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    });

    it('fails its request with a QUERY_TIMEOUT error (not a masked one), soon, and the next request is served', async () => {
      const db = await timeoutDatabase(300);
      const org = await createOrganization(db);
      const yoga = createWagraphYoga({ db, log: silentLogger, graphiql: false });
      const tags = () =>
        yoga.fetch('http://wagraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
          body: JSON.stringify({ query: '{ tags { totalCount } }' }),
        });
      // Another session holds the Tag table: the request's statement waits on it.
      const blocker = await client();
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE "Tag" IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const blocked = (await (await tags()).json()) as {
        errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
      };
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(blocked.errors).toEqual([
        {
          message:
            'The query took longer than the server allows and was cancelled: ask for less (a narrower filter, smaller pages, fewer counts).',
          locations: [{ line: 1, column: 10 }],
          path: ['tags', 'totalCount'],
          extensions: { code: 'QUERY_TIMEOUT' },
        },
      ]);
      await blocker.query('ROLLBACK');
      expect(await (await tags()).json()).toEqual({ data: { tags: { totalCount: 0 } } });
    });

    it('does not cut migrations short, nor the wait for another instance migrating', async () => {
      const db = await timeoutDatabase(100);
      const other = await client();
      await other.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const migrating = migrate(db);
      await new Promise((resolve) => setTimeout(resolve, 600));
      await other.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      expect(await migrating).toEqual([]);
      // The connection went back to the pool with the request timeout again.
      const settings = await db.session((session) =>
        session.query<{ statement_timeout: string }>('SHOW statement_timeout'),
      );
      expect(settings).toEqual([{ statement_timeout: '100ms' }]);
    });
  });
