// Bounds on what one operation may ask for, checked before anything runs: graphql-armor's
// depth, alias, directive and token limits, plus our page-cost limit (./page-cost.ts).
// The request body size is bounded by Yoga itself (`maxRequestBodySize`, src/yoga.ts).
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { type GraphQLError, validate } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import { pageCostRule } from './page-cost.js';

export interface OperationLimits {
  /** Nested field levels (`{ a { b } }` is 2); introspection is exempt. */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexical tokens of the document (variables are not part of it). */
  maxTokens: number;
  /** Rows an operation may ask for through its connections (./page-cost.ts). */
  maxCost: number;
  maxBodyBytes: number;
}

// Relay nests three levels per connection (`contacts { edges { node { … } } }`), so a depth
// of 12 still allows three nested connections read through edges and a field or two below.
// The cost limit allows 100 × 100 (10 100) or 50 × 20 × 20 (21 050) rows, and refuses the
// 100 × 100 × 100 walk of contacts → conversations → messages (1 010 100).
export const DEFAULT_LIMITS: OperationLimits = {
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 2_000,
  maxCost: 25_000,
  maxBodyBytes: 1_048_576,
};

export const LIMIT_ERROR_CODE = 'OPERATION_LIMIT_EXCEEDED';

/** Gives an error of one of armor's limits our code and a message without its misleading "Syntax Error:". */
function asLimitError(_context: unknown, error: GraphQLError): void {
  error.message = error.message.replace(/^Syntax Error: /, '');
  (error.extensions as Record<string, unknown>).code = LIMIT_ERROR_CODE;
}

/**
 * Runs the page-cost rule just before execution, when the variables that set the page sizes
 * are known: as a validation rule proper, Yoga's per-document validation cache would let a
 * document priced with small variables through again with large ones.
 */
function usePageCostLimit(maxCost: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const rule = pageCostRule({ maxCost, variables: args.variableValues, operationName: args.operationName });
      const errors = validate(args.schema, args.document, [rule]);
      if (errors.length === 0) return;
      for (const error of errors) asLimitError(undefined, error);
      setResultAndStopExecution({ errors });
    },
  };
}

/**
 * A refused operation is the client's error whatever it accepts. Yoga answers parse and
 * validation errors with 200 to `Accept: application/json` clients (GraphQL over HTTP, for
 * legacy clients) and marks them so even when they carry a status; the result is where the
 * status of a limit error can still be pinned to 400.
 */
function useLimitErrorStatus(): Plugin {
  return {
    onExecutionResult({ result }) {
      if (!result || !('errors' in result) || !result.errors) return;
      for (const error of result.errors) {
        const extensions = error.extensions as Record<string, unknown> | undefined;
        if (extensions?.code === LIMIT_ERROR_CODE) extensions.http = { status: 400 };
      }
    },
  };
}

export function useOperationLimits(limits: OperationLimits, options: { fieldSuggestions: boolean }): Plugin[] {
  const armor = { exposeLimits: true, onReject: [asLimitError] };
  return [
    maxTokensPlugin<YogaInitialContext>({ n: limits.maxTokens, ...armor }),
    maxDepthPlugin<YogaInitialContext>({ n: limits.maxDepth, ...armor }),
    maxAliasesPlugin<YogaInitialContext>({ n: limits.maxAliases, ...armor }),
    maxDirectivesPlugin<YogaInitialContext>({ n: limits.maxDirectives, ...armor }),
    usePageCostLimit(limits.maxCost),
    useLimitErrorStatus(),
    // Suggestions would spell out the schema to a client that cannot introspect it.
    ...(options.fieldSuggestions ? [] : [blockFieldSuggestionsPlugin<YogaInitialContext>({ mask: '' })]),
  ];
}
