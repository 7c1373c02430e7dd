// Batched connection pages and counts. Every connection field of a request that has the
// same shape (source, filter, ordering, page arguments) is answered by one SQL statement
// for all its parents, whether there is one parent (a root field) or fifty (a nested
// connection under a list): the statement count does not grow with the page size.
import { itemAt } from '../array.js';
import DataLoader from 'dataloader';
import type { Prisma } from '../generated/prisma/client.js';
import type { TenantSql } from '../db/tenant-sql.js';
import { decodeCursor, encodeCursor, type CursorValue } from '../pagination/cursor.js';
import { MAX_COUNT, type PageRequest } from '../pagination/page-request.js';
import { countSql, type KeysetRow, type Ordering, pageSql, type Table } from './keyset.js';

/** A kind of connection: which rows, how they may be filtered and ordered. */
export interface Source<Filter = never> {
  /** Unique among sources; part of every cursor the source hands out. */
  name: string;
  table: Table;
  orderings: Readonly<Record<string, Ordering>>;
  defaultOrdering: string;
  /** The conditions of a filter argument; `org` is the organization's bound id, for subqueries. */
  filter?: (filter: Filter, org: Prisma.Sql) => Prisma.Sql[];
}

/** What a count needs: which rows, of which parent. */
export interface CountKey<Filter = never> {
  source: Source<Filter>;
  /** Raw id of the parent row (nested connections); null for root connections. */
  parentId: string | null;
  filter?: Filter | null;
}

/** What a page needs: a count key plus ordering and page arguments. */
export interface ConnectionKey<Filter = never> extends CountKey<Filter> {
  ordering?: string;
  request: PageRequest;
}

export interface Page {
  /** Row ids in the connection's order. */
  ids: string[];
  /** The cursor of the row at `index`: built only when a client asks for it. */
  cursor(index: number): string;
  /** The rows themselves: every column of the node's table, as Prisma would return them. */
  rows: Record<string, unknown>[];
  hasPreviousPage: boolean;
  hasNextPage: boolean;
}

function orderingOf(key: ConnectionKey<unknown>): Ordering {
  const ordering = key.source.orderings[key.ordering ?? key.source.defaultOrdering];
  // The GraphQL enum of a connection's orderings lists exactly the source's keys.
  if (!ordering) throw new Error(`No ordering ${key.ordering} on ${key.source.table}`);
  return ordering;
}

function cursorName(key: ConnectionKey<unknown>): string {
  return `${key.source.name}:${orderingOf(key).name}`;
}

/** Keys with equal shape differ only in their parent, so they share one statement. */
function shapeOf(key: CountKey<unknown> | ConnectionKey<unknown>): string {
  const page = 'request' in key ? [key.ordering ?? null, key.request] : null;
  return JSON.stringify([key.source.name, key.filter ?? null, page]);
}

function groupByShape(keys: readonly (CountKey<unknown> | ConnectionKey<unknown>)[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  keys.forEach((key, index) => {
    const shape = shapeOf(key);
    const group = groups.get(shape);
    if (group) group.push(index);
    else groups.set(shape, [index]);
  });
  return groups;
}

function toCursorValue(value: unknown): CursorValue {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * A key's `after` and `before`, decoded. Throws the argument's GraphQLError if either is
 * not a cursor of the key's connection and ordering (an empty string is not a cursor).
 */
export function decodeCursors(key: ConnectionKey<unknown>): { after?: CursorValue[]; before?: CursorValue[] } {
  const { columns } = orderingOf(key);
  const { after, before } = key.request;
  return {
    ...(after !== undefined ? { after: decodeCursor('after', after, cursorName(key), columns) } : {}),
    ...(before !== undefined ? { before: decodeCursor('before', before, cursorName(key), columns) } : {}),
  };
}

export class ConnectionLoaders {
  constructor(private readonly sql: TenantSql) {}

  private readonly pages = new DataLoader<ConnectionKey<unknown>, Page, string>((keys) => this.loadPages(keys), {
    cacheKeyFn: (key) => `${shapeOf(key)}|${key.parentId}`,
  });

  private readonly counts = new DataLoader<CountKey<unknown>, number, string>((keys) => this.loadCounts(keys), {
    cacheKeyFn: (key) =>
      `${shapeOf({ source: key.source, parentId: key.parentId, filter: key.filter ?? null })}|${key.parentId}`,
  });

  page<Filter>(key: ConnectionKey<Filter>): Promise<Page> {
    return this.pages.load(key as ConnectionKey<unknown>);
  }

  /**
   * The number of rows of a connection (or of any source, e.g. a list's sent campaigns),
   * counted up to MAX_COUNT + 1: a result over MAX_COUNT means "more than MAX_COUNT".
   */
  count<Filter>(key: CountKey<Filter>): Promise<number> {
    return this.counts.load({
      source: key.source,
      parentId: key.parentId,
      filter: key.filter ?? null,
    } as CountKey<unknown>);
  }

  private conditions(key: CountKey<unknown>, org: Prisma.Sql): Prisma.Sql[] {
    return key.filter != null && key.source.filter ? key.source.filter(key.filter as never, org) : [];
  }

  private async loadPages(keys: readonly ConnectionKey<unknown>[]): Promise<(Page | Error)[]> {
    const results: (Page | Error)[] = new Array(keys.length);
    await Promise.all(
      [...groupByShape(keys).values()].map(async (indexes) => {
        const first = itemAt(keys, itemAt(indexes, 0));
        const ordering = orderingOf(first);
        const { request } = first;
        // Cursors are checked here, once per shape; a bad one fails every field of the shape.
        let after: CursorValue[] | undefined;
        let before: CursorValue[] | undefined;
        try {
          ({ after, before } = decodeCursors(first));
        } catch (error) {
          for (const index of indexes) results[index] = error as Error;
          return;
        }
        const parentKeys = [...new Set(indexes.map((index) => itemAt(keys, index).parentId))];
        const rows = await this.sql.query<KeysetRow>((org) =>
          pageSql(
            {
              table: first.source.table,
              conditions: this.conditions(first, org),
              ordering,
              size: request.size,
              backward: request.backward,
              ...(after ? { after } : {}),
              ...(before ? { before } : {}),
            },
            org,
            parentKeys,
          ),
        );
        const byParent = new Map<string | null, KeysetRow[]>();
        for (const row of rows) {
          const group = byParent.get(row.parentKey);
          if (group) group.push(row);
          else byParent.set(row.parentKey, [row]);
        }
        for (const index of indexes) {
          const parentRows = byParent.get(itemAt(keys, index).parentId) ?? [];
          results[index] = this.toPage(first, ordering, parentRows);
        }
      }),
    );
    return results;
  }

  private toPage(key: ConnectionKey<unknown>, ordering: Ordering, rows: KeysetRow[]): Page {
    const { size, backward } = key.request;
    const idIndex = ordering.columns.length - 1;
    const present = rows.filter((row) => row[`k${idIndex}`] != null);
    const hasMore = present.length > size;
    const inPage = present.slice(0, size);
    if (backward) inPage.reverse();
    const hasBefore = rows[0]?.hasBefore ?? false;
    const hasAfter = rows[0]?.hasAfter ?? false;
    const name = cursorName(key);
    return {
      ids: inPage.map((row) => String(row[`k${idIndex}`])),
      // The rows keep their key columns (k0…, parentKey): unused by the fields, and cheaper than copying.
      rows: inPage,
      cursor: (index) =>
        encodeCursor(
          name,
          ordering.columns.map((_, column) => toCursorValue(itemAt(inPage, index)[`k${column}`])),
        ),
      hasPreviousPage: backward ? hasMore || hasBefore : hasBefore,
      hasNextPage: backward ? hasAfter : hasMore || hasAfter,
    };
  }

  private async loadCounts(keys: readonly CountKey<unknown>[]): Promise<number[]> {
    const results: number[] = new Array(keys.length).fill(0);
    await Promise.all(
      [...groupByShape(keys).values()].map(async (indexes) => {
        const first = itemAt(keys, itemAt(indexes, 0));
        const parentKeys = [...new Set(indexes.map((index) => itemAt(keys, index).parentId))];
        const rows = await this.sql.query<{ parentKey: string | null; count: number }>((org) =>
          countSql({ table: first.source.table, conditions: this.conditions(first, org) }, org, parentKeys, MAX_COUNT),
        );
        const byParent = new Map(rows.map((row) => [row.parentKey, row.count]));
        for (const index of indexes) results[index] = byParent.get(itemAt(keys, index).parentId) ?? 0;
      }),
    );
    return results;
  }
}
