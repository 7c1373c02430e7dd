// What wagraph puts between Prisma and its driver adapter (pg or PGlite): every statement
// is observed (./statement-observer.ts) and takes its place in the request's connection
// share (./connection-share.ts), and a transaction whose COMMIT or ROLLBACK fails still
// gives its connection back.
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import { currentRequestShare, inRequestShare } from './connection-share.js';
import { observeStatement } from './statement-observer.js';

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
          observeStatement(query.sql);
          const send = () => (target[property] as (query: SqlQuery) => Promise<unknown>)(query);
          return inTransaction ? send() : inRequestShare(send);
        };
      }
      if (property === 'startTransaction') {
        return async (...args: Parameters<SqlDriverAdapter['startTransaction']>) => {
          const share = currentRequestShare();
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
