// The per-credential rate limit, taken right after authentication and before the
// operation is parsed: a request over budget costs one bucket lookup.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { credentialKey } from '../auth/authenticate.js';
import type { RateLimiter } from '../rate-limit/index.js';
import { viewerOf } from './authentication.js';

function rateLimited(retryAfterMs: number): GraphQLError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new GraphQLError(`Rate limit exceeded for this credential: retry in ${seconds} s.`, {
    extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'Retry-After': String(seconds) } } },
  });
}

export function useRateLimit(limiter: RateLimiter): Plugin {
  return {
    async onParams({ request }) {
      const decision = await limiter.take(credentialKey(viewerOf(request)));
      if (!decision.allowed) throw rateLimited(decision.retryAfterMs);
    },
  };
}
