// A string that is not well-formed UTF-16 (a lone surrogate, "\ud800") is no text at all:
// PostgreSQL cannot store it and the query engine fails on it, as an unexpected error.
// The document cannot hold one (GraphQL's parser refuses it), so only variables can. In a
// mutation every text field is checked by the Validator (src/validation.ts), which answers
// an INVALID user error at the field; the variables of queries are checked here, answered
// as BAD_USER_INPUT naming the variable's path.
import { getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isWellFormed } from '../validation.js';

/** The path of the first malformed string (or key) in `variables`, e.g. "filter.search". Iterative. */
function malformedPath(variables: Record<string, unknown>): string | undefined {
  const pending: [unknown, string][] = Object.entries(variables).map(([name, value]) => [value, name]);
  while (pending.length > 0) {
    const [item, path] = pending.pop()!;
    if (typeof item === 'string') {
      if (!isWellFormed(item)) return path;
    } else if (Array.isArray(item)) {
      for (const [index, child] of item.entries()) pending.push([child, `${path}.${index}`]);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (!isWellFormed(key)) return path;
        pending.push([child, `${path}.${key}`]);
      }
    }
  }
  return undefined;
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
