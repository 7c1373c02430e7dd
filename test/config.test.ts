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
      maxDocumentBytes: 65_536,
      maxFields: 300,
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

  it('names the variable and the rule it breaks', () => {
    expect(() => loadConfig({ MAX_COST: '0' })).toThrow(new ConfigError('Invalid MAX_COST="0": must be between 1 and 1000000000'));
  });
});
