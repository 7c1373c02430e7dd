// The one place that opens database connections: PostgreSQL through a pg pool when
// DATABASE_URL is set, otherwise the embedded PGlite persisted under DATA_DIR. Everything
// else gets a `Database` from here: Prisma for queries, `session()` for the migrator's
// multi-statement scripts and advisory locks.
import type { Database, DatabaseTarget } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export * from './database.js';

export function openDatabase(target: DatabaseTarget): Promise<Database> {
  return target.kind === 'postgres' ? openPostgres(target) : openPglite(target);
}
