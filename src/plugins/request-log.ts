// One structured log line per request, with a request id that is returned to the client
// (`x-request-id`) so that a support ticket can be matched to the server's logs. An id
// sent by a proxy in front of wagraph is kept if it looks like one.
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';

const requestIds = new WeakMap<Request, string>();
const INCOMING_ID = /^[\w.:-]{1,128}$/;

export function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    const incoming = request.headers.get('x-request-id');
    id = incoming && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

export function useRequestLog(log: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  const operations = new WeakMap<Request, string>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
      requestIdOf(request);
    },
    // The operation name the client gave (GraphiQL and most clients send one): what a
    // support ticket names, and what a slow request was doing.
    onParams({ request, params }) {
      if (typeof params.operationName === 'string') operations.set(request, params.operationName.slice(0, 100));
    },
    onResponse({ request, response }) {
      const requestId = requestIdOf(request);
      response.headers.set('x-request-id', requestId);
      const url = new URL(request.url);
      if (url.pathname === '/healthz' || url.pathname === '/readyz') return;
      log.info(
        {
          requestId,
          method: request.method,
          path: url.pathname,
          operationName: operations.get(request),
          status: response.status,
          durationMs: Math.round((performance.now() - (started.get(request) ?? performance.now())) * 10) / 10,
        },
        'request',
      );
    },
  };
}
