// Parked jobs, for operators: every attempt failed, and the job stays in graphile-worker's
// table with its last error until someone retries or deletes it (see the README's
// "Background jobs"). Administration code: it reads across organizations.
import type { Database } from '../db/database.js';

export interface FailedJob {
  id: string;
  task: string;
  organizationId: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  failedAt: Date;
}

/** The most recently failed parked jobs, newest first. */
export async function listFailedJobs(db: Database, limit = 100): Promise<FailedJob[]> {
  return db.query<FailedJob>({
    text: `SELECT j.id::text AS "id", t.identifier AS "task", j.payload->>'organizationId' AS "organizationId",
        j.attempts AS "attempts", j.last_error AS "lastError", j.created_at AS "createdAt", j.updated_at AS "failedAt"
      FROM graphile_worker._private_jobs j
      JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE j.attempts >= j.max_attempts AND j.locked_at IS NULL
      ORDER BY j.updated_at DESC, j.id DESC
      LIMIT $1`,
    values: [limit],
  });
}
