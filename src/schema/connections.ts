// How every connection field of the schema resolves: validate the page arguments, load
// the page of ids for this parent (batched with its siblings, src/loaders/connections.ts),
// then load those rows with the selection the query made beneath `edges.node` / `nodes`.
// Each part runs only if selected: a query for `totalCount` alone runs one count.
import { queryFromInfo } from '@pothos/plugin-prisma';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import { type ConnectionKey, decodeCursors, type Source } from '../loaders/connections.js';
import type { ModelKey, ModelRows } from '../loaders/nodes.js';
import { type ConnectionArgs, pageRequest } from '../pagination/page-request.js';
import { rawIdOf } from './global-id.js';

export interface ConnectionOptions<M extends ModelKey, Filter> {
  source: Source<Filter>;
  model: M;
  parentId?: string | null;
  args: ConnectionArgs;
  filter?: Filter | null;
  /** `{ field, direction }` of an `orderBy` argument. */
  orderBy?: { field: string; direction: 'ASC' | 'DESC' } | null;
}

interface Edge<Node> {
  cursor: string;
  node: Node;
}

export function resolveConnection<M extends ModelKey, Filter>(
  ctx: Context,
  info: GraphQLResolveInfo,
  options: ConnectionOptions<M, Filter>,
) {
  type Node = ModelRows[M];
  const key: ConnectionKey<Filter> = {
    source: options.source,
    parentId: options.parentId ?? null,
    request: pageRequest(options.args),
    ...(options.filter ? { filter: options.filter } : {}),
    ...(options.orderBy ? { ordering: `${options.orderBy.field}_${options.orderBy.direction}` } : {}),
  };
  // Checked now rather than when the page loads, so that a bad cursor is an error of the
  // connection's arguments whatever the query selects under it (totalCount alone included).
  decodeCursors(key as ConnectionKey<unknown>);
  let loaded: Promise<{ edges: Edge<Node>[]; hasNextPage: boolean; hasPreviousPage: boolean }> | undefined;
  const load = () =>
    (loaded ??= ctx.loaders.connections.page(key).then(async (page) => {
      const query = queryFromInfo({ context: ctx, info, paths: [['edges', 'node'], ['nodes']] });
      // The page already holds the rows; only relations selected under them need a second
      // statement, which loads them all with the rows (batched across parents).
      const rows = selectsRelations(query)
        ? await ctx.loaders.nodes.load(options.model, page.ids, query)
        : (page.rows as Node[]);
      // A row deleted between the two reads is left out rather than returned as null.
      const edges = rows.flatMap((node, index) =>
        node
          ? [
              {
                get cursor() {
                  return page.cursor(index);
                },
                node,
              },
            ]
          : [],
      );
      return { edges, hasNextPage: page.hasNextPage, hasPreviousPage: page.hasPreviousPage };
    }));
  return {
    get edges() {
      return load().then((page) => page.edges);
    },
    get pageInfo() {
      return load().then(({ edges, hasNextPage, hasPreviousPage }) => ({
        hasNextPage,
        hasPreviousPage,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      }));
    },
    totalCount: () => ctx.loaders.connections.count(key),
  };
}

function selectsRelations(query: { include?: object; select?: object }): boolean {
  return Object.keys(query.include ?? {}).length > 0 || Object.keys(query.select ?? {}).length > 0;
}

/**
 * The raw id of a filter argument. An id that is not of the expected type is an error the
 * client can act on; an id of the right type that does not exist (here) simply matches nothing.
 */
export function filterId(typename: string, argument: string, globalId: string | null | undefined): string | undefined {
  if (globalId == null) return undefined;
  const id = rawIdOf(typename, globalId);
  if (!id) {
    throw new GraphQLError(`\`${argument}\` must be the id of a ${typename}.`, {
      extensions: { code: 'BAD_USER_INPUT', argumentName: argument },
    });
  }
  return id;
}
