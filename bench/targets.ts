// The three servers the benchmark drives, each started as its own process on 127.0.0.1
// with a pool of 10 connections:
// - wagraph, as users deploy it: the build output under `node`, NODE_ENV=production,
//   no demo data, default LOG_LEVEL (info: one log line per request, to a file);
// - PostGraphile 5 (bench/peer, Node 22 from the npm package `node`);
// - the raw-SQL floor (bench/raw-sql/server.ts).
import path from 'node:path';
import type { Fixture } from './fixture.js';
import type { TargetName } from './operations.js';
import { PEER_DIR, ROOT_DIR } from './paths.js';
import { peerDatabaseUrl } from './peer-access.js';
import { freePort, type ServerProcess, startServer } from './server-process.js';

export const POOL_SIZE = 10;

export interface StartOptions {
  /** Where the server connects: the database itself, or the statement-counting proxy. */
  databaseUrl: string;
  fixture: Fixture;
  /** node --cpu-prof into this directory (wagraph only). */
  cpuProfileDir?: string;
  /** Suffix of the log file name, to tell runs apart. */
  label: string;
  /**
   * wagraph only: 'off' (the default) for the load table, where one API key sends all the
   * load and a per-credential budget would measure the limiter; 'server defaults' for the
   * noisy-neighbour scenario, which runs the server exactly as `npm run serve` does.
   */
  rateLimit?: 'off' | 'server defaults';
}

async function graphqlAnswers(origin: string, apiKey: string): Promise<boolean> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  return response.ok;
}

/** The server's own environment only: nothing of the benchmark's shell leaks into it. */
function baseEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG, TZ: 'UTC' };
}

/** The environment wagraph is started with (the noisy-neighbour scenario reads its limits from it). */
export function wagraphEnvironment(
  options: Pick<StartOptions, 'databaseUrl' | 'rateLimit'>,
  port: number,
): NodeJS.ProcessEnv {
  return {
    ...baseEnvironment(),
    NODE_ENV: 'production',
    DATABASE_URL: options.databaseUrl,
    DB_POOL_SIZE: String(POOL_SIZE),
    SEED_DEMO_DATA: 'false',
    // Production requires one; the benchmark's channels are never real.
    SECRETS_KEY: 'be'.repeat(32),
    // One API key sends all the load: a per-credential budget would measure the limiter.
    ...(options.rateLimit === 'server defaults' ? {} : { RATE_LIMIT_PER_MINUTE: '0' }),
    HOST: '127.0.0.1',
    PORT: String(port),
  };
}

function wagraphArguments(cpuProfileDir?: string): string[] {
  return [
    ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []),
    // As `npm run serve` runs it (package.json): the heap limit keeps the process's
    // memory near what it uses rather than what V8 would let it grow to.
    '--max-old-space-size=192',
    path.join(ROOT_DIR, 'dist', 'src', 'server.js'),
  ];
}

/**
 * wagraph on a database without the dataset (the webhook-ingestion scenario's own): it
 * migrates the database at start-up, and is ready when /readyz answers.
 */
export async function startWagraphOn(
  databaseUrl: string,
  label: string,
  options: { cpuProfileDir?: string | undefined; environment?: NodeJS.ProcessEnv } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  return startServer({
    name: `wagraph-${label}`,
    command: process.execPath,
    args: wagraphArguments(options.cpuProfileDir),
    cwd: ROOT_DIR,
    env: { ...wagraphEnvironment({ databaseUrl }, port), ...options.environment },
    port,
    ready: async (origin) => (await fetch(`${origin}/readyz`)).ok,
    startTimeoutMs: 120_000,
  });
}

export async function startTarget(target: TargetName, options: StartOptions): Promise<ServerProcess> {
  const port = await freePort();
  const name = `${target}-${options.label}`;
  switch (target) {
    case 'wagraph':
      return startServer({
        name,
        command: process.execPath,
        args: wagraphArguments(options.cpuProfileDir),
        cwd: ROOT_DIR,
        env: wagraphEnvironment(options, port),
        port,
        ready: (origin) => graphqlAnswers(origin, options.fixture.apiKey),
      });
    case 'postgraphile':
      return startServer({
        name,
        command: path.join(PEER_DIR, 'node_modules', '.bin', 'node'),
        args: [path.join(PEER_DIR, 'server.mjs')],
        cwd: PEER_DIR,
        env: {
          ...baseEnvironment(),
          NODE_ENV: 'production',
          DATABASE_URL: peerDatabaseUrl(options.databaseUrl),
          DB_POOL_SIZE: String(POOL_SIZE),
          ORGANIZATION_ID: options.fixture.organizationId,
          BENCH_API_KEY: options.fixture.apiKey,
          PORT: String(port),
        },
        port,
        ready: (origin) => graphqlAnswers(origin, options.fixture.apiKey),
        startTimeoutMs: 120_000,
      });
    case 'raw-sql':
      return startServer({
        name,
        command: process.execPath,
        // tsx compiles the module once at start-up; requests run plain JavaScript.
        args: ['--import', 'tsx', path.join(ROOT_DIR, 'bench', 'raw-sql', 'server.ts')],
        cwd: ROOT_DIR,
        env: {
          ...baseEnvironment(),
          NODE_ENV: 'production',
          DATABASE_URL: options.databaseUrl,
          DB_POOL_SIZE: String(POOL_SIZE),
          ORGANIZATION_ID: options.fixture.organizationId,
          BENCH_API_KEY: options.fixture.apiKey,
          PORT: String(port),
        },
        port,
        ready: async (origin) => (await fetch(`${origin}/healthz`)).ok,
      });
  }
}
