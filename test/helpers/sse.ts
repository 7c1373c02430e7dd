// A GraphQL-over-SSE client for tests (Yoga's "distinct connections" mode): POST the
// operation with `Accept: text/event-stream`, read `event: next` messages as they come.
import type { TestClient } from './client.js';
import type { TestMember } from './factories.js';

export interface SseSubscription {
  /** The HTTP status of the answer (200 for a stream). */
  status: number;
  /** The next `next` payload, or the `complete`/end of the stream (null); rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<{ data?: any; errors?: { message: string; extensions?: any }[] } | null>;
  /** Waits until `count` payloads arrived (or the stream ends) and returns them. */
  take(count: number, timeoutMs?: number): Promise<{ data?: any; errors?: any[] }[]>;
  close(): void;
}

export async function subscribe(
  client: Pick<TestClient, 'request'>,
  query: string,
  variables: Record<string, unknown>,
  as: TestMember | null,
  headers: Record<string, string> = {},
): Promise<SseSubscription> {
  const abort = new AbortController();
  const response = await client.request({
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(as ? { authorization: `Bearer ${as.apiKey}` } : {}),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: ({ data?: any; errors?: any[] } | null)[] = [];
  let waiting: (() => void) | undefined;
  let ended = false;
  void (async () => {
    try {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(message)?.[1];
          const data = message
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
          if (event === 'next' && data) queue.push(JSON.parse(data));
          if (event === 'complete') queue.push(null);
          end = buffer.indexOf('\n\n');
        }
        waiting?.();
      }
    } catch {
      // Aborted by close().
    } finally {
      ended = true;
      queue.push(null);
      waiting?.();
    }
  })();
  const next: SseSubscription['next'] = async (timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      if (ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no subscription event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      waiting = undefined;
    }
    return queue.shift() ?? null;
  };
  return {
    status: response.status,
    next,
    async take(count, timeoutMs = 5_000) {
      const taken: { data?: any; errors?: any[] }[] = [];
      while (taken.length < count) {
        const payload = await next(timeoutMs);
        if (!payload) break;
        taken.push(payload);
      }
      return taken;
    },
    close: () => abort.abort(),
  };
}
