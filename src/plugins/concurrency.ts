// Admission control: at most `max` GraphQL requests execute at once; the others wait their
// turn in arrival order before they are even parsed. The database pool serves only so many
// statements at a time anyway: letting every connection's request run at once only piles
// up half-finished requests in memory (at 64 connections, hundreds of MB) and makes every
// one of them slower. Past `maxWaiting` waiting requests, new ones get 503 and Retry-After.
import type { Plugin } from 'graphql-yoga';

export interface ConcurrencyLimit {
  max: number;
  maxWaiting: number;
}

export function useConcurrencyLimit({ max, maxWaiting }: ConcurrencyLimit): Plugin {
  let running = 0;
  const waiting: (() => void)[] = [];
  const admitted = new WeakSet<Request>();
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return {
    async onRequest({ request, url, endResponse }) {
      if (url.pathname !== '/graphql' || request.method === 'OPTIONS') return;
      if (running < max) {
        running++;
      } else if (waiting.length >= maxWaiting) {
        endResponse(
          Response.json(
            { errors: [{ message: 'The server is busy: retry in a moment.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] },
            { status: 503, headers: { 'Retry-After': '1' } },
          ),
        );
        return;
      } else {
        // The slot is handed over by release(): `running` stays as it is.
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      admitted.add(request);
    },
    onResponse({ request }) {
      if (admitted.delete(request)) release();
    },
  };
}
