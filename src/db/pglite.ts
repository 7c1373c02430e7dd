// The embedded PostgreSQL (PGlite, WebAssembly), persisted under DATA_DIR or in memory.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { type Database, type DatabaseTarget, DatabaseOpenError } from './database.js';
import { observedFactory } from './driver-adapter.js';
import { PGlitePool } from './pglite-pool.js';
import { observeStatement } from './statement-observer.js';

function prepareDataDir(dataDir: string): string {
  const absolute = path.resolve(dataDir);
  try {
    fs.mkdirSync(absolute, { recursive: true });
    fs.accessSync(absolute, fs.constants.W_OK);
  } catch (error) {
    throw new DatabaseOpenError(`DATA_DIR ${dataDir} is not a writable directory: ${(error as Error).message}`);
  }
  return absolute;
}

export async function openPglite(target: Extract<DatabaseTarget, { kind: 'pglite' }>): Promise<Database> {
  let lock: DataDirLock | undefined;
  let pgliteDir: string | undefined;
  if (target.dataDir !== undefined) {
    const dir = prepareDataDir(target.dataDir);
    lock = acquireDataDirLock(dir);
    pgliteDir = path.join(dir, 'pglite');
  }
  let client: PGlite;
  try {
    client = await PGlite.create(pgliteDir, {
      extensions: { pg_trgm },
      ...(target.loadDataDir ? { loadDataDir: target.loadDataDir } : {}),
    });
  } catch (error) {
    lock?.release();
    throw new DatabaseOpenError(
      `Cannot open the embedded database in ${pgliteDir ?? 'memory'}: ${(error as Error).message}`,
    );
  }
  const prisma = new PrismaClient({ adapter: observedFactory(new PrismaPGlite(client)) });
  return {
    kind: 'pglite',
    prisma,
    async query(statement) {
      observeStatement(statement.text);
      return (await client.query(statement.text, statement.values)).rows as never;
    },
    // PGlite has exactly one connection, so the session is the database itself.
    session: (work) =>
      work({
        exec: async (script) => void (await client.exec(script)),
        query: async (sql, params) => (await client.query(sql, params)).rows as never,
      }),
    // One session whatever the size: statements of jobs and requests take turns on it.
    jobPool: () => new PGlitePool(client) as unknown as pg.Pool,
    dumpDataDir: () => client.dumpDataDir('none'),
    async close() {
      await prisma.$disconnect();
      await client.close();
      lock?.release();
    },
  };
}
