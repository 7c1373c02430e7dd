// Query.node and Query.nodes: any entity by its global id. An id that is malformed, of a
// type that is not a node, of another organization, of a deleted row, or of a row the viewer
// may not read resolves to null; never an error, so that nothing tells a client whether an
// id exists elsewhere, or exists here behind a permission it lacks.
import { brandWithType } from '@pothos/core';
import { queryFromInfo } from '@pothos/plugin-prisma';
import { GraphQLError, type GraphQLResolveInfo, isObjectType } from 'graphql';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { ModelKey } from '../loaders/nodes.js';
import { parseGlobalId } from '../global-id.js';

/** GraphQL type name → the Prisma model behind it. */
const NODE_MODELS: Readonly<Record<string, ModelKey>> = {
  Organization: 'organization',
  OrganizationMember: 'organizationMember',
  OrganizationRole: 'organizationRole',
  Contact: 'contact',
  List: 'contactList',
  Tag: 'tag',
  Campaign: 'campaign',
  Conversation: 'conversation',
  Message: 'message',
  ApiKey: 'apiKey',
  WhatsAppChannel: 'whatsAppChannel',
};

const MAX_NODES = 100;

async function loadNodes(ctx: Context, info: GraphQLResolveInfo, globalIds: readonly string[]) {
  const parsed = globalIds.map(parseGlobalId);
  return Promise.all(
    parsed.map(async (globalId) => {
      const model =
        globalId && Object.hasOwn(NODE_MODELS, globalId.typename) ? NODE_MODELS[globalId.typename] : undefined;
      if (!globalId || !model) return null;
      const query = queryFromInfo({ context: ctx, info, typeName: globalId.typename });
      const [row] = await ctx.loaders.nodes.load(model, [globalId.id], query);
      if (!row) return null;
      // Tells the Node interface which object type the row is.
      brandWithType(row, globalId.typename as never);
      return (await readable(ctx, info, globalId.typename, row)) ? row : null;
    }),
  );
}

/**
 * Whether the viewer may read `row` as `typename`: the type's own authScopes decide, run the
 * way GraphQL would run them on the answer (scope auth's `runScopesOnType` puts them in the
 * type's isTypeOf), so this check can never disagree with the type's rule. A row it refuses
 * is answered like a missing one, without the FORBIDDEN error that would tell it exists.
 */
async function readable(ctx: Context, info: GraphQLResolveInfo, typename: string, row: object): Promise<boolean> {
  const type = info.schema.getType(typename);
  if (!isObjectType(type) || !type.isTypeOf) return true;
  try {
    return Boolean(await type.isTypeOf(row, ctx, info));
  } catch (error) {
    if (error instanceof GraphQLError && error.extensions['code'] === 'FORBIDDEN') return false;
    throw error;
  }
}

builder.queryFields((t) => ({
  node: t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description:
      'Any object by its global id; null when the id is malformed, of no object here, or of an object the viewer may not read (never an error).',
    args: { id: t.arg.id({ required: true, description: 'A global id, as any `id` field returns it.' }) },
    resolve: async (_root, args, ctx, info) => (await loadNodes(ctx, info, [args.id]))[0],
  }),
  nodes: t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    description: `Several objects by their global ids, in the order given; each resolves like \`node\` (null where \`node\` would be). At most ${MAX_NODES} ids.`,
    args: {
      ids: t.arg.idList({
        required: true,
        description: `Global ids, at most ${MAX_NODES}; more is refused with BAD_USER_INPUT.`,
      }),
    },
    resolve: (_root, args, ctx, info) => {
      if (args.ids.length > MAX_NODES) {
        throw new GraphQLError(`\`ids\` must hold at most ${MAX_NODES} ids (got ${args.ids.length}).`, {
          extensions: { code: 'BAD_USER_INPUT', argumentName: 'ids' },
        });
      }
      return loadNodes(ctx, info, args.ids);
    },
  }),
}));
