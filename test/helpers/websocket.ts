// Clients of the other subscription transports for tests over real sockets: graphql-ws
// (GraphQL over WebSocket, `ws` as the WebSocket) and graphql-sse (its single-connection
// mode), each operation read as a queue of payloads like the SSE helper (./sse.ts).
import { createClient as createSseClient } from 'graphql-sse';
import { type Client, createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Payload {
  data?: any;
  errors?: { message: string; extensions?: any }[];
}

export interface Operation {
  /** The next result (an error message as `{ errors }`), or null once the operation ended; rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Payload | null>;
  take(count: number, timeoutMs?: number): Promise<Payload[]>;
  /** Ends the operation (graphql-ws `complete`). */
  close(): void;
}

interface Sink {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
}

/** A queue fed by a client's sink: results, errors (as payloads) and the end. */
function queued(start: (sink: Sink) => () => void): Operation {
  const queue: (Payload | null)[] = [];
  let wake: (() => void) | undefined;
  const push = (item: Payload | null) => {
    queue.push(item);
    wake?.();
  };
  const stop = start({
    next: (value) => push(value as Payload),
    error(error) {
      if (Array.isArray(error)) push({ errors: error });
      else if (error && typeof error === 'object' && 'code' in error)
        push({
          errors: [{ message: String((error as { reason?: string }).reason), extensions: { close: error.code } }],
        });
      else push({ errors: [{ message: String(error) }] });
      push(null);
    },
    complete: () => push(null),
  });
  const next: Operation['next'] = async (timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no subscription event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    return queue.shift() ?? null;
  };
  return {
    next,
    async take(count, timeoutMs = 5_000) {
      const taken: Payload[] = [];
      while (taken.length < count) {
        const payload = await next(timeoutMs);
        if (!payload) break;
        taken.push(payload);
      }
      return taken;
    },
    close: stop,
  };
}

/** A graphql-ws client of `url` (ws://…/graphql) that does not retry: a test sees every close. */
export function wsClient(url: string, connectionParams: Record<string, unknown> = {}): Client {
  return createWsClient({ url, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

export function wsOperation(client: Client, query: string, variables: Record<string, unknown> = {}): Operation {
  return queued((sink) => client.subscribe({ query, variables }, sink));
}

/** A graphql-sse client in single-connection mode (every operation on one stream). */
export function sseClient(url: string, headers: Record<string, string>) {
  return createSseClient({ url, headers, singleConnection: true, retryAttempts: 0 });
}

export function sseOperation(
  client: ReturnType<typeof sseClient>,
  query: string,
  variables: Record<string, unknown> = {},
): Operation {
  return queued((sink) => client.subscribe({ query, variables }, sink));
}

/** Opens a raw graphql-transport-ws socket, sends connection_init with `payload`, and resolves with how it ended or was acknowledged. */
export function connectionInit(
  url: string,
  payload: Record<string, unknown> | undefined,
  options: { origin?: string } = {},
): Promise<{ ack: boolean; code?: number; reason?: string; status?: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', options.origin ? { origin: options.origin } : {});
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload })));
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') {
        resolve({ ack: true });
        socket.close(1000);
      }
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve({ ack: false, status: response.statusCode });
      socket.terminate();
    });
    socket.on('error', () => {});
    socket.on('close', (code, reason) => resolve({ ack: false, code, reason: String(reason) }));
  });
}
