// The SQL of keyset pagination, for one parent or many at once.
//
// A page of children for N parents is one statement: each parent id is joined LATERALly to
// its own `ORDER BY … LIMIT size+1` subquery, so the database reads about `size` rows per
// parent through the (parent, sort key) index, never every child of every parent. A root
// connection is the same query with a single parent that links to nothing.
//
// Orderings always end with the row id, so every position is unique. A nullable sort
// column sorts NULL as its smallest value (ASC NULLS FIRST, DESC NULLS LAST), so one
// index serves both directions.
import { Prisma } from '../generated/prisma/client.js';
import type { CursorValue, SortType } from '../pagination/cursor.js';

export interface SortColumn {
  /** A trusted SQL expression over the source's aliases, e.g. `t."createdAt"`. */
  sql: string;
  type: SortType;
  nullable?: boolean;
}

export interface Ordering {
  /** Names the ordering in cursors, so a cursor is only accepted by the ordering that made it. */
  name: string;
  descending: boolean;
  /** The sort key, ending with the row id. */
  columns: readonly SortColumn[];
}

/** Where the rows of a connection come from. All SQL here is trusted text, never input. */
export interface Table {
  /** FROM clause; the node's table must be aliased `t`, e.g. `"ContactTag" j JOIN "Tag" t ON t.id = j."tagId"`. */
  from: string;
  /**
   * For nested connections: the parent's table and the column of `from` that links a row to
   * its parent. The organization is bound on the parents and on the rows they read (see
   * `scope` for the one exception, unfiltered counts).
   */
  parent?: { table: string; column: string };
  /**
   * For connections through a join table: that table alone, aliased `j`. Counting without
   * a filter needs only it (an index-only scan), not a join to every row's `t`.
   */
  linkFrom?: string;
  /**
   * For connections through a join table: `from` with each row `t` reached from its link by
   * primary key, one link at a time (a LATERAL subquery the planner may not flatten). A
   * filtered count then reads at most its parent's links, whatever the planner guesses of
   * the parent's size; see throughLink in ./sources.ts.
   */
  linkByLinkFrom?: string;
}

export interface KeysetQuery {
  table: Table;
  /** Filter conditions, already parameterised (with the same `org`). */
  conditions: readonly Prisma.Sql[];
  ordering: Ordering;
  size: number;
  backward: boolean;
  after?: readonly CursorValue[];
  before?: readonly CursorValue[];
}

export interface KeysetRow {
  parentKey: string | null;
  hasBefore: boolean;
  hasAfter: boolean;
  /** Sort key values k0…kn (kn is the id); all null when the parent has no rows in the page. */
  [key: `k${number}`]: unknown;
  /** And every column of the node's table `t`. */
  [column: string]: unknown;
}

const raw = Prisma.raw;

function param(type: SortType, value: string): Prisma.Sql {
  return Prisma.sql`${value}::${raw(type)}`;
}

/** The condition "this row's sort key is beyond `values`" in ascending (`greater`) or descending order. */
function beyond(columns: readonly SortColumn[], values: readonly CursorValue[], greater: boolean): Prisma.Sql {
  const op = raw(greater ? '>' : '<');
  if (columns.every((column) => !column.nullable)) {
    // Row comparison: lets PostgreSQL turn the cursor into an index range.
    const left = raw(`(${columns.map((column) => column.sql).join(', ')})`);
    const right = Prisma.join(columns.map((column, index) => param(column.type, values[index] as string)));
    return Prisma.sql`${left} ${op} (${right})`;
  }
  const alternatives: Prisma.Sql[] = [];
  const equalSoFar: Prisma.Sql[] = [];
  columns.forEach((column, index) => {
    const col = raw(column.sql);
    const value = values[index] ?? null;
    let strictly: Prisma.Sql;
    if (value === null) {
      // NULL is the smallest value: everything non-null is greater, nothing is smaller.
      strictly = greater ? Prisma.sql`${col} IS NOT NULL` : Prisma.sql`FALSE`;
    } else {
      const v = param(column.type, value);
      strictly =
        greater || !column.nullable ? Prisma.sql`${col} ${op} ${v}` : Prisma.sql`(${col} < ${v} OR ${col} IS NULL)`;
    }
    alternatives.push(Prisma.join([...equalSoFar, strictly], ' AND '));
    equalSoFar.push(value === null ? Prisma.sql`${col} IS NULL` : Prisma.sql`${col} = ${param(column.type, value)}`);
  });
  return Prisma.sql`(${Prisma.join(
    alternatives.map((alternative) => Prisma.sql`(${alternative})`),
    ' OR ',
  )})`;
}

/** Rows after `values` in the ordering's own direction. */
function after(ordering: Ordering, values: readonly CursorValue[]): Prisma.Sql {
  return beyond(ordering.columns, values, !ordering.descending);
}

/** Rows before `values` in the ordering's own direction. */
function before(ordering: Ordering, values: readonly CursorValue[]): Prisma.Sql {
  return beyond(ordering.columns, values, ordering.descending);
}

function orderBy(ordering: Ordering, reverse: boolean, prefix = ''): Prisma.Sql {
  const descending = ordering.descending !== reverse;
  const terms = ordering.columns.map((column, index) => {
    const expression = prefix ? `${prefix}"k${index}"` : column.sql;
    const nulls = column.nullable ? (descending ? ' NULLS LAST' : ' NULLS FIRST') : '';
    return `${expression} ${descending ? 'DESC' : 'ASC'}${nulls}`;
  });
  return raw(terms.join(', '));
}

/** The parents whose rows are asked for: only those of the organization. */
function parents(parentKeys: readonly (string | null)[], table: Table, org: Prisma.Sql): Prisma.Sql {
  const { parent } = table;
  return parent
    ? Prisma.sql`(SELECT p."id" AS key FROM ${raw(parent.table)} p
        WHERE p."id" = ANY(${parentKeys}::uuid[]) AND p."organizationId" = ${org}) AS parent`
    : Prisma.sql`(VALUES (NULL::uuid)) AS parent(key)`;
}

/**
 * Which rows: those of the organization and, when nested, of the parent, with the filters.
 * `indexOnly`: an unfiltered count of a nested connection, which counts its parent's
 * entries in the (parent, …) index without visiting a row. Binding the rows' organization
 * there would visit every counted row (three times the buffers for a list of 20,000 on
 * PostgreSQL); the parents are bound to it in the same statement instead, and a row belongs
 * to its parent's organization by the composite foreign keys. Everywhere else the rows are
 * read anyway, and the condition costs nothing.
 */
function scope(query: Pick<KeysetQuery, 'table' | 'conditions'>, org: Prisma.Sql, alias = 't', indexOnly = false) {
  const { parent } = query.table;
  const owners = [
    ...(parent ? [Prisma.sql`${raw(parent.column)} = parent.key`] : []),
    ...(parent && indexOnly ? [] : [Prisma.sql`${raw(alias)}."organizationId" = ${org}`]),
  ];
  return Prisma.join([...owners, ...query.conditions], ' AND ');
}

/** One statement: the page of every parent, with whether rows exist before and after it. */
export function pageSql(query: KeysetQuery, org: Prisma.Sql, parentKeys: readonly (string | null)[]): Prisma.Sql {
  const { ordering, table } = query;
  const where = scope(query, org);
  const window: Prisma.Sql[] = [];
  if (query.after) window.push(after(ordering, query.after));
  if (query.before) window.push(before(ordering, query.before));
  const keys = raw(ordering.columns.map((column, index) => `${column.sql} AS "k${index}"`).join(', '));
  // Whether rows exist at or before `after` / at or beyond `before`: the other side of each cursor.
  const hasBefore = query.after
    ? Prisma.sql`EXISTS (SELECT 1 FROM ${raw(table.from)} WHERE ${where} AND (${after(ordering, query.after)}) IS NOT TRUE)`
    : Prisma.sql`FALSE`;
  const hasAfter = query.before
    ? Prisma.sql`EXISTS (SELECT 1 FROM ${raw(table.from)} WHERE ${where} AND (${before(ordering, query.before)}) IS NOT TRUE)`
    : Prisma.sql`FALSE`;
  // The page carries the rows themselves (t.*): nodes whose query selects no relation need
  // no second statement.
  return Prisma.sql`
    SELECT parent.key::text AS "parentKey", o."hasBefore", o."hasAfter", p.*
    FROM ${parents(parentKeys, table, org)}
    CROSS JOIN LATERAL (SELECT ${hasBefore} AS "hasBefore", ${hasAfter} AS "hasAfter") o
    LEFT JOIN LATERAL (
      SELECT ${keys}, t.*
      FROM ${raw(table.from)}
      WHERE ${Prisma.join([where, ...window], ' AND ')}
      ORDER BY ${orderBy(ordering, query.backward)}
      LIMIT ${query.size + 1}
    ) p ON TRUE
    ORDER BY parent.key, ${orderBy(ordering, query.backward, 'p.')}`;
}

/**
 * One statement: the number of rows of every parent's whole connection, counting at most
 * `limit + 1` rows per parent (so that a count over `limit` is known to be one, and no count
 * reads more than that).
 */
export function countSql(
  query: Pick<KeysetQuery, 'table' | 'conditions'>,
  org: Prisma.Sql,
  parentKeys: readonly (string | null)[],
  limit: number,
): Prisma.Sql {
  const { linkFrom, linkByLinkFrom } = query.table;
  const unfiltered = query.conditions.length === 0;
  const [from, alias] = linkFrom && unfiltered ? [linkFrom, 'j'] : [linkByLinkFrom ?? query.table.from, 't'];
  return Prisma.sql`
    SELECT parent.key::text AS "parentKey",
      (SELECT count(*)::int FROM (SELECT 1 FROM ${raw(from)} WHERE ${scope(query, org, alias, unfiltered)} LIMIT ${limit + 1}) counted) AS "count"
    FROM ${parents(parentKeys, query.table, org)}`;
}
