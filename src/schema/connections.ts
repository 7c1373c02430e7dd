// How every connection field of the schema resolves: validate the page arguments, load
// the page of rows for this parent (batched with its siblings, src/loaders/connections.ts),
// and, if the query selected relations beneath `edges.node` / `nodes`, load those with one
// more statement. Each part runs only if selected: a query for `totalCount` alone runs one
// count.
import { queryFromInfo } from '@pothos/plugin-prisma';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.js';
import { type ConnectionKey, decodeCursors, type Source } from '../loaders/connections.js';
import { type ModelKey, type ModelRows, selectedRelations } from '../loaders/nodes.js';
import { type ConnectionArgs, MAX_COUNT, pageRequest } from '../pagination/page-request.js';
import { rawIdOf } from '../global-id.js';

export interface ConnectionOptions<M extends ModelKey, Filter> {
  source: Source<Filter>;
  model: M;
  parentId?: string | null;
  args: ConnectionArgs;
  filter?: Filter | null;
  /** `{ field, direction }` of an `orderBy` argument. */
  orderBy?: { field: string; direction: 'ASC' | 'DESC' } | null;
  /**
   * The size of the whole connection when it is not filtered, kept by a counter on the
   * parent's row (a list's members, a conversation's messages): totalCount then reads it,
   * exact and uncapped, instead of counting.
   */
  counted?: number;
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
      // statement, which loads them all with the rows (batched across parents). The nodes
      // wait for it (rather than taking their relations as promises, so that their counts
      // start sooner): a row deleted between the two reads is then left out, where a node
      // without its required relation would fail the whole connection.
      const rows =
        selectedRelations(options.model, query).length > 0
          ? await ctx.loaders.nodes.load(options.model, page.ids, query)
          : (page.rows as Node[]);
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
    totalCount: async () => {
      if (options.counted !== undefined && (!options.filter || Object.keys(options.filter).length === 0)) {
        return { count: options.counted, capped: false };
      }
      // Counted up to MAX_COUNT + 1 rows: one more than MAX_COUNT means "more".
      const count = await ctx.loaders.connections.count(key);
      return count > MAX_COUNT ? { count: MAX_COUNT, capped: true } : { count, capped: false };
    },
  };
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
