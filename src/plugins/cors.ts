// Cross-origin access for browser apps on the origins of CORS_ORIGINS, and, in development,
// on any loopback origin (a front-end's dev server on http://localhost:5173, say); none for
// any other. Credentials travel in headers, never cookies, so no `Allow-Credentials`.
import type { Plugin, YogaServerOptions } from 'graphql-yoga';

type CorsOption = NonNullable<YogaServerOptions<Record<string, never>, Record<string, never>>['cors']>;

/** http(s)://localhost, 127.x.x.x or [::1], on any port. */
export function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return (
      url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname)
    );
  } catch {
    return false;
  }
}

/** Whether a page of `origin` may use the API from the browser: CORS_ORIGINS, and loopback origins in development. */
export function originAllowed(
  origin: string,
  origins: readonly string[],
  options: { loopback?: boolean } = {},
): boolean {
  return origins.includes(origin) || (options.loopback === true && isLoopbackOrigin(origin));
}

export function corsPolicy(origins: readonly string[], options: { loopback?: boolean } = {}): CorsOption {
  if (origins.length === 0 && !options.loopback) return false;
  return (request: Request) => {
    const origin = request.headers.get('origin');
    // Not `origin: [...origins]`: for an origin off the list, Yoga would answer
    // `Access-Control-Allow-Origin: null`, which sandboxed frames match.
    if (!origin || !originAllowed(origin, origins, options)) return false;
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
      if (
        !vary
          ?.toLowerCase()
          .split(/\s*,\s*/)
          .includes('origin')
      )
        response.headers.append('vary', 'Origin');
    },
  };
}
