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

/** The jobs of `task` (waiting, running or parked) whose payload is for this organization. */
export async function jobsOf(
  db: Database,
  task: string,
  organizationId: string,
): Promise<{ id: string; attempts: number; data: unknown; queue: string | null; key: string | null }[]> {
  return db.query({
    text: `SELECT j.id::text AS "id", j.attempts AS "attempts", j.payload->'data' AS "data",
        q.queue_name AS "queue", j.key AS "key"
      FROM graphile_worker._private_jobs j
      JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      LEFT JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
      WHERE t.identifier = $1 AND j.payload->>'organizationId' = $2
      ORDER BY j.id`,
    values: [task, organizationId],
  });
}
