// Authentication before anything else: a request without a valid credential gets 401
// before its document is parsed or validated, so anonymous callers learn nothing about the
// schema (not even from validation errors) and cost no more than the credential check.
// The viewer found here is what src/yoga.ts builds the context from.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { AuthenticationError, authenticate, type Viewer } from '../auth/authenticate.js';
import { type JwtSettings, jwtVerifier } from '../auth/jwt.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { requestIdOf } from './request-log.js';

const viewers = new WeakMap<Request, Viewer>();

export function viewerOf(request: Request): Viewer {
  const viewer = viewers.get(request);
  if (!viewer) throw new Error('No viewer for this request: useAuthentication must run first');
  return viewer;
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } },
  });
}

export function useAuthentication(options: { database: Pick<Database, 'query'>; jwt?: JwtSettings | undefined; log: Logger }): Plugin {
  const jwt = options.jwt ? jwtVerifier(options.jwt) : undefined;
  return {
    async onParams({ request }) {
      try {
        viewers.set(request, await authenticate(options.database, request.headers, { jwt }));
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        options.log.debug({ requestId: requestIdOf(request), reason: error.reason }, 'authentication refused');
        throw unauthenticated(error.message);
      }
    },
  };
}
