// Subscriptions: the change feed, live. Each field follows the organization's feed (from
// `after`, or from now), keeps the events it is about and that the subscriber may read,
// and delivers each as an Event carrying its object as it is now (./event.ts). They run
// over GraphQL over SSE and over WebSocket through the same plugins as queries.
import type * as Enums from '../generated/prisma/enums.js';
import { builder } from '../builder.js';
import type { FeedEvent } from '../events/feed.js';
import { followFeed } from '../events/subscriptions.js';
import { rawIdOf } from '../global-id.js';
import { ConversationFilter, conversationCriteria } from './conversation.js';
import { Event, EventFilter, feedCriteria, MessageEvent, mayRead, subjectOf } from './event.js';
import { GraphQLError } from 'graphql';

builder.subscriptionType({
  description:
    'Live changes: over GraphQL over SSE at /graphql (`Accept: text/event-stream`), over WebSocket at /graphql (the graphql-ws protocol, the credential in `connectionParams`), or over the graphql-sse protocol at /graphql/stream. ' +
    'Each subscription delivers events in commit order; pass the `cursor` of the last event received as `after` when reconnecting to receive every event missed, once, then live ones.',
});

const AFTER = {
  description:
    'The cursor of the last event received (an event’s `cursor`): the subscription first delivers every event after it, then live ones. Omitted: live events from now on. A cursor older than the retention (EVENT_RETENTION_DAYS) is refused with EVENT_CURSOR_EXPIRED.',
};

/** Clears what the request loaded for the previous event: each event shows its object as it is now. */
function fresh(event: FeedEvent, _args: unknown, ctx: { loaders: { clear(): void } }): FeedEvent {
  ctx.loaders.clear();
  return event;
}

const CONVERSATION_PERMISSION = 'Get:Conversation';

/** The events a filtered inbox shows only while the conversation matches the filter. */
const FILTERED_KINDS = new Set<Enums.EventKind>(['MESSAGE_CREATED', 'MESSAGE_STATUS_CHANGED', 'CONVERSATION_CREATED']);

builder.subscriptionFields((t) => ({
  events: t.field({
    type: Event,
    description:
      'Every event of the organization’s change feed that the viewer may read (message and conversation events need Get:Conversation, contact events Get:Contact), narrowed by `filter`: Query.events, live.',
    args: {
      after: t.arg.string(AFTER),
      filter: t.arg({ type: EventFilter, description: 'Only the events that match every condition given.' }),
    },
    subscribe: (_root, args, ctx) => {
      const criteria = feedCriteria(args.filter, ctx.viewer.permissions);
      const kinds = new Set(criteria.kinds);
      return followFeed(ctx, {
        after: args.after,
        allowed: (viewer) => viewer.permissions.has('Get:Conversation') || viewer.permissions.has('Get:Contact'),
        selects: (event) =>
          kinds.has(event.kind) &&
          (!criteria.conversationId || event.conversationId === criteria.conversationId) &&
          (!criteria.contactId || event.contactId === criteria.contactId),
        readable: (event, viewer) => mayRead(viewer.permissions, event),
      });
    },
    resolve: fresh,
  }),
  conversationEvents: t.field({
    type: Event,
    description:
      'The inbox, live: conversation events and the events of their messages (MessageEvent, ConversationEvent). Needs Get:Conversation. ' +
      'With `filter`, new messages and new conversations are delivered only for conversations that match it when the event is delivered; a change of status, assignee, tags or read state is always delivered, so that a client can drop a conversation that left its view.',
    args: {
      after: t.arg.string(AFTER),
      filter: t.arg({
        type: ConversationFilter,
        description: 'The conversations of the inbox, as in Query.conversations.',
      }),
    },
    subscribe: (_root, args, ctx) => {
      const criteria = conversationCriteria(args.filter);
      return followFeed(ctx, {
        after: args.after,
        allowed: (viewer) => viewer.permissions.has(CONVERSATION_PERMISSION),
        selects: (event) => subjectOf(event.kind) !== 'contact',
        readable: (event, viewer) => mayRead(viewer.permissions, event),
        ...(criteria
          ? {
              async narrow(events, context) {
                const ids = [
                  ...new Set(events.flatMap((event) => (event.conversationId ? [event.conversationId] : []))),
                ];
                const matching = await context.loaders.conversationsMatching(ids, criteria);
                return events.filter(
                  (event) =>
                    !FILTERED_KINDS.has(event.kind) ||
                    (event.conversationId !== null && matching.has(event.conversationId)),
                );
              },
            }
          : {}),
      });
    },
    resolve: fresh,
  }),
  messageEvents: t.field({
    type: MessageEvent,
    description:
      'An open chat, live: its messages as they are sent or received, and their status changes. Needs Get:Conversation. A conversation id of another organization, or none at all, delivers nothing.',
    args: {
      conversationId: t.arg.id({ required: true, description: 'The conversation whose messages to follow.' }),
      after: t.arg.string(AFTER),
    },
    subscribe: (_root, args, ctx) => {
      const conversationId = rawIdOf('Conversation', args.conversationId);
      if (!conversationId) {
        throw new GraphQLError('`conversationId` is not the id of a conversation.', {
          extensions: { code: 'BAD_USER_INPUT', argumentName: 'conversationId' },
        });
      }
      return followFeed(ctx, {
        after: args.after,
        allowed: (viewer) => viewer.permissions.has(CONVERSATION_PERMISSION),
        selects: (event) => subjectOf(event.kind) === 'message' && event.conversationId === conversationId,
        readable: (event, viewer) => mayRead(viewer.permissions, event),
      });
    },
    resolve: fresh,
  }),
}));
