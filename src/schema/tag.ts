// Tags: labels on contacts, lists and conversations, unique per organization regardless of case.
import { builder } from '../builder.js';
import { tagContacts, organizationTags } from '../loaders/sources.js';
import { Contact, ContactConnection } from './contact.js';
import { resolveConnection } from './connections.js';

export const Tag = builder.prismaNode('Tag', {
  authScopes: { permission: 'Get:Tag' },
  description:
    'A label put on contacts, lists and conversations to group them; unique in the organization regardless of case. Reading it needs Get:Tag.',
  id: { field: 'id' },
  fields: (t) => ({
    label: t.exposeString('label', { description: 'The text of the tag, 1–255 characters.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the tag was created.' }),
  }),
});

// Relations and connections are declared apart from the scalar fields, so that the types
// of nodes that refer to each other do not depend on one another.
builder.prismaObjectFields(Tag, (t) => ({
  contacts: t.connection(
    {
      type: Contact,
      authScopes: { permission: 'Get:Contact' },
      description: 'The contacts with this tag, oldest contact first. Needs Get:Contact.',
      resolve: (tag, args, ctx, info) =>
        resolveConnection(ctx, info, { source: tagContacts, model: 'contact', parentId: tag.id, args }),
    },
    ContactConnection,
  ),
}));

export const TagConnection = builder.connectionObject(
  {
    type: Tag,
    name: 'TagConnection',
    description: 'A page of tags, with the cursors to page through the rest and, on request, their total count.',
  },
  { name: 'TagEdge', description: 'A tag in a page, with its cursor.' },
);

builder.queryFields((t) => ({
  tags: t.connection(
    {
      type: Tag,
      authScopes: { permission: 'Get:Tag' },
      description: 'The organization’s tags, oldest first. Needs Get:Tag.',
      args: { search: t.arg.string({ description: 'Case-insensitive substring of the label.' }) },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: organizationTags,
          model: 'tag',
          args,
          filter: args.search ? { search: args.search } : null,
        }),
    },
    TagConnection,
  ),
}));
