// The graphql-sse protocol on /graphql/stream, for clients of the `graphql-sse` library:
// its single-connection mode (PUT reserves a stream and answers its token, GET opens it,
// each POST carrying the token adds an operation whose results come on that stream, DELETE
// ends one) and its distinct-connections mode (a POST answered with its own stream). Yoga's
// built-in GraphQL over SSE stays on /graphql.
//
// Not @graphql-yoga/plugin-graphql-sse: it runs operations through `yoga.getEnveloped`, which
// skips the onParams hooks, so an operation there was never authenticated. Here every request
// to the path must carry a valid credential (401 otherwise, as on /graphql), and every
// operation is run as the POST to /graphql it stands for (src/transports/operation.ts), with
// its request's headers: the same plugins, the same answers, the same recheck of the credential.
import { GraphQLError } from 'graphql';
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import type { Plugin } from 'graphql-yoga';
import { isSubscription, tooManyOnConnection } from '../transports/connection-limit.js';
import { runOperation } from '../transports/operation.js';
import type { WagraphYoga } from '../yoga.js';
import type { RequestAuthenticator } from './authentication.js';

export const GRAPHQL_SSE_PATH = '/graphql/stream';

export interface GraphQLSseOptions {
  /** The server the operations are run through (the yoga this plugin is part of, once created). */
  yoga: () => WagraphYoga;
  authenticate: RequestAuthenticator;
  /** MAX_SUBSCRIPTIONS_PER_CONNECTION: operations one reserved stream may carry at once. */
  maxSubscriptionsPerConnection: number;
  /** MAX_TOKENS: the bound on telling a subscription from another operation. */
  maxTokens: number;
}

function refusal(error: GraphQLError): Response {
  const http = (error.extensions.http ?? {}) as { status?: number; headers?: Record<string, string> };
  return Response.json(
    { errors: [{ message: error.message, extensions: { code: error.extensions.code } }] },
    { status: http.status ?? 401, headers: http.headers ?? {} },
  );
}

export function useGraphQLSse(options: GraphQLSseOptions): Plugin {
  const serverContexts = new WeakMap<Request, unknown>();
  /** Operations running on each reserved stream, by its token. */
  const running = new Map<string, number>();
  let handler: ((request: Request) => Promise<Response>) | undefined;
  return {
    onYogaInit({ yoga }) {
      handler = createHandler(
        {
          async onSubscribe(req, params) {
            const request = req.raw;
            const token =
              request.headers.get(TOKEN_HEADER_KEY) ?? new URL(request.url).searchParams.get(TOKEN_QUERY_KEY);
            const subscription = isSubscription(params.query, params.operationName, options.maxTokens);
            let onEnd: (() => void) | undefined;
            if (subscription && token) {
              const held = running.get(token) ?? 0;
              if (held >= options.maxSubscriptionsPerConnection) {
                return { data: null, errors: [tooManyOnConnection(options.maxSubscriptionsPerConnection)] };
              }
              running.set(token, held + 1);
              onEnd = () => {
                const left = (running.get(token) ?? 1) - 1;
                if (left <= 0) running.delete(token);
                else running.set(token, left);
              };
            }
            const headers = new Headers(request.headers);
            // The protocol's own headers are not the operation's.
            headers.delete(TOKEN_HEADER_KEY);
            headers.delete('content-length');
            const result = await runOperation(options.yoga(), {
              params,
              headers,
              subscription,
              serverContext: serverContexts.get(request),
              onEnd,
            });
            // graphql-sse takes a result for one only when it has `data` (a refusal has none).
            return Symbol.asyncIterator in result || 'data' in result ? result : { data: null, ...result };
          },
        },
        yoga.fetchAPI,
      );
    },
    async onRequest({ request, url, serverContext, endResponse }) {
      if (url.pathname !== GRAPHQL_SSE_PATH || request.method === 'OPTIONS' || !handler) return;
      try {
        await options.authenticate(request, serverContext);
      } catch (error) {
        if (error instanceof GraphQLError) return endResponse(refusal(error));
        throw error;
      }
      serverContexts.set(request, serverContext);
      endResponse(await handler(request));
    },
  };
}
