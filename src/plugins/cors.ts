// Cross-origin access for browser apps on the origins of CORS_ORIGINS, and none for any
// other. Credentials travel in headers, never cookies, so no `Allow-Credentials`.
import type { Plugin, YogaServerOptions } from 'graphql-yoga';

type CorsOption = NonNullable<YogaServerOptions<Record<string, never>, Record<string, never>>['cors']>;

export function corsPolicy(origins: readonly string[]): CorsOption {
  if (origins.length === 0) return false;
  const allowed = new Set(origins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    // Not `origin: [...origins]`: for an origin off the list, Yoga would answer
    // `Access-Control-Allow-Origin: null`, which sandboxed frames match.
    if (!origin || !allowed.has(origin)) return false;
    return {
      origin: [origin],
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'x-access-token', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after'],
      credentials: false,
      maxAge: 600,
    };
  };
}

/** Whether a response carries CORS headers depends on the request's Origin: say so to caches. */
export function useVaryOnOrigin(): Plugin {
  return {
    onResponse({ response }) {
      const vary = response.headers.get('vary');
      if (!vary?.toLowerCase().split(/\s*,\s*/).includes('origin')) response.headers.append('vary', 'Origin');
    },
  };
}
