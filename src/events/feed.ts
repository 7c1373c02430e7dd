// Reading an organization's change feed: the events after a position, in position order.
// The events are written by triggers in the transaction of each change, and numbered when
// it commits, in commit order (migration 20261130020107_change_feed); so "the events after
// p that I can see" never later gains one below a position already read. Query.events pages
// through it, and subscriptions catch up from it before they go live.
import { GraphQLError } from 'graphql';
import type { EventKind } from '../generated/prisma/enums.js';
import type { TenantClient } from '../db/tenant.js';

export interface FeedEvent {
  position: bigint;
  kind: EventKind;
  subjectId: string;
  conversationId: string | null;
  contactId: string | null;
  occurredAt: Date;
}

/** Which events a reader wants; every condition given must hold. */
export interface FeedCriteria {
  kinds?: readonly EventKind[];
  conversationId?: string;
  contactId?: string;
}

const SELECT = {
  position: true,
  kind: true,
  subjectId: true,
  conversationId: true,
  contactId: true,
  occurredAt: true,
} as const;

const CURSOR_PREFIX = 'event:';

/** An event's cursor: its position, opaque to clients like every other cursor of the API. */
export function eventCursor(position: bigint): string {
  return Buffer.from(`${CURSOR_PREFIX}${position}`, 'utf8').toString('base64url');
}

function badCursor(argument: string): GraphQLError {
  return new GraphQLError(`\`${argument}\` is not a cursor of the event feed; pass an event's \`cursor\`.`, {
    extensions: { code: 'BAD_USER_INPUT', argumentName: argument },
  });
}

/** The position a cursor names; a string that is not an event cursor is the client's error. */
export function positionOf(cursor: string, argument = 'after'): bigint {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const digits = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  if (!/^(0|[1-9][0-9]{0,17})$/.test(digits)) throw badCursor(argument);
  return BigInt(digits);
}

/**
 * Refuses to resume from a position whose following events the retention has removed: the
 * client would miss them silently. It must refetch what it shows and start from the head.
 */
export async function checkResumable(db: TenantClient, after: bigint, argument = 'after'): Promise<void> {
  const counter = await db.eventCounter.findFirst({ select: { prunedThrough: true } });
  if (counter && after < counter.prunedThrough) {
    throw new GraphQLError(
      `\`${argument}\` is older than the events kept (they are removed after the retention period): ` +
        'refetch what you show, then follow the feed from its head (omit `after`).',
      { extensions: { code: 'EVENT_CURSOR_EXPIRED', argumentName: argument } },
    );
  }
}

/** The newest position of the organization's feed (0 before its first event). */
export async function headPosition(db: TenantClient): Promise<bigint> {
  const counter = await db.eventCounter.findFirst({ select: { lastPosition: true } });
  return counter?.lastPosition ?? 0n;
}

/** Up to `limit` events after `after`, oldest first. */
export function readEvents(
  db: TenantClient,
  after: bigint,
  limit: number,
  criteria: FeedCriteria = {},
): Promise<FeedEvent[]> {
  return db.event.findMany({
    where: {
      position: { gt: after },
      ...(criteria.kinds ? { kind: { in: [...criteria.kinds] } } : {}),
      ...(criteria.conversationId ? { conversationId: criteria.conversationId } : {}),
      ...(criteria.contactId ? { contactId: criteria.contactId } : {}),
    },
    orderBy: { position: 'asc' },
    take: limit,
    select: SELECT,
  }) as Promise<FeedEvent[]>;
}
