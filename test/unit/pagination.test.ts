// Keyset cursors and connection arguments on their own (src/pagination/): what a cursor
// carries, which cursors are refused before any statement is built, and the page-size rules.
// Through the API, on a database: test/pagination.test.ts.
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { type CursorColumn, decodeCursor, encodeCursor } from '../../src/pagination/cursor.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageRequest } from '../../src/pagination/page-request.js';

const COLUMNS: CursorColumn[] = [{ type: 'timestamptz', nullable: true }, { type: 'text' }, { type: 'uuid' }];
const ROW = ['2026-11-21T10:00:00.000Z', 'Ada', '0b7e7a9c-3f4e-4a51-9c1e-2a3b4c5d6e7f'];

/** The error decodeCursor throws, or undefined. */
function refusal(cursor: string, ordering = 'LAST_MESSAGE_AT_DESC', columns = COLUMNS) {
  try {
    decodeCursor('after', cursor, ordering, columns);
    return undefined;
  } catch (error) {
    return error;
  }
}
const raw = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('keyset cursors', () => {
  it('give back the sort values they were made from, NULL included', () => {
    for (const values of [ROW, [null, 'Ada', ROW[2]!], [ROW[0]!, '', ROW[2]!], [ROW[0]!, 'Zoë 🙂 "quoted"', ROW[2]!]]) {
      const cursor = encodeCursor('LAST_MESSAGE_AT_DESC', values);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor('after', cursor, 'LAST_MESSAGE_AT_DESC', COLUMNS)).toEqual(values);
    }
  });

  it.each([
    ['another ordering’s cursor', encodeCursor('NAME_ASC', ROW)],
    ['too few values', encodeCursor('LAST_MESSAGE_AT_DESC', ROW.slice(0, 2))],
    ['too many values', encodeCursor('LAST_MESSAGE_AT_DESC', [...ROW, 'x'])],
    ['not base64url JSON', 'not a cursor'],
    ['an object, not an array', raw({ ordering: 'LAST_MESSAGE_AT_DESC' })],
    ['NULL where the column has none', encodeCursor('LAST_MESSAGE_AT_DESC', [ROW[0]!, null, ROW[2]!])],
    ['a number for a text value', raw(['LAST_MESSAGE_AT_DESC', ROW[0], 42, ROW[2]])],
    ['a malformed uuid', encodeCursor('LAST_MESSAGE_AT_DESC', [ROW[0]!, 'Ada', 'not-a-uuid'])],
    ['a date PostgreSQL refuses', encodeCursor('LAST_MESSAGE_AT_DESC', ['2026-02-30T00:00:00.000Z', 'Ada', ROW[2]!])],
    ['a timestamp in another format', encodeCursor('LAST_MESSAGE_AT_DESC', ['2026-11-21 10:00', 'Ada', ROW[2]!])],
    [
      'a year past what PostgreSQL holds',
      encodeCursor('LAST_MESSAGE_AT_DESC', ['+275760-09-13T00:00:00.000Z', 'Ada', ROW[2]!]),
    ],
    ['a NUL character in text', encodeCursor('LAST_MESSAGE_AT_DESC', [ROW[0]!, 'A\u0000', ROW[2]!])],
    ['a lone surrogate in text', encodeCursor('LAST_MESSAGE_AT_DESC', [ROW[0]!, 'A\ud800', ROW[2]!])],
  ])('refuses %s as a BAD_USER_INPUT on the argument', (_case, cursor) => {
    const error = refusal(cursor);
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'after' });
    expect((error as GraphQLError).message).toMatch(/^`after` is not a cursor of this connection and ordering/);
  });
});

describe('connection arguments', () => {
  it('default to the first 20, forwards', () => {
    expect(pageRequest({})).toEqual({ size: DEFAULT_PAGE_SIZE, backward: false });
    expect(pageRequest({ first: null, last: null, after: null, before: null })).toEqual({ size: 20, backward: false });
  });

  it('read `last` backwards, and keep the cursors given', () => {
    expect(pageRequest({ first: 0 })).toEqual({ size: 0, backward: false });
    expect(pageRequest({ first: MAX_PAGE_SIZE, after: 'a' })).toEqual({ size: 100, backward: false, after: 'a' });
    expect(pageRequest({ last: 5, before: 'b', after: 'a' })).toEqual({
      size: 5,
      backward: true,
      after: 'a',
      before: 'b',
    });
  });

  it.each([
    [{ first: -1 }, 'first', '`first` must not be negative (got -1).'],
    [{ last: -3 }, 'last', '`last` must not be negative (got -3).'],
    [{ first: 101 }, 'first', '`first` must be at most 100 (got 101); page through the rest with `after`.'],
    [{ last: 500 }, 'last', '`last` must be at most 100 (got 500); page through the rest with `before`.'],
    [{ first: 1, last: 1 }, 'last', 'Pass either `first` or `last`, not both.'],
  ])('refuse %o', (args, argumentName, message) => {
    expect(() => pageRequest(args)).toThrow(message);
    try {
      pageRequest(args);
    } catch (error) {
      expect((error as GraphQLError).extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName });
    }
  });
});
