// Contact lists (the `List` type; `ContactList` in the database): audiences for campaigns.
import { builder } from '../builder.js';
import { listCampaigns, listContacts, listTags, organizationLists } from '../loaders/sources.js';
import { Contact, ContactConnection, ContactFilter, ContactOrder, contactCriteria } from './contact.js';
import { COUNT_COST, MAX_COUNT } from '../pagination/page-request.js';
import { filterId, resolveConnection } from './connections.js';
import { Tag, TagConnection } from './tag.js';

/** Campaigns that have used a list: the ones that ran or are running. */
const SENT_CAMPAIGN_STATUSES: ('RUNNING' | 'FINISHED')[] = ['RUNNING', 'FINISHED'];

export const List = builder.prismaNode('ContactList', {
  name: 'List',
  authScopes: { permission: 'Get:List' },
  description: 'A named set of contacts, the audience of campaigns. Reading it needs Get:List.',
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The list’s name, 1–255 characters.' }),
    description: t.exposeString('description', {
      nullable: true,
      description: 'What the list is for, at most 2,000 characters; null when not given.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the list was created.' }),
    // A counter on the list's own row, kept by a trigger in the transaction that adds or
    // removes its members (migration 20261129100000_counters): no scan, whatever the size.
    numberOfContacts: t.exposeInt('contactCount', {
      description: 'The contacts in the list. Exact, kept on the list: it costs nothing to read.',
    }),
    numberOfCampaignsSent: t.int({
      description: `Campaigns that used this list and are RUNNING or FINISHED. Counted on request, up to ${MAX_COUNT.toLocaleString('en-US')}; priced like a full page (${COUNT_COST}) by the operation cost limit.`,
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
      description: 'The list’s tags, oldest tag first. Needs Get:Tag.',
      resolve: (list, args, ctx, info) =>
        resolveConnection(ctx, info, { source: listTags, model: 'tag', parentId: list.id, args }),
    },
    TagConnection,
  ),
  contacts: t.connection(
    {
      type: Contact,
      authScopes: { permission: 'Get:Contact' },
      description:
        'The contacts in the list, oldest contact first unless `orderBy` says otherwise. Unfiltered, its totalCount is exact and costs no count. Needs Get:Contact.',
      args: {
        filter: t.arg({ type: ContactFilter, description: 'Only the contacts that match every condition given.' }),
        orderBy: t.arg({
          type: ContactOrder,
          description: 'The order of the items; default CREATED_AT ASC (oldest first).',
        }),
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

export const ListConnection = builder.connectionObject(
  {
    type: List,
    name: 'ListConnection',
    description: 'A page of lists, with the cursors to page through the rest and, on request, their total count.',
  },
  { name: 'ListEdge', description: 'A list in a page, with its cursor.' },
);

export const ListFilter = builder.inputType('ListFilter', {
  description:
    'Conditions on lists: a list matches when it meets every condition given. An id of another type is refused with BAD_USER_INPUT; one that does not exist matches nothing.',
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
      description: 'The organization’s contact lists, oldest first. Needs Get:List.',
      args: { filter: t.arg({ type: ListFilter, description: 'Only the lists that match every condition given.' }) },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: organizationLists,
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
