// Contacts: the people an organization talks to on WhatsApp.
import { builder } from '../builder.js';
import { ContactStatus as ContactStatusValues } from '../generated/prisma/enums.js';
import {
  contactConversations,
  contactLists,
  contacts as contactsSource,
  contactTags,
  type ContactCriteria,
} from '../loaders/sources.js';
import { OrderDirection } from './common.js';
import { filterId, resolveConnection } from './connections.js';
import { Conversation, ConversationConnection, ConversationFilter, conversationCriteria } from './conversation.js';
import { List, ListConnection } from './list.js';
import { Tag, TagConnection } from './tag.js';

export const ContactStatus = builder.enumType(ContactStatusValues, { name: 'ContactStatus' });

export const Contact = builder.prismaNode('Contact', {
  authScopes: { permission: 'Get:Contact' },
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    phone: t.exposeString('phone', { description: 'E.164, e.g. +14155550123.' }),
    status: t.expose('status', { type: ContactStatus }),
    attributes: t.expose('attributes', { type: 'JSON', description: 'Free-form attributes (a JSON object).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

// Relations and connections are declared apart from the scalar fields, so that the types
// of nodes that refer to each other do not depend on one another.
builder.prismaObjectFields(Contact, (t) => ({
  lists: t.connection(
    {
      type: List,
      authScopes: { permission: 'Get:List' },
      description: 'The lists the contact is in, oldest list first.',
      resolve: (contact, args, ctx, info) =>
        resolveConnection(ctx, info, { source: contactLists, model: 'contactList', parentId: contact.id, args }),
    },
    ListConnection,
  ),
  tags: t.connection(
    {
      type: Tag,
      authScopes: { permission: 'Get:Tag' },
      description: 'The contact’s tags, oldest tag first.',
      resolve: (contact, args, ctx, info) =>
        resolveConnection(ctx, info, { source: contactTags, model: 'tag', parentId: contact.id, args }),
    },
    TagConnection,
  ),
  conversations: t.connection(
    {
      type: Conversation,
      authScopes: { permission: 'Get:Conversation' },
      description: 'The contact’s conversations, oldest first.',
      args: { filter: t.arg({ type: ConversationFilter }) },
      resolve: (contact, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: contactConversations,
          model: 'conversation',
          parentId: contact.id,
          args,
          filter: conversationCriteria(args.filter),
        }),
    },
    ConversationConnection,
  ),
}));

export const ContactConnection = builder.connectionObject(
  { type: Contact, name: 'ContactConnection' },
  { name: 'ContactEdge' },
);

export const ContactFilter = builder.inputType('ContactFilter', {
  fields: (t) => ({
    status: t.field({ type: [ContactStatus], description: 'Contacts with any of these statuses.' }),
    listId: t.id({ description: 'Contacts in this list.' }),
    tagId: t.id({ description: 'Contacts with this tag.' }),
    search: t.string({ description: 'Case-insensitive substring of the name or the phone number.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Created strictly after this instant.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Created strictly before this instant.' }),
  }),
});

export const ContactOrderField = builder.enumType('ContactOrderField', {
  values: ['CREATED_AT', 'NAME', 'PHONE'] as const,
});

export const ContactOrder = builder.inputType('ContactOrder', {
  fields: (t) => ({
    field: t.field({ type: ContactOrderField, required: true }),
    direction: t.field({ type: OrderDirection, required: true }),
  }),
});

/** ContactFilter arguments → the SQL source's criteria (raw ids). */
export function contactCriteria(filter: typeof ContactFilter.$inferInput | null | undefined): ContactCriteria | null {
  if (!filter) return null;
  return {
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.search ? { search: filter.search } : {}),
    ...(filter.createdAfter ? { createdAfter: filter.createdAfter } : {}),
    ...(filter.createdBefore ? { createdBefore: filter.createdBefore } : {}),
    ...(filter.listId ? { listId: filterId('List', 'filter.listId', filter.listId) } : {}),
    ...(filter.tagId ? { tagId: filterId('Tag', 'filter.tagId', filter.tagId) } : {}),
  };
}

builder.queryFields((t) => ({
  contacts: t.connection(
    {
      type: Contact,
      authScopes: { permission: 'Get:Contact' },
      args: {
        filter: t.arg({ type: ContactFilter }),
        orderBy: t.arg({ type: ContactOrder, description: 'Default: CREATED_AT ASC.' }),
      },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: contactsSource,
          model: 'contact',
          args,
          filter: contactCriteria(args.filter),
          orderBy: args.orderBy,
        }),
    },
    ContactConnection,
  ),
}));
