import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { DEFAULT_LIMITS } from '../src/plugins/limits.js';

// How each setting is read; that a bad one stops the process is tested in server.test.ts.
describe('loadConfig', () => {
  it('defaults to the documented values', () => {
    const config = loadConfig({});
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config.limits).toEqual({
      maxDepth: 12,
      maxAliases: 15,
      maxDirectives: 50,
      maxTokens: 2_000,
      maxCost: 25_000,
      maxBodyBytes: 1_048_576,
    });
    expect(config).toMatchObject({ introspection: true, graphiql: true, fieldSuggestions: true });
  });

  it('turns introspection, GraphiQL and field suggestions off in production, unless told otherwise', () => {
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({
      introspection: false,
      graphiql: false,
      fieldSuggestions: false,
    });
    // Suggestions stay off in production even with introspection on: they are for developers.
    expect(loadConfig({ NODE_ENV: 'production', INTROSPECTION: 'true', GRAPHIQL: 'true' })).toMatchObject({
      introspection: true,
      graphiql: true,
      fieldSuggestions: false,
    });
    // Without introspection, suggestions would reveal what it hides.
    expect(loadConfig({ INTROSPECTION: 'false' })).toMatchObject({ introspection: false, fieldSuggestions: false });
  });

  it('reads every limit', () => {
    const config = loadConfig({
      MAX_DEPTH: '8',
      MAX_ALIASES: '4',
      MAX_DIRECTIVES: '5',
      MAX_TOKENS: '600',
      MAX_COST: '5000',
      MAX_BODY_BYTES: '65536',
    });
    expect(config.limits).toEqual({
      maxDepth: 8,
      maxAliases: 4,
      maxDirectives: 5,
      maxTokens: 600,
      maxCost: 5_000,
      maxBodyBytes: 65_536,
    });
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
      loadConfig({ MAX_CONCURRENT_REQUESTS: '8', MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION: '3', HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '5000' }),
    ).toMatchObject({ maxConcurrentRequests: 8, maxConcurrentRequestsPerOrganization: 3, headersTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
    expect(() => loadConfig({ MAX_CONCURRENT_REQUESTS: '8', MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION: '9' })).toThrow(
      new ConfigError('Invalid MAX_CONCURRENT_REQUESTS_PER_ORGANIZATION=9: must not exceed MAX_CONCURRENT_REQUESTS (8)'),
    );
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '40000' })).toThrow(
      new ConfigError('Invalid HEADERS_TIMEOUT_MS=40000: must not exceed REQUEST_TIMEOUT_MS (30000)'),
    );
  });

  it('names the variable and the rule it breaks', () => {
    expect(() => loadConfig({ MAX_COST: '0' })).toThrow(new ConfigError('Invalid MAX_COST="0": must be between 1 and 1000000000'));
  });
});
