// After a load run, the requests autocannon left in flight have been abandoned, but their
// queries may still be running in PostgreSQL (it only notices a gone client when it
// writes the result). Left alone, a slow operation's leftovers would eat the CPU of the
// next run; so the runner waits for the database to go idle, and cancels what is still
// running after a grace period.
import pg from 'pg';

const ACTIVE = `
SELECT pid, query_start::text FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;

/** Resolves once no other query runs in the database; returns how many were cancelled. */
export async function waitUntilIdle(url: string, graceMs = 3_000): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const deadline = Date.now() + graceMs;
    // A server's pool queue may still hold abandoned requests: each cancelled query makes
    // room for the next one, which is cancelled in turn, until nothing is left.
    const cancelled = new Set<string>();
    // Idle means idle for a while: a request between two of its statements runs none.
    let idleSince: number | undefined;
    for (;;) {
      const { rows } = await client.query<{ pid: number; query_start: string }>(ACTIVE);
      if (!rows.length) {
        idleSince ??= Date.now();
        if (Date.now() - idleSince >= 500) return cancelled.size;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      idleSince = undefined;
      if (Date.now() > deadline) {
        for (const { pid, query_start } of rows) {
          await client.query('SELECT pg_cancel_backend($1)', [pid]);
          cancelled.add(`${pid}@${query_start}`);
        }
        if (Date.now() > deadline + 30_000) return cancelled.size;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await client.end();
  }
}
