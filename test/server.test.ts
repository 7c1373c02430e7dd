// The process as users run it: configuration errors, the embedded database's first start,
// restarts, the development key, graceful shutdown, and several instances on one PostgreSQL
// database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_KEY_FILE } from '../src/db/development-key.js';
import { loadMigrations } from '../src/db/migrate.js';
import { testDatabaseTarget } from './helpers/database.js';
import { post, runServer, startServer, type ServerProcess } from './helpers/process.js';

const DEMO_KEY = 'demo-key-for-server-tests-1-local-only';
const MIGRATIONS = loadMigrations().map((migration) => migration.name);
const FIRST_CONTACTS = `{ contacts(first: 5) { totalCount nodes { id name phone } } }`;

// Process start-ups take seconds (a WebAssembly PostgreSQL, a first seed); on a loaded
// machine much more. Time limits here are for hangs, not for speed.
const PROCESS_TEST = { timeout: 180_000 };

const temporary: string[] = [];
const running: ServerProcess[] = [];
function temporaryDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-server-'));
  temporary.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(running.map((server) => server.stop('SIGKILL')));
  for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
});

async function exitOf(env: Record<string, string>) {
  const { output, exited } = runServer(env);
  const code = await exited;
  return { code, lines: output().trim().split('\n') };
}

describe('configuration errors', PROCESS_TEST, () => {
  // Each rule's message is checked on loadConfig in test/config.test.ts; here, that the process
  // turns a bad setting, and a database it cannot reach, into one line and exit code 1.
  it.each([
    [{ PORT: 'eighty' }, /^wagraph: Invalid PORT="eighty": must be a number$/],
    [
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/wagraph' },
      /^wagraph: Cannot connect to PostgreSQL at 127\.0\.0\.1:1\/wagraph \(DATABASE_URL\): .*ECONNREFUSED/,
    ],
    [
      { JWT_SECRET: 'not-long-enough' },
      /^wagraph: Invalid JWT_SECRET \(value not shown\): must be at least 32 characters long$/,
    ],
  ])('%o → one clear line and exit code 1', { concurrent: true }, async (env, message) => {
    const { code, lines } = await exitOf(env);
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('an unwritable DATA_DIR → one clear line and exit code 1', async () => {
    const file = path.join(temporaryDir(), 'a-file');
    fs.writeFileSync(file, '');
    const { code, lines } = await exitOf({ DATA_DIR: path.join(file, 'data') });
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^wagraph: DATA_DIR .*a-file\/data is not a writable directory: ENOTDIR/);
  });
});

// One data directory's life, in the order a developer meets it. A start-up of the embedded
// database takes seconds, so each step reuses the server the step before it left running.
describe('the embedded database', PROCESS_TEST, () => {
  const dataDir = temporaryDir();
  const keyFile = path.join(dataDir, DEVELOPMENT_KEY_FILE);
  let key: string;
  let firstData: unknown;
  let server: ServerProcess;

  it('a first start migrates, seeds, keeps a development key (0600) and logs no secret at any level', async () => {
    const first = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'trace' });
    running.push(first);
    expect(first.output()).toContain(`"applied":${JSON.stringify(MIGRATIONS)}`);
    expect(first.output()).toContain('"msg":"demo data seeded"');
    expect(first.output()).toMatch(/^wagraph: GraphiQL at http:\/\/127\.0\.0\.1:\d+\/graphql/m);
    key = fs.readFileSync(keyFile, 'utf8').trim();
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    // Nothing that looks like a key, the kept one or the second organization's, in the output.
    expect(first.output()).not.toMatch(/wag_[\w-]{8,}/);

    // GraphiQL opened from this machine is signed in with the kept key.
    const page = await (await fetch(`${first.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(page).toContain(`Bearer ${key}`);
    const response = await post(first.url, key, FIRST_CONTACTS);
    expect(response.status).toBe(200);
    expect(response.body.data.contacts.totalCount).toBe(200);
    expect(response.body.data.contacts.nodes).toHaveLength(5);
    firstData = response.body.data;
    expect(await first.stop()).toBe(0);
  });

  it('a restart keeps the data and the key, seeds nothing, and accepts a DEMO_API_KEY without printing it', async () => {
    server = await startServer({ DATA_DIR: dataDir, DEMO_API_KEY: DEMO_KEY });
    running.push(server);
    expect(server.output()).toContain('"applied":[],"msg":"database schema up to date"');
    expect(server.output()).not.toContain('demo data seeded');
    expect(server.output()).not.toContain(DEMO_KEY);
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(key);
    expect((await post(server.url, key, FIRST_CONTACTS)).body.data).toEqual(firstData);
    expect((await post(server.url, DEMO_KEY, FIRST_CONTACTS)).body.data).toEqual(firstData);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('refuses a second process on the same data directory with a clear message', async () => {
    const { code, lines } = await exitOf({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(lines.at(-1)).toMatch(
      /^wagraph: The embedded database in .* is in use by another wagraph process \(pid \d+\)/,
    );
    expect((await post(server.url, 'x'.repeat(40), '{ viewer { permissions } }')).status).toBe(401);
  });

  it('on SIGTERM during a stream of writes: every acknowledged write is kept, exit 0 within 10 s', async () => {
    const acknowledged: string[] = [];
    let sent = 0;
    let stop = false;
    // Four writers, each sending createTag one after another until the server goes away.
    const writer = async (lane: number) => {
      for (let i = 0; !stop && i < 500; i++) {
        const label = `shutdown-${lane}-${i}`;
        sent++;
        try {
          const response = await post(
            server.url,
            DEMO_KEY,
            `mutation($l: String!) { createTag(input: { label: $l }) { tag { label } userErrors { message } } }`,
            { l: label },
          );
          if (response.body.data?.createTag?.tag?.label === label) acknowledged.push(label);
        } catch {
          stop = true; // connection refused or reset: the server is gone
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await expect.poll(() => acknowledged.length, { timeout: 20_000 }).toBeGreaterThan(20);
    const signalled = Date.now();
    const code = await server.stop('SIGTERM');
    const exitedAfter = Date.now() - signalled;
    stop = true;
    await Promise.all(writers);
    expect(code).toBe(0);
    expect(exitedAfter).toBeLessThan(10_000);
    expect(server.output()).toContain('shutting down');

    // Reopen the data directory: every write the server acknowledged is there.
    const { openDatabase } = await import('../src/db/client.js');
    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const stored = new Set(
        (await db.prisma.tag.findMany({ where: { label: { startsWith: 'shutdown-' } } })).map((tag) => tag.label),
      );
      expect(acknowledged.filter((label) => !stored.has(label))).toEqual([]);
      expect(stored.size).toBeGreaterThanOrEqual(acknowledged.length);
      expect(stored.size).toBeLessThanOrEqual(sent);
    } finally {
      await db.close();
    }
  });
});

// Needs a PostgreSQL server: registered in the PostgreSQL pass of the suite (.ci/run sets
// TEST_DATABASE_URL). The embedded database's counterpart is the data-directory lock above.
const postgres = testDatabaseTarget();
if (postgres.kind === 'postgres')
  describe('PostgreSQL through DATABASE_URL', PROCESS_TEST, () => {
    it('two instances started at once on an empty database both become ready; each migration is applied once', async () => {
      const target = postgres;
      const name = `wagraph_concurrent_${process.pid}`;
      const admin = new pg.Client({ connectionString: target.url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(target.url);
      url.pathname = `/${name}`;
      try {
        const servers = await Promise.all(
          [1, 2].map(() => startServer({ DATABASE_URL: url.toString(), DEMO_API_KEY: DEMO_KEY })),
        );
        running.push(...servers);
        for (const server of servers) {
          expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
          const response = await post(server.url, DEMO_KEY, FIRST_CONTACTS);
          expect(response.body.data.contacts.totalCount).toBe(200);
        }
        const check = new pg.Client({ connectionString: url.toString() });
        await check.connect();
        const migrations = await check.query('SELECT name FROM "_wagraph_migrations"');
        const organizations = await check.query('SELECT count(*)::int AS n FROM "Organization"');
        await check.end();
        expect(migrations.rows.map((row) => row.name).sort()).toEqual(MIGRATIONS);
        expect(organizations.rows[0].n).toBe(2);
        expect(servers.filter((server) => server.output().includes('demo data seeded'))).toHaveLength(1);
        expect(await Promise.all(servers.map((server) => server.stop()))).toEqual([0, 0]);
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    });
  });
