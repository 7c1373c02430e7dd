// `npm run bench:seed [-- --scale 0.1]`: (re)creates the benchmark database (DATABASE_URL,
// default postgres://postgres@127.0.0.1:5432/wagraph_bench), applies wagraph's migrations
// with wagraph's own migrator, generates the dataset inside PostgreSQL (bench/seed-sql.ts)
// and records the fixture the benchmark reads (bench/fixture.ts).
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { newApiKey } from '../src/auth/api-keys.js';
import { PERMISSIONS } from '../src/auth/permissions.js';
import { openDatabase, type SqlSession } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { benchDatabaseUrl, databaseName, recreateDatabase } from './bench-database.js';
import { BENCH_API_KEY, CONTACT_SEARCH, datasetPlan } from './dataset.js';
import { type Fixture, type TypedId, WRITE_FIXTURE } from './fixture.js';
import * as sql from './seed-sql.js';

const SUPPORT_PERMISSIONS = PERMISSIONS.filter(
  (p) => /^(Get|Update|Assign|Unassign):/.test(p) && !p.includes('Organization'),
);
const MARKETING_PERMISSIONS = PERMISSIONS.filter((p) => /(Contact|List|Tag|Campaign)/.test(p));

/** The tables whose rows are reported (and whose statistics VACUUM ANALYZE refreshes). */
const TABLES = [
  'Organization',
  'OrganizationMember',
  'Contact',
  'ContactList',
  'ContactListMembership',
  'Tag',
  'ContactTag',
  'ListTag',
  'Campaign',
  'CampaignList',
  'Conversation',
  'ConversationTag',
  'Message',
] as const;

function log(message: string): void {
  process.stdout.write(`[bench:seed] ${message}\n`);
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  log(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/**
 * Bulk-load settings for this connection. `session_replication_role = replica` skips the
 * foreign-key triggers: every reference is computed from the same plan, so checking a
 * million of them row by row would only cost time (it needs a superuser, as the
 * default postgres user on 127.0.0.1 is). The commit does not wait for the WAL flush.
 */
async function bulkLoadSettings(session: SqlSession): Promise<void> {
  await session.exec(`SET session_replication_role = replica; SET synchronous_commit = off; SET work_mem = '64MB'`);
}

/**
 * Runs `work` with the table's secondary indexes dropped, then rebuilds them from their
 * own definitions (pg_get_indexdef, so they come back exactly as the migrations made
 * them): one sorted build is several times faster than a million random insertions.
 * The primary key and indexes behind constraints stay.
 */
async function withoutSecondaryIndexes(
  session: SqlSession,
  table: string,
  work: () => Promise<unknown>,
): Promise<void> {
  const indexes = await session.query<{ name: string; definition: string }>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = $1::regclass AND NOT x.indisprimary
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
    [`"${table}"`],
  );
  for (const { name } of indexes) await session.exec(`DROP INDEX "${name}"`);
  await work();
  await timed(`${table}: rebuild ${indexes.length} indexes`, async () => {
    await session.exec(`SET maintenance_work_mem = '256MB'`);
    for (const { definition } of indexes) await session.exec(definition);
  });
}

/** 50 ids of the large organization, types interleaved, chosen by uuid order (deterministic). */
async function sampleNodeIds(session: SqlSession, organizationId: string): Promise<TypedId[]> {
  const samples: [TypedId['type'], string, number][] = [
    ['Contact', '"Contact"', 12],
    ['Conversation', '"Conversation"', 10],
    ['Message', '"Message"', 12],
    ['List', '"ContactList"', 6],
    ['Tag', '"Tag"', 6],
    ['OrganizationMember', '"OrganizationMember"', 2],
    ['Campaign', '"Campaign"', 1],
  ];
  const byType: TypedId[][] = [];
  for (const [type, table, count] of samples) {
    const rows = await session.query<{ id: string }>(
      `SELECT id::text FROM ${table} WHERE "organizationId" = $1 ORDER BY id LIMIT ${count}`,
      [organizationId],
    );
    byType.push(rows.map(({ id }): TypedId => ({ type, id })));
  }
  const mixed: TypedId[] = [{ type: 'Organization', id: organizationId }];
  for (let i = 0; byType.some((ids) => i < ids.length); i++) {
    for (const ids of byType) if (ids[i]) mixed.push(ids[i]!);
  }
  return mixed;
}

export async function seedBenchDatabase(url: string, scale: number): Promise<Fixture> {
  const started = performance.now();
  const plan = datasetPlan(scale);
  await timed(`recreate database ${databaseName(url)}`, () => recreateDatabase(url));
  const parallelism = Math.max(2, os.availableParallelism());
  const db = await openDatabase({ kind: 'postgres', url, poolSize: parallelism + 1 });
  try {
    await timed('migrations', () => migrate(db));
    const fixture = await db.session(async (session) => {
      await bulkLoadSettings(session);
      await session.exec(sql.CREATE_BENCH_SCHEMA);
      await session.query(sql.FILL_PLAN, [JSON.stringify(plan)]);
      await timed('organizations, members, roles', async () => {
        await session.exec(sql.ORGANIZATIONS);
        await session.exec(sql.MEMBERS);
        await session.query(sql.ROLES, [SUPPORT_PERMISSIONS, MARKETING_PERMISSIONS]);
        await session.exec(sql.ROLE_ASSIGNMENTS);
      });
      await withoutSecondaryIndexes(session, 'Contact', () => timed('contacts', () => session.exec(sql.CONTACTS)));
      await timed('lists', () => session.exec(sql.LISTS));
      await timed('tags', async () => {
        await session.exec(sql.TAGS);
        await session.exec(sql.LIST_TAGS);
      });
      await timed('campaigns', () => session.exec(sql.CAMPAIGNS));
      await timed('conversations', async () => {
        await session.exec(sql.CONVERSATION_PLAN);
        await session.exec(sql.CONVERSATIONS);
      });
      const large = plan[0]!;
      const organizationId = (await session.query<{ org: string }>('SELECT org::text FROM bench.plan WHERE o = 0'))[0]!
        .org;
      const ownerMemberId = (await session.query<{ id: string }>(`SELECT bench.id('member', 0, 0)::text AS id`))[0]!.id;
      const key = newApiKey(BENCH_API_KEY);
      await session.query(
        `INSERT INTO "ApiKey" (id, "organizationId", "memberId", name, prefix, "keyHash", "createdAt", "updatedAt")
         VALUES (bench.id('apikey', 0, 0), $1, $2, 'benchmark', $3, $4, now(), now())`,
        [organizationId, ownerMemberId, key.prefix, key.keyHash],
      );
      const chatContactId = (await session.query<{ id: string }>(`SELECT bench.id('contact', 0, 0)::text AS id`))[0]!
        .id;
      log(`plan of the large organization: ${JSON.stringify(large)}`);
      return { organizationId, ownerMemberId, chatContactId };
    });

    // The biggest tables, each split over one connection per core (the statements take
    // a modulus $1 and a remainder $2): an INSERT … SELECT runs on one core only.
    const inParallel = (label: string, statement: string) =>
      timed(`${label} (${parallelism} connections)`, () =>
        Promise.all(
          Array.from({ length: parallelism }, (_, remainder) =>
            db.session(async (session) => {
              await bulkLoadSettings(session);
              await session.query(statement, [parallelism, remainder]);
            }),
          ),
        ),
      );
    await db.session(async (session) => {
      await withoutSecondaryIndexes(session, 'ContactListMembership', () =>
        inParallel('list memberships', sql.LIST_MEMBERSHIPS),
      );
      await inParallel('contact tags', sql.CONTACT_TAGS);
      await withoutSecondaryIndexes(session, 'Message', () => inParallel('messages', sql.MESSAGES));
      // Triggers are off here (replica role), so the change feed recorded nothing and gave the
      // messages no position: number them as the migration numbers rows that predate it.
      await timed('message positions', async () => {
        await bulkLoadSettings(session);
        await session.exec(`SELECT "Message_assign_positions"()`);
      });
    });

    return await db.session(async (session) => {
      await session.exec('DROP TABLE bench.conversation_plan');
      // Fresh statistics and a visibility map: the planner and index-only scans then see
      // the database as it would be after autovacuum caught up on a long-lived system.
      await timed('VACUUM ANALYZE', () => session.exec('VACUUM (ANALYZE)'));
      const rows: Record<string, number> = {};
      for (const table of TABLES) {
        rows[table] = Number((await session.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`))[0]!.n);
      }
      const result: Fixture = {
        scale,
        seedSeconds: Math.round((performance.now() - started) / 100) / 10,
        rows,
        organizationId: fixture.organizationId,
        ownerMemberId: fixture.ownerMemberId,
        apiKey: BENCH_API_KEY,
        contactSearch: CONTACT_SEARCH,
        nodeIds: await sampleNodeIds(session, fixture.organizationId),
        chatContactId: fixture.chatContactId,
      };
      await session.query(WRITE_FIXTURE, [JSON.stringify(result)]);
      return result;
    });
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { scale: { type: 'string', default: '1' } } });
  const scale = Number(values.scale);
  const url = benchDatabaseUrl();
  const fixture = await seedBenchDatabase(url, scale);
  log(
    `rows: ${Object.entries(fixture.rows)
      .map(([table, n]) => `${table} ${n}`)
      .join(', ')}`,
  );
  log(
    `done in ${fixture.seedSeconds} s (scale ${scale}); API key of the owner of the large organization: ${fixture.apiKey}`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`[bench:seed] failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
