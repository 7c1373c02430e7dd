import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSchemaFile } from '../src/schema/print.js';

describe('schema.graphql', () => {
  it('is exactly what the code prints (run `npm run schema:print` after a schema change)', () => {
    expect(fs.readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8')).toBe(printSchemaFile());
  });
});
