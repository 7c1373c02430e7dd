// The change feed in the schema: the Event interface and its three kinds of subject,
// Query.events (the feed as a forward-only connection, for clients that poll and for
// catching up after a disconnect), and what subscriptions (./subscription.ts) deliver.
import { queryFromInfo } from '@pothos/plugin-prisma';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { Permission } from '../auth/permissions.js';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import {
  checkResumable,
  eventCursor,
  type FeedCriteria,
  type FeedEvent,
  positionOf,
  readEvents,
} from '../events/feed.js';
import type * as Enums from '../generated/prisma/enums.js';
import { globalIdOf } from '../global-id.js';
import type { ModelKey, ModelRows } from '../loaders/nodes.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../pagination/page-request.js';
import { describedEnum } from './common.js';
import { filterId } from './connections.js';
import { Contact } from './contact.js';
import { Conversation } from './conversation.js';
import { Message } from './message.js';

const KINDS: Record<Enums.EventKind, string> = {
  MESSAGE_CREATED: 'A message was sent or received (MessageEvent).',
  MESSAGE_STATUS_CHANGED: 'A message’s status moved: delivered, read, failed (MessageEvent).',
  CONVERSATION_CREATED: 'A conversation started (ConversationEvent).',
  CONVERSATION_UPDATED: 'A conversation’s campaign, channel or initiator changed (ConversationEvent).',
  CONVERSATION_ASSIGNED: 'A conversation was assigned, or reassigned, to a member (ConversationEvent).',
  CONVERSATION_UNASSIGNED: 'A conversation was left assigned to nobody (ConversationEvent).',
  CONVERSATION_STATUS_CHANGED: 'A conversation became ACTIVE, RESOLVED or CLOSED (ConversationEvent).',
  CONVERSATION_READ: 'A conversation’s unread messages were all read (ConversationEvent).',
  CONVERSATION_TAGS_CHANGED: 'A conversation’s tags changed (ConversationEvent).',
  CONVERSATION_DELETED: 'A conversation was deleted, with its contact (ConversationEvent; `conversation` is null).',
  CONTACT_CREATED: 'A contact was created (ContactEvent).',
  CONTACT_UPDATED: 'A contact’s name, phone, status or attributes changed (ContactEvent).',
  CONTACT_DELETED: 'A contact was deleted (ContactEvent; `contact` is null).',
  CONTACT_LISTS_CHANGED: 'A contact joined or left lists (ContactEvent).',
  CONTACT_TAGS_CHANGED: 'A contact’s tags changed (ContactEvent).',
};

export const EventKind = describedEnum<Enums.EventKind>(
  'EventKind',
  'What happened, in an event of the change feed. New kinds may be added: a client ignores the ones it does not know.',
  KINDS,
);

const EVENT_KINDS = Object.keys(KINDS) as Enums.EventKind[];

type Subject = 'message' | 'conversation' | 'contact';

/** The subject of each kind of event: what it is about, and the permission that reads it. */
export function subjectOf(kind: Enums.EventKind): Subject {
  if (kind.startsWith('MESSAGE_')) return 'message';
  if (kind.startsWith('CONVERSATION_')) return 'conversation';
  return 'contact';
}

const PERMISSION: Record<Subject, Permission> = {
  message: 'Get:Conversation',
  conversation: 'Get:Conversation',
  contact: 'Get:Contact',
};

/** The kinds of event a holder of `permissions` may read. */
export function readableKinds(permissions: ReadonlySet<string>): Enums.EventKind[] {
  return EVENT_KINDS.filter((kind) => permissions.has(PERMISSION[subjectOf(kind)]));
}

/** Whether the viewer may see `event` now: the permission of its subject. */
export function mayRead(permissions: ReadonlySet<string>, event: FeedEvent): boolean {
  return permissions.has(PERMISSION[subjectOf(event.kind)]);
}

/**
 * The subject's row, loaded with what the query selects under the field (null once deleted).
 * In a subscription, every subscriber of this instance that selects the same for the same
 * event shares one read (EventHub.sharedRow): without it, an event read its row once per
 * subscriber, and 500 subscribers of an organization made 500 identical statements of it.
 */
async function loadSubject<M extends ModelKey>(
  ctx: Context,
  info: GraphQLResolveInfo,
  event: FeedEvent,
  model: M,
): Promise<ModelRows[M] | null> {
  const query = queryFromInfo({ context: ctx, info });
  const load = async () => (await ctx.loaders.nodes.load(model, [event.subjectId], query))[0] ?? null;
  if (info.operation.operation !== 'subscription') return load();
  const key = `${ctx.viewer.organizationId}:${event.position}:${model}:${event.subjectId}:${JSON.stringify(query)}`;
  return ctx.subscriptions.hub.sharedRow(key, load);
}

export const Event = builder.interfaceRef<FeedEvent>('Event').implement({
  description:
    'A change in the organization, as the change feed records it: in commit order, each at a position that a client resumes after (`cursor`). The concrete type carries the object that changed, as it is now.',
  resolveType: (event) => {
    const subject = subjectOf(event.kind);
    return subject === 'message' ? 'MessageEvent' : subject === 'conversation' ? 'ConversationEvent' : 'ContactEvent';
  },
  fields: (t) => ({
    cursor: t.string({
      description:
        'The event’s position in the feed, opaque: `events(after:)` and the subscriptions’ `after` resume right after it.',
      resolve: (event) => eventCursor(event.position),
    }),
    kind: t.field({ type: EventKind, description: 'What happened.', resolve: (event) => event.kind }),
    occurredAt: t.field({
      type: 'DateTime',
      description: 'When the transaction that made the change began.',
      resolve: (event) => event.occurredAt,
    }),
  }),
});

export const MessageEvent = builder.objectRef<FeedEvent>('MessageEvent').implement({
  description: 'A message was sent or received, or its status moved. Reading it needs Get:Conversation.',
  interfaces: [Event],
  fields: (t) => ({
    messageId: t.id({
      description: 'The message’s global id.',
      resolve: (event) => globalIdOf('Message', event.subjectId),
    }),
    conversationId: t.id({
      description: 'The global id of the message’s conversation.',
      resolve: (event) => globalIdOf('Conversation', event.conversationId ?? ''),
    }),
    message: t.field({
      type: Message,
      nullable: true,
      description: 'The message as it is now; null when it was deleted since.',
      resolve: (event, _args, ctx, info) => loadSubject(ctx, info, event, 'message'),
    }),
  }),
});

export const ConversationEvent = builder.objectRef<FeedEvent>('ConversationEvent').implement({
  description:
    'A conversation started, changed hands, status or tags, was read, or was deleted. Reading it needs Get:Conversation.',
  interfaces: [Event],
  fields: (t) => ({
    conversationId: t.id({
      description: 'The conversation’s global id.',
      resolve: (event) => globalIdOf('Conversation', event.subjectId),
    }),
    conversation: t.field({
      type: Conversation,
      nullable: true,
      description: 'The conversation as it is now; null when it was deleted.',
      resolve: (event, _args, ctx, info) => loadSubject(ctx, info, event, 'conversation'),
    }),
  }),
});

export const ContactEvent = builder.objectRef<FeedEvent>('ContactEvent').implement({
  description:
    'A contact was created, changed, deleted, or joined or left lists or tags. Reading it needs Get:Contact.',
  interfaces: [Event],
  fields: (t) => ({
    contactId: t.id({
      description: 'The contact’s global id.',
      resolve: (event) => globalIdOf('Contact', event.subjectId),
    }),
    contact: t.field({
      type: Contact,
      nullable: true,
      description: 'The contact as it is now; null when it was deleted.',
      resolve: (event, _args, ctx, info) => loadSubject(ctx, info, event, 'contact'),
    }),
  }),
});

export const EventFilter = builder.inputType('EventFilter', {
  description: 'Conditions on events: an event matches when it meets every condition given.',
  fields: (t) => ({
    kinds: t.field({ type: [EventKind], description: 'Events of any of these kinds.' }),
    conversationId: t.id({ description: 'Events of this conversation and of its messages.' }),
    contactId: t.id({ description: 'Events of this contact and of its conversations.' }),
  }),
});

/** EventFilter arguments → the feed's criteria (raw ids), narrowed to the kinds the viewer may read. */
export function feedCriteria(
  filter: typeof EventFilter.$inferInput | null | undefined,
  permissions: ReadonlySet<string>,
  argument = 'filter',
): FeedCriteria {
  const readable = readableKinds(permissions);
  return {
    kinds: filter?.kinds ? readable.filter((kind) => filter.kinds?.includes(kind)) : readable,
    ...(filter?.conversationId
      ? { conversationId: filterId('Conversation', `${argument}.conversationId`, filter.conversationId) }
      : {}),
    ...(filter?.contactId ? { contactId: filterId('Contact', `${argument}.contactId`, filter.contactId) } : {}),
  };
}

interface EventPage {
  events: FeedEvent[];
  hasNextPage: boolean;
}

const EventEdge = builder.objectRef<FeedEvent>('EventEdge').implement({
  description: 'An event in a page of the feed, with its cursor.',
  fields: (t) => ({
    cursor: t.string({
      description: 'Where to resume after this event (the same as the event’s own `cursor`).',
      resolve: (event) => eventCursor(event.position),
    }),
    node: t.field({ type: Event, description: 'The event.', resolve: (event) => event }),
  }),
});

export const EventConnection = builder.objectRef<EventPage>('EventConnection').implement({
  description:
    'A page of the change feed, oldest first. The feed is read forward only: pass `pageInfo.endCursor` as `after` for the next page, and poll it again to follow it.',
  fields: (t) => ({
    edges: t.field({ type: [EventEdge], description: 'The events of the page.', resolve: (page) => page.events }),
    nodes: t.field({ type: [Event], description: 'The events of the page.', resolve: (page) => page.events }),
    pageInfo: t.field({
      type: builder.pageInfoRef(),
      description: 'Where the page lies in the feed.',
      resolve: (page) => {
        const last = page.events.at(-1);
        const first = page.events[0];
        return {
          hasNextPage: page.hasNextPage,
          // The feed is read forward only; what lies before `after` is not looked at.
          hasPreviousPage: false,
          startCursor: first ? eventCursor(first.position) : null,
          endCursor: last ? eventCursor(last.position) : null,
        };
      },
    }),
  }),
});

builder.queryFields((t) => ({
  events: t.field({
    type: EventConnection,
    description:
      'The organization’s change feed, oldest first, in commit order: every event after `after`, none skipped and none twice, however many writers commit concurrently. ' +
      'Only the kinds the viewer may read are listed (message and conversation events need Get:Conversation, contact events Get:Contact). ' +
      'Events are kept for EVENT_RETENTION_DAYS (7 by default); an `after` older than that is refused with EVENT_CURSOR_EXPIRED. ' +
      'Without `after`, the feed starts at its oldest kept event.',
    args: {
      first: t.arg.int({
        description: `At most this many events (${DEFAULT_PAGE_SIZE} by default, ${MAX_PAGE_SIZE} at most).`,
      }),
      after: t.arg.string({ description: 'The cursor of the last event already seen.' }),
      filter: t.arg({ type: EventFilter, description: 'Only the events that match every condition given.' }),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? DEFAULT_PAGE_SIZE;
      if (first < 0 || first > MAX_PAGE_SIZE) {
        throw new GraphQLError(`\`first\` must be between 0 and ${MAX_PAGE_SIZE} (got ${first}).`, {
          extensions: { code: 'BAD_USER_INPUT', argumentName: 'first' },
        });
      }
      const after = args.after == null ? 0n : positionOf(args.after);
      const criteria = feedCriteria(args.filter, ctx.viewer.permissions);
      if (args.after != null) await checkResumable(ctx.db, after);
      if (criteria.kinds?.length === 0 || first === 0) return { events: [], hasNextPage: false };
      const events = await readEvents(ctx.db, after, first + 1, criteria);
      return { events: events.slice(0, first), hasNextPage: events.length > first };
    },
  }),
}));
