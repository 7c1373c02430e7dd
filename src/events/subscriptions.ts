// What every subscription field shares: it follows the organization's feed through the
// hub (./hub.ts) from `after` or from now, holds a slot under the per-member and
// per-organization limits while it lives, and hands each event to the client only if the
// subscriber may still see it. The credential is checked again at most every
// RECHECK_INTERVAL_MS, with or without events: a revoked key, a removed member or a
// changed role ends the subscription (or, for a lost permission, withholds the events it
// covered) within seconds.
import { GraphQLError } from 'graphql';
import type { AuthenticatedMember } from '../auth/authenticate.js';
import type { Context } from '../context.js';
import { checkResumable, type FeedEvent, positionOf } from './feed.js';
import { type EventHub, SubscriptionEnded } from './hub.js';

/** How stale a subscriber's permissions may get: revocation takes effect within this. */
export const RECHECK_INTERVAL_MS = 2_000;

export interface SubscriptionLimitSettings {
  /** Live subscriptions one member may hold on this instance. */
  perMember: number;
  /** Live subscriptions one organization may hold on this instance. */
  perOrganization: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimitSettings = { perMember: 20, perOrganization: 1_000 };

/** What a request's context holds for subscriptions: the process's hub and its limits. */
export interface LiveSubscriptions {
  hub: EventHub;
  slots: SubscriptionSlots;
  /**
   * True once the server drains for shutdown: live subscriptions end (within
   * RECHECK_INTERVAL_MS) so that their connections close and clients reconnect elsewhere.
   */
  shuttingDown?: () => boolean;
}

/** Live subscriptions per member and per organization, in this process. */
export class SubscriptionSlots {
  private readonly members = new Map<string, number>();
  private readonly organizations = new Map<string, number>();

  constructor(readonly limits: SubscriptionLimitSettings = DEFAULT_SUBSCRIPTION_LIMITS) {}

  /** Takes a slot, or throws the error that says which limit is full; the caller releases it. */
  acquire(viewer: AuthenticatedMember): () => void {
    const member = this.members.get(viewer.memberId) ?? 0;
    const organization = this.organizations.get(viewer.organizationId) ?? 0;
    if (member >= this.limits.perMember || organization >= this.limits.perOrganization) {
      const which =
        member >= this.limits.perMember
          ? `you hold ${member} live subscriptions, the most one member may (MAX_SUBSCRIPTIONS_PER_MEMBER)`
          : `your organization holds ${organization} live subscriptions, the most one organization may (MAX_SUBSCRIPTIONS_PER_ORGANIZATION)`;
      throw new GraphQLError(`Too many subscriptions: ${which}. End one before starting another.`, {
        extensions: { code: 'SUBSCRIPTION_LIMIT' },
      });
    }
    this.members.set(viewer.memberId, member + 1);
    this.organizations.set(viewer.organizationId, organization + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      decrement(this.members, viewer.memberId);
      decrement(this.organizations, viewer.organizationId);
    };
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const count = (counts.get(key) ?? 1) - 1;
  if (count <= 0) counts.delete(key);
  else counts.set(key, count);
}

export interface FeedSubscription {
  /** `after` as the client gave it: an event cursor, or null to start from now. */
  after: string | null | undefined;
  /** Whether an event belongs to this subscription at all (its kind, its conversation). */
  selects(event: FeedEvent): boolean;
  /** Whether `viewer` may receive it now (its permissions). */
  readable(event: FeedEvent, viewer: AuthenticatedMember): boolean;
  /** Whether `viewer` may hold this subscription at all; false ends it. */
  allowed(viewer: AuthenticatedMember): boolean;
  /** Keeps, of a batch already selected and readable, what the subscription's filter wants. */
  narrow?(events: FeedEvent[], ctx: Context): Promise<FeedEvent[]>;
}

function ended(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/** The events of one subscription, one at a time, as its field's `subscribe` returns them. */
export async function* followFeed(ctx: Context, subscription: FeedSubscription): AsyncGenerator<FeedEvent> {
  const after = subscription.after == null ? undefined : positionOf(subscription.after);
  if (after !== undefined) await checkResumable(ctx.db, after);
  if (!subscription.allowed(ctx.viewer)) {
    throw ended('You lack the permission this subscription needs.', 'FORBIDDEN');
  }
  const release = ctx.subscriptions.slots.acquire(ctx.viewer);
  const stop = new AbortController();
  const batches = ctx.subscriptions.hub.events(ctx.viewer.organizationId, after, stop.signal);
  let viewer = ctx.viewer;
  let checkedAt = Date.now();
  const recheck = async () => {
    checkedAt = Date.now();
    // A credential that no longer holds throws its 401 error (UNAUTHENTICATED), which ends the subscription.
    viewer = await ctx.recheck();
    if (viewer.organizationId !== ctx.viewer.organizationId || viewer.memberId !== ctx.viewer.memberId) {
      throw ended('Your credential now names another member; the subscription ended.', 'UNAUTHENTICATED');
    }
    if (!subscription.allowed(viewer)) {
      throw ended('You lost the permission this subscription needs; it ended.', 'FORBIDDEN');
    }
  };
  let next: Promise<IteratorResult<FeedEvent[]>> | undefined;
  try {
    for (;;) {
      next ??= batches.next();
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((resolve) => {
        timer = setTimeout(() => resolve('tick'), Math.max(0, checkedAt + RECHECK_INTERVAL_MS - Date.now()));
      });
      const result = await Promise.race([next, tick]).finally(() => clearTimeout(timer));
      if (ctx.subscriptions.shuttingDown?.()) {
        throw ended(
          'The server is shutting down: reconnect, with the cursor of the last event received as `after`.',
          'SHUTTING_DOWN',
        );
      }
      if (Date.now() - checkedAt >= RECHECK_INTERVAL_MS) await recheck();
      if (result === 'tick') continue;
      next = undefined;
      if (result.done) return;
      let events = result.value.filter((event) => subscription.selects(event) && subscription.readable(event, viewer));
      if (events.length > 0 && subscription.narrow) events = await subscription.narrow(events, ctx);
      for (const event of events) yield event;
    }
  } catch (error) {
    if (error instanceof SubscriptionEnded) throw ended(error.message, error.code);
    throw error;
  } finally {
    stop.abort();
    release();
    // Let the hub's generator run its own clean-up (it waits on the abort).
    void batches.return(undefined);
  }
}
