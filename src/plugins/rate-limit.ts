// The rate limit per member, under a ceiling per organization, taken right after
// authentication and before the operation is parsed: a request over budget costs one
// bucket lookup.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { budgetKeys } from '../auth/authenticate.js';
import type { RateLimitDecision, RateLimiter } from '../rate-limit/index.js';
import { viewerOf } from './authentication.js';

function rateLimited({ retryAfterMs, organization }: RateLimitDecision): GraphQLError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const whose = organization ? 'your organization (all its members together)' : 'this member';
  return new GraphQLError(`Rate limit exceeded for ${whose}: retry in ${seconds} s.`, {
    extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'Retry-After': String(seconds) } } },
  });
}

export function useRateLimit(limiter: RateLimiter): Plugin {
  return {
    async onParams({ request }) {
      const keys = budgetKeys(viewerOf(request));
      const decision = await limiter.take(keys.member, keys.organization);
      if (!decision.allowed) throw rateLimited(decision);
    },
  };
}
