// What the rest of wagraph knows about a database, whichever kind it is. Opening one is
// ./client.ts; a request's share of its pool is ./connection-share.ts; what wraps Prisma's
// driver adapter (statement observation, connection shares, a pg workaround) is
// ./driver-adapter.ts.
import type pg from 'pg';
import type { PrismaClient } from '../generated/prisma/client.js';

export type DatabaseTarget =
  /** `statementTimeoutMs`: PostgreSQL's statement_timeout on every connection of the pool (0 or unset: none). */
  | { kind: 'postgres'; url: string; poolSize: number; statementTimeoutMs?: number }
  /** `dataDir` undefined: in memory (tests), optionally starting from a dumped data directory. */
  | { kind: 'pglite'; dataDir?: string; loadDataDir?: Blob };

/** One connection, for work that must stay on it: scripts, session locks, transactions. */
export interface SqlSession {
  /** Runs a script of several statements (no parameters). */
  exec(script: string): Promise<void>;
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/** A statement built with `Prisma.sql` (its `text` numbers parameters $1, $2, …). */
export interface Statement {
  text: string;
  values: unknown[];
}

export interface Database {
  kind: DatabaseTarget['kind'];
  /** The unscoped client. Request code gets a tenant-scoped one from src/db/tenant.ts. */
  prisma: PrismaClient;
  /**
   * Runs one statement straight on the driver, outside any transaction: for the hand-written
   * SQL of src/loaders and src/auth, which needs none of Prisma's query building and whose
   * rows the driver already returns as Prisma would (Date, parsed JSON, strings).
   * Observed like every statement Prisma sends (./statement-observer.ts). Request code
   * reaches it only through ./tenant-sql.ts.
   */
  query<Row = Record<string, unknown>>(statement: Statement): Promise<Row[]>;
  session<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  /**
   * A pool of connections of its own for the background-job runner (src/jobs/), up to `size`:
   * on PostgreSQL a separate pg pool (jobs never take a request's connection, and one of them
   * stays on LISTEN); on PGlite a pool look-alike over the one session (./pglite-pool.ts).
   * Whoever asks for it ends it.
   */
  jobPool(size: number): pg.Pool;
  /** Copies the whole database (PGlite only): how tests clone a migrated template. */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

export class DatabaseOpenError extends Error {
  override name = 'DatabaseOpenError';
}
