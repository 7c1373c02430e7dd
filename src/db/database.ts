// What the rest of wagraph knows about a database, whichever kind it is, and the hook
// through which every SQL statement Prisma sends can be observed.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import type { PrismaClient } from '../generated/prisma/client.js';
import { createFairQueue, type FairQueue } from '../admission/fair-queue.js';

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
   * Recorded like every statement Prisma sends.
   */
  query<Row = Record<string, unknown>>(statement: Statement): Promise<Row[]>;
  session<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Copies the whole database (PGlite only): how tests clone a migrated template. */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

export class DatabaseOpenError extends Error {
  override name = 'DatabaseOpenError';
}

// --- statement observation -------------------------------------------------------------
// Every SQL statement Prisma sends passes through the driver adapter; wrapping it is how
// tests and the benchmark count statements on the wire rather than estimating them.
// Statements are attributed to whatever is running inside `recordStatements` (through
// AsyncLocalStorage), so concurrent requests never see each other's statements.

const recording = new AsyncLocalStorage<string[]>();

/** Runs `work`, collecting the SQL of every statement it (and only it) sends. */
export async function recordStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const result = await recording.run(statements, work);
  return { result, statements };
}

/** Runs `work` outside any recording: for bookkeeping that is not part of the request. */
export function unrecorded<T>(work: () => T): T {
  return recording.exit(work);
}

/** Records a statement sent outside Prisma (Database.query). */
export function observeStatement(sql: string): void {
  recording.getStore()?.push(sql);
}

function observe(query: SqlQuery): void {
  recording.getStore()?.push(query.sql);
}

// --- a request's share of the pool ----------------------------------------------------
// One GraphQL request may start many statements at once (a loader per connection shape,
// a count per filtered connection). Unbounded, one request could hold every connection of
// the pool and starve every other organization. A request's ConnectionShare lets at most
// `limit` of its statements hold a connection at once; the rest wait their turn inside the
// request. The loaders' SQL goes through it explicitly (src/context.ts); Prisma's
// statements through the driver adapter below, which finds the share of the request it
// runs for through AsyncLocalStorage (set around execution by src/plugins/connection-share.ts).
// A transaction takes one place for as long as it is open; its statements run on its
// connection and take none.
//
// A bound per request is not enough: ten requests of one organization, two connections each,
// still fill a pool of ten. So a place also needs one of the pool's connections from the
// process-wide PoolShares, a fair queue keyed by organization: an organization holds at most
// its share of the pool (DB_MAX_CONNECTIONS_PER_ORGANIZATION), and a free connection goes to
// the organization that was served least recently, so a noisy one waits behind itself.

/** The pool's connections, shared fairly between organizations (one per process). */
export type PoolShares = FairQueue;

export function createPoolShares(connections: number, perOrganization: number): PoolShares {
  // Waiting statements are bounded by the requests admitted (MAX_CONCURRENT_REQUESTS) times
  // their share each: nothing to refuse here.
  return createFairQueue({
    max: connections,
    maxPerKey: Math.min(perOrganization, connections),
    maxWaiting: Number.MAX_SAFE_INTEGER,
    maxWaitingPerKey: Number.MAX_SAFE_INTEGER,
  });
}

export class ConnectionShare {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /** `pool`: the process's PoolShares and the organization the request acts for; unset: no pool-wide bound. */
  constructor(
    readonly limit: number,
    private readonly pool?: { shares: PoolShares; organizationId: string },
  ) {}

  /** Waits for a place; the returned function gives it back (once). */
  async acquire(): Promise<() => void> {
    const releaseOwn = await this.acquireOwn();
    let releasePool: () => void = () => {};
    try {
      if (this.pool) releasePool = await this.pool.shares.acquire(this.pool.organizationId);
    } catch (error) {
      releaseOwn();
      throw error;
    }
    return () => {
      releasePool();
      releaseOwn();
    };
  }

  private async acquireOwn(): Promise<() => void> {
    if (this.active < this.limit) this.active++;
    // The place is handed over by the releaser: `active` stays as it is.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }
}

const requestShare = new AsyncLocalStorage<ConnectionShare>();

/** Runs `work` (a request's execution) with every Prisma statement it sends inside `share`. */
export function withConnectionShare<T>(share: ConnectionShare, work: () => T): T {
  return requestShare.run(share, work);
}

function shared<T>(work: () => Promise<T>): Promise<T> {
  const share = requestShare.getStore();
  return share ? share.run(work) : work();
}

/** A transaction that gives its place in the share back when it ends, however it ends. */
function releasingOnEnd(transaction: Transaction, release: () => void): Transaction {
  return new Proxy(transaction, {
    get(target, property, receiver) {
      if (property === 'commit' || property === 'rollback') {
        return async () => {
          try {
            await target[property]();
          } finally {
            release();
          }
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Prisma ends a transaction by sending COMMIT/ROLLBACK and then calling the adapter's
 * commit()/rollback(), which is what returns the connection to the pool. When the
 * connection died mid-transaction, sending ROLLBACK throws and the connection is never
 * returned: the pool leaks one connection per outage (and pool.end() hangs). So: when
 * COMMIT or ROLLBACK fails, end the adapter transaction ourselves, once.
 */
function endingOnFailure(transaction: Transaction): Transaction {
  let ended = false;
  const end = (how: 'commit' | 'rollback') => async () => {
    if (ended) return;
    ended = true;
    await transaction[how]();
  };
  return new Proxy(transaction, {
    get(target, property, receiver) {
      if (property === 'commit' || property === 'rollback') return end(property);
      if (property === 'executeRaw') {
        return async (query: SqlQuery) => {
          try {
            return await target.executeRaw(query);
          } catch (error) {
            if (query.sql === 'COMMIT' || query.sql === 'ROLLBACK') await end('rollback')().catch(() => {});
            throw error;
          }
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function observed<T extends SqlDriverAdapter | Transaction>(queryable: T, inTransaction = false): T {
  return new Proxy(queryable, {
    get(target, property, receiver) {
      if (property === 'queryRaw' || property === 'executeRaw') {
        return (query: SqlQuery) => {
          observe(query);
          const send = () => (target[property] as (query: SqlQuery) => Promise<unknown>)(query);
          return inTransaction ? send() : shared(send);
        };
      }
      if (property === 'startTransaction') {
        return async (...args: Parameters<SqlDriverAdapter['startTransaction']>) => {
          const share = requestShare.getStore();
          const release = share ? await share.acquire() : () => {};
          let transaction: Transaction;
          try {
            transaction = await (target as SqlDriverAdapter).startTransaction(...args);
          } catch (error) {
            release();
            throw error;
          }
          // releasingOnEnd inside endingOnFailure: when COMMIT or ROLLBACK fails, Prisma never
          // calls commit()/rollback() itself, and the place is given back by the rollback that
          // endingOnFailure then calls.
          return observed(endingOnFailure(releasingOnEnd(transaction, release)), true);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export function observedFactory(factory: SqlDriverAdapterFactory): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => observed(await factory.connect()),
  };
}
