// The admission queue on its own (src/admission/fair-queue.ts): shares, turns, waiting
// rooms, and slots given back on every path.
import { describe, expect, it } from 'vitest';
import {
  createFairQueue,
  defaultMaxPerKey,
  type FairQueueLimits,
  QueueFullError,
  type Release,
} from '../../src/admission/fair-queue.js';

const limits = (overrides: Partial<FairQueueLimits> = {}): FairQueueLimits => ({
  max: 2,
  maxPerKey: 1,
  maxWaiting: 100,
  maxWaitingPerKey: 100,
  ...overrides,
});

/** Settles pending promise callbacks. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Acquires for `key` and records the key in `admitted` when the slot comes. */
function enter(queue: ReturnType<typeof createFairQueue>, key: string, admitted: string[], signal?: AbortSignal) {
  return queue.acquire(key, signal).then((release) => {
    admitted.push(key);
    return release;
  });
}

describe('fair queue', () => {
  it('admits at once while a slot is free for the key, and at most maxPerKey per key', async () => {
    const queue = createFairQueue(limits({ max: 3, maxPerKey: 2 }));
    const admitted: string[] = [];
    const a = [enter(queue, 'A', admitted), enter(queue, 'A', admitted), enter(queue, 'A', admitted)];
    const b = enter(queue, 'B', admitted);
    await settle();
    expect(admitted).toEqual(['A', 'A', 'B']);
    expect(queue.usage()).toEqual({ running: 3, waiting: 1 });
    expect(queue.usage('A')).toEqual({ running: 2, waiting: 1 });
    (await b)();
    await settle();
    // B's slot is free, but A is at its share: the third A still waits.
    expect(admitted).toEqual(['A', 'A', 'B']);
    (await a[0]!)();
    await settle();
    expect(admitted).toEqual(['A', 'A', 'B', 'A']);
  });

  it('gives a free slot to the organization admitted least recently: a noisy one waits behind itself', async () => {
    const queue = createFairQueue(limits({ max: 1, maxPerKey: 1 }));
    const admitted: string[] = [];
    const releases: Release[] = [];
    for (const key of ['A', 'A', 'A', 'A', 'B', 'C', 'B'])
      void queue.acquire(key).then((release) => {
        admitted.push(key);
        releases.push(release);
      });
    await settle();
    expect(admitted).toEqual(['A']);
    // One slot: each release admits the next request.
    for (let i = 0; i < 7; i++) {
      releases[i]!();
      await settle();
    }
    expect(admitted).toEqual(['A', 'B', 'C', 'A', 'B', 'A', 'A']);
    expect(queue.usage()).toEqual({ running: 0, waiting: 0 });
  });

  it('turns away past the waiting room of the key (503 for the noisy one only) and past the whole one', async () => {
    const queue = createFairQueue(limits({ max: 1, maxPerKey: 1, maxWaiting: 3, maxWaitingPerKey: 2 }));
    const admitted: string[] = [];
    await enter(queue, 'A', admitted);
    void enter(queue, 'A', admitted);
    void enter(queue, 'A', admitted);
    await expect(queue.acquire('A')).rejects.toBeInstanceOf(QueueFullError);
    void enter(queue, 'B', admitted); // B still has room
    await expect(queue.acquire('C')).rejects.toBeInstanceOf(QueueFullError); // the whole room is full
    expect(queue.usage()).toEqual({ running: 1, waiting: 3 });
    expect(queue.usage('C')).toEqual({ running: 0, waiting: 0 });
  });

  it('a request aborted while it waits leaves the queue; a release twice gives back one slot', async () => {
    const queue = createFairQueue(limits({ max: 1, maxPerKey: 1, maxWaitingPerKey: 1 }));
    const admitted: string[] = [];
    const release = await enter(queue, 'A', admitted);
    const abort = new AbortController();
    const aborted = enter(queue, 'A', admitted, abort.signal);
    await expect(queue.acquire('A')).rejects.toBeInstanceOf(QueueFullError);
    abort.abort(new Error('client went away'));
    await expect(aborted).rejects.toThrow('client went away');
    expect(queue.usage()).toEqual({ running: 1, waiting: 0 });
    const next = enter(queue, 'A', admitted); // room again
    release();
    release();
    await next;
    expect(admitted).toEqual(['A', 'A']);
    expect(queue.usage()).toEqual({ running: 1, waiting: 0 });
    (await next)();
    expect(queue.usage()).toEqual({ running: 0, waiting: 0 });
    await expect(queue.acquire('A', AbortSignal.abort(new Error('already gone')))).rejects.toThrow('already gone');
    expect(queue.usage()).toEqual({ running: 0, waiting: 0 });
  });

  it('shares half of the slots per organization by default, at least one', () => {
    expect([1, 2, 3, 20].map(defaultMaxPerKey)).toEqual([1, 1, 2, 10]);
  });
});
