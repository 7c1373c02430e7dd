// Bounds on what one operation may ask for, checked before anything runs: the document's
// size in bytes (before it is parsed), graphql-armor's token limit (while it is parsed), our
// field limit (./field-count.ts, once it is parsed), graphql-armor's depth, alias and
// directive limits (while it is validated), and our page-cost limit (./page-cost.ts).
// The request body size is bounded by Yoga itself (`maxRequestBodySize`, src/yoga.ts).
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { type DocumentNode, GraphQLError, validate } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import { countFieldSelections } from './field-count.js';
import { pageCostRule } from './page-cost.js';

export interface OperationLimits {
  /** Nested field levels (`{ a { b } }` is 2); introspection is exempt. */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexical tokens of the document (variables are not part of it); comments are not tokens. */
  maxTokens: number;
  /** The document's size in UTF-8 bytes, comments included (variables are not part of it). */
  maxDocumentBytes: number;
  /** Field selections, a fragment's counted wherever it is spread (./field-count.ts). */
  maxFields: number;
  /** Rows an operation may ask for through its connections (./page-cost.ts). */
  maxCost: number;
  maxBodyBytes: number;
}

// Relay nests three levels per connection (`contacts { edges { node { … } } }`), so a depth
// of 12 still allows three nested connections read through edges and a field or two below.
// The cost limit allows 100 × 100 (10 100) or 50 × 20 × 20 (21 050) rows, and refuses the
// 100 × 100 × 100 walk of contacts → conversations → messages (1 010 100).
// 2,000 tokens written out generously (long names, deep indentation, a comment here and there)
// come to some 40 kB, so 64 KiB of document leaves room; the rest of the body (variables, a
// thousand contacts for createContacts) may still use MAX_BODY_BYTES. The worst documents of
// 300 fields stay well within the CPU budget for parsing and validation (bench/parse-validate.ts
// builds them; its figures are in bench/RESULTS.md), and 300 leave room for GraphiQL's
// introspection query (240) and for the benchmark's inbox query (21).
export const DEFAULT_LIMITS: OperationLimits = {
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 2_000,
  maxDocumentBytes: 65_536,
  maxFields: 300,
  maxCost: 25_000,
  maxBodyBytes: 1_048_576,
};

export const LIMIT_ERROR_CODE = 'OPERATION_LIMIT_EXCEEDED';

/** Gives an error of one of armor's limits our code and a message without its misleading "Syntax Error:". */
function asLimitError(_context: unknown, error: GraphQLError): void {
  error.message = error.message.replace(/^Syntax Error: /, '');
  (error.extensions as Record<string, unknown>).code = LIMIT_ERROR_CODE;
}

function limitError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: LIMIT_ERROR_CODE, http: { status: 400 } } });
}

/**
 * Refuses a document over `maxBytes` before it is parsed, and so before it can reach the parse
 * cache (./document-cache.ts). It runs after authentication and the rate limit (src/yoga.ts):
 * an anonymous client still learns nothing but 401, and a member pays for refused documents
 * out of its rate budget. The body around it was already bounded by MAX_BODY_BYTES.
 */
function useDocumentSizeLimit(maxBytes: number): Plugin {
  return {
    onParams({ params }) {
      const { query } = params;
      // A UTF-16 code unit is at most three UTF-8 bytes: most documents need no counting.
      if (typeof query !== 'string' || query.length * 3 <= maxBytes) return;
      const bytes = Buffer.byteLength(query, 'utf8');
      if (bytes > maxBytes) throw limitError(`Document size limit of ${maxBytes} bytes exceeded, found ${bytes}.`);
    },
  };
}

/**
 * Refuses a document of more than `maxFields` field selections once it is parsed, before it
 * is validated (see ./field-count.ts for why and what is counted). The refusal replaces the
 * parse result, so Yoga's parse cache remembers it as it remembers a syntax error.
 */
function useFieldLimit(maxFields: number): Plugin {
  // A document from the parse cache is the same object every time: counted once.
  const counted = new WeakMap<DocumentNode, number>();
  return {
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (!result || result instanceof Error) return;
        const document = result as DocumentNode;
        let fields = counted.get(document);
        if (fields === undefined) counted.set(document, (fields = countFieldSelections(document)));
        if (fields > maxFields)
          replaceParseResult(limitError(`Field limit of ${maxFields} exceeded, found ${fields}.`));
      };
    },
  };
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
    useDocumentSizeLimit(limits.maxDocumentBytes),
    maxTokensPlugin<YogaInitialContext>({ n: limits.maxTokens, ...armor }),
    useFieldLimit(limits.maxFields),
    maxDepthPlugin<YogaInitialContext>({ n: limits.maxDepth, ...armor }),
    maxAliasesPlugin<YogaInitialContext>({ n: limits.maxAliases, ...armor }),
    maxDirectivesPlugin<YogaInitialContext>({ n: limits.maxDirectives, ...armor }),
    usePageCostLimit(limits.maxCost),
    useLimitErrorStatus(),
    // Suggestions would spell out the schema to a client that cannot introspect it.
    ...(options.fieldSuggestions ? [] : [blockFieldSuggestionsPlugin<YogaInitialContext>({ mask: '' })]),
  ];
}
