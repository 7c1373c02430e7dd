// A string that is not well-formed UTF-16 (a lone surrogate, "\ud800") is no text at all:
// PostgreSQL cannot store it and the query engine fails on it, as an unexpected error.
// The document cannot hold one (GraphQL's parser refuses it), so only variables can. In a
// mutation every text field is checked by the Validator (src/validation.ts), which answers
// an INVALID user error at the field; the variables of queries are checked here, answered
// as BAD_USER_INPUT naming the variable's path.
import { getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isWellFormed, pathOfFailingString } from '../validation.js';

/** The path of the first malformed string (or key) in `variables`, e.g. "filter.search". */
function malformedPath(variables: Record<string, unknown>): string | undefined {
  return pathOfFailingString(
    Object.entries(variables).map(([name, value]) => [value, name]),
    isWellFormed,
  );
}

export function useWellFormedStrings(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const variables = args.variableValues;
      if (!variables || getOperationAST(args.document, args.operationName)?.operation === 'mutation') return;
      const path = malformedPath(variables);
      if (path === undefined) return;
      setResultAndStopExecution({
        errors: [
          new GraphQLError(
            `Variable "$${path}" must be well-formed UTF-16: it holds an unpaired surrogate (a code unit between \\uD800 and \\uDFFF that is not half of a pair).`,
            { extensions: { code: 'BAD_USER_INPUT', argumentName: path } },
          ),
        ],
      });
    },
  };
}
