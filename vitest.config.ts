import { defineConfig } from 'vitest/config';
import { ProcessTestsFirst } from './test/helpers/sequencer.js';

export default defineConfig({
  resolve: {
    // Node resolves `graphql` (no "exports" map) to its CommonJS build; Vite would pick the
    // ESM one for some importers and leave CommonJS dependencies on the other, and graphql
    // refuses to meet a second copy of itself. Resolve it the way Node does.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    // Two worker processes (the two cores here; a third was slower), each running one test file
    // after another. `isolate: false`: the files of a worker share its modules (Prisma, the
    // schema, Yoga are imported once, not once per file) and its test database
    // (test/helpers/database.ts). Nothing in src/ keeps state at module level that a test
    // could leave behind; test helpers register their per-file hooks in test/helpers/setup.ts.
    pool: 'forks',
    maxWorkers: 2,
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { NODE_ENV: 'test' },
    sequence: { sequencer: ProcessTestsFirst },
    projects: [
      {
        // Pure modules (cursors, page sizes, token buckets, the fair queue, configuration):
        // no database, no global setup. `npm run test:unit` runs only these.
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        // Everything else, through the API or a process, on a real database.
        extends: true,
        test: {
          name: 'api',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**'],
          globalSetup: ['test/helpers/global-setup.ts'],
          setupFiles: ['test/helpers/setup.ts'],
        },
      },
    ],
  },
});
