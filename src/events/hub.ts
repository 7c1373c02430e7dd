// Live events for subscriptions, on every instance. The database is the source of truth:
// a subscriber never receives an event from a message bus, only from the feed (./feed.ts),
// which it reads in position order. What crosses instances is a wake-up: after a
// transaction commits, its process publishes "organization X has new events" (Redis pub/sub
// with REDIS_URL, one channel per organization, through @graphql-yoga/redis-event-target;
// in memory otherwise), and each instance with subscribers in X reads the feed once from
// where it last was and hands the new events to all of them. A wake-up that is lost (Redis
// restarting, a writer in a process that publishes nowhere) costs latency, not events: each
// instance also looks at the feed of its organizations every POLL_INTERVAL_MS.
//
// A subscriber resuming from a position reads what it missed from the feed first, while
// the live events queue up behind; it skips any event at or before the last one it got, so
// the hand-over has neither gap nor duplicate.
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import { Redis } from 'ioredis';
import type { Database } from '../db/database.js';
import { tenantClient } from '../db/tenant.js';
import type { Logger } from '../logger.js';
import { type FeedEvent, headPosition, readEvents } from './feed.js';

/** How often an instance reads the feed of an organization it has subscribers in, wake-ups or not. */
export const POLL_INTERVAL_MS = 1_000;
/** Events read per statement while following or catching up. */
const BATCH = 500;
/** How long a row read for a live event serves the other subscribers of that event (sharedRow). */
const ROW_SHARE_MS = 2_000;
/** Events waiting for one subscriber before it counts as too slow and is ended. */
export const DEFAULT_MAX_PENDING_EVENTS = 1_000;

/** After a commit: tells every instance that `organizationId` has new events. */
export interface FeedPublisher {
  committed(organizationId: string): void;
}

/** Why a subscription ended from the hub's side. */
export class SubscriptionEnded extends Error {
  override name = 'SubscriptionEnded';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

type Topics = { 'wagraph:feed': [organizationId: string, position: null] };

interface Subscriber {
  /** The last position handed to it (or skipped as before its start). */
  position: bigint;
  /** Reading what it missed from the feed: live events are not queued meanwhile (the reads cover them). */
  catchingUp: boolean;
  pending: FeedEvent[];
  wake: (() => void) | undefined;
  ended: SubscriptionEnded | undefined;
}

/**
 * The client as the Redis event target uses it, with its rejections handled. The event target
 * neither awaits nor catches `publish`, `subscribe` and `unsubscribe`; while Redis is away they
 * reject (ioredis gives up on a command after one retry), and an unhandled rejection ends a
 * Node process: a mutation would have stopped the gateway. A lost wake-up costs latency only
 * (the poll). ioredis subscribes again to its channels once it reconnects; a channel whose
 * first subscribe failed gets no wake-ups until its last local subscriber leaves (the poll serves it).
 */
function unawaitedCallsHandled(client: Redis, log: Logger): Redis {
  const handled =
    (command: 'publish' | 'subscribe' | 'unsubscribe') =>
    (...args: string[]) =>
      (client[command] as (...args: string[]) => Promise<unknown>)(...args).catch((error: unknown) =>
        log.debug({ err: error, command }, 'redis (change feed wake-ups) unavailable: the poll covers it'),
      );
  return {
    on: client.on.bind(client),
    publish: handled('publish'),
    subscribe: handled('subscribe'),
    unsubscribe: handled('unsubscribe'),
  } as unknown as Redis;
}

/** One organization's feed as followed by this instance, for all its local subscribers. */
class Tail {
  position: bigint;
  readonly subscribers = new Set<Subscriber>();
  private reading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly hub: EventHub,
    readonly organizationId: string,
    start: bigint,
  ) {
    this.position = start;
  }

  /** Reads the feed from where this tail is; a call during a read makes it read once more after. */
  follow(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            const events = await readEvents(this.hub.tenant(this.organizationId), this.position, BATCH);
            const last = events.at(-1);
            if (!last) break;
            this.position = last.position;
            for (const subscriber of this.subscribers) this.hub.deliver(subscriber, events);
            if (events.length < BATCH) break;
          }
        } while (this.again);
      } catch (error) {
        this.hub.log.warn(
          { err: error, organizationId: this.organizationId },
          'reading the change feed failed; retrying',
        );
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }
}

export interface EventHubOptions {
  db: Database;
  log: Logger;
  /** Redis for wake-ups across instances; unset: this process only. */
  redisUrl?: string | undefined;
  maxPendingEvents?: number;
  pollIntervalMs?: number;
}

export class EventHub implements FeedPublisher {
  readonly log: Logger;
  private readonly db: Database;
  private readonly tails = new Map<string, Tail>();
  private readonly pubsub: PubSub<Topics>;
  private readonly redis: Redis[] = [];
  private readonly wakeups = new Map<string, { return?: () => unknown }>();
  private readonly maxPending: number;
  private readonly timer: NodeJS.Timeout;

  constructor(options: EventHubOptions) {
    this.db = options.db;
    this.log = options.log;
    this.maxPending = options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS;
    if (options.redisUrl) {
      const connect = () => {
        const client = new Redis(options.redisUrl as string, { maxRetriesPerRequest: 1, lazyConnect: false });
        // ioredis reconnects by itself; meanwhile wake-ups are lost and the poll covers them.
        client.on('error', (error) => this.log.debug({ err: error }, 'redis (change feed wake-ups) unavailable'));
        this.redis.push(client);
        return client;
      };
      this.pubsub = createPubSub<Topics>({
        eventTarget: createRedisEventTarget({
          publishClient: unawaitedCallsHandled(connect(), this.log),
          subscribeClient: unawaitedCallsHandled(connect(), this.log),
        }),
      });
    } else {
      this.pubsub = createPubSub<Topics>();
    }
    this.timer = setInterval(() => {
      for (const tail of this.tails.values()) void tail.follow();
    }, options.pollIntervalMs ?? POLL_INTERVAL_MS);
    this.timer.unref();
  }

  /** The organization's client for reading its feed (outside any request). */
  tenant(organizationId: string) {
    return tenantClient(this.db.prisma, organizationId);
  }

  committed(organizationId: string): void {
    try {
      this.pubsub.publish('wagraph:feed', organizationId, null);
    } catch (error) {
      this.log.debug({ err: error }, 'publishing a change feed wake-up failed');
    }
  }

  /** Where a new subscriber without `after` starts: the newest committed position. */
  head(organizationId: string): Promise<bigint> {
    return headPosition(this.tenant(organizationId));
  }

  deliver(subscriber: Subscriber, events: readonly FeedEvent[]): void {
    if (subscriber.ended || subscriber.catchingUp) return;
    // A subscriber that took everything it was given keeps up, however large the next batch
    // (a 1,000-contact import is one batch); one that has not taken the last batch yet and
    // would hold more than maxPending is too slow.
    const backlog = subscriber.pending.length;
    for (const event of events) {
      if (event.position > (subscriber.pending.at(-1)?.position ?? subscriber.position)) subscriber.pending.push(event);
    }
    if (backlog > 0 && subscriber.pending.length > this.maxPending) {
      subscriber.ended = new SubscriptionEnded(
        `The subscription fell more than ${this.maxPending} events behind and was ended: resume with \`after\` set to the cursor of the last event received.`,
        'SLOW_CONSUMER',
      );
      subscriber.pending = [];
    }
    subscriber.wake?.();
  }

  private async tail(organizationId: string): Promise<Tail> {
    let tail = this.tails.get(organizationId);
    if (tail) return tail;
    const start = await this.head(organizationId);
    tail = this.tails.get(organizationId);
    if (tail) return tail;
    tail = new Tail(this, organizationId, start);
    this.tails.set(organizationId, tail);
    const wakeups = this.pubsub.subscribe('wagraph:feed', organizationId);
    this.wakeups.set(organizationId, wakeups);
    const following = tail;
    void (async () => {
      for await (const _ of wakeups) void following.follow();
    })();
    return tail;
  }

  private release(tail: Tail, subscriber: Subscriber): void {
    tail.subscribers.delete(subscriber);
    if (tail.subscribers.size > 0 || this.tails.get(tail.organizationId) !== tail) return;
    this.tails.delete(tail.organizationId);
    void this.wakeups.get(tail.organizationId)?.return?.();
    this.wakeups.delete(tail.organizationId);
  }

  /**
   * The organization's events after `after` (or from now on), in order, in batches: first
   * those already committed, then live ones. Ends when `signal` aborts, or throws
   * SubscriptionEnded when the subscriber falls too far behind.
   */
  async *events(organizationId: string, after: bigint | undefined, signal: AbortSignal): AsyncGenerator<FeedEvent[]> {
    const tail = await this.tail(organizationId);
    const subscriber: Subscriber = {
      position: after ?? tail.position,
      catchingUp: after !== undefined,
      pending: [],
      wake: undefined,
      ended: undefined,
    };
    tail.subscribers.add(subscriber);
    const aborted = () => subscriber.wake?.();
    signal.addEventListener('abort', aborted);
    try {
      // Catching up: what committed after `after`, page by page. Live events are not queued
      // meanwhile; once a read comes back short, queuing starts and one more read covers
      // what the tail handed out in between (the queue drops what that read returns).
      while (after !== undefined && !signal.aborted) {
        const events = await readEvents(this.tenant(organizationId), subscriber.position, BATCH);
        const last = events.at(-1);
        if (last) {
          subscriber.position = last.position;
          subscriber.pending = subscriber.pending.filter((event) => event.position > last.position);
          yield events;
        }
        if (events.length === BATCH) continue;
        if (!subscriber.catchingUp) break;
        subscriber.catchingUp = false;
      }
      while (!signal.aborted) {
        if (subscriber.ended) throw subscriber.ended;
        if (subscriber.pending.length === 0) {
          await new Promise<void>((resolve) => {
            subscriber.wake = resolve;
          });
          subscriber.wake = undefined;
          continue;
        }
        const batch = subscriber.pending;
        subscriber.pending = [];
        const last = batch.at(-1);
        if (last) subscriber.position = last.position;
        yield batch;
      }
    } finally {
      signal.removeEventListener('abort', aborted);
      this.release(tail, subscriber);
    }
  }

  private readonly rows = new Map<string, { at: number; row: Promise<unknown> }>();

  /**
   * One read of a live event's row for every local subscriber that asks for it within
   * ROW_SHARE_MS: `key` names the organization, the event's position, the row and what is
   * selected of it, so two subscribers share only an identical statement of one event.
   * A failed read is not kept.
   */
  sharedRow<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const kept = this.rows.get(key);
    if (kept && now - kept.at < ROW_SHARE_MS) return kept.row as Promise<T>;
    // Entries are added in time order: the oldest are first.
    for (const [old, entry] of this.rows) {
      if (now - entry.at < ROW_SHARE_MS) break;
      this.rows.delete(old);
    }
    const row = load();
    this.rows.delete(key);
    this.rows.set(key, { at: now, row });
    row.catch(() => this.rows.delete(key));
    return row;
  }

  /** Subscribers this process serves now, per organization (for limits and metrics). */
  subscriberCount(organizationId: string): number {
    return this.tails.get(organizationId)?.subscribers.size ?? 0;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const wakeups of this.wakeups.values()) void wakeups.return?.();
    this.wakeups.clear();
    this.tails.clear();
    await Promise.all(this.redis.map((client) => client.quit().catch(() => client.disconnect())));
  }
}
