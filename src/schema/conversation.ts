// Conversations: the WhatsApp chats between an organization and its contacts.
import { builder } from '../builder.js';
import { serviceWindowExpiresAt } from '../messaging/service-window.js';
import type * as Enums from '../generated/prisma/enums.js';
import {
  conversationMessages,
  organizationConversations,
  conversationTags,
  type ConversationCriteria,
} from '../loaders/sources.js';
import { Campaign } from './campaign.js';
import { describedEnum, OrderDirection } from './common.js';
import { Contact } from './contact.js';
import { filterId, resolveConnection } from './connections.js';
import { Message, MessageConnection, MessageFilter, messageCriteria } from './message.js';
import { OrganizationMember } from './organization.js';
import { Tag, TagConnection } from './tag.js';

export const ConversationStatus = describedEnum<Enums.ConversationStatus>(
  'ConversationStatus',
  'Where a conversation stands in the inbox.',
  {
    ACTIVE: 'Open: waiting for an answer or in progress. Sending a message makes a conversation ACTIVE again.',
    RESOLVED: 'Answered: the contact’s request was dealt with.',
    CLOSED: 'Closed without needing more attention.',
  },
);
export const ConversationInitiator = describedEnum<Enums.ConversationInitiator>(
  'ConversationInitiator',
  'Who started a conversation.',
  {
    CONTACT: 'The contact wrote first.',
    CAMPAIGN: 'A campaign’s message started it (see `campaign`).',
  },
);

export const Conversation = builder.prismaNode('Conversation', {
  authScopes: { permission: 'Get:Conversation' },
  description:
    'A WhatsApp chat between the organization and one contact, with its messages. Reading it (and its messages) needs Get:Conversation.',
  id: { field: 'id' },
  fields: (t) => ({
    status: t.expose('status', {
      type: ConversationStatus,
      description: 'Where the conversation stands in the inbox.',
    }),
    initiatedBy: t.expose('initiatedBy', {
      type: ConversationInitiator,
      description: 'Who started the conversation: the contact or a campaign.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the conversation started.' }),
    lastMessageAt: t.expose('lastMessageAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When its newest message was sent or received; null when it has no messages.',
    }),
    serviceWindowExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'When WhatsApp’s 24-hour customer-service window closes: 24 hours after the contact’s last inbound message; ' +
        'null when the contact never wrote. `sendMessage` sends free-form text only before then ' +
        '(OUTSIDE_SERVICE_WINDOW after); outside the window only a template may reopen the conversation.',
      resolve: (conversation) => serviceWindowExpiresAt(conversation.lastInboundMessageAt),
    }),
    // Counters on the conversation's own row, kept by triggers in the transaction that
    // writes its messages (migration 20261129100000_counters): no scan, whatever the size.
    numberOfUnreadMessages: t.exposeInt('unreadMessageCount', {
      description: 'Inbound messages not yet READ. Exact, kept on the conversation: it costs nothing to read.',
    }),
    totalMessages: t.exposeInt('messageCount', {
      description:
        'Messages in the conversation, both directions. Exact, kept on the conversation: it costs nothing to read.',
    }),
  }),
});

// Relations and connections are declared apart from the scalar fields, so that the types
// of nodes that refer to each other do not depend on one another.
builder.prismaObjectFields(Conversation, (t) => ({
  contact: t.relation('contact', {
    type: Contact,
    description: 'The contact the organization talks to. Needs Get:Contact.',
  }),
  campaign: t.relation('campaign', {
    type: Campaign,
    nullable: true,
    description: 'The campaign that started the conversation; null when the contact did. Needs Get:Campaign.',
  }),
  assignedTo: t.relation('assignedTo', {
    type: OrganizationMember,
    nullable: true,
    description: 'The member who handles the conversation; null when unassigned. Needs Get:OrganizationMember.',
  }),
  tags: t.connection(
    {
      type: Tag,
      authScopes: { permission: 'Get:Tag' },
      description: 'The conversation’s tags, oldest tag first. Needs Get:Tag.',
      resolve: (conversation, args, ctx, info) =>
        resolveConnection(ctx, info, { source: conversationTags, model: 'tag', parentId: conversation.id, args }),
    },
    TagConnection,
  ),
  messages: t.connection(
    {
      type: Message,
      description:
        'The conversation’s messages, oldest first: `last: 20` is the newest page of the chat, and `before` scrolls back. Unfiltered, its totalCount is exact and costs no count.',
      args: {
        filter: t.arg({ type: MessageFilter, description: 'Only the messages that match every condition given.' }),
      },
      resolve: (conversation, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: conversationMessages,
          model: 'message',
          parentId: conversation.id,
          args,
          filter: messageCriteria(args.filter),
          counted: conversation.messageCount,
        }),
    },
    MessageConnection,
  ),
}));

export const ConversationConnection = builder.connectionObject(
  {
    type: Conversation,
    name: 'ConversationConnection',
    description:
      'A page of conversations, with the cursors to page through the rest and, on request, their total count.',
  },
  { name: 'ConversationEdge', description: 'A conversation in a page, with its cursor.' },
);

export const ConversationFilter = builder.inputType('ConversationFilter', {
  description:
    'Conditions on conversations: a conversation matches when it meets every condition given. An id of another type is refused with BAD_USER_INPUT; one that does not exist matches nothing.',
  fields: (t) => ({
    status: t.field({ type: [ConversationStatus], description: 'Conversations with any of these statuses.' }),
    contactId: t.id({ description: 'Conversations with this contact.' }),
    campaignId: t.id({ description: 'Conversations started by this campaign.' }),
    listId: t.id({ description: 'Conversations whose contact is in this list.' }),
    tagId: t.id({ description: 'Conversations with this tag.' }),
    assignedToId: t.id({ description: 'Conversations assigned to this member.' }),
    unassigned: t.boolean({ description: 'true: assigned to nobody; false: assigned to someone.' }),
    unread: t.boolean({ description: 'true: with inbound messages not yet READ; false: without.' }),
  }),
});

export const ConversationOrderField = describedEnum<'CREATED_AT' | 'LAST_MESSAGE_AT'>(
  'ConversationOrderField',
  'What conversations can be ordered by; conversations that tie are ordered by id, so that pages never overlap.',
  {
    CREATED_AT: 'When the conversation started.',
    LAST_MESSAGE_AT:
      'When its newest message was sent or received; conversations without messages count as the oldest.',
  },
);

export const ConversationOrder = builder.inputType('ConversationOrder', {
  description:
    'How to order conversations. LAST_MESSAGE_AT sorts conversations without messages as the oldest. A cursor belongs to the ordering that made it.',
  fields: (t) => ({
    field: t.field({ type: ConversationOrderField, required: true, description: 'What to order by.' }),
    direction: t.field({ type: OrderDirection, required: true, description: 'Ascending or descending.' }),
  }),
});

/** ConversationFilter arguments → the SQL source's criteria (raw ids). */
export function conversationCriteria(
  filter: typeof ConversationFilter.$inferInput | null | undefined,
): ConversationCriteria | null {
  if (!filter) return null;
  const id = (typename: string, name: keyof typeof filter) =>
    filter[name] ? { [name]: filterId(typename, `filter.${name}`, filter[name] as string) } : {};
  return {
    ...(filter.status ? { status: filter.status } : {}),
    ...id('Contact', 'contactId'),
    ...id('Campaign', 'campaignId'),
    ...id('List', 'listId'),
    ...id('Tag', 'tagId'),
    ...id('OrganizationMember', 'assignedToId'),
    ...(filter.unassigned != null ? { unassigned: filter.unassigned } : {}),
    ...(filter.unread != null ? { unread: filter.unread } : {}),
  };
}

builder.queryFields((t) => ({
  conversations: t.connection(
    {
      type: Conversation,
      authScopes: { permission: 'Get:Conversation' },
      description:
        'The organization’s conversations (the inbox), oldest first unless `orderBy` says otherwise. Needs Get:Conversation.',
      args: {
        filter: t.arg({
          type: ConversationFilter,
          description: 'Only the conversations that match every condition given.',
        }),
        orderBy: t.arg({
          type: ConversationOrder,
          description: 'The order of the items; default CREATED_AT ASC (oldest first).',
        }),
      },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: organizationConversations,
          model: 'conversation',
          args,
          filter: conversationCriteria(args.filter),
          orderBy: args.orderBy,
        }),
    },
    ConversationConnection,
  ),
}));
