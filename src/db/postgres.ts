// PostgreSQL through a pg pool shared by Prisma (via @prisma/adapter-pg) and the migrator.
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { type Database, type DatabaseTarget, DatabaseOpenError } from './database.js';
import { observedFactory } from './driver-adapter.js';
import { observeStatement } from './statement-observer.js';

function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

export async function openPostgres(target: Extract<DatabaseTarget, { kind: 'postgres' }>): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: target.url,
    max: target.poolSize,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    ...(target.statementTimeoutMs ? { statement_timeout: target.statementTimeoutMs } : {}),
    // JIT compilation pays off for long analytical queries, never for an API's short ones:
    // on a contact-table page it cost more than the query itself (bench/RESULTS.md).
    // No parallel workers: they are processes outside the pool, so one request's scan could
    // take every core of the database server from the other organizations.
    options: '-c jit=off -c max_parallel_workers_per_gather=0',
  });
  // An idle connection that the server drops (restart, failover) is reported here; the
  // pool discards it and the next query opens a new one. Without a listener, it would
  // crash the process.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new DatabaseOpenError(
      `Cannot connect to PostgreSQL at ${describeUrl(target.url)} (DATABASE_URL): ${(error as Error).message}`,
    );
  }
  const prisma = new PrismaClient({ adapter: observedFactory(new PrismaPg(pool)) });
  return {
    kind: 'postgres',
    prisma,
    async query(statement) {
      observeStatement(statement.text);
      return (await pool.query(statement.text, statement.values)).rows;
    },
    async session(work) {
      const client = await pool.connect();
      try {
        return await work({
          exec: async (script) => void (await client.query(script)),
          query: async (sql, params) => (await client.query(sql, params)).rows,
        });
      } finally {
        client.release();
      }
    },
    jobPool(size) {
      const jobs = new pg.Pool({
        connectionString: target.url,
        max: size,
        connectionTimeoutMillis: 10_000,
        idleTimeoutMillis: 30_000,
        options: '-c jit=off',
      });
      // As above: a dropped idle connection must not crash the process; graphile-worker
      // reconnects its listener itself.
      jobs.on('error', () => {});
      jobs.on('connect', (client) => client.on('error', () => {}));
      return jobs;
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
