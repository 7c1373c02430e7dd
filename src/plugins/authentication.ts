// Authentication before anything else: a request without a valid credential gets 401
// before its document is parsed or validated, so anonymous callers learn nothing about the
// schema (not even from validation errors) and cost no more than the credential check.
// An address that keeps presenting refused credentials gets 429 before even that check
// (src/rate-limit/auth-failures.ts). The viewer found here is what src/yoga.ts builds the
// context from.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { AuthenticationError, authenticate, type AuthenticatedMember } from '../auth/authenticate.js';
import { clientAddress, socketAddress } from '../auth/client-address.js';
import { type JwtSettings, jwtVerifier } from '../auth/jwt.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { AuthFailureThrottle } from '../rate-limit/auth-failures.js';
import { requestIdOf } from './request-log.js';

const viewers = new WeakMap<Request, AuthenticatedMember>();
const rechecks = new WeakMap<Request, () => Promise<AuthenticatedMember>>();

export function viewerOf(request: Request): AuthenticatedMember {
  const viewer = viewers.get(request);
  if (!viewer) throw new Error('No viewer for this request: useAuthentication must run first');
  return viewer;
}

/**
 * Authenticates the request's credential again, as it stands now: a long-lived request (a
 * subscription) asks whether its key was revoked, its member removed or its permissions
 * changed since it began. Throws AuthenticationError when the credential no longer holds.
 */
export function recheckOf(request: Request): () => Promise<AuthenticatedMember> {
  const recheck = rechecks.get(request);
  if (!recheck) throw new Error('No credential for this request: useAuthentication must run first');
  return recheck;
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } },
  });
}

function tooManyFailures(retryAfterMs: number): GraphQLError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new GraphQLError(`Too many refused credentials from your address: retry in ${seconds} s.`, {
    extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'Retry-After': String(seconds) } } },
  });
}

export interface AuthenticationPluginOptions {
  database: Pick<Database, 'query'>;
  jwt?: JwtSettings | undefined;
  log: Logger;
  /** Refused credentials per client address (AUTH_FAILURES_PER_MINUTE); unset: not throttled. */
  failures?: AuthFailureThrottle | undefined;
  /** TRUST_PROXY: proxies whose X-Forwarded-For entries are believed. Default 0. */
  trustProxy?: number;
}

/**
 * The member a request acts as, or a GraphQLError carrying its HTTP answer (401, or 429 for
 * an address that keeps failing). What /graphql and /media (./media.ts) both authenticate with.
 */
export type RequestAuthenticator = (request: Request, serverContext: unknown) => Promise<AuthenticatedMember>;

export function requestAuthenticator(options: AuthenticationPluginOptions): RequestAuthenticator {
  const jwt = options.jwt ? jwtVerifier(options.jwt) : undefined;
  return async (request, serverContext) => {
    // No address (a request that did not come through a socket, as in tests through
    // yoga.fetch): nothing to count it against.
    const { failures } = options;
    const address = failures && clientAddress(socketAddress(serverContext), request.headers, options.trustProxy ?? 0);
    const admission = address ? failures.admit(address) : undefined;
    if (admission && !admission.allowed) {
      options.log.debug({ requestId: requestIdOf(request), address }, 'authentication throttled');
      throw tooManyFailures(admission.retryAfterMs);
    }
    let failed = false;
    try {
      return await authenticate(options.database, request.headers, { jwt });
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      failed = error.credentialPresented;
      options.log.debug({ requestId: requestIdOf(request), reason: error.reason }, 'authentication refused');
      throw unauthenticated(error.message);
    } finally {
      if (admission?.allowed) admission.settle(failed);
    }
  };
}

export function useAuthentication(options: AuthenticationPluginOptions | RequestAuthenticator): Plugin {
  const authenticateRequest = typeof options === 'function' ? options : requestAuthenticator(options);
  return {
    async onParams({ request, context }) {
      viewers.set(request, await authenticateRequest(request, context));
      rechecks.set(request, () => authenticateRequest(request, context));
    },
  };
}
