// The page-cost limit: how many rows an operation may ask for through its connections.
//
// Why our own rule: graphql-armor's cost limit weighs fields by type and depth, but not by
// page size, so it prices `contacts(first: 100) { nodes { conversations(first: 100) {
// nodes { messages(first: 100) { nodes { id } } } } } }` like a single small page, while it
// asks for up to a million messages. @pothos/plugin-complexity does multiply by page sizes,
// but it multiplies everything under a field by that field's multiplier, and a field's
// complexity sees only its own arguments: it cannot price a connection's totalCount once per
// connection while the connection's page size multiplies what is under its rows
// (`contacts(first: 11) { totalCount }` costs 11 + 100 here; there, 11 + 11 · c for any
// constant c). Here each connection field costs the rows it can return: its own page size
// (`first`/`last`, 20 when omitted) times the page sizes of every connection around it; an
// operation's cost is the sum over its connection fields. A list
// field taking `ids` (Query.nodes) multiplies by the number of ids in the same way, and so
// does a plain list that declares its size with the `pageCost` extension (a mutation
// payload's list of what its input created: createContacts' contacts, as many as were sent).
//
// Counts are priced too: a field that counts rows (a connection's totalCount and
// totalCountIsCapped, a list's numberOfCampaignsSent) declares it with the `countCost`
// extension and costs that many rows (COUNT_COST, a full page: a count reads up to
// MAX_COUNT index entries) each time it is counted: once per connection for totalCount
// (not once per row of the connection's page), once per list for numberOfCampaignsSent. The
// same connection's totalCount and totalCountIsCapped share one count, yet each is priced:
// simple, and on the safe side. The counts kept as counters on their parent's row
// (numberOfContacts, totalMessages, numberOfUnreadMessages) read no more than the row and
// cost nothing.
//
// Page sizes come from the request's variables, so the rule is built per request with them
// and must not run under Yoga's validation cache, which remembers a result per document
// (see usePageCostLimit in ./limits.ts). Everything else about the document (unknown fields,
// fragment cycles) is left to the standard validation rules, which have run by then.
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  valueFromASTUntyped,
} from 'graphql';
import { COUNT_COST, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../pagination/page-request.js';

export interface PageCostOptions {
  maxCost: number;
  /** The request's variables; a variable that is not given takes its default, or none. */
  variables?: Readonly<Record<string, unknown>> | null | undefined;
  /** Only this operation of the document is priced (the one that runs). */
  operationName?: string | null | undefined;
}

type Variables = Readonly<Record<string, unknown>>;

/**
 * The `pageCost` field extension of a plain list field: at most `max` items, or, when the
 * field's parent field was given the arguments `items` reads them from, that many.
 */
export interface ListPageCost {
  max: number;
  items(parentArguments: Variables): number | undefined;
}

function argumentsOf(node: FieldNode, variables: Variables): Variables {
  return Object.fromEntries(
    (node.arguments ?? []).map((argument) => [argument.name.value, valueFromASTUntyped(argument.value, variables)]),
  );
}

/** A field that takes `first`/`last` is a connection: its page size multiplies what is under its rows. */
function isConnection(field: GraphQLField<unknown, unknown>): boolean {
  return field.args.some((argument) => argument.name === 'first' || argument.name === 'last');
}

/** How many items a field returns per parent, if it returns several: undefined for a plain field. */
function multiplier(
  field: GraphQLField<unknown, unknown>,
  node: FieldNode,
  parentField: FieldNode | undefined,
  variables: Variables,
): number | undefined {
  const listCost = field.extensions['pageCost'] as ListPageCost | undefined;
  if (listCost) {
    const items = parentField ? listCost.items(argumentsOf(parentField, variables)) : undefined;
    return typeof items === 'number' && Number.isFinite(items)
      ? Math.min(listCost.max, Math.max(0, items))
      : listCost.max;
  }
  if (isConnection(field)) {
    const args = argumentsOf(node, variables);
    const sizes = [args['first'], args['last']].filter(
      (value): value is number => typeof value === 'number' && Number.isFinite(value),
    );
    // A size over the maximum is priced at the maximum: the connection refuses it anyway,
    // with the error that says what is wrong (`first` must be at most 100).
    return sizes.length > 0 ? Math.min(MAX_PAGE_SIZE, Math.max(0, ...sizes)) : DEFAULT_PAGE_SIZE;
  }
  if (field.args.some((argument) => argument.name === 'ids') && isListType(getNullableType(field.type))) {
    const ids = argumentsOf(node, variables)['ids'];
    return Array.isArray(ids) ? ids.length : 1;
  }
  return undefined;
}

/**
 * The cost of a selection set per parent: `rows` are multiplied by the page sizes around it;
 * `counts` are its count fields (`countCost`), which a connection's selection holds once
 * per connection, however many rows its page has.
 */
interface Cost {
  rows: number;
  counts: number;
}
const NOTHING: Cost = { rows: 0, counts: 0 };

function withDefaults(operation: OperationDefinitionNode, given: Variables | null | undefined): Variables {
  const variables: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue)
      variables[definition.variable.name.value] = valueFromASTUntyped(definition.defaultValue);
  }
  return { ...variables, ...given };
}

/** The rows `operation` may ask for through its connections. */
export function operationPageCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragment: (name: string) => FragmentDefinitionNode | null | undefined,
  givenVariables?: Variables | null,
): number {
  const variables = withDefaults(operation, givenVariables);
  // The cost of a selection is linear in the number of parents it is read for, so a
  // fragment's cost per parent is computed once, however often it is spread: once per field
  // it is spread under (a `pageCost` list reads that field's arguments), of which a document
  // has finitely many.
  const fragmentCosts = new Map<FieldNode | undefined, Map<string, Cost>>();
  const visiting = new Set<string>();

  const fragmentCost = (name: string, parentField: FieldNode | undefined): Cost => {
    let known = fragmentCosts.get(parentField);
    if (!known) fragmentCosts.set(parentField, (known = new Map()));
    const cost = known.get(name);
    if (cost !== undefined) return cost;
    const definition = fragment(name);
    if (!definition || visiting.has(name)) return NOTHING;
    visiting.add(name);
    const computed = selectionCost(
      definition.selectionSet,
      schema.getType(definition.typeCondition.name.value),
      parentField,
    );
    visiting.delete(name);
    known.set(name, computed);
    return computed;
  };

  const selectionCost = (
    selectionSet: SelectionSetNode,
    parent: GraphQLNamedType | null | undefined,
    parentField: FieldNode | undefined,
  ): Cost => {
    let rows = 0;
    let counts = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD || selection.kind === Kind.INLINE_FRAGMENT) {
        const type =
          selection.kind === Kind.INLINE_FRAGMENT && selection.typeCondition
            ? schema.getType(selection.typeCondition.name.value)
            : parent;
        const cost =
          selection.kind === Kind.FRAGMENT_SPREAD
            ? fragmentCost(selection.name.value, parentField)
            : selectionCost(selection.selectionSet, type, parentField);
        rows += cost.rows;
        counts += cost.counts;
        continue;
      }
      const field =
        isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
      if (!field) continue;
      const countCost = field.extensions['countCost'];
      if (typeof countCost === 'number') {
        counts += countCost;
        continue;
      }
      const below = selection.selectionSet
        ? selectionCost(selection.selectionSet, getNamedType(field.type), selection)
        : NOTHING;
      const count = multiplier(field, selection, parentField, variables);
      if (count === undefined) {
        // A plain field: what it counts is counted once per parent, like the field itself.
        rows += below.rows + below.counts;
      } else if (isConnection(field)) {
        // A connection's own counts (totalCount) are one per connection, not one per row of it.
        rows += count + count * below.rows + below.counts;
      } else {
        rows += count + count * (below.rows + below.counts);
      }
    }
    return { rows, counts };
  };

  const total = selectionCost(operation.selectionSet, schema.getRootType(operation.operation), undefined);
  return total.rows + total.counts;
}

export function pageCostRule(options: PageCostOptions): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      if (options.operationName && operation.name?.value !== options.operationName) return false;
      const cost = operationPageCost(
        context.getSchema(),
        operation,
        (name) => context.getFragment(name),
        options.variables,
      );
      if (cost > options.maxCost) {
        context.reportError(
          new GraphQLError(
            `Operation cost limit of ${options.maxCost} exceeded, found ${cost}: the cost is the number of rows ` +
              `the connections can return (the page sizes of nested connections multiply; ${DEFAULT_PAGE_SIZE} ` +
              `when \`first\`/\`last\` is omitted; a count such as totalCount costs ${COUNT_COST}). ` +
              'Ask for smaller pages and page through the rest.',
            { nodes: operation },
          ),
        );
      }
      return false;
    },
  });
}
