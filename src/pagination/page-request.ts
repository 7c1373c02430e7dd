// Relay connection arguments → a validated page request. The rules are the contract's
// (the README's "Connections"): default page 20, at most 100, never negative, never first with last.
import { GraphQLError } from 'graphql';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/**
 * A count (a connection's `totalCount`) stops after this many rows, so that no count scans
 * without limit; beyond it, `totalCount` says MAX_COUNT and `totalCountIsCapped` is true.
 * The page-cost rule prices every count as COUNT_COST rows (src/plugins/page-cost.ts).
 */
export const MAX_COUNT = 10_000;
/** What one count costs in the page-cost rule: a full page, per parent it is counted for. */
export const COUNT_COST = MAX_PAGE_SIZE;

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface PageRequest {
  /** How many rows the page holds at most. */
  size: number;
  /** `last`: the page ends at `before` (or at the end) and is read backwards. */
  backward: boolean;
  after?: string;
  before?: string;
}

function badArgument(message: string, argumentName: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argumentName } });
}

function checkSize(name: 'first' | 'last', value: number): number {
  if (value < 0) throw badArgument(`\`${name}\` must not be negative (got ${value}).`, name);
  if (value > MAX_PAGE_SIZE) {
    throw badArgument(
      `\`${name}\` must be at most ${MAX_PAGE_SIZE} (got ${value}); page through the rest with ` +
        `\`${name === 'first' ? 'after' : 'before'}\`.`,
      name,
    );
  }
  return value;
}

export function pageRequest(args: ConnectionArgs): PageRequest {
  const { first, last, after, before } = args;
  if (first != null && last != null) {
    throw badArgument('Pass either `first` or `last`, not both.', 'last');
  }
  const cursors = { ...(after != null ? { after } : {}), ...(before != null ? { before } : {}) };
  if (last != null) return { size: checkSize('last', last), backward: true, ...cursors };
  return { size: first != null ? checkSize('first', first) : DEFAULT_PAGE_SIZE, backward: false, ...cursors };
}
