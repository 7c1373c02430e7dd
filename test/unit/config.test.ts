import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { DEFAULT_LIMITS } from '../../src/plugins/limits.js';

// How each setting is read; that a bad one stops the process is tested in server.test.ts.
// Production needs SECRETS_KEY; any 32 bytes do for reading the other settings.
const PRODUCTION = { NODE_ENV: 'production', SECRETS_KEY: 'a'.repeat(64) } as const;

describe('loadConfig', () => {
  it('defaults to the documented values', () => {
    const config = loadConfig({});
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config.limits).toEqual({
      maxDepth: 12,
      maxAliases: 15,
      maxDirectives: 50,
      maxTokens: 2_000,
      maxDocumentBytes: 65_536,
      maxFields: 300,
      maxCost: 25_000,
      maxBodyBytes: 1_048_576,
    });
    expect(config).toMatchObject({ introspection: true, graphiql: true, fieldSuggestions: true });
  });

  it('turns introspection, GraphiQL and field suggestions off in production, unless told otherwise', () => {
    expect(loadConfig(PRODUCTION)).toMatchObject({
      introspection: false,
      graphiql: false,
      fieldSuggestions: false,
    });
    // Suggestions stay off in production even with introspection on: they are for developers.
    expect(loadConfig({ ...PRODUCTION, INTROSPECTION: 'true', GRAPHIQL: 'true' })).toMatchObject({
      introspection: true,
      graphiql: true,
      fieldSuggestions: false,
    });
    // Without introspection, suggestions would reveal what it hides.
    expect(loadConfig({ INTROSPECTION: 'false' })).toMatchObject({ introspection: false, fieldSuggestions: false });
  });

  it('reads SECRETS_KEY and SECRETS_KEY_PREVIOUS as hex or base64, and needs the first in production only', () => {
    const hex = '0f'.repeat(32);
    const base64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({}).secretsKey).toEqual({ current: undefined, previous: undefined });
    expect(loadConfig({ SECRETS_KEY: hex, SECRETS_KEY_PREVIOUS: base64 }).secretsKey).toEqual({
      current: Buffer.alloc(32, 0x0f),
      previous: Buffer.alloc(32, 7),
    });
    expect(loadConfig({ SECRETS_KEY: Buffer.alloc(32, 7).toString('base64url') }).secretsKey.current).toEqual(
      Buffer.alloc(32, 7),
    );
    expect(loadConfig(PRODUCTION).secretsKey.current).toEqual(Buffer.alloc(32, 0xaa));
  });

  it('reads every limit', () => {
    const config = loadConfig({
      MAX_DEPTH: '8',
      MAX_ALIASES: '4',
      MAX_DIRECTIVES: '5',
      MAX_TOKENS: '600',
      MAX_DOCUMENT_BYTES: '16384',
      MAX_FIELDS: '120',
      MAX_COST: '5000',
      MAX_BODY_BYTES: '65536',
    });
    expect(config.limits).toEqual({
      maxDepth: 8,
      maxAliases: 4,
      maxDirectives: 5,
      maxTokens: 600,
      maxDocumentBytes: 16_384,
      maxFields: 120,
      maxCost: 5_000,
      maxBodyBytes: 65_536,
    });
  });

  it('reads WEBHOOK_MAX_BODY_BYTES: 4 MiB by default, above the 3 MB of Meta’s largest deliveries', () => {
    expect(loadConfig({}).webhookMaxBodyBytes).toBe(4 * 1024 * 1024);
    expect(loadConfig({ WEBHOOK_MAX_BODY_BYTES: '65536' }).webhookMaxBodyBytes).toBe(65_536);
  });

  it('reads admission and slow-client settings: half of the slots per organization by default', () => {
    expect(loadConfig({})).toMatchObject({
      maxConcurrentRequests: 20,
      maxConcurrentRequestsPerOrganization: 10,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
    });
    expect(loadConfig({ MAX_CONCURRENT_REQUESTS: '1' }).maxConcurrentRequestsPerOrganization).toBe(1);
    expect(
      loadConfig({
        MAX_CONCURRENT_REQUESTS: '8',
        MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION: '3',
        HEADERS_TIMEOUT_MS: '2000',
        REQUEST_TIMEOUT_MS: '5000',
      }),
    ).toMatchObject({
      maxConcurrentRequests: 8,
      maxConcurrentRequestsPerOrganization: 3,
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 5_000,
    });
    expect(() => loadConfig({ MAX_CONCURRENT_REQUESTS: '8', MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION: '9' })).toThrow(
      new ConfigError(
        'Invalid MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION=9: must not exceed MAX_CONCURRENT_REQUESTS (8)',
      ),
    );
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '40000' })).toThrow(
      new ConfigError('Invalid HEADERS_TIMEOUT_MS=40000: must not exceed REQUEST_TIMEOUT_MS (30000)'),
    );
  });

  it('runs background jobs in the gateway by default, four at once', () => {
    expect(loadConfig({})).toMatchObject({ workers: 'in-process', workerConcurrency: 4 });
    expect(loadConfig({ WORKERS: 'off', WORKER_CONCURRENCY: '16' })).toMatchObject({
      workers: 'off',
      workerConcurrency: 16,
    });
  });

  it('points the WhatsApp Cloud API at Meta’s Graph API by default; another base URL is kept without its trailing slash', () => {
    expect(loadConfig({}).whatsappApiUrl).toBe('https://graph.facebook.com/v21.0');
    // Unset, development with the simulator uses its fake instead (src/server.ts).
    expect(loadConfig({}).whatsappApiUrlSet).toBe(false);
    expect(loadConfig({ WHATSAPP_API_URL: 'https://graph.facebook.com/v21.0' }).whatsappApiUrlSet).toBe(true);
    expect(loadConfig({ WHATSAPP_API_URL: 'http://127.0.0.1:4010/v21.0/' }).whatsappApiUrl).toBe(
      'http://127.0.0.1:4010/v21.0',
    );
  });

  it('serves media files up to 100 MiB by default (WhatsApp’s largest, documents, are 100 MB)', () => {
    expect(loadConfig({}).mediaMaxBytes).toBe(100 * 1024 * 1024);
    expect(loadConfig({ MEDIA_MAX_BYTES: '5242880' }).mediaMaxBytes).toBe(5_242_880);
  });

  it('gives a send 15 s and 10 attempts by default', () => {
    expect(loadConfig({})).toMatchObject({ whatsappSendTimeoutMs: 15_000, whatsappSendMaxAttempts: 10 });
    expect(loadConfig({ WHATSAPP_SEND_TIMEOUT_MS: '5000', WHATSAPP_SEND_MAX_ATTEMPTS: '3' })).toMatchObject({
      whatsappSendTimeoutMs: 5_000,
      whatsappSendMaxAttempts: 3,
    });
  });

  it('limits live subscriptions per member, organization and connection: 20, 1,000 and 10 by default', () => {
    expect(loadConfig({}).subscriptionLimits).toEqual({ perMember: 20, perOrganization: 1_000 });
    expect(loadConfig({}).maxSubscriptionsPerConnection).toBe(10);
    const set = loadConfig({
      MAX_SUBSCRIPTIONS_PER_MEMBER: '5',
      MAX_SUBSCRIPTIONS_PER_ORGANIZATION: '50',
      MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
    });
    expect(set.subscriptionLimits).toEqual({ perMember: 5, perOrganization: 50 });
    expect(set.maxSubscriptionsPerConnection).toBe(3);
  });

  it('keeps WhatsApp’s send limits: 80 a second per number, to one recipient 3 at once then one per 6 s', () => {
    expect(loadConfig({}).whatsappSendLimits).toEqual({ messagesPerSecond: 80, pairIntervalMs: 6_000, pairBurst: 3 });
    expect(
      loadConfig({ WHATSAPP_MESSAGES_PER_SECOND: '250', WHATSAPP_PAIR_INTERVAL_MS: '1000', WHATSAPP_PAIR_BURST: '5' })
        .whatsappSendLimits,
    ).toEqual({ messagesPerSecond: 250, pairIntervalMs: 1_000, pairBurst: 5 });
  });

  it('simulates WhatsApp users at start-up in development only, unless told otherwise', () => {
    expect(loadConfig({}).simulator).toBe(true);
    expect(loadConfig({ SIMULATOR: 'off' }).simulator).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).simulator).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test', SIMULATOR: 'on' }).simulator).toBe(true);
    expect(() => loadConfig({ SIMULATOR: 'yes' })).toThrow(/^Invalid SIMULATOR="yes": must be on or off$/);
  });

  it('names the variable and the rule it breaks', () => {
    expect(() => loadConfig({ MAX_COST: '0' })).toThrow(
      new ConfigError('Invalid MAX_COST="0": must be between 1 and 1000000000'),
    );
  });

  it.each([
    [{ PORT: 'eighty' }, /^Invalid PORT="eighty": must be a number$/],
    [{ PORT: '70000' }, /^Invalid PORT="70000": must be between 0 and 65535$/],
    [
      { DATABASE_URL: 'mysql://localhost/db' },
      /^Invalid DATABASE_URL="mysql:\/\/localhost\/db": must be a postgres:\/\//,
    ],
    [{ DB_POOL_SIZE: '0' }, /^Invalid DB_POOL_SIZE="0": must be between 1 and 1000$/],
    [{ LOG_LEVEL: 'loud' }, /^Invalid LOG_LEVEL="loud": must be one of/],
    [{ DEMO_API_KEY: 'short' }, /^Invalid DEMO_API_KEY="short": must be at least 32 characters long$/],
    [{ MAX_DEPTH: '0' }, /^Invalid MAX_DEPTH="0": must be between 1 and 1000$/],
    [{ MAX_ALIASES: 'many' }, /^Invalid MAX_ALIASES="many": must be a number$/],
    [{ MAX_DIRECTIVES: '2.5' }, /^Invalid MAX_DIRECTIVES="2.5": must be a whole number$/],
    [{ MAX_TOKENS: '-1' }, /^Invalid MAX_TOKENS="-1": must be between 1 and 1000000$/],
    [{ MAX_COST: 'lots' }, /^Invalid MAX_COST="lots": must be a number$/],
    [{ WEBHOOK_MAX_BODY_BYTES: '0' }, /^Invalid WEBHOOK_MAX_BODY_BYTES="0": must be between 1 and 100000000$/],
    [{ MEDIA_MAX_BYTES: '0' }, /^Invalid MEDIA_MAX_BYTES="0": must be between 1 and 2000000000$/],
    [{ WHATSAPP_SEND_TIMEOUT_MS: '0' }, /^Invalid WHATSAPP_SEND_TIMEOUT_MS="0": must be between 1 and 300000$/],
    [{ WHATSAPP_SEND_MAX_ATTEMPTS: '101' }, /^Invalid WHATSAPP_SEND_MAX_ATTEMPTS="101": must be between 1 and 100$/],
    [
      { WHATSAPP_MESSAGES_PER_SECOND: '1001' },
      /^Invalid WHATSAPP_MESSAGES_PER_SECOND="1001": must be between 1 and 1000$/,
    ],
    [{ WHATSAPP_PAIR_INTERVAL_MS: '0' }, /^Invalid WHATSAPP_PAIR_INTERVAL_MS="0": must be between 1 and 3600000$/],
    [{ WHATSAPP_PAIR_BURST: '2.5' }, /^Invalid WHATSAPP_PAIR_BURST="2.5": must be a whole number$/],
    [{ MAX_BODY_BYTES: '0' }, /^Invalid MAX_BODY_BYTES="0": must be between 1 and 100000000$/],
    [{ MAX_SUBSCRIPTIONS_PER_MEMBER: '0' }, /^Invalid MAX_SUBSCRIPTIONS_PER_MEMBER="0": must be between 1 and 100000$/],
    [{ MAX_SUBSCRIPTIONS_PER_CONNECTION: 'ten' }, /^Invalid MAX_SUBSCRIPTIONS_PER_CONNECTION="ten": must be a number$/],
    [{ INTROSPECTION: 'yes' }, /^Invalid INTROSPECTION="yes": must be true or false$/],
    [{ GRAPHIQL: 'off' }, /^Invalid GRAPHIQL="off": must be true or false$/],
    [
      { PERSISTED_OPERATIONS: '/nonexistent/operations.json' },
      /^Invalid PERSISTED_OPERATIONS="\/nonexistent\/operations\.json": cannot read the manifest: ENOENT/,
    ],
    [
      { CORS_ORIGINS: 'https://app.example.com/path' },
      /^Invalid CORS_ORIGINS="https:\/\/app\.example\.com\/path": must be a comma-separated list of origins/,
    ],
    [
      { JWT_SECRET: 'not-long-enough' },
      /^Invalid JWT_SECRET \(value not shown\): must be at least 32 characters long$/,
    ],
    [
      { DEMO_API_KEY: 'demo.key.with.dots.and-long-enough-to-pass' },
      /^Invalid DEMO_API_KEY="demo\.key\.with\.dots\.and-long-enough-to-pass": must not contain "\."/,
    ],
    [{ RATE_LIMIT_PER_MINUTE: '-1' }, /^Invalid RATE_LIMIT_PER_MINUTE="-1": must be between 0 and 1000000$/],
    [{ RATE_LIMIT_BURST: '0' }, /^Invalid RATE_LIMIT_BURST="0": must be between 1 and 1000000$/],
    [{ MAX_CONCURRENT_REQUESTS: '-1' }, /^Invalid MAX_CONCURRENT_REQUESTS="-1": must be between 0 and 100000$/],
    [{ REDIS_URL: 'localhost:6379' }, /^Invalid REDIS_URL="localhost:6379": must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ DB_STATEMENT_TIMEOUT_MS: '10s' }, /^Invalid DB_STATEMENT_TIMEOUT_MS="10s": must be a number$/],
    [{ SECRETS_KEY: 'too-short-to-be-a-key' }, /^Invalid SECRETS_KEY \(value not shown\): must be 32 bytes/],
    [{ SECRETS_KEY: 'ab'.repeat(31) }, /^Invalid SECRETS_KEY \(value not shown\): must be 32 bytes/],
    [{ SECRETS_KEY_PREVIOUS: 'ab'.repeat(32) }, /^Invalid SECRETS_KEY_PREVIOUS \(value not shown\): needs SECRETS_KEY/],
    [{ NODE_ENV: 'production' }, /^Missing SECRETS_KEY: production needs a key/],
    [{ WORKERS: 'separate' }, /^Invalid WORKERS="separate": must be in-process or off$/],
    [{ WORKER_CONCURRENCY: '0' }, /^Invalid WORKER_CONCURRENCY="0": must be between 1 and 100$/],
    [{ WHATSAPP_API_URL: 'graph.facebook.com' }, /^Invalid WHATSAPP_API_URL="graph\.facebook\.com": must be an http/],
    [
      { WHATSAPP_API_URL: 'ftp://example.com/v21.0' },
      /^Invalid WHATSAPP_API_URL="ftp:\/\/example\.com\/v21\.0": must be/,
    ],
    [{ WHATSAPP_API_URL: 'https://example.com/v21.0?x=1' }, /^Invalid WHATSAPP_API_URL=.*without query/],
  ])('%o → a ConfigError naming the variable and the rule', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
