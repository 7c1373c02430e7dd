// Rows read by PostgreSQL, from its cumulative statistics, over wagraph's tables (schema
// public): `seq_tup_read` of pg_stat_user_tables (rows sequential scans returned) plus
// `idx_tup_read` of pg_stat_user_indexes (entries index scans, index-only scans and bitmap
// scans read). Measured around a batch of N sequential requests and divided by N.
//
// Backends publish their counters when they go idle, at most once a second (PostgreSQL
// 15's shared-memory statistics), so a reading is taken only once the sum has stopped
// moving. pg_stat_statements would be more precise but is not preloaded here.
import pg from 'pg';

const TOTAL = `
SELECT ((SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables WHERE schemaname = 'public')
      + (SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE schemaname = 'public'))::text AS total`;

export interface TableReads {
  /** The counter once every backend has published its pending statistics. */
  settled(): Promise<number>;
  close(): Promise<void>;
}

export async function openTableReads(url: string): Promise<TableReads> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Each query is its own transaction, so it sees fresh statistics (no cached snapshot).
  const read = async () => Number((await client.query<{ total: string }>(TOTAL)).rows[0]!.total);
  return {
    async settled() {
      await new Promise((resolve) => setTimeout(resolve, 1_050));
      let previous = await read();
      for (let attempt = 0; attempt < 40; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const current = await read();
        if (current === previous) return current;
        previous = current;
      }
      return previous;
    },
    close: () => client.end(),
  };
}
