// One GraphQL request may start many statements at once (a loader per connection shape,
// a count per filtered connection). Unbounded, one request could hold every connection of
// the pool and starve every other organization. A request's ConnectionShare lets at most
// `limit` of its statements hold a connection at once; the rest wait their turn inside the
// request. The loaders' SQL goes through it explicitly (src/context.ts); Prisma's
// statements through the driver adapter (./driver-adapter.ts), which finds the share of
// the request it runs for through AsyncLocalStorage (set around execution by src/plugins/connection-share.ts).
// A transaction takes one place for as long as it is open; its statements run on its
// connection and take none.
//
// A bound per request is not enough: ten requests of one organization, two connections each,
// still fill a pool of ten. So a place also needs one of the pool's connections from the
// process-wide PoolShares, a fair queue keyed by organization: an organization holds at most
// its share of the pool (DB_MAX_CONNECTIONS_PER_ORGANIZATION), and a free connection goes to
// the organization that was served least recently, so a noisy one waits behind itself.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createFairQueue, type FairQueue } from '../admission/fair-queue.js';

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

/** Runs `work` inside the share of the request it runs for, if any. */
export function inRequestShare<T>(work: () => Promise<T>): Promise<T> {
  const share = requestShare.getStore();
  return share ? share.run(work) : work();
}

/** The share of the request running, if any. */
export function currentRequestShare(): ConnectionShare | undefined {
  return requestShare.getStore();
}
