// One GraphQL operation that arrived over a transport other than a plain HTTP request (a
// graphql-ws message on a WebSocket, a graphql-sse single-connection stream), run as the
// request it stands for: a POST to /graphql through Yoga's whole pipeline. Yoga's own
// graphql-ws and graphql-sse recipes (`yoga.getEnveloped`) skip its onRequest and onParams
// hooks, and with them authentication, the rate limit, the persisted-operation allow-list and
// admission; this way every plugin applies, in the same order, with the same answers.
//
// A subscription asks for `text/event-stream` (Yoga's GraphQL over SSE), read back here into
// its results; anything else asks for JSON. An answer the pipeline refused (401, 413, 429 …)
// becomes one result with its errors.
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { WagraphYoga } from '../yoga.js';

export interface OperationParams {
  query?: string | undefined;
  operationName?: string | null | undefined;
  variables?: Record<string, unknown> | null | undefined;
  extensions?: Record<string, unknown> | null | undefined;
}

export interface TransportOperation {
  params: OperationParams;
  /** The headers the request would have carried: the credential, X-Forwarded-For, X-Request-Id … */
  headers: Headers;
  /** Whether the operation is a subscription (a stream of results) rather than one result. */
  subscription: boolean;
  /** Node's server context of the connection it arrived on (its socket's address counts for authentication failures). */
  serverContext: unknown;
  /** Called once when the operation's last result was read, it failed, or it was ended. */
  onEnd?: () => void;
}

/** The URL the operation is run at; only its path matters to Yoga. */
const ENDPOINT = 'http://wagraph.internal/graphql';

/**
 * A GraphQL error of a result read from JSON: graphql-ws serialises errors with `toJSON()`,
 * so each becomes a GraphQLError again that serialises to exactly what the pipeline answered.
 */
function revive(error: GraphQLFormattedError): GraphQLError {
  const revived = new GraphQLError(error.message, {
    ...(error.path ? { path: error.path } : {}),
    ...(error.extensions ? { extensions: error.extensions } : {}),
  });
  revived.toJSON = () => error;
  return revived;
}

function resultOf(body: unknown, status: number): ExecutionResult {
  const result = (typeof body === 'object' && body !== null ? body : {}) as {
    data?: Record<string, unknown> | null;
    errors?: GraphQLFormattedError[];
    extensions?: Record<string, unknown>;
  };
  if (!Array.isArray(result.errors) && status >= 400) {
    return { errors: [revive({ message: `The request was refused (HTTP ${status}).` })] };
  }
  return {
    ...(result.data !== undefined ? { data: result.data } : {}),
    ...(Array.isArray(result.errors) ? { errors: result.errors.map(revive) } : {}),
    ...(result.extensions ? { extensions: result.extensions } : {}),
  };
}

/** The `next` results of a GraphQL-over-SSE response, until its `complete` or its end. */
async function* sseResults(response: Response): AsyncGenerator<ExecutionResult> {
  const reader = response.body?.getReader();
  if (!reader) return;
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      buffer += decoder.decode(chunk.value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of message.split('\n')) {
          // Lines starting with ':' are Yoga's keep-alive comments.
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (event === 'complete') return;
        if (event === 'next' && data.length > 0) yield resultOf(JSON.parse(data.join('\n')), 200);
      }
    }
  } finally {
    // Ends the stream on the server's side too (Yoga stops the subscription).
    void reader.cancel().catch(() => {});
  }
}

/**
 * Runs the operation through `yoga`: one result for a query or mutation (or for a
 * subscription the pipeline refused), else the subscription's results as they come.
 * Ending the returned iterator (`return()`), even before it was first read, aborts the request.
 */
export async function runOperation(
  yoga: WagraphYoga,
  operation: TransportOperation,
): Promise<ExecutionResult | AsyncGenerator<ExecutionResult>> {
  const abort = new AbortController();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    abort.abort();
    operation.onEnd?.();
  };
  const headers = new Headers(operation.headers);
  headers.set('content-type', 'application/json');
  headers.set(
    'accept',
    operation.subscription ? 'text/event-stream' : 'application/graphql-response+json, application/json',
  );
  let response: Response;
  try {
    const request = new Request(ENDPOINT, {
      method: 'POST',
      headers,
      body: JSON.stringify(operation.params),
      signal: abort.signal,
    });
    response = await yoga.handleRequest(request, operation.serverContext as Record<string, never>);
  } catch (error) {
    end();
    throw error;
  }
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    try {
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return resultOf(body, response.status);
    } finally {
      end();
    }
  }
  let started = false;
  const results = sseResults(response);
  // An iterator object rather than a generator: a generator's `finally` does not run when it
  // is ended before it started, and graphql-ws ends operations that way.
  const stream: AsyncGenerator<ExecutionResult> = {
    async next() {
      started = true;
      try {
        const result = await results.next();
        if (result.done) end();
        return result;
      } catch (error) {
        end();
        throw error;
      }
    },
    async return(value) {
      end();
      if (started) await results.return(undefined);
      else await response.body?.cancel().catch(() => {});
      return { done: true, value };
    },
    async throw(error) {
      await this.return(undefined);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return stream;
}
