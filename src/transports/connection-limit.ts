// Subscriptions one connection (a WebSocket, a graphql-sse stream) may hold at once
// (MAX_SUBSCRIPTIONS_PER_CONNECTION), besides the per-member and per-organization limits
// that every subscription counts against (src/events/subscriptions.ts). Queries and
// mutations are not counted: they end by themselves.
import { GraphQLError, getOperationAST, parse } from 'graphql';

export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 10;

export function tooManyOnConnection(max: number): GraphQLError {
  return new GraphQLError(
    `Too many subscriptions on this connection: it holds ${max}, the most one connection may (MAX_SUBSCRIPTIONS_PER_CONNECTION). End one before starting another.`,
    { extensions: { code: 'SUBSCRIPTION_LIMIT' } },
  );
}

/**
 * Whether the document's operation is a subscription. A document that does not parse, or
 * names no single operation, is not: the pipeline it is then run through answers its error
 * in its own words. The token bound keeps the parse as cheap as the pipeline's own.
 */
export function isSubscription(query: string | undefined, operationName: string | null | undefined, maxTokens: number) {
  if (!query) return false;
  try {
    return getOperationAST(parse(query, { maxTokens, noLocation: true }), operationName)?.operation === 'subscription';
  } catch {
    return false;
  }
}
