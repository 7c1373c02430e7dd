// Between load runs. When autocannon stops, it abandons the requests still in flight, but
// the server keeps working on them, and PostgreSQL keeps running their queries (it only
// notices a gone client when it writes a result). Left alone, a slow operation's
// leftovers would eat the CPU of the next run. So the runner waits until the server
// process and the database are both quiet, and if that does not happen soon, it kills the
// server and cancels the queries left behind (then starts the server again).
import fs from 'node:fs';
import pg from 'pg';

const ACTIVE = `
SELECT pid, query_start::text FROM pg_stat_activity
WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;

/** CPU time (user + system, in clock ticks) the process has used so far. */
function cpuTicks(pid: number): number | undefined {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = fs
      .readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * True once, within `graceMs`, the database has run no query and the server has used
 * (almost) no CPU for half a second: a request between two of its statements runs no
 * query but still uses the CPU.
 */
export function waitUntilQuiet(url: string, pid: number, graceMs: number): Promise<boolean> {
  return withClient(url, async (client) => {
    const deadline = Date.now() + graceMs;
    let quietSince: number | undefined;
    let ticks = cpuTicks(pid);
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = cpuTicks(pid);
      const busyServer = now !== undefined && ticks !== undefined && now - ticks > 1;
      ticks = now;
      const busyDatabase = (await client.query(ACTIVE)).rows.length > 0;
      if (busyServer || busyDatabase) quietSince = undefined;
      else if (Date.now() - (quietSince ??= Date.now()) >= 500) return true;
    }
    return false;
  });
}

/** Cancels every query still running in the database (its client is gone); returns how many. */
export function cancelLeftoverQueries(url: string): Promise<number> {
  return withClient(url, async (client) => {
    const cancelled = new Set<string>();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ pid: number; query_start: string }>(ACTIVE);
      if (!rows.length) break;
      for (const { pid, query_start } of rows) {
        await client.query('SELECT pg_cancel_backend($1)', [pid]);
        cancelled.add(`${pid}@${query_start}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return cancelled.size;
  });
}
