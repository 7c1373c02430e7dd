// wagraph's own migrator. Prisma's `migrate deploy` does not work with driver adapters
// here (the JS schema engine fails against PostgreSQL and, from the second migration on, PGlite), so the SQL files Prisma's `migrate diff` produced are
// applied by this module, in name order, each in its own transaction, and recorded with a
// checksum. A session-level advisory lock makes concurrent start-ups take turns: the first
// applies, the others find nothing left to do.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database, SqlSession } from './client.js';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Arbitrary, fixed: identifies wagraph's migration lock among other advisory locks. */
export const MIGRATION_LOCK = 7_245_021_431;
const TABLE = '"_wagraph_migrations"';

function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new MigrationError('Cannot find the project root (package.json)');
    dir = parent;
  }
  return dir;
}

export const MIGRATIONS_DIR = path.join(projectRoot(), 'prisma', 'migrations');

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

async function appliedMigrations(session: SqlSession): Promise<Map<string, string>> {
  const [{ exists } = { exists: false }] = await session.query<{ exists: boolean }>(
    `SELECT to_regclass('${TABLE}') IS NOT NULL AS "exists"`,
  );
  if (!exists) return new Map();
  const rows = await session.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${TABLE}`);
  return new Map(rows.map((row) => [row.name, row.checksum]));
}

function checkHistory(migrations: Migration[], applied: Map<string, string>): void {
  const known = new Map(migrations.map((migration) => [migration.name, migration.checksum]));
  for (const [name, checksum] of applied) {
    const expected = known.get(name);
    if (expected === undefined) {
      throw new MigrationError(`The database has migration ${name}, which this version of wagraph does not know`);
    }
    if (expected !== checksum) {
      throw new MigrationError(`Migration ${name} was edited after it was applied; add a new migration instead`);
    }
  }
}

/** Applies every pending migration; returns the names it applied (empty when up to date). */
export async function migrate(db: Database, migrations = loadMigrations()): Promise<string[]> {
  return db.session(async (session) => {
    // DB_STATEMENT_TIMEOUT_MS is for requests. A migration may rewrite a large table, and an
    // instance starting beside another waits on the lock below for as long as the other
    // migrates: neither must be cut short. RESET returns the pooled connection to its default.
    await session.exec('SET statement_timeout = 0');
    try {
      return await migrateLocked(session, migrations);
    } finally {
      await session.exec('RESET statement_timeout');
    }
  });
}

async function migrateLocked(session: SqlSession, migrations: Migration[]): Promise<string[]> {
  await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await session.exec(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const applied = await appliedMigrations(session);
    checkHistory(migrations, applied);
    const done: string[] = [];
    for (const migration of migrations.filter(({ name }) => !applied.has(name))) {
      await session.exec('BEGIN');
      try {
        await session.exec(migration.sql);
        await session.query(`INSERT INTO ${TABLE} (name, checksum) VALUES ($1, $2)`, [
          migration.name,
          migration.checksum,
        ]);
        await session.exec('COMMIT');
      } catch (error) {
        await session.exec('ROLLBACK');
        throw new MigrationError(`Migration ${migration.name} failed: ${(error as Error).message}`);
      }
      done.push(migration.name);
    }
    return done;
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}

/** Names of migrations not yet applied: what /readyz waits for. */
export async function pendingMigrations(db: Database, migrations = loadMigrations()): Promise<string[]> {
  const applied = await db.session(appliedMigrations);
  return migrations.filter(({ name }) => !applied.has(name)).map(({ name }) => name);
}
