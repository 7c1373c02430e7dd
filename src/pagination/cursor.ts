// Opaque keyset cursors. A cursor holds the sort values of the row it points at (plus the
// name of the ordering it belongs to), so paging from it needs no lookup and stays stable
// when rows are inserted or deleted around it.
import { GraphQLError } from 'graphql';
import { isStorableInstant, isWellFormed } from '../validation.js';

export type CursorValue = string | null;
export type SortType = 'timestamptz' | 'text' | 'uuid' | 'int8';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Exactly what encodeCursor writes (Date#toISOString), for an instant PostgreSQL can hold.
 * Date.parse alone accepts strings such as "1", "2026-02-30T00:00:00.000Z" or
 * "+275760-09-13T00:00:00.000Z" that PostgreSQL refuses, which would fail the statement (a
 * masked internal error) instead of the argument.
 */
function isIsoTimestamp(value: string): boolean {
  const time = Date.parse(value);
  return !Number.isNaN(time) && isStorableInstant(time) && new Date(time).toISOString() === value;
}

/** The type of one sort value, and whether NULL is one of its values. */
export interface CursorColumn {
  type: SortType;
  nullable?: boolean;
}

function valid(column: CursorColumn, value: unknown): value is CursorValue {
  if (value === null) return column.nullable === true;
  if (typeof value !== 'string') return false;
  if (column.type === 'uuid') return UUID.test(value);
  if (column.type === 'timestamptz') return isIsoTimestamp(value);
  if (column.type === 'int8') return /^(0|[1-9][0-9]{0,17})$/.test(value);
  // A NUL character or a lone surrogate cannot be sent in a PostgreSQL text parameter.
  return !value.includes('\u0000') && isWellFormed(value);
}

export function encodeCursor(ordering: string, values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify([ordering, ...values]), 'utf8').toString('base64url');
}

function invalid(argument: string): GraphQLError {
  return new GraphQLError(
    `\`${argument}\` is not a cursor of this connection and ordering; pass a cursor this connection returned with the same orderBy.`,
    { extensions: { code: 'BAD_USER_INPUT', argumentName: argument } },
  );
}

export function decodeCursor(
  argument: 'after' | 'before',
  cursor: string,
  ordering: string,
  columns: readonly CursorColumn[],
): CursorValue[] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid(argument);
  }
  if (!Array.isArray(decoded) || decoded.length !== columns.length + 1 || decoded[0] !== ordering) {
    throw invalid(argument);
  }
  const values = decoded.slice(1);
  if (!columns.every((column, index) => valid(column, values[index]))) throw invalid(argument);
  return values as CursorValue[];
}
