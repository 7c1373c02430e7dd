// The GraphQL server as a fetch handler (no listen), so tests call `yoga.fetch` directly.
// Authentication happens when the context is built: no valid credentials, no execution.
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { authenticateApiKey, bearerToken } from './auth/authenticate.js';
import { type Context, createContext } from './context.js';
import type { Database } from './db/client.js';
import { pendingMigrations } from './db/migrate.js';
import type { Logger } from './logger.js';
import { type OutboundTransport, recordOnlyTransport } from './messaging/transport.js';
import { useRejectNulCharacters } from './plugins/reject-nul.js';
import { requestIdOf, useRequestLog } from './plugins/request-log.js';
import { schema } from './schema/index.js';

export interface YogaOptions {
  db: Database;
  log: Logger;
  /** Serve GraphiQL on GET /graphql (never in production). */
  graphiql: boolean;
  /** An API key to pre-fill in GraphiQL's headers (development only). */
  graphiqlApiKey?: string | undefined;
  /** Set while the server drains on shutdown: /readyz answers 503 so load balancers move on. */
  isShuttingDown?: () => boolean;
  /** Delivery of sendMessage's messages (default: record only). */
  transport?: OutboundTransport;
}

export type WagraphYoga = YogaServerInstance<Record<string, never>, Context>;

const DEFAULT_QUERY = `# Welcome to wagraph. Every request acts as the member whose API key is in the
# Authorization header (pre-filled below when the server knows a demo key).
query Inbox {
  viewer { member { name } organization { name } }
  contacts(first: 5) {
    totalCount
    nodes { id name phone status createdAt }
    pageInfo { hasNextPage endCursor }
  }
}
`;

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } },
  });
}

export function createWagraphYoga(options: YogaOptions): WagraphYoga {
  const { db, log } = options;
  let migrated = false;
  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    logging: false,
    graphiql: options.graphiql
      ? {
          title: 'wagraph',
          defaultQuery: DEFAULT_QUERY,
          ...(options.graphiqlApiKey
            ? { headers: JSON.stringify({ Authorization: `Bearer ${options.graphiqlApiKey}` }) }
            : {}),
        }
      : false,
    renderGraphiQL,
    maskedErrors: {
      // Never echo an unexpected error's message or stack to the client (not even when
      // NODE_ENV=development); log it with the request id instead.
      isDev: false,
      maskError(error, message) {
        const original: unknown = error instanceof GraphQLError ? error.originalError : error;
        if (original !== undefined && !(original instanceof GraphQLError)) log.error({ err: original }, 'unexpected error');
        return maskError(error, message, false);
      },
    },
    context: async ({ request }) => {
      const token = bearerToken(request.headers.get('authorization'));
      if (!token) throw unauthenticated('Authentication required: send `Authorization: Bearer <api key>`.');
      const viewer = await authenticateApiKey(db.prisma, token);
      if (!viewer) throw unauthenticated('The API key is not valid (unknown or revoked).');
      const requestId = requestIdOf(request);
      return createContext({
        prisma: db.prisma,
        viewer,
        requestId,
        log: log.child({ requestId }),
        transport: options.transport ?? recordOnlyTransport,
      });
    },
    plugins: [
      useRequestLog(log),
      useRejectNulCharacters(),
      useReadinessCheck({
        endpoint: '/readyz',
        check: async () => {
          if (options.isShuttingDown?.()) return false;
          await db.prisma.$queryRaw`SELECT 1`;
          // Migrations are only ever applied, never undone: once seen complete, stop asking.
          migrated ||= (await pendingMigrations(db)).length === 0;
          return migrated;
        },
      }),
    ],
  });
}
