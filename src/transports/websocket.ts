// GraphQL over WebSocket (the graphql-ws protocol, `graphql-transport-ws`) on /graphql of the
// HTTP server. A browser cannot set headers on a WebSocket, so the credential comes in the
// connection's `connectionParams` (`{ Authorization: 'Bearer …' }`, or `x-access-token`),
// checked once at connection_init; every operation is then run as the POST to /graphql it
// stands for, carrying that credential (./operation.ts), so that authentication (and its
// recheck every 2 s for a subscription), the rate limit, the allow-list, admission and the
// operation limits apply as they do over HTTP.
//
// Refused credentials close the socket with 4403 Forbidden and the reason (graphql-ws's code
// for a refused connection_init; its client retries it, e.g. with a refreshed JWT from a
// `connectionParams` function). A page of another origin than CORS_ORIGINS allows (and the
// server's own) is refused at the upgrade with 403. Pings every KEEP_ALIVE_MS keep proxies
// from closing a quiet connection and find dead peers; at shutdown every socket is closed
// with 1001 Going Away, which graphql-ws clients take as "reconnect".
import type { IncomingMessage } from 'node:http';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, parse } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';
import { originAllowed } from '../plugins/cors.js';
import { schema } from '../schema/index.js';
import { authenticatorOf, type WagraphYoga } from '../yoga.js';
import { isSubscription, tooManyOnConnection } from './connection-limit.js';
import { runOperation, type TransportOperation } from './operation.js';

export const WEBSOCKET_PATH = '/graphql';

/** Interval of the server's pings; a peer that has not answered one by the next is cut. */
export const KEEP_ALIVE_MS = 12_000;

/** How long sockets get to close after the Going Away frame, at shutdown. */
const CLOSE_GRACE_MS = 2_000;

export interface WebSocketOptions {
  yoga: WagraphYoga;
  log: Logger;
  /** MAX_SUBSCRIPTIONS_PER_CONNECTION. */
  maxSubscriptionsPerConnection: number;
  /** The largest message accepted (MAX_BODY_BYTES, as for a request body); a larger one closes the socket with 1009. */
  maxPayloadBytes: number;
  /** MAX_TOKENS: the bound on telling a subscription from another operation (./connection-limit.ts). */
  maxTokens: number;
  corsOrigins: readonly string[];
  corsLoopbackOrigins: boolean;
}

export interface WebSocketTransport {
  /** Refuses new sockets and closes the open ones with 1001 Going Away. */
  close(): Promise<void>;
}

/** What graphql-ws keeps of a connection (its context's `extra`). */
type ConnectionState = {
  socket: WebSocket;
  request: IncomingMessage;
  /** The headers each operation's request carries (set at connection_init). */
  headers?: Headers;
  subscriptions?: number;
};

/** Operations are run through the pipeline; graphql-ws only needs to know which kind each is. */
const SUBSCRIPTION = parse('subscription { __typename }');
const OPERATION = parse('query { __typename }');

/** The headers of the upgrade request that the operations' requests keep. */
const KEPT_HEADERS = ['x-forwarded-for', 'user-agent', 'authorization', 'x-access-token'];
const CREDENTIAL_PARAMS = new Set(['authorization', 'x-access-token']);

/** The headers an operation's request carries: the upgrade's, and the credential of connectionParams (names in any case). */
function operationHeaders(request: IncomingMessage, connectionParams: Readonly<Record<string, unknown>> | undefined) {
  const headers = new Headers();
  for (const name of KEPT_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  for (const [key, value] of Object.entries(connectionParams ?? {})) {
    if (CREDENTIAL_PARAMS.has(key.toLowerCase()) && typeof value === 'string') headers.set(key.toLowerCase(), value);
  }
  return headers;
}

/** A WebSocket close reason is at most 123 bytes. */
function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= 123
    ? text
    : `${bytes
        .subarray(0, 120)
        .toString()
        .replace(/\uFFFD+$/, '')}...`;
}

/** Answers an upgrade that is not taken, and closes the connection. */
function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

/** Whether a page of `origin` is the server's own: the Host it connected to. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function attachWebSocket(server: http.Server, options: WebSocketOptions): WebSocketTransport {
  const { yoga, log } = options;
  const authenticate = authenticatorOf(yoga);
  let closing = false;
  const sockets = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes, handleProtocols });
  const protocol = makeServer<Record<string, unknown>, ConnectionState>({
    schema,
    async onConnect(ctx) {
      const headers = operationHeaders(ctx.extra.request, ctx.connectionParams);
      try {
        await authenticate(new Request(`http://wagraph.internal${WEBSOCKET_PATH}`, { headers }), {
          req: ctx.extra.request,
        });
      } catch (error) {
        if (!(error instanceof GraphQLError)) {
          log.error({ err: error }, 'WebSocket connection_init failed');
          ctx.extra.socket.close(CloseCode.InternalServerError, 'Internal server error');
          return false;
        }
        ctx.extra.socket.close(CloseCode.Forbidden, closeReason(`Forbidden: ${error.message}`));
        return false;
      }
      ctx.extra.headers = headers;
      ctx.extra.subscriptions = 0;
      return true;
    },
    onSubscribe(ctx, _id, payload) {
      const subscription = isSubscription(payload.query, payload.operationName, options.maxTokens);
      if (subscription) {
        const held = ctx.extra.subscriptions ?? 0;
        if (held >= options.maxSubscriptionsPerConnection) {
          return [tooManyOnConnection(options.maxSubscriptionsPerConnection)];
        }
        ctx.extra.subscriptions = held + 1;
      }
      const operation: TransportOperation = {
        params: payload,
        headers: ctx.extra.headers ?? new Headers(),
        subscription,
        serverContext: { req: ctx.extra.request },
        onEnd: subscription ? () => (ctx.extra.subscriptions = (ctx.extra.subscriptions ?? 1) - 1) : undefined,
      };
      return { schema, document: subscription ? SUBSCRIPTION : OPERATION, contextValue: operation };
    },
    execute: (args) => runOperation(yoga, args.contextValue as TransportOperation),
    subscribe: (args) => runOperation(yoga, args.contextValue as TransportOperation),
  });

  // graphql-ws's own `useServer`, but logging through our logger (it writes to the console),
  // and never sending an internal error's message to the client.
  sockets.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    // ws closes the socket itself on these (1009 for a message over maxPayload, 1002 for a protocol error).
    socket.on('error', (error) => log.debug({ err: error }, 'WebSocket error'));
    let answered = true;
    const keepAlive = setInterval(() => {
      if (!answered) return socket.terminate();
      answered = false;
      socket.ping();
    }, KEEP_ALIVE_MS);
    socket.on('pong', () => {
      answered = true;
    });
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', async (data) => {
            try {
              await handle(String(data));
            } catch (error) {
              log.error({ err: error }, 'WebSocket message failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      void closed(code, String(reason));
    });
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? '/', 'http://wagraph.internal').pathname;
    if (path !== WEBSOCKET_PATH) return refuse(socket, 404, 'Not Found');
    if (closing) return refuse(socket, 503, 'Service Unavailable');
    const origin = request.headers.origin;
    if (
      origin !== undefined &&
      !sameOrigin(origin, request.headers.host) &&
      !originAllowed(origin, options.corsOrigins, { loopback: options.corsLoopbackOrigins })
    ) {
      return refuse(socket, 403, 'Forbidden');
    }
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request));
  });

  return {
    async close() {
      closing = true;
      const open = [...sockets.clients];
      for (const ws of open) ws.close(1001, 'Going away: the server is restarting; reconnect and resume with `after`');
      const cut = setTimeout(() => {
        for (const ws of open) ws.terminate();
      }, CLOSE_GRACE_MS);
      await Promise.all(
        open.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === ws.CLOSED) resolve();
              else ws.once('close', () => resolve());
            }),
        ),
      );
      clearTimeout(cut);
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
    },
  };
}
