// Requests that hold their execution slot for as long as a test wants, without holding a
// database connection (the embedded database has only one, and the requests waiting for a
// slot need it to authenticate): the database given to the server stops every Organization
// read at a gate, before the statement reaches the driver, while the gate is closed (it
// starts open, so that factories can use the same database).
// `{ viewer { organization { name } } }` is such a read; `{ viewer { permissions } }` is not.
import type { Database } from '../../src/db/client.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';

export interface Gate {
  /** The database to give the server. */
  db: Database;
  /** Resolves once `count` reads wait at the gate. */
  arrivals(count: number): Promise<void>;
  /** Reads waiting at the gate now. */
  waiting(): number;
  /** Lets the waiting reads through, and every later one until `close()`. */
  open(): void;
  close(): void;
}

export function gatedDatabase(db: Database): Gate {
  let closed = false;
  let held: (() => void)[] = [];
  let watchers: { count: number; resolve: () => void }[] = [];
  const prisma = db.prisma.$extends({
    query: {
      organization: {
        async $allOperations({ args, query }) {
          if (closed) {
            await new Promise<void>((resolve) => {
              held.push(resolve);
              watchers = watchers.filter((watcher) => (held.length >= watcher.count ? void watcher.resolve() : true));
            });
          }
          return query(args);
        },
      },
    },
  });
  return {
    db: { ...db, prisma: prisma as unknown as PrismaClient },
    arrivals: (count) =>
      held.length >= count ? Promise.resolve() : new Promise<void>((resolve) => watchers.push({ count, resolve })),
    waiting: () => held.length,
    open() {
      closed = false;
      const passing = held;
      held = [];
      for (const resolve of passing) resolve();
    },
    close() {
      closed = true;
    },
  };
}
