// Contact lists (the `List` type; `ContactList` in the database): audiences for campaigns.
import { builder } from '../builder.js';
import { listCampaigns, listContacts, listTags, lists as listsSource } from '../loaders/sources.js';
import { Contact, ContactConnection, ContactFilter, ContactOrder, contactCriteria } from './contact.js';
import { COUNT_COST, MAX_COUNT } from '../pagination/page-request.js';
import { filterId, resolveConnection } from './connections.js';
import { Tag, TagConnection } from './tag.js';

/** Campaigns that have used a list: the ones that ran or are running. */
const SENT_CAMPAIGN_STATUSES: ('RUNNING' | 'FINISHED')[] = ['RUNNING', 'FINISHED'];

export const List = builder.prismaNode('ContactList', {
  name: 'List',
  authScopes: { permission: 'Get:List' },
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    // A counter on the list's own row, kept by a trigger in the transaction that adds or
    // removes its members (migration 20261129100000_counters): no scan, whatever the size.
    numberOfContacts: t.exposeInt('contactCount'),
    numberOfCampaignsSent: t.int({
      description: 'Campaigns that used this list and are RUNNING or FINISHED.',
      // A count like a connection's totalCount: bounded by MAX_COUNT and priced as one.
      extensions: { countCost: COUNT_COST },
      resolve: async (list, _args, ctx) =>
        Math.min(
          MAX_COUNT,
          await ctx.loaders.connections.count({
            source: listCampaigns,
            parentId: list.id,
            filter: { status: SENT_CAMPAIGN_STATUSES },
          }),
        ),
    }),
  }),
});

// Relations and connections are declared apart from the scalar fields, so that the types
// of nodes that refer to each other do not depend on one another.
builder.prismaObjectFields(List, (t) => ({
  tags: t.connection(
    {
      type: Tag,
      authScopes: { permission: 'Get:Tag' },
      description: 'The list’s tags, oldest tag first.',
      resolve: (list, args, ctx, info) =>
        resolveConnection(ctx, info, { source: listTags, model: 'tag', parentId: list.id, args }),
    },
    TagConnection,
  ),
  contacts: t.connection(
    {
      type: Contact,
      authScopes: { permission: 'Get:Contact' },
      description: 'The contacts in the list.',
      args: {
        filter: t.arg({ type: ContactFilter }),
        orderBy: t.arg({ type: ContactOrder, description: 'Default: CREATED_AT ASC.' }),
      },
      resolve: (list, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: listContacts,
          model: 'contact',
          parentId: list.id,
          args,
          filter: contactCriteria(args.filter),
          orderBy: args.orderBy,
          counted: list.contactCount,
        }),
    },
    ContactConnection,
  ),
}));

export const ListConnection = builder.connectionObject({ type: List, name: 'ListConnection' }, { name: 'ListEdge' });

export const ListFilter = builder.inputType('ListFilter', {
  fields: (t) => ({
    search: t.string({ description: 'Case-insensitive substring of the name.' }),
    tagId: t.id({ description: 'Lists with this tag.' }),
  }),
});

builder.queryFields((t) => ({
  lists: t.connection(
    {
      type: List,
      authScopes: { permission: 'Get:List' },
      args: { filter: t.arg({ type: ListFilter }) },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: listsSource,
          model: 'contactList',
          args,
          filter: args.filter
            ? {
                ...(args.filter.search ? { search: args.filter.search } : {}),
                ...(args.filter.tagId ? { tagId: filterId('Tag', 'filter.tagId', args.filter.tagId) } : {}),
              }
            : null,
        }),
    },
    ListConnection,
  ),
}));
