// Contacts: the people an organization talks to on WhatsApp.
import { builder } from '../builder.js';
import type * as Enums from '../generated/prisma/enums.js';
import {
  contactConversations,
  contactLists,
  organizationContacts,
  contactTags,
  type ContactCriteria,
} from '../loaders/sources.js';
import { describedEnum, OrderDirection } from './common.js';
import { filterId, resolveConnection } from './connections.js';
import { Conversation, ConversationConnection, ConversationFilter, conversationCriteria } from './conversation.js';
import { List, ListConnection } from './list.js';
import { Tag, TagConnection } from './tag.js';

export const ContactStatus = describedEnum<Enums.ContactStatus>(
  'ContactStatus',
  'Whether the organization talks to a contact.',
  {
    ACTIVE: 'A contact the organization talks to (the default).',
    INACTIVE: 'A contact set aside, kept for its history.',
    BLOCKED: 'A contact the organization no longer talks to.',
  },
);

export const Contact = builder.prismaNode('Contact', {
  authScopes: { permission: 'Get:Contact' },
  description:
    'A person the organization talks to on WhatsApp, known by a phone number unique in the organization. Reading it needs Get:Contact.',
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The contact’s name, 1–255 characters.' }),
    phone: t.exposeString('phone', {
      description: 'The WhatsApp phone number in E.164, e.g. +14155550123; unique in the organization.',
    }),
    status: t.expose('status', { type: ContactStatus, description: 'Whether the organization talks to the contact.' }),
    attributes: t.expose('attributes', {
      type: 'JSON',
      description: 'Free-form attributes (a JSON object, `{}` when none were given).',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the contact was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the contact was last changed.' }),
  }),
});

// Relations and connections are declared apart from the scalar fields, so that the types
// of nodes that refer to each other do not depend on one another.
builder.prismaObjectFields(Contact, (t) => ({
  lists: t.connection(
    {
      type: List,
      authScopes: { permission: 'Get:List' },
      description: 'The lists the contact is in, oldest list first. Needs Get:List.',
      resolve: (contact, args, ctx, info) =>
        resolveConnection(ctx, info, { source: contactLists, model: 'contactList', parentId: contact.id, args }),
    },
    ListConnection,
  ),
  tags: t.connection(
    {
      type: Tag,
      authScopes: { permission: 'Get:Tag' },
      description: 'The contact’s tags, oldest tag first. Needs Get:Tag.',
      resolve: (contact, args, ctx, info) =>
        resolveConnection(ctx, info, { source: contactTags, model: 'tag', parentId: contact.id, args }),
    },
    TagConnection,
  ),
  conversations: t.connection(
    {
      type: Conversation,
      authScopes: { permission: 'Get:Conversation' },
      description: 'The contact’s conversations, oldest first. Needs Get:Conversation.',
      args: {
        filter: t.arg({
          type: ConversationFilter,
          description: 'Only the conversations that match every condition given.',
        }),
      },
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
  {
    type: Contact,
    name: 'ContactConnection',
    description: 'A page of contacts, with the cursors to page through the rest and, on request, their total count.',
  },
  { name: 'ContactEdge', description: 'A contact in a page, with its cursor.' },
);

export const ContactFilter = builder.inputType('ContactFilter', {
  description:
    'Conditions on contacts: a contact matches when it meets every condition given. An id of another type is refused with BAD_USER_INPUT; one that does not exist matches nothing.',
  fields: (t) => ({
    status: t.field({ type: [ContactStatus], description: 'Contacts with any of these statuses.' }),
    listId: t.id({ description: 'Contacts in this list.' }),
    tagId: t.id({ description: 'Contacts with this tag.' }),
    search: t.string({ description: 'Case-insensitive substring of the name or the phone number.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Created strictly after this instant.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Created strictly before this instant.' }),
  }),
});

export const ContactOrderField = describedEnum<'CREATED_AT' | 'NAME' | 'PHONE'>(
  'ContactOrderField',
  'What contacts can be ordered by; contacts that tie are ordered by id, so that pages never overlap.',
  {
    CREATED_AT: 'When the contact was created.',
    NAME: 'The contact’s name.',
    PHONE: 'The contact’s phone number.',
  },
);

export const ContactOrder = builder.inputType('ContactOrder', {
  description: 'How to order contacts. A cursor belongs to the ordering that made it.',
  fields: (t) => ({
    field: t.field({ type: ContactOrderField, required: true, description: 'What to order by.' }),
    direction: t.field({ type: OrderDirection, required: true, description: 'Ascending or descending.' }),
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
      description: 'The organization’s contacts, oldest first unless `orderBy` says otherwise. Needs Get:Contact.',
      args: {
        filter: t.arg({ type: ContactFilter, description: 'Only the contacts that match every condition given.' }),
        orderBy: t.arg({
          type: ContactOrder,
          description: 'The order of the items; default CREATED_AT ASC (oldest first).',
        }),
      },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: organizationContacts,
          model: 'contact',
          args,
          filter: contactCriteria(args.filter),
          orderBy: args.orderBy,
        }),
    },
    ContactConnection,
  ),
}));
