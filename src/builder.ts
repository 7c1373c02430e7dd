// The SchemaBuilder: plugins, scalars, the Node interface, connection conventions, and the
// empty Query and Mutation types that the modules in src/schema extend. No object types.
import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError, GraphQLScalarType } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { forbidden, type Permission } from './auth/permissions.js';
import type { Context } from './context.js';
import type { PrismaClient } from './generated/prisma/client.js';
import type PrismaTypes from './generated/pothos-types.js';
import { getDatamodel } from './generated/pothos-types.js';
import { isStorableInstant } from './validation.js';
import { COUNT_COST, DEFAULT_PAGE_SIZE, MAX_COUNT, MAX_PAGE_SIZE } from './pagination/page-request.js';

export interface SchemaTypes {
  Context: Context;
  /** `authScopes: { permission: 'Get:Contact' }`: the viewer holds that WapiKit permission. */
  AuthScopes: { permission: Permission };
  PrismaTypes: PrismaTypes;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  /**
   * Every connection counts lazily: the count query runs only when totalCount (or
   * totalCountIsCapped) is selected. `capped`: there are more than `count` items.
   */
  Connection: { totalCount: () => Promise<{ count: number; capped: boolean }> };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}

export const builder = new SchemaBuilder<SchemaTypes>({
  // Scope auth first: it wraps every resolver, so a field without permission never runs.
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({ permission: (permission) => ctx.viewer.permissions.has(permission) }),
    // A type's scopes are checked once per object, when a field returns it: a contact reached
    // through conversation.contact needs Get:Contact just like one from Query.contacts.
    runScopesOnType: true,
    unauthorizedError: (_parent, _ctx, _info, result) => forbidden(result.failure),
  },
  // Fields are non-null unless they say otherwise, as in the contract (schema.graphql).
  defaultFieldNullability: false,
  prisma: {
    // Resolvers only ever reach the tenant-scoped client of their request (src/db/tenant.ts).
    // Its type is the extended client, which the plugin's option type does not name.
    client: (ctx) => ctx.db as unknown as PrismaClient,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    // A resolver that forgets to spread `query` silently brings N+1 back: fail loudly in
    // development and tests. (Read here rather than from src/config.ts because the schema
    // is built once at import time, before any configuration object exists.)
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'error',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // node/nodes are defined in src/schema/node.ts: they must answer null, never an error,
    // for an id that is malformed or belongs to another organization.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    // Descriptions of what the relay plugin generates for every connection, page and node.
    nodeTypeOptions: {
      description:
        'An object with a global id: `node(id:)` fetches any of them, and the id is the same wherever the object appears.',
    },
    idFieldOptions: {
      description:
        'The global id: opaque, stable, and accepted by `node(id:)` and by every argument that names this object.',
    },
    pageInfoTypeOptions: {
      description: 'Where a page of a connection lies in it, and the cursors to fetch the next or the previous page.',
    },
    hasNextPageFieldOptions: {
      description:
        'true when items follow this page in the connection: fetch them with `first` and `after: endCursor`.',
    },
    hasPreviousPageFieldOptions: {
      description:
        'true when items precede this page in the connection: fetch them with `last` and `before: startCursor`.',
    },
    startCursorFieldOptions: { description: 'The cursor of the first item of the page; null when the page is empty.' },
    endCursorFieldOptions: { description: 'The cursor of the last item of the page; null when the page is empty.' },
    pageInfoFieldOptions: { description: 'Where this page lies in the connection, and the cursors to move from it.' },
    edgesFieldOptions: { nullable: false, description: 'The items of the page with their cursors, in order.' },
    nodesOnConnection: { description: 'The items of the page, in order (the `node` of each edge, without cursors).' },
    cursorFieldOptions: {
      description:
        'An opaque keyset cursor for this item, for `after` or `before`; valid only for the connection and ordering that made it.',
    },
    nodeFieldOptions: { nullable: false, description: 'The item.' },
    firstArgOptions: {
      description: `Returns the first n items (after \`after\`, if given): 0 to ${MAX_PAGE_SIZE}, ${DEFAULT_PAGE_SIZE} when neither \`first\` nor \`last\` is given. Not with \`last\`.`,
    },
    afterArgOptions: {
      description: 'Returns the items after this cursor (an `endCursor` or edge `cursor` of this connection).',
    },
    lastArgOptions: {
      description: `Returns the last n items (before \`before\`, if given): 0 to ${MAX_PAGE_SIZE}. Not with \`first\`.`,
    },
    beforeArgOptions: {
      description: 'Returns the items before this cursor (a `startCursor` or edge `cursor` of this connection).',
    },
  },
});

/**
 * An RFC 3339 instant, as graphql-scalars reads it, that PostgreSQL can also compare with
 * its timestamps: "0000-01-01T00:00:00Z" is a valid RFC 3339 string but a year PostgreSQL
 * does not have, which would fail the statement instead of the argument.
 */
function storable(date: Date): Date {
  if (!isStorableInstant(date.getTime())) {
    throw new GraphQLError('DateTime must lie between 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return date;
}
const DateTime = new GraphQLScalarType<Date, Date | string>({
  ...DateTimeResolver.toConfig(),
  parseValue: (value) => storable(DateTimeResolver.parseValue(value)),
  parseLiteral: (ast, variables) => storable(DateTimeResolver.parseLiteral(ast, variables)),
});
builder.addScalarType('DateTime', DateTime, {
  description:
    'An instant as an RFC 3339 date-time string, e.g. 2026-11-29T10:15:30Z, answered at UTC with milliseconds. As an argument it may carry any offset, and must lie between 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.',
});
builder.addScalarType('JSON', JSONResolver, {});

builder.queryType({
  description:
    "The entry points for reading the viewer's organization: its contacts, lists, tags, campaigns, conversations, members and API keys, and any object by its global id.",
});
builder.mutationType({
  description:
    'Every write. A mutation takes one `input`, runs in one transaction (all or nothing), and answers a payload with the affected object(s) and `userErrors` for expected failures.',
});

// A count is bounded and priced (src/pagination/page-request.ts, src/plugins/page-cost.ts):
// it stops after MAX_COUNT rows, and the page-cost rule prices it as COUNT_COST rows.
builder.globalConnectionField('totalCount', (t) =>
  t.int({
    description:
      `The number of items in the whole connection (with its filters), not just this page; counting stops at ${MAX_COUNT.toLocaleString('en-US')} ` +
      '(see totalCountIsCapped). Priced like a full page by the operation cost limit.',
    extensions: { countCost: COUNT_COST },
    resolve: async (connection) => (await connection.totalCount()).count,
  }),
);
builder.globalConnectionField('totalCountIsCapped', (t) =>
  t.boolean({
    description: `true when the connection holds more items than totalCount says: counting stopped at ${MAX_COUNT.toLocaleString('en-US')}.`,
    extensions: { countCost: COUNT_COST },
    resolve: async (connection) => (await connection.totalCount()).capped,
  }),
);
