// Enqueueing a job in the transaction that writes the rows it needs: the job exists exactly
// when the transaction commits (a rollback leaves no job behind, and a job never runs before
// its rows are visible). graphile-worker's `add_job` is a SQL function, so the job is one
// more statement on the transaction's connection, sent through the tenant SQL helper: it
// binds the organization, which the job carries to its handler (./task.ts JobContext).
import { Prisma } from '../generated/prisma/client.js';
import type { TenantSql } from '../db/tenant-sql.js';
import type { TaskDefinition } from './task.js';
import type { z } from 'zod';

export interface EnqueueOptions {
  /** Not before this time (default: now). */
  runAt?: Date;
  /**
   * At most one pending job per key (graphile-worker's job_key, scoped here to the
   * organization): enqueueing again with the same key replaces the pending job's payload.
   */
  key?: string;
  /**
   * With `key`, whether enqueueing again moves the pending job's time to `runAt` (`replace`, the
   * default) or keeps it (`preserve_run_at`: a job scheduled for later stays scheduled).
   */
  keyMode?: 'replace' | 'preserve_run_at';
  /**
   * A named queue (graphile-worker's queue_name, scoped here to the organization): the jobs of
   * one queue run one at a time, across every process. With `key`, a job enqueued while the
   * key's job is running becomes a new job that waits in the queue for the running one.
   */
  queue?: string;
}

/** The stored payload: the organization and the task's own payload. */
export interface JobEnvelope {
  organizationId: string;
  data: unknown;
}

export class InvalidJobPayloadError extends Error {
  override name = 'InvalidJobPayloadError';
}

/**
 * Adds a job for `task` inside the transaction of `sql` (`transactionSql(tx, organizationId)`).
 * The payload is checked against the task's schema first: a payload the handler could not
 * take is refused here, in the request, rather than failing later in a worker.
 */
export async function enqueueJob<Schema extends z.ZodType>(
  sql: TenantSql,
  task: TaskDefinition<Schema>,
  payload: z.input<Schema>,
  options: EnqueueOptions = {},
): Promise<{ id: string }> {
  const checked = task.payload.safeParse(payload);
  if (!checked.success) {
    throw new InvalidJobPayloadError(`Invalid payload for ${task.name}: ${checked.error.message}`);
  }
  const [row] = await sql.query<{ id: string }>(
    (org) => Prisma.sql`SELECT (graphile_worker.add_job(
      ${task.name}::text,
      json_build_object('organizationId', ${org}, 'data', ${JSON.stringify(payload)}::json),
      queue_name := CASE WHEN ${options.queue ?? null}::text IS NULL THEN NULL ELSE ${org}::text || ':' || ${options.queue ?? null}::text END,
      run_at := ${options.runAt ?? null}::timestamptz,
      max_attempts := ${task.maxAttempts ?? null}::int,
      job_key := CASE WHEN ${options.key ?? null}::text IS NULL THEN NULL ELSE ${org}::text || ':' || ${options.key ?? null}::text END,
      job_key_mode := ${options.keyMode ?? 'replace'}::text
    )).id::text AS id`,
  );
  if (!row) throw new Error(`graphile_worker.add_job returned no job for ${task.name}`);
  return { id: row.id };
}

/** At most this many jobs per enqueueJobs statement (one bound JSON array). */
export const MAX_JOBS_PER_STATEMENT = 10_000;

/**
 * Adds one job per payload for `task` in one statement (graphile_worker.add_jobs), inside the
 * transaction of `sql`: for work that fans out (a campaign's recipients). Every payload is
 * checked first; none is added if one is invalid.
 */
export async function enqueueJobs<Schema extends z.ZodType>(
  sql: TenantSql,
  task: TaskDefinition<Schema>,
  payloads: readonly z.input<Schema>[],
  options: Pick<EnqueueOptions, 'runAt'> = {},
): Promise<{ ids: string[] }> {
  if (payloads.length === 0) return { ids: [] };
  if (payloads.length > MAX_JOBS_PER_STATEMENT) {
    throw new InvalidJobPayloadError(`At most ${MAX_JOBS_PER_STATEMENT} jobs per enqueueJobs call`);
  }
  for (const [index, payload] of payloads.entries()) {
    const checked = task.payload.safeParse(payload);
    if (!checked.success) {
      throw new InvalidJobPayloadError(`Invalid payload ${index} for ${task.name}: ${checked.error.message}`);
    }
  }
  const rows = await sql.query<{ id: string }>(
    (org) => Prisma.sql`SELECT job.id::text AS id FROM graphile_worker.add_jobs(ARRAY(
      SELECT ROW(
        ${task.name}::text,
        json_build_object('organizationId', ${org}, 'data', p.value),
        NULL, ${options.runAt ?? null}::timestamptz, ${task.maxAttempts ?? null}::smallint, NULL, NULL, NULL
      )::graphile_worker.job_spec
      FROM json_array_elements(${JSON.stringify(payloads)}::json) WITH ORDINALITY AS p(value, position)
      ORDER BY p.position
    )) AS job`,
  );
  return { ids: rows.map((row) => row.id) };
}

/**
 * The job specs of `task` (a `graphile_worker.job_spec[]` expression) for payloads that a
 * statement computes from rows it writes: `payloads` is a subquery with a json column
 * `payload`, checked by the caller against the task's schema. For one statement that inserts
 * rows and enqueues their jobs (`graphile_worker.add_jobs(<this>)`), atomic without a
 * transaction of its own.
 */
export function jobSpecs(task: TaskDefinition, org: Prisma.Sql, payloads: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`ARRAY(
    SELECT ROW(
      ${task.name}::text, json_build_object('organizationId', ${org}, 'data', p."payload"),
      NULL, NULL, ${task.maxAttempts ?? null}::smallint, NULL, NULL, NULL
    )::graphile_worker.job_spec
    FROM (${payloads}) AS p
  )`;
}
