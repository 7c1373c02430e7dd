// The rate limit per member, under a ceiling per organization, taken right after
// authentication and before the operation is parsed: a request over budget costs one
// bucket lookup.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type AuthenticatedMember, budgetKeys } from '../auth/authenticate.js';
import type { RateLimitDecision, RateLimiter } from '../rate-limit/index.js';
import { viewerOf } from './authentication.js';

function rateLimited({ retryAfterMs, organization }: RateLimitDecision): GraphQLError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const whose = organization ? 'your organization (all its members together)' : 'this member';
  return new GraphQLError(`Rate limit exceeded for ${whose}: retry in ${seconds} s.`, {
    extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'Retry-After': String(seconds) } } },
  });
}

/** Takes one request from the viewer's budgets, or throws a GraphQLError carrying 429 (also used by /media). */
export async function takeRateBudget(limiter: RateLimiter, viewer: AuthenticatedMember): Promise<void> {
  const keys = budgetKeys(viewer);
  const decision = await limiter.take(keys.member, keys.organization);
  if (!decision.allowed) throw rateLimited(decision);
}

export function useRateLimit(limiter: RateLimiter): Plugin {
  return {
    async onParams({ request }) {
      await takeRateBudget(limiter, viewerOf(request));
    },
  };
}
