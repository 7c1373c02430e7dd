// Runs once per `npm test`: prepares one migrated database that every test file starts from.
//
// - Default: an embedded PGlite, migrated, dumped to a file; each test file loads that
//   dump into an in-memory PGlite of its own (no server needed).
// - With TEST_DATABASE_URL (a PostgreSQL server; the database in the URL is only used to
//   create and drop others): a fresh database `wagraph_test_<random>` is created and
//   migrated, every test file connects to it, and it is dropped when the run ends.
//
// Tests never depend on each other's rows: each creates its own organizations.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { installJobSchema } from '../../src/jobs/runner.js';
import { createLogger } from '../../src/logger.js';

declare module 'vitest' {
  export interface ProvidedContext {
    database: { kind: 'postgres'; url: string } | { kind: 'pglite'; dumpFile: string };
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export default async function setup(project: TestProject) {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `wagraph_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = withDatabase(serverUrl, name);
    const db = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
    await migrate(db);
    await installJobSchema(db, createLogger('silent'));
    await db.close();
    project.provide('database', { kind: 'postgres', url });
    return async () => {
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    };
  }

  const db = await openDatabase({ kind: 'pglite' });
  await migrate(db);
  await installJobSchema(db, createLogger('silent'));
  const dump = await db.dumpDataDir!();
  await db.close();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-test-'));
  const dumpFile = path.join(dir, 'migrated.tar');
  fs.writeFileSync(dumpFile, Buffer.from(await dump.arrayBuffer()));
  project.provide('database', { kind: 'pglite', dumpFile });
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
