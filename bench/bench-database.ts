// Which database the benchmark uses, and creating it. `bench:seed` drops and recreates
// it, so it refuses a database whose name does not say it is a benchmark database: a
// DATABASE_URL left pointing at real data must never be wiped by a benchmark.
import pg from 'pg';

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/wagraph_bench';

export function benchDatabaseUrl(environment: NodeJS.ProcessEnv = process.env): string {
  const url = environment.DATABASE_URL || DEFAULT_BENCH_DATABASE_URL;
  const name = databaseName(url);
  if (!/bench/i.test(name)) {
    throw new Error(
      `DATABASE_URL names database "${name}": the benchmark drops and refills its database, so its name must contain "bench" (default ${DEFAULT_BENCH_DATABASE_URL})`,
    );
  }
  return url;
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** The same server's maintenance database, from which databases are created and dropped. */
export function maintenanceUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

async function withMaintenance<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: maintenanceUrl(url) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function databaseExists(url: string): Promise<boolean> {
  return withMaintenance(url, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName(url)]);
    return rowCount === 1;
  });
}

export async function recreateDatabase(url: string): Promise<void> {
  const name = pg.escapeIdentifier(databaseName(url));
  await withMaintenance(url, async (client) => {
    // FORCE: a server left running by an interrupted benchmark must not block the reseed.
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });
}

export async function dropDatabase(url: string): Promise<void> {
  const name = pg.escapeIdentifier(databaseName(url));
  await withMaintenance(url, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
