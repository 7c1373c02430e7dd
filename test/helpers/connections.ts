// Walking Relay connections the way a client does, checking every page on the way.
import { expect } from 'vitest';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { GraphQLResponse } from './client.js';

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<Node extends { id: string } = { id: string }> {
  totalCount: number;
  pageInfo: PageInfo;
  edges: { cursor: string; node: Node }[];
  nodes: Node[];
}

/** The selection the walkers need on a connection. */
export const PAGE_FIELDS = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } nodes { id }`;

export interface PageArgs {
  first?: number;
  after?: string;
  last?: number;
  before?: string;
}

/** Fetches one page of the connection under test with the given page arguments. */
export type FetchPage = (args: PageArgs) => Promise<Connection>;

/** The raw database id of a global id. */
export function rawId(id: string): string {
  return decodeGlobalID(id).id;
}

/** The raw ids of a page's nodes, in order. */
export function rawIds(connection: { nodes: { id: string }[] }): string[] {
  return connection.nodes.map((node) => rawId(node.id));
}

/** Every page is self-consistent: `nodes` is `edges.node`, start/end cursors are the edges'. */
export function expectConsistentPage(page: Connection): void {
  expect(page.nodes).toEqual(page.edges.map((edge) => edge.node));
  expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
  expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
  expect(new Set(page.edges.map((edge) => edge.cursor)).size).toBe(page.edges.length);
}

const MAX_PAGES = 1_000;

/**
 * `first: size` from `after` (or the start) until hasNextPage is false. Checks that every
 * page but the last is full, that hasPreviousPage says whether rows precede the page, and
 * that totalCount does not change while paging. Returns the pages in order.
 */
export async function walkForward(fetch: FetchPage, size: number, after?: string): Promise<Connection[]> {
  const pages: Connection[] = [];
  let cursor = after;
  for (let index = 0; index < MAX_PAGES; index++) {
    const page = await fetch({ first: size, ...(cursor ? { after: cursor } : {}) });
    expectConsistentPage(page);
    expect(page.pageInfo.hasPreviousPage).toBe(cursor !== undefined);
    if (pages[0]) expect(page.totalCount).toBe(pages[0].totalCount);
    pages.push(page);
    if (!page.pageInfo.hasNextPage) return pages;
    expect(page.edges).toHaveLength(size);
    cursor = page.pageInfo.endCursor!;
  }
  throw new Error(`walkForward did not reach the end in ${MAX_PAGES} pages`);
}

/**
 * `last: size` from `before` (or the end) until hasPreviousPage is false. Returns the pages
 * in the order they were fetched (the last page of the connection first).
 */
export async function walkBackward(fetch: FetchPage, size: number, before?: string): Promise<Connection[]> {
  const pages: Connection[] = [];
  let cursor = before;
  for (let index = 0; index < MAX_PAGES; index++) {
    const page = await fetch({ last: size, ...(cursor ? { before: cursor } : {}) });
    expectConsistentPage(page);
    expect(page.pageInfo.hasNextPage).toBe(cursor !== undefined);
    if (pages[0]) expect(page.totalCount).toBe(pages[0].totalCount);
    pages.push(page);
    if (!page.pageInfo.hasPreviousPage) return pages;
    expect(page.edges).toHaveLength(size);
    cursor = page.pageInfo.startCursor!;
  }
  throw new Error(`walkBackward did not reach the start in ${MAX_PAGES} pages`);
}

/** The raw ids of forward pages, concatenated. */
export function idsForward(pages: Connection[]): string[] {
  return pages.flatMap(rawIds);
}

/** The raw ids of backward pages (fetched last page first), in connection order. */
export function idsBackward(pages: Connection[]): string[] {
  return [...pages].reverse().flatMap(rawIds);
}

/**
 * Pages the whole connection forward, then back from its last page to its start, and
 * expects both walks to give exactly `expected` (raw ids in connection order): no row
 * skipped, none repeated, in both directions.
 */
export async function expectWalksBothWays(fetch: FetchPage, size: number, expected: string[]): Promise<void> {
  const forward = await walkForward(fetch, size);
  expect(idsForward(forward)).toEqual(expected);
  expect(forward[0]!.totalCount).toBe(expected.length);
  expect(forward).toHaveLength(Math.max(1, Math.ceil(expected.length / size)));

  // From the end: the last `size` rows, then back with `before` to the start.
  const fromEnd = await walkBackward(fetch, size);
  expect(idsBackward(fromEnd)).toEqual(expected);

  // Back from the forward walk's last page: its startCursor, then `before` to the start.
  const lastPage = forward.at(-1)!;
  if (lastPage.edges.length > 0) {
    const back = await walkBackward(fetch, size, lastPage.pageInfo.startCursor!);
    expect([...idsBackward(back), ...rawIds(lastPage)]).toEqual(expected);
  }
}

/** The data of a response that must have succeeded. */
export function dataOf<Data>(response: GraphQLResponse<Data>): Data {
  expect(response.errors).toBeUndefined();
  expect(response.status).toBe(200);
  return response.data!;
}

/** The one error of a response that must have failed. */
export function errorOf(response: GraphQLResponse): { message: string; code: unknown; path?: (string | number)[] } {
  expect(response.errors).toHaveLength(1);
  const [error] = response.errors!;
  return { message: error!.message, code: error!.extensions?.code, ...(error!.path ? { path: error!.path } : {}) };
}
