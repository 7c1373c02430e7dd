// A counting semaphore shared fairly between keys (organizations): at most `max` holders in
// all, at most `maxPerKey` of them with the same key, and the waiting ones admitted in turn,
// one key after the other: a free slot goes to the key admitted least recently among those
// that wait and are under their share (round-robin over per-key queues; first come, first
// served within a key). A key that sends more than its share waits behind its own requests,
// not in front of everyone else's. Pure bookkeeping, no timers and no I/O, so that tests
// can drive it.

export interface FairQueueLimits {
  /** Holders at once, every key together. */
  max: number;
  /** Holders at once with one key (at most `max`). */
  maxPerKey: number;
  /** Waiting requests, every key together; past it, `acquire` rejects with QueueFullError. */
  maxWaiting: number;
  /** Waiting requests with one key; past it, that key's `acquire` rejects with QueueFullError. */
  maxWaitingPerKey: number;
}

/**
 * The default share of one key (MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION): half of the slots,
 * rounded up, so that one organization alone leaves the other half to everyone else.
 */
export function defaultMaxPerKey(max: number): number {
  return Math.ceil(max / 2);
}

/** Gives the slot back; calling it again does nothing. */
export type Release = () => void;

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export interface FairQueue {
  /**
   * A slot for `key`: at once when one is free for it, otherwise once the waiting requests
   * ahead of it have had their turn. Rejects with QueueFullError when too many wait already,
   * and with the signal's reason when `signal` aborts while waiting (the request then leaves
   * the queue).
   */
  acquire(key: string, signal?: AbortSignal): Promise<Release>;
  /** Holders and waiting requests, in all and for one key. */
  usage(key?: string): { running: number; waiting: number };
}

interface Waiter {
  admit: () => void;
}

interface KeyState {
  running: number;
  waiting: Waiter[];
  /** When the key was last admitted (a sequence number; 0: not since it was last idle). */
  admittedAt: number;
}

export function createFairQueue(limits: FairQueueLimits): FairQueue {
  if (limits.max < 1 || limits.maxPerKey < 1 || limits.maxPerKey > limits.max) {
    throw new RangeError(`Invalid fair queue limits: max ${limits.max}, maxPerKey ${limits.maxPerKey}`);
  }
  let running = 0;
  let waiting = 0;
  let admissions = 0;
  const keys = new Map<string, KeyState>();
  /** The keys that have waiting requests. */
  const queued = new Set<string>();

  const stateOf = (key: string): KeyState => {
    let state = keys.get(key);
    if (!state) keys.set(key, (state = { running: 0, waiting: [], admittedAt: 0 }));
    return state;
  };
  const forgetIfIdle = (key: string, state: KeyState) => {
    if (state.running === 0 && state.waiting.length === 0) keys.delete(key);
  };

  const take = (key: string, state: KeyState): Release => {
    running++;
    state.running++;
    state.admittedAt = ++admissions;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      running--;
      state.running--;
      forgetIfIdle(key, state);
      dispatch();
    };
  };

  // Hands free slots to waiting requests, each to the key admitted least recently among those
  // under their share. Runs after every release, so that no waiting request could run while a
  // slot is free for it (which is why `acquire` may admit at once whenever a slot is free).
  const dispatch = () => {
    while (running < limits.max) {
      let next: KeyState | undefined;
      let nextKey = '';
      for (const key of queued) {
        const state = keys.get(key);
        if (state && state.running < limits.maxPerKey && (!next || state.admittedAt < next.admittedAt)) {
          next = state;
          nextKey = key;
        }
      }
      // A queued key has a waiting request.
      const waiter = next?.waiting.shift();
      if (!next || !waiter) return;
      waiting--;
      if (next.waiting.length === 0) queued.delete(nextKey);
      waiter.admit();
    }
  };

  return {
    acquire(key, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const state = stateOf(key);
      if (running < limits.max && state.running < limits.maxPerKey) return Promise.resolve(take(key, state));
      if (waiting >= limits.maxWaiting || state.waiting.length >= limits.maxWaitingPerKey) {
        forgetIfIdle(key, state);
        return Promise.reject(new QueueFullError('Too many requests are waiting'));
      }
      return new Promise<Release>((resolve, reject) => {
        const onAbort = () => {
          const index = state.waiting.indexOf(waiter);
          if (index === -1) return;
          state.waiting.splice(index, 1);
          waiting--;
          if (state.waiting.length === 0) queued.delete(key);
          forgetIfIdle(key, state);
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          admit: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(take(key, state));
          },
        };
        state.waiting.push(waiter);
        waiting++;
        queued.add(key);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    usage(key) {
      if (key === undefined) return { running, waiting };
      const state = keys.get(key);
      return { running: state?.running ?? 0, waiting: state?.waiting.length ?? 0 };
    },
  };
}
