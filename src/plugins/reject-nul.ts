// PostgreSQL cannot store the NUL character in text or jsonb: a string holding one fails
// deep in the database as an unexpected error. Refuse such requests up front, in one place,
// with a message a client can act on.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { pathOfFailingString } from '../validation.js';

/** Whether any string in `value` (keys included) holds a NUL. */
function holdsNul(value: unknown): boolean {
  return pathOfFailingString([[value, '']], (text) => !text.includes('\u0000')) !== undefined;
}

export function useRejectNulCharacters(): Plugin {
  return {
    onParams({ params }) {
      // In the document, NUL can only appear escaped inside a string literal.
      if (
        holdsNul(params.query) ||
        (typeof params.query === 'string' && params.query.includes('\\u0000')) ||
        holdsNul(params.variables)
      ) {
        throw new GraphQLError('Strings must not contain the NUL character (\\u0000).', {
          extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
        });
      }
    },
  };
}
