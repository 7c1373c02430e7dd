// One load run with autocannon: N connections, each sending its next request as soon as
// the previous response arrived, for a fixed duration, to 127.0.0.1 only. A response
// that is not 2xx, or whose body holds GraphQL errors, counts as an error.
import autocannon from 'autocannon';
import type { HttpRequest } from './operations.js';

export interface LoadResult {
  connections: number;
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors, timeouts, non-2xx and bodies with "errors". */
  errors: number;
}

export interface LoadOptions {
  origin: string;
  apiKey: string;
  connections: number;
  durationSeconds: number;
  /** Called once per request when `varies`, else once. */
  nextRequest: () => HttpRequest;
  varies: boolean;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.origin);
  if (url.hostname !== '127.0.0.1') throw new Error(`load tests only go to 127.0.0.1, not ${url.hostname}`);
  const first = options.nextRequest();
  const result = await autocannon({
    url: `${options.origin}${first.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
    body: first.body,
    connections: options.connections,
    duration: options.durationSeconds,
    // A createContacts of 1,000 rows under 64 connections can take seconds; a request is
    // only given up (and counted as an error) after this long.
    timeout: 60,
    // GraphQL reports failures with status 200: look into the body.
    verifyBody: (body) => !String(body ?? '').includes('"errors":'),
    ...(options.varies
      ? {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => {
                const next = options.nextRequest();
                return { ...request, path: next.path, body: next.body };
              },
            },
          ],
        }
      : {}),
  });
  const seconds = result.duration;
  const completed = result.requests.total;
  return {
    connections: options.connections,
    durationSeconds: Math.round(seconds * 10) / 10,
    requests: completed,
    requestsPerSecond: completed / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + result.mismatches,
  };
}
