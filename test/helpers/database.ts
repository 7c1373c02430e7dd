// The test database of this worker process: opened from what the global setup prepared on
// first use, then shared by every test file the worker runs (vitest.config.ts: `isolate: false`)
// and left open until the worker exits. Loading the migrated dump into a new PGlite costs
// seconds; files never depend on each other's rows (each makes its own organizations), as on
// PostgreSQL, where every file of the run already shares one database.
import fs from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';

let opened: Promise<Database> | undefined;

export function testDatabase(): Promise<Database> {
  if (!opened) {
    const target = inject('database');
    opened =
      target.kind === 'postgres'
        ? openDatabase({ kind: 'postgres', url: target.url, poolSize: 10 })
        : openDatabase({ kind: 'pglite', loadDataDir: new Blob([fs.readFileSync(target.dumpFile)]) });
  }
  return opened;
}

/** Where the test database lives, for tests that start processes or open their own. */
export function testDatabaseTarget() {
  return inject('database');
}

// Fresh databases still open, with what drops each. Dropped after each test file by
// test/helpers/setup.ts: an afterAll registered from inside a hook or a test (where
// freshDatabase is called) never runs, and the database would outlive the run.
const fresh: (() => Promise<void>)[] = [];

export async function dropFreshDatabases(): Promise<void> {
  await Promise.all(fresh.splice(0).map((drop) => drop()));
}

/** An empty, unmigrated database of the same kind, dropped when the file's tests are done. */
export async function freshDatabase(): Promise<Database> {
  const target = inject('database');
  if (target.kind === 'pglite') {
    const db = await openDatabase({ kind: 'pglite' });
    fresh.push(() => db.close());
    return db;
  }
  const name = `wagraph_fresh_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: target.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(target.url);
  url.pathname = `/${name}`;
  const db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 4 });
  fresh.push(async () => {
    await db.close();
    const cleanup = new pg.Client({ connectionString: target.url });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.end();
  });
  return db;
}
