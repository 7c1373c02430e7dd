// Rows read by PostgreSQL, from its cumulative statistics, over wagraph's tables (schema
// public): `seq_tup_read` of pg_stat_user_tables (rows sequential scans returned) plus
// `idx_tup_read` of pg_stat_user_indexes (entries index scans, index-only scans and bitmap
// scans read). Measured around a batch of N sequential requests and divided by N.
//
// A backend publishes its counters when it goes idle, but at most once a second; when it
// is too soon, PostgreSQL 15 defers them by up to 10 s (PGSTAT_IDLE_INTERVAL). A backend
// that exits publishes at once, so before each reading the server's idle connections are
// terminated (its pool opens new ones on the next request). pg_stat_statements would be
// more precise but is not preloaded here.
import pg from 'pg';

const TOTAL = `
SELECT ((SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables WHERE schemaname = 'public')
      + (SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE schemaname = 'public'))::text AS total`;

const OTHERS = `
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;

export interface TableReads {
  /** Makes every other session of the database publish its counters, then reads the sum. */
  flushAndRead(): Promise<number>;
  close(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function openTableReads(url: string): Promise<TableReads> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Each query is its own transaction, so it sees fresh statistics (no cached snapshot).
  const read = async () => Number((await client.query<{ total: string }>(TOTAL)).rows[0]!.total);
  return {
    async flushAndRead() {
      await client.query(`SELECT pg_terminate_backend(pid) FROM (${OTHERS}) others`);
      for (let waited = 0; waited < 5_000 && (await client.query(OTHERS)).rows.length > 0; waited += 50)
        await pause(50);
      // Exiting backends flush as they go; read until two readings agree.
      let previous = await read();
      for (let attempt = 0; attempt < 20; attempt++) {
        await pause(150);
        const current = await read();
        if (current === previous) return current;
        previous = current;
      }
      return previous;
    },
    close: () => client.end(),
  };
}
