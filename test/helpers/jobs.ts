// The job queue as tests see it. Files of a worker share its test database (and, on
// PostgreSQL, every file of the run shares one), so jobs one file enqueues but does not run
// (webhook deliveries stored by test/whatsapp-deliveries.test.ts) would be picked up by the
// next runner of that task, in another file, ahead of that file's own jobs.
import type { Database } from '../../src/db/database.js';

/**
 * Deletes the waiting (unlocked) jobs of `task`, only those of `organizationIds` when given:
 * jobs a file leaves for a task it does not run.
 */
export async function discardJobs(db: Database, task: string, organizationIds?: readonly string[]): Promise<number> {
  const rows = await db.query<{ id: string }>({
    text: `DELETE FROM graphile_worker._private_jobs j
      USING graphile_worker._private_tasks t
      WHERE t.id = j.task_id AND t.identifier = $1 AND j.locked_at IS NULL
        AND ($2::text[] IS NULL OR j.payload->>'organizationId' = ANY($2::text[]))
      RETURNING j.id::text AS "id"`,
    values: [task, organizationIds ? [...organizationIds] : null],
  });
  return rows.length;
}
