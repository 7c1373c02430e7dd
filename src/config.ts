// Every setting wagraph reads from the environment, read once and validated.
// `loadConfig` is pure (it takes the environment as an argument) so that tests can
// check each rule; src/server.ts turns a ConfigError into one line and exit code 1.
import { z } from 'zod';
import type { JwtSettings } from './auth/jwt.js';
import { defaultMaxPerKey } from './admission/fair-queue.js';
import { DEFAULT_LIMITS, type OperationLimits } from './plugins/limits.js';
import { type OperationManifest, readOperationManifest } from './plugins/persisted-operations.js';
import { parseSecretsKey } from './secrets.js';
import { DEFAULT_EVENT_RETENTION_DAYS } from './events/retention.js';
import { DEFAULT_SUBSCRIPTION_LIMITS, type SubscriptionLimitSettings } from './events/subscriptions.js';
import { DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION } from './transports/connection-limit.js';
import { DEFAULT_MEDIA_MAX_BYTES, SEND_MAX_ATTEMPTS, SEND_TIMEOUT_MS } from './whatsapp/cloud-api.js';
import { DEFAULT_WEBHOOK_MAX_BODY_BYTES } from './whatsapp/deliveries.js';
import {
  DEFAULT_MESSAGES_PER_SECOND,
  DEFAULT_PAIR_BURST,
  DEFAULT_PAIR_INTERVAL_MS,
  MAX_MESSAGES_PER_SECOND,
  type SendLimitSettings,
} from './whatsapp/send-limits.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const positiveInt = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, `must be between 1 and ${max}`)
    .max(max, `must be between 1 and ${max}`);

const nonNegativeInt = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, `must be between 0 and ${max}`)
    .max(max, `must be between 0 and ${max}`);

const bool = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true');

// TRUST_PROXY: how many proxies in front of wagraph append to X-Forwarded-For. "true" is one.
const trustProxy = z
  .string()
  .regex(/^(true|false|\d{1,2})$/, 'must be true, false or a number of proxies (0-99)')
  .transform((value) => (value === 'true' ? 1 : value === 'false' ? 0 : Number(value)));

const postgresUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { error: 'must be a postgres:// or postgresql:// URL with a host, e.g. postgres://user@127.0.0.1:5432/wagraph' },
);

const redisUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { error: 'must be a redis:// or rediss:// URL with a host, e.g. redis://127.0.0.1:6379' },
);

/** The default WHATSAPP_API_URL: Meta's Graph API, with the version the payloads follow. */
export const DEFAULT_WHATSAPP_API_URL = 'https://graph.facebook.com/v21.0';

// A base URL with a path (the Graph API version); kept without its trailing slash, so that
// `${base}/${phoneNumberId}/messages` is one join.
const apiBaseUrl = z
  .string()
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (
          (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '' && !url.search && !url.hash
        );
      } catch {
        return false;
      }
    },
    { error: 'must be an http:// or https:// URL without query or fragment, e.g. https://graph.facebook.com/v21.0' },
  )
  .transform((value) => value.replace(/\/+$/, ''));

const originList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
  )
  .refine(
    (origins) =>
      origins.every((origin) => {
        try {
          const url = new URL(origin);
          return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
        } catch {
          return false;
        }
      }),
    {
      error: 'must be a comma-separated list of origins (scheme://host[:port], no path), e.g. https://app.example.com',
    },
  );

// A credential with dots is read as a JWT (src/auth/credentials.ts), so a demo key must not have any.
// 32 characters: the API shows the first few of every key to whoever may list keys
// (src/auth/api-keys.ts), and what stays unknown must still be far beyond guessing.
const demoKey = z
  .string()
  .min(32, 'must be at least 32 characters long')
  .refine((value) => !value.includes('.'), { error: 'must not contain "." (a dotted credential is read as a JWT)' });

/** The organization-wide rate budget, unless set: as many members as this at their full budget. */
export const ORGANIZATION_BUDGET_MEMBERS = 5;

const secretsKey = z.string().transform((value, context) => {
  const key = parseSecretsKey(value);
  if (!key) {
    context.addIssue({
      code: 'custom',
      message: 'must be 32 bytes written as 64 hex digits or as base64 (e.g. the output of `openssl rand -base64 32`)',
    });
    return z.NEVER;
  }
  return key;
});

/** Variables whose value must never be printed, not even in a start-up error. */
const SECRETS = new Set(['JWT_SECRET', 'SECRETS_KEY', 'SECRETS_KEY_PREVIOUS']);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(4000),
  HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
  DB_POOL_SIZE: positiveInt(1000).default(10),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  DEMO_API_KEY: demoKey.optional(),
  DEMO_API_KEY_2: demoKey.optional(),
  SEED_DEMO_DATA: bool.optional(),
  // HS256 needs a key of at least 256 bits (RFC 7518 §3.2).
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters long').optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  JWT_MAX_LIFETIME_SECONDS: positiveInt(31_536_000).default(86_400),
  DB_STATEMENT_TIMEOUT_MS: nonNegativeInt(3_600_000).default(10_000),
  MAX_DEPTH: positiveInt(1000).default(DEFAULT_LIMITS.maxDepth),
  MAX_ALIASES: positiveInt(1000).default(DEFAULT_LIMITS.maxAliases),
  MAX_DIRECTIVES: positiveInt(1000).default(DEFAULT_LIMITS.maxDirectives),
  MAX_TOKENS: positiveInt(1_000_000).default(DEFAULT_LIMITS.maxTokens),
  MAX_DOCUMENT_BYTES: positiveInt(100_000_000).default(DEFAULT_LIMITS.maxDocumentBytes),
  MAX_FIELDS: positiveInt(1_000_000).default(DEFAULT_LIMITS.maxFields),
  MAX_COST: positiveInt(1_000_000_000).default(DEFAULT_LIMITS.maxCost),
  MAX_BODY_BYTES: positiveInt(100_000_000).default(DEFAULT_LIMITS.maxBodyBytes),
  WEBHOOK_MAX_BODY_BYTES: positiveInt(100_000_000).default(DEFAULT_WEBHOOK_MAX_BODY_BYTES),
  INTROSPECTION: bool.optional(),
  GRAPHIQL: bool.optional(),
  PERSISTED_OPERATIONS: z.string().optional(),
  CORS_ORIGINS: originList.optional(),
  RATE_LIMIT_PER_MINUTE: nonNegativeInt(1_000_000).default(600),
  RATE_LIMIT_BURST: positiveInt(1_000_000).default(100),
  // Unset: ORGANIZATION_BUDGET_MEMBERS times the member's budget.
  RATE_LIMIT_ORGANIZATION_PER_MINUTE: nonNegativeInt(100_000_000).optional(),
  RATE_LIMIT_ORGANIZATION_BURST: positiveInt(100_000_000).optional(),
  MAX_API_KEYS_PER_MEMBER: positiveInt(1_000).default(10),
  AUTH_FAILURES_PER_MINUTE: nonNegativeInt(1_000_000).default(30),
  TRUST_PROXY: trustProxy.default(0),
  REDIS_URL: redisUrl.optional(),
  // Unset: twice the pool, enough to keep every connection busy.
  MAX_CONCURRENT_REQUESTS: nonNegativeInt(100_000).optional(),
  // Unset: half of MAX_CONCURRENT_REQUESTS (at least 1).
  MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION: positiveInt(100_000).optional(),
  // Slow clients: the request line and headers, then the whole request, must arrive within these.
  HEADERS_TIMEOUT_MS: positiveInt(3_600_000).default(10_000),
  REQUEST_TIMEOUT_MS: positiveInt(3_600_000).default(30_000),
  // Unset: a quarter of the pool (at least 1).
  DB_MAX_CONNECTIONS_PER_REQUEST: positiveInt(1000).optional(),
  // Unset: half of the pool, rounded up.
  DB_MAX_CONNECTIONS_PER_ORGANIZATION: positiveInt(1000).optional(),
  // Seals the WhatsApp channels' secrets (src/secrets.ts); the previous key only opens, during a rotation.
  SECRETS_KEY: secretsKey.optional(),
  SECRETS_KEY_PREVIOUS: secretsKey.optional(),
  WORKERS: z.enum(['in-process', 'off'], { error: 'must be in-process or off' }).default('in-process'),
  WORKER_CONCURRENCY: positiveInt(100).default(4),
  EVENT_RETENTION_DAYS: positiveInt(3650).default(DEFAULT_EVENT_RETENTION_DAYS),
  // Live subscriptions held at once on one instance (src/events/subscriptions.ts), and on one
  // WebSocket or graphql-sse stream (src/transports/connection-limit.ts).
  MAX_SUBSCRIPTIONS_PER_MEMBER: positiveInt(100_000).default(DEFAULT_SUBSCRIPTION_LIMITS.perMember),
  MAX_SUBSCRIPTIONS_PER_ORGANIZATION: positiveInt(1_000_000).default(DEFAULT_SUBSCRIPTION_LIMITS.perOrganization),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: positiveInt(1_000).default(DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION),
  // Unset: Meta's (DEFAULT_WHATSAPP_API_URL), or in development with the simulator, its fake.
  WHATSAPP_API_URL: apiBaseUrl.optional(),
  MEDIA_MAX_BYTES: positiveInt(2_000_000_000).default(DEFAULT_MEDIA_MAX_BYTES),
  WHATSAPP_SEND_TIMEOUT_MS: positiveInt(300_000).default(SEND_TIMEOUT_MS),
  WHATSAPP_SEND_MAX_ATTEMPTS: positiveInt(100).default(SEND_MAX_ATTEMPTS),
  // WhatsApp's rate limits (src/whatsapp/send-limits.ts); a channel's own messagesPerSecond wins.
  WHATSAPP_MESSAGES_PER_SECOND: positiveInt(MAX_MESSAGES_PER_SECOND).default(DEFAULT_MESSAGES_PER_SECOND),
  WHATSAPP_PAIR_INTERVAL_MS: positiveInt(3_600_000).default(DEFAULT_PAIR_INTERVAL_MS),
  WHATSAPP_PAIR_BURST: positiveInt(1_000).default(DEFAULT_PAIR_BURST),
  // Unset: on in development (the embedded database's demo channel only), off otherwise.
  SIMULATOR: z.enum(['on', 'off'], { error: 'must be on or off' }).optional(),
});

type Env = z.infer<typeof schema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  /** Unset: the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolSize: number;
  logLevel: Env['LOG_LEVEL'];
  demoApiKeys: [string | undefined, string | undefined];
  /** Seed the demo organizations into an empty database at start-up (default: not in production). */
  seedDemoData: boolean;
  /** HS256 secret for `Authorization: Bearer <JWT>` and the `iss`/`aud` it must carry; unset: JWTs are refused. */
  jwt: JwtSettings | undefined;
  /** PostgreSQL `statement_timeout` of request connections; 0: none. */
  dbStatementTimeoutMs: number;
  limits: OperationLimits;
  /** The largest WhatsApp webhook delivery read; a larger body is answered 413. */
  webhookMaxBodyBytes: number;
  introspection: boolean;
  graphiql: boolean;
  /** "Did you mean …" in validation errors: they reveal the schema, so only where introspection does too. */
  fieldSuggestions: boolean;
  /** Allow-list mode: only these operations run. */
  persistedOperations: OperationManifest | undefined;
  /** Origins allowed to call the API from a browser; empty: none. */
  corsOrigins: string[];
  /** Loopback origins (http://localhost:5173, …) allowed too: in development only. */
  corsLoopbackOrigins: boolean;
  /**
   * Per member: `perMinute` 0: no rate limiting. Per organization, on top:
   * `organizationPerMinute` 0: no ceiling. `redisUrl` set: budgets shared by every instance.
   */
  rateLimit: {
    perMinute: number;
    burst: number;
    organizationPerMinute: number;
    organizationBurst: number;
    redisUrl: string | undefined;
  };
  /** Active (unrevoked) API keys one member may hold. */
  maxApiKeysPerMember: number;
  /** Refused credentials per client address and minute before the address is refused outright; 0: no limit. */
  authFailuresPerMinute: number;
  /** Proxies in front of the server whose X-Forwarded-For entries are believed (0: none). */
  trustProxy: number;
  /** GraphQL requests executing at once (the rest wait their turn); 0: no limit. */
  maxConcurrentRequests: number;
  /** Of those, at most this many from one organization. */
  maxConcurrentRequestsPerOrganization: number;
  /** The request line and headers must arrive within this (else 408 and the connection is closed). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (else 408 and the connection is closed). */
  requestTimeoutMs: number;
  /** Statements of one request that may hold a pool connection at once; the others wait inside the request. */
  maxConnectionsPerRequest: number;
  /** Pool connections one organization's statements may hold at once; the others wait their turn, fairly between organizations. */
  maxConnectionsPerOrganization: number;
  /**
   * SECRETS_KEY and SECRETS_KEY_PREVIOUS. `current` is required in production; elsewhere,
   * unset, a key kept in DATA_DIR is used (src/db/development-key.ts).
   */
  secretsKey: { current: Buffer | undefined; previous: Buffer | undefined };
  /** `in-process`: the gateway runs background jobs too; `off`: only `npm run worker` processes do. */
  workers: Env['WORKERS'];
  /** Jobs one process (gateway or `npm run worker`) runs at once; each has a connection of its own on PostgreSQL. */
  workerConcurrency: number;
  /** Days the change feed keeps its events (Query.events, subscriptions' `after`). */
  eventRetentionDays: number;
  /** Live subscriptions one member, and one organization, may hold on one instance. */
  subscriptionLimits: SubscriptionLimitSettings;
  /** Subscriptions one WebSocket or graphql-sse stream may carry at once. */
  maxSubscriptionsPerConnection: number;
  /**
   * The WhatsApp Cloud API's base URL, version included, without a trailing slash: where
   * media files are fetched and outbound messages sent. Tests point it at a fake, never at Meta.
   */
  whatsappApiUrl: string;
  /**
   * Whether WHATSAPP_API_URL was set: when it was not, `npm start` with the simulator runs the
   * fake Cloud API (src/whatsapp/fake-cloud-api.ts) and uses it instead of Meta's.
   */
  whatsappApiUrlSet: boolean;
  /** The largest media file GET /media/{messageId} serves (src/plugins/media.ts). */
  mediaMaxBytes: number;
  /** How long a send to the Cloud API may take before its outcome is unknown (src/whatsapp/outbound.ts). */
  whatsappSendTimeoutMs: number;
  /** Attempts at a send that fails retryably before the message is FAILED. */
  whatsappSendMaxAttempts: number;
  /**
   * WhatsApp's rate limits the workers keep (src/whatsapp/send-limits.ts): the default
   * throughput of a channel, and the pair rate to one recipient. Shared through REDIS_URL
   * (`rateLimit.redisUrl`) when it is set.
   */
  whatsappSendLimits: SendLimitSettings;
  /**
   * Whether `npm start` plays WhatsApp users on the demo channel (src/whatsapp/simulator.ts)
   * so that messages arrive: only in development on the embedded database, where the demo
   * channel is seeded.
   */
  simulator: boolean;
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most twelve-factor tooling.
  const present = Object.fromEntries(
    Object.entries(environment).filter(([key, value]) => key in schema.shape && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    // zod reports at least one issue for a failed parse.
    const [issue = { path: [], message: parsed.error.message }] = parsed.error.issues;
    const name = String(issue.path[0]);
    const shown = SECRETS.has(name) ? ' (value not shown)' : `=${JSON.stringify(environment[name])}`;
    throw new ConfigError(`Invalid ${name}${shown}: ${issue.message}`);
  }
  const env = parsed.data;
  for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE'] as const) {
    if (env[name] !== undefined && env.JWT_SECRET === undefined) {
      throw new ConfigError(
        `Invalid ${name}=${JSON.stringify(env[name])}: needs JWT_SECRET (without it, JWTs are not accepted at all)`,
      );
    }
  }
  const maxConcurrentRequests = env.MAX_CONCURRENT_REQUESTS ?? 2 * env.DB_POOL_SIZE;
  const perOrganization = env.MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION;
  if (perOrganization !== undefined && perOrganization > maxConcurrentRequests) {
    throw new ConfigError(
      maxConcurrentRequests === 0
        ? `Invalid MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION=${perOrganization}: needs MAX_CONCURRENT_REQUESTS (0 turns admission control off)`
        : `Invalid MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION=${perOrganization}: must not exceed MAX_CONCURRENT_REQUESTS (${maxConcurrentRequests})`,
    );
  }
  if (
    env.DB_MAX_CONNECTIONS_PER_ORGANIZATION !== undefined &&
    env.DB_MAX_CONNECTIONS_PER_ORGANIZATION > env.DB_POOL_SIZE
  ) {
    throw new ConfigError(
      `Invalid DB_MAX_CONNECTIONS_PER_ORGANIZATION=${env.DB_MAX_CONNECTIONS_PER_ORGANIZATION}: must not exceed DB_POOL_SIZE (${env.DB_POOL_SIZE})`,
    );
  }
  // Node refuses a headers timeout longer than the request timeout.
  if (env.HEADERS_TIMEOUT_MS > env.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      `Invalid HEADERS_TIMEOUT_MS=${env.HEADERS_TIMEOUT_MS}: must not exceed REQUEST_TIMEOUT_MS (${env.REQUEST_TIMEOUT_MS})`,
    );
  }
  const developing = env.NODE_ENV !== 'production';
  if (!developing && env.SECRETS_KEY === undefined) {
    throw new ConfigError(
      'Missing SECRETS_KEY: production needs a key to seal the WhatsApp channels’ secrets (32 bytes, e.g. `openssl rand -base64 32`)',
    );
  }
  if (env.SECRETS_KEY_PREVIOUS !== undefined && env.SECRETS_KEY === undefined) {
    throw new ConfigError(
      'Invalid SECRETS_KEY_PREVIOUS (value not shown): needs SECRETS_KEY (the key it was rotated to)',
    );
  }
  const introspection = env.INTROSPECTION ?? developing;
  let persistedOperations: OperationManifest | undefined;
  if (env.PERSISTED_OPERATIONS) {
    try {
      persistedOperations = readOperationManifest(env.PERSISTED_OPERATIONS);
    } catch (error) {
      throw new ConfigError(
        `Invalid PERSISTED_OPERATIONS=${JSON.stringify(env.PERSISTED_OPERATIONS)}: ${(error as Error).message}`,
      );
    }
  }
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    dbPoolSize: env.DB_POOL_SIZE,
    logLevel: env.LOG_LEVEL,
    demoApiKeys: [env.DEMO_API_KEY, env.DEMO_API_KEY_2],
    seedDemoData: env.SEED_DEMO_DATA ?? developing,
    jwt: env.JWT_SECRET
      ? {
          secret: env.JWT_SECRET,
          issuer: env.JWT_ISSUER,
          audience: env.JWT_AUDIENCE,
          maxLifetimeSeconds: env.JWT_MAX_LIFETIME_SECONDS,
        }
      : undefined,
    dbStatementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    limits: {
      maxDepth: env.MAX_DEPTH,
      maxAliases: env.MAX_ALIASES,
      maxDirectives: env.MAX_DIRECTIVES,
      maxTokens: env.MAX_TOKENS,
      maxDocumentBytes: env.MAX_DOCUMENT_BYTES,
      maxFields: env.MAX_FIELDS,
      maxCost: env.MAX_COST,
      maxBodyBytes: env.MAX_BODY_BYTES,
    },
    webhookMaxBodyBytes: env.WEBHOOK_MAX_BODY_BYTES,
    introspection,
    graphiql: env.GRAPHIQL ?? developing,
    fieldSuggestions: developing && introspection,
    persistedOperations,
    corsOrigins: env.CORS_ORIGINS ?? [],
    corsLoopbackOrigins: developing,
    rateLimit: {
      perMinute: env.RATE_LIMIT_PER_MINUTE,
      burst: env.RATE_LIMIT_BURST,
      organizationPerMinute:
        env.RATE_LIMIT_ORGANIZATION_PER_MINUTE ?? ORGANIZATION_BUDGET_MEMBERS * env.RATE_LIMIT_PER_MINUTE,
      organizationBurst: env.RATE_LIMIT_ORGANIZATION_BURST ?? ORGANIZATION_BUDGET_MEMBERS * env.RATE_LIMIT_BURST,
      redisUrl: env.REDIS_URL,
    },
    maxApiKeysPerMember: env.MAX_API_KEYS_PER_MEMBER,
    authFailuresPerMinute: env.AUTH_FAILURES_PER_MINUTE,
    trustProxy: env.TRUST_PROXY,
    maxConcurrentRequests,
    maxConcurrentRequestsPerOrganization: perOrganization ?? defaultMaxPerKey(maxConcurrentRequests),
    headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    maxConnectionsPerRequest: env.DB_MAX_CONNECTIONS_PER_REQUEST ?? Math.max(1, Math.floor(env.DB_POOL_SIZE / 4)),
    maxConnectionsPerOrganization: env.DB_MAX_CONNECTIONS_PER_ORGANIZATION ?? Math.ceil(env.DB_POOL_SIZE / 2),
    secretsKey: { current: env.SECRETS_KEY, previous: env.SECRETS_KEY_PREVIOUS },
    workers: env.WORKERS,
    workerConcurrency: env.WORKER_CONCURRENCY,
    eventRetentionDays: env.EVENT_RETENTION_DAYS,
    subscriptionLimits: {
      perMember: env.MAX_SUBSCRIPTIONS_PER_MEMBER,
      perOrganization: env.MAX_SUBSCRIPTIONS_PER_ORGANIZATION,
    },
    maxSubscriptionsPerConnection: env.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    whatsappApiUrl: env.WHATSAPP_API_URL ?? DEFAULT_WHATSAPP_API_URL,
    whatsappApiUrlSet: env.WHATSAPP_API_URL !== undefined,
    mediaMaxBytes: env.MEDIA_MAX_BYTES,
    whatsappSendTimeoutMs: env.WHATSAPP_SEND_TIMEOUT_MS,
    whatsappSendMaxAttempts: env.WHATSAPP_SEND_MAX_ATTEMPTS,
    whatsappSendLimits: {
      messagesPerSecond: env.WHATSAPP_MESSAGES_PER_SECOND,
      pairIntervalMs: env.WHATSAPP_PAIR_INTERVAL_MS,
      pairBurst: env.WHATSAPP_PAIR_BURST,
    },
    simulator: (env.SIMULATOR ?? (env.NODE_ENV === 'development' ? 'on' : 'off')) === 'on',
  };
}
