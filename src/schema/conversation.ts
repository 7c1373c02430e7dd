// Conversations: the WhatsApp chats between an organization and its contacts.
import { builder } from '../builder.js';
import {
  ConversationInitiator as ConversationInitiatorValues,
  ConversationStatus as ConversationStatusValues,
} from '../generated/prisma/enums.js';
import {
  conversationMessages,
  conversations as conversationsSource,
  conversationTags,
  type ConversationCriteria,
} from '../loaders/sources.js';
import { Campaign } from './campaign.js';
import { OrderDirection } from './common.js';
import { Contact } from './contact.js';
import { filterId, resolveConnection } from './connections.js';
import { Message, MessageConnection, MessageFilter, messageCriteria } from './message.js';
import { OrganizationMember } from './organization.js';
import { Tag, TagConnection } from './tag.js';

export const ConversationStatus = builder.enumType(ConversationStatusValues, { name: 'ConversationStatus' });
export const ConversationInitiator = builder.enumType(ConversationInitiatorValues, { name: 'ConversationInitiator' });

export const Conversation = builder.prismaNode('Conversation', {
  authScopes: { permission: 'Get:Conversation' },
  id: { field: 'id' },
  fields: (t) => ({
    status: t.expose('status', { type: ConversationStatus }),
    initiatedBy: t.expose('initiatedBy', { type: ConversationInitiator }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastMessageAt: t.expose('lastMessageAt', { type: 'DateTime', nullable: true }),
    // Counters on the conversation's own row, kept by triggers in the transaction that
    // writes its messages (migration 20261129100000_counters): no scan, whatever the size.
    numberOfUnreadMessages: t.exposeInt('unreadMessageCount', { description: 'Inbound messages not yet READ.' }),
    totalMessages: t.exposeInt('messageCount'),
  }),
});

// Relations and connections are declared apart from the scalar fields, so that the types
// of nodes that refer to each other do not depend on one another.
builder.prismaObjectFields(Conversation, (t) => ({
  contact: t.relation('contact', { type: Contact }),
  campaign: t.relation('campaign', { type: Campaign, nullable: true }),
  assignedTo: t.relation('assignedTo', { type: OrganizationMember, nullable: true }),
  tags: t.connection(
    {
      type: Tag,
      authScopes: { permission: 'Get:Tag' },
      description: 'The conversation’s tags, oldest tag first.',
      resolve: (conversation, args, ctx, info) =>
        resolveConnection(ctx, info, { source: conversationTags, model: 'tag', parentId: conversation.id, args }),
    },
    TagConnection,
  ),
  messages: t.connection(
    {
      type: Message,
      description: 'Oldest first: `last: 20` is the newest page of the chat, and `before` scrolls back.',
      args: { filter: t.arg({ type: MessageFilter }) },
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
  { type: Conversation, name: 'ConversationConnection' },
  { name: 'ConversationEdge' },
);

export const ConversationFilter = builder.inputType('ConversationFilter', {
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

export const ConversationOrderField = builder.enumType('ConversationOrderField', {
  values: ['CREATED_AT', 'LAST_MESSAGE_AT'] as const,
});

export const ConversationOrder = builder.inputType('ConversationOrder', {
  description: 'LAST_MESSAGE_AT sorts conversations without messages as the oldest.',
  fields: (t) => ({
    field: t.field({ type: ConversationOrderField, required: true }),
    direction: t.field({ type: OrderDirection, required: true }),
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
      args: {
        filter: t.arg({ type: ConversationFilter }),
        orderBy: t.arg({ type: ConversationOrder, description: 'Default: CREATED_AT ASC.' }),
      },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: conversationsSource,
          model: 'conversation',
          args,
          filter: conversationCriteria(args.filter),
          orderBy: args.orderBy,
        }),
    },
    ConversationConnection,
  ),
}));
