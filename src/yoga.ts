// The GraphQL server as a fetch handler (no listen), so tests call `yoga.fetch` directly.
// A GraphQL request passes, in order: Yoga's body-size limit and batching refusal, the
// throttle of addresses that keep presenting refused credentials (429), authentication (no
// valid credentials: 401, before the document is even parsed), the rate limit (member and
// organization), the persisted-operation allow-list, the document size limit, admission (a
// slot among MAX_CONCURRENT_REQUESTS, shared fairly between organizations), parsing and
// validation with the operation limits, the page-cost limit, and only then execution.
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { isIPv4 } from 'node:net';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { defaultMaxPerKey } from './admission/fair-queue.js';
import type { JwtSettings } from './auth/jwt.js';
import { DEFAULT_WHATSAPP_API_URL } from './config.js';
import { type Context, createContext } from './context.js';
import type { Database } from './db/client.js';
import { createPoolShares } from './db/connection-share.js';
import { ping } from './db/health.js';
import { isStatementTimeout } from './errors.js';
import { pendingMigrations } from './db/migrate.js';
import type { Logger } from './logger.js';
import {
  recheckOf,
  type RequestAuthenticator,
  requestAuthenticator,
  useAuthentication,
  viewerOf,
} from './plugins/authentication.js';
import { useMedia } from './plugins/media.js';
import { GRAPHQL_SSE_PATH, useGraphQLSse } from './plugins/graphql-sse.js';
import { DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION } from './transports/connection-limit.js';
import { EventHub } from './events/hub.js';
import { type LiveSubscriptions, type SubscriptionLimitSettings, SubscriptionSlots } from './events/subscriptions.js';
import { useCompressedPages } from './plugins/compress-page.js';
import { corsPolicy, useVaryOnOrigin } from './plugins/cors.js';
import { createDocumentCache, type DocumentCache } from './plugins/document-cache.js';
import { DEFAULT_LIMITS, type OperationLimits, useOperationLimits } from './plugins/limits.js';
import { type OperationManifest, useOperationAllowList } from './plugins/persisted-operations.js';
import { useRateLimit } from './plugins/rate-limit.js';
import { concurrencyLimit, useConcurrencyLimit } from './plugins/concurrency.js';
import { DEFAULT_MAX_CONNECTIONS_PER_REQUEST, useConnectionShare } from './plugins/connection-share.js';
import { useNotFound } from './plugins/not-found.js';
import { useRejectNulCharacters } from './plugins/reject-nul.js';
import { requestIdOf, useRequestLog } from './plugins/request-log.js';
import { AuthFailureThrottle } from './rate-limit/auth-failures.js';
import { useWellFormedStrings } from './plugins/well-formed-strings.js';
import { useWhatsAppWebhook, WHATSAPP_WEBHOOK_PATH } from './plugins/whatsapp-webhook.js';
import type { RateLimiter } from './rate-limit/index.js';
import { schema } from './schema/index.js';
import type { SecretBox } from './secrets.js';

export interface YogaOptions {
  db: Database;
  log: Logger;
  /** Serve GraphiQL on GET /graphql (GRAPHIQL; off by default in production). */
  graphiql: boolean;
  /**
   * An API key to pre-fill in GraphiQL's headers (development only), for clients connected
   * from this machine only (the socket's address; a forwarded-for header counts for nothing).
   */
  graphiqlApiKey?: string | undefined;
  /** Set while the server drains on shutdown: /readyz answers 503 so load balancers move on. */
  isShuttingDown?: () => boolean;
  /** Seals and opens the WhatsApp channels' secrets (SECRETS_KEY); unset: channels cannot be connected or verified. */
  secrets?: SecretBox | undefined;
  /** The largest WhatsApp webhook delivery read (WEBHOOK_MAX_BODY_BYTES); default DEFAULT_WEBHOOK_MAX_BODY_BYTES. */
  webhookMaxBodyBytes?: number;
  /** Webhook deliveries that no channel's signature vouches for, stored per minute; default UNVERIFIED_STORED_PER_MINUTE. */
  webhookUnverifiedPerMinute?: number;
  /** The change feed's live side (src/events/hub.ts); default: an in-memory hub of this yoga's own. */
  eventHub?: EventHub;
  /** MAX_SUBSCRIPTIONS_PER_MEMBER / _PER_ORGANIZATION; default DEFAULT_SUBSCRIPTION_LIMITS. */
  subscriptionLimits?: SubscriptionLimitSettings;
  /** MAX_SUBSCRIPTIONS_PER_CONNECTION, for a graphql-sse stream; default DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION. */
  maxSubscriptionsPerConnection?: number;
  /** WHATSAPP_API_URL: where media files are fetched. Default DEFAULT_WHATSAPP_API_URL. */
  whatsappApiUrl?: string;
  /** The largest media file served by /media (MEDIA_MAX_BYTES). Default DEFAULT_MEDIA_MAX_BYTES. */
  mediaMaxBytes?: number;
  /** How long the Cloud API may keep /media waiting. Default DEFAULT_MEDIA_TIMEOUT_MS. */
  mediaTimeoutMs?: number;
  /** JWT_SECRET and the expected issuer and audience; unset: only API keys are accepted. */
  jwt?: JwtSettings | undefined;
  /** Default: DEFAULT_LIMITS. */
  limits?: OperationLimits;
  /** Default: true. */
  introspection?: boolean;
  /** "Did you mean …" in validation errors. Default: true. */
  fieldSuggestions?: boolean;
  /** Allow-list mode: only these operations run. */
  persistedOperations?: OperationManifest | undefined;
  /** Unset: no rate limiting. */
  rateLimiter?: RateLimiter | undefined;
  /** Refused credentials per client address and minute (AUTH_FAILURES_PER_MINUTE); unset or 0: not throttled. */
  authFailuresPerMinute?: number;
  /** TRUST_PROXY: proxies in front whose X-Forwarded-For entries are believed. Default 0. */
  trustProxy?: number;
  /** Active API keys per member (MAX_API_KEYS_PER_MEMBER). Default 10. */
  maxApiKeysPerMember?: number;
  /** Origins allowed cross-origin access; none by default. */
  corsOrigins?: readonly string[];
  /** Also allow every loopback origin (development's default). Default: false. */
  corsLoopbackOrigins?: boolean;
  /** GraphQL requests executing at once; the others wait (MAX_CONCURRENT_REQUESTS). Unset or 0: no limit. */
  maxConcurrentRequests?: number;
  /** Parsed documents kept for reuse, bounded in bytes. Default: a new DEFAULT_DOCUMENT_CACHE. */
  documentCache?: DocumentCache;
  /** Of those, at most this many from one organization (MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION). Default: half, at least 1. */
  maxConcurrentRequestsPerOrganization?: number;
  /** Statements one request may run on the pool at once (DB_MAX_CONNECTIONS_PER_REQUEST). Default: 2. */
  maxConnectionsPerRequest?: number;
  /**
   * The pool's connections and one organization's share of them (DB_POOL_SIZE,
   * DB_MAX_CONNECTIONS_PER_ORGANIZATION): statements wait for a connection in a queue that
   * is fair between organizations. Unset: no pool-wide bound.
   */
  poolShare?: { connections: number; perOrganization: number };
}

export type WagraphYoga = YogaServerInstance<Record<string, never>, Context>;

/** What Node's HTTP server hands Yoga with each request (nothing under `yoga.fetch`). */
interface NodeServerContext {
  req?: { socket?: { remoteAddress?: string | undefined } };
}

/** 127.0.0.0/8 and ::1, also written as IPv4-mapped IPv6 (::ffff:127.0.0.1). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const ipv4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || (isIPv4(ipv4) && ipv4.startsWith('127.'));
}

const DEFAULT_QUERY = `# Welcome to wagraph. Every request acts as the member whose API key is in the
# Authorization header (pre-filled below, in development, when you opened this page
# from the machine the server runs on).
query Inbox {
  viewer { member { name } organization { name } }
  contacts(first: 5) {
    totalCount
    nodes { id name phone status createdAt }
    pageInfo { hasNextPage endCursor }
  }
}
`;

const authenticators = new WeakMap<WagraphYoga, RequestAuthenticator>();

/**
 * The authenticator of `yoga`'s requests, for a transport that checks a credential before
 * any request is made (a WebSocket's connection_init, src/transports/websocket.ts): the same
 * checks, and the same throttle of refused credentials.
 */
export function authenticatorOf(yoga: WagraphYoga): RequestAuthenticator {
  const authenticate = authenticators.get(yoga);
  if (!authenticate) throw new Error('Not a yoga of createWagraphYoga');
  return authenticate;
}

export function createWagraphYoga(options: YogaOptions): WagraphYoga {
  const { db, log } = options;
  const corsOrigins = options.corsOrigins ?? [];
  let migrated = false;
  // One authenticator (and one throttle of refused credentials) for /graphql and /media.
  const authenticate = requestAuthenticator({
    database: db,
    jwt: options.jwt,
    log,
    failures: options.authFailuresPerMinute ? new AuthFailureThrottle(options.authFailuresPerMinute) : undefined,
    trustProxy: options.trustProxy,
  });
  const poolShares =
    options.poolShare && createPoolShares(options.poolShare.connections, options.poolShare.perOrganization);
  const subscriptions: LiveSubscriptions = {
    hub: options.eventHub ?? new EventHub({ db, log }),
    slots: new SubscriptionSlots(options.subscriptionLimits),
    shuttingDown: options.isShuttingDown,
  };
  const limits = options.limits ?? DEFAULT_LIMITS;
  const yoga: WagraphYoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    logging: false,
    // Said explicitly because they are security settings: one operation per request, and
    // a body over the limit is refused with 413 before it is read further.
    batching: false,
    maxRequestBodySize: limits.maxBodyBytes,
    // Yoga's own parse cache is bounded only in entries (./plugins/document-cache.ts).
    parserAndValidationCache: options.documentCache ?? createDocumentCache(),
    cors: corsPolicy(corsOrigins, { loopback: options.corsLoopbackOrigins ?? false }),
    graphiql: options.graphiql
      ? (_request, serverContext?: NodeServerContext) => {
          // The page is served to anyone who reaches the port: a credential goes only into
          // the page of a client on this machine.
          const headers =
            options.graphiqlApiKey && isLoopback(serverContext?.req?.socket?.remoteAddress)
              ? JSON.stringify({ Authorization: `Bearer ${options.graphiqlApiKey}` })
              : undefined;
          return {
            title: 'wagraph',
            defaultQuery: DEFAULT_QUERY,
            // GraphiQL restores the tabs of the last visit from the browser's storage and, when
            // none matches the page's query and headers, opens an empty one: on a reload after a
            // restart, running it answered a syntax error. Naming the query selects the default
            // tab again (or opens it anew beside the developer's own tabs), and the headers given
            // as initial ones replace a stored key that a new data directory made stale.
            query: DEFAULT_QUERY,
            ...(headers ? { headers, initialHeaders: headers } : {}),
          };
        }
      : false,
    // GraphiQL's bundle is 30 MB of strings in memory: loaded only when it is first served.
    renderGraphiQL: async (graphiqlOptions) =>
      (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(graphiqlOptions),
    maskedErrors: {
      // Never echo an unexpected error's message or stack to the client (not even when
      // NODE_ENV=development); log it with the request id instead.
      isDev: false,
      maskError(error, message) {
        const original: unknown = error instanceof GraphQLError ? error.originalError : error;
        // Not a bug but a query too heavy for DB_STATEMENT_TIMEOUT_MS: say so, so that the
        // client asks for less instead of retrying the same thing.
        if (isStatementTimeout(original)) {
          log.warn({ err: original }, 'statement timeout');
          return new GraphQLError(
            'The query took longer than the server allows and was cancelled: ask for less (a narrower filter, smaller pages, fewer counts).',
            {
              ...(error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {}),
              extensions: { code: 'QUERY_TIMEOUT' },
            },
          );
        }
        if (original !== undefined && !(original instanceof GraphQLError))
          log.error({ err: original }, 'unexpected error');
        return maskError(error, message, false);
      },
    },
    context: ({ request }) => {
      const requestId = requestIdOf(request);
      return createContext({
        database: db,
        viewer: viewerOf(request),
        recheck: recheckOf(request),
        subscriptions,
        requestId,
        log: log.child({ requestId }),
        maxApiKeysPerMember: options.maxApiKeysPerMember,
        secrets: options.secrets,
        maxConnections: options.maxConnectionsPerRequest ?? DEFAULT_MAX_CONNECTIONS_PER_REQUEST,
        poolShares,
      });
    },
    plugins: [
      useRequestLog(log),
      // Before the GraphQL pipeline (and its authentication): Meta authenticates otherwise.
      useWhatsAppWebhook({
        db,
        log,
        secrets: options.secrets,
        maxBodyBytes: options.webhookMaxBodyBytes,
        unverifiedStoredPerMinute: options.webhookUnverifiedPerMinute,
      }),
      useMedia({
        db,
        log,
        authenticate,
        rateLimiter: options.rateLimiter,
        secrets: options.secrets,
        apiUrl: options.whatsappApiUrl ?? DEFAULT_WHATSAPP_API_URL,
        maxBytes: options.mediaMaxBytes,
        timeoutMs: options.mediaTimeoutMs,
      }),
      useGraphQLSse({
        yoga: () => yoga,
        authenticate,
        maxSubscriptionsPerConnection:
          options.maxSubscriptionsPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
        maxTokens: limits.maxTokens,
      }),
      useNotFound(['/graphql', GRAPHQL_SSE_PATH, '/healthz', '/readyz', WHATSAPP_WEBHOOK_PATH]),
      ...(options.graphiql ? [useCompressedPages()] : []),
      ...(corsOrigins.length > 0 || options.corsLoopbackOrigins ? [useVaryOnOrigin()] : []),
      // The plugins that run on the GraphQL parameters run in this order, authentication first.
      useAuthentication(authenticate),
      useConnectionShare(),
      ...(options.rateLimiter ? [useRateLimit(options.rateLimiter)] : []),
      // Needs the viewer; takes its slot only after every onParams hook has passed.
      ...(options.maxConcurrentRequests
        ? [
            useConcurrencyLimit(
              concurrencyLimit(
                options.maxConcurrentRequests,
                options.maxConcurrentRequestsPerOrganization ?? defaultMaxPerKey(options.maxConcurrentRequests),
              ),
            ),
          ]
        : []),
      useRejectNulCharacters(),
      useWellFormedStrings(),
      ...(options.persistedOperations ? useOperationAllowList(options.persistedOperations) : []),
      useReadinessCheck({
        endpoint: '/readyz',
        check: async () => {
          if (options.isShuttingDown?.()) return false;
          await ping(db);
          // Migrations are only ever applied, never undone: once seen complete, stop asking.
          migrated ||= (await pendingMigrations(db)).length === 0;
          return migrated;
        },
      }),
      ...(options.introspection === false ? [useDisableIntrospection()] : []),
      ...useOperationLimits(limits, { fieldSuggestions: options.fieldSuggestions ?? true }),
    ],
  });
  authenticators.set(yoga, authenticate);
  return yoga;
}
