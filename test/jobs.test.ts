// The background-job system (src/jobs/) inside one process, on the test database (PGlite by
// default, PostgreSQL with TEST_DATABASE_URL): enqueued in a transaction, run, retried,
// parked, and stopped while a job runs. Two worker processes: test/worker-process.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import { tenantClient } from '../src/db/tenant.js';
import { type TenantSql, transactionSql } from '../src/db/tenant-sql.js';
import {
  defineTask,
  enqueueJob,
  enqueueJobs,
  InvalidJobPayloadError,
  type JobRunner,
  listFailedJobs,
  startJobRunner,
  type TaskDefinition,
} from '../src/jobs/index.js';
import type { Logger } from '../src/logger.js';
import { createTestClient, silentLogger, type TestClient } from './helpers/client.js';
import { createOrganization } from './helpers/factories.js';

let client: TestClient;
beforeAll(async () => {
  client = await createTestClient();
});

const runners: JobRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.stop()));
});

async function start(tasks: TaskDefinition[], concurrency = 2, log: Logger = silentLogger): Promise<JobRunner> {
  const runner = await startJobRunner({ db: client.db, log, tasks, concurrency });
  runners.push(runner);
  return runner;
}

/** Runs `work` in a transaction of the organization's tenant client, as a mutation does. */
function inTransaction<T>(organizationId: string, work: (sql: TenantSql) => Promise<T>): Promise<T> {
  return tenantClient(client.db.prisma, organizationId).$transaction((tx) => work(transactionSql(tx, organizationId)));
}

interface JobRow {
  id: string;
  task: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  runAt: Date;
}

/** The jobs still in the queue for an organization (a job that succeeded is deleted). */
function queuedJobs(organizationId: string): Promise<JobRow[]> {
  return client.db.query<JobRow>({
    text: `SELECT j.id::text AS "id", t.identifier AS "task", j.attempts AS "attempts", j.max_attempts AS "maxAttempts",
        j.last_error AS "lastError", j.run_at AS "runAt"
      FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE j.payload->>'organizationId' = $1 ORDER BY j.id`,
    values: [organizationId],
  });
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(25);
  }
}

interface Run {
  jobId: string;
  organizationId: string;
  n: number;
  attempt: number;
  at: number;
}

/** A task that records each run, per test (names are per test: runners only take their own tasks). */
function recordingTask(name: string, runs: Run[]) {
  return defineTask({
    name,
    payload: z.object({ n: z.number().int() }),
    handler: async ({ n }, { organizationId, job }) => {
      runs.push({ jobId: job.id, organizationId, n, attempt: job.attempt, at: Date.now() });
    },
  });
}

describe('background jobs', () => {
  it('runs a job enqueued in a committed transaction, with its payload and organization', async () => {
    const org = await createOrganization(client.db);
    const runs: Run[] = [];
    const task = recordingTask('test.jobsRun', runs);
    await start([task]);
    const { id } = await inTransaction(org.id, (sql) => enqueueJob(sql, task, { n: 7 }));
    await until(() => runs.length === 1);
    expect(runs).toMatchObject([{ jobId: id, organizationId: org.id, n: 7, attempt: 1 }]);
    // A job that succeeded leaves the queue.
    await until(async () => (await queuedJobs(org.id)).length === 0);
  });

  it('enqueues many jobs in one statement, each run once', async () => {
    const org = await createOrganization(client.db);
    const runs: Run[] = [];
    const task = recordingTask('test.jobsMany', runs);
    await start([task], 4);
    const { ids } = await inTransaction(org.id, (sql) =>
      enqueueJobs(
        sql,
        task,
        Array.from({ length: 100 }, (_, n) => ({ n })),
      ),
    );
    expect(new Set(ids).size).toBe(100);
    await until(() => runs.length === 100);
    await sleep(200);
    expect(runs.map((run) => run.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, n) => n));
    expect(runs.every((run) => run.organizationId === org.id)).toBe(true);
    // One invalid payload: none is added.
    await expect(inTransaction(org.id, (sql) => enqueueJobs(sql, task, [{ n: 1 }, { n: 1.5 }]))).rejects.toBeInstanceOf(
      InvalidJobPayloadError,
    );
    await until(async () => (await queuedJobs(org.id)).length === 0);
  });

  it('enqueues nothing when the transaction rolls back, and runs nothing before it commits', async () => {
    const org = await createOrganization(client.db);
    const runs: Run[] = [];
    const task = recordingTask('test.jobsRollback', runs);
    await start([task]);
    await expect(
      inTransaction(org.id, async (sql) => {
        await enqueueJob(sql, task, { n: 1 });
        throw new Error('the mutation failed');
      }),
    ).rejects.toThrow('the mutation failed');
    expect(await queuedJobs(org.id)).toEqual([]);

    // Committed later than the job's enqueueing: the job still runs only after the commit.
    let committedAt = 0;
    await inTransaction(org.id, async (sql) => {
      await enqueueJob(sql, task, { n: 2 });
      await sleep(300);
      committedAt = Date.now();
    });
    await until(() => runs.length === 1);
    expect(runs[0]!.at).toBeGreaterThanOrEqual(committedAt);
    await sleep(300);
    expect(runs.map((run) => run.n)).toEqual([2]);
  });

  it('refuses a payload the task could not take, in the enqueuing transaction', async () => {
    const org = await createOrganization(client.db);
    const task = recordingTask('test.jobsInvalid', []);
    await expect(
      inTransaction(org.id, (sql) => enqueueJob(sql, task, { n: 'seven' } as unknown as { n: number })),
    ).rejects.toBeInstanceOf(InvalidJobPayloadError);
    expect(await queuedJobs(org.id)).toEqual([]);
  });

  it('retries a job that throws after a backoff, then parks it with its error; other jobs are not held back', async () => {
    const org = await createOrganization(client.db);
    const attempts: number[] = [];
    const poison = defineTask({
      name: 'test.jobsPoison',
      payload: z.object({}),
      maxAttempts: 2,
      handler: async () => {
        attempts.push(Date.now());
        throw new Error('the remote service said no');
      },
    });
    const runs: Run[] = [];
    const healthy = recordingTask('test.jobsHealthy', runs);
    const logged: { level: number; msg: string; jobId?: string; task?: string; err?: { message: string } }[] = [];
    await start(
      [poison, healthy],
      1,
      pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) }),
    );
    await inTransaction(org.id, async (sql) => {
      await enqueueJob(sql, poison, {});
      await enqueueJob(sql, healthy, { n: 1 });
    });
    // The healthy job runs while the poison job waits for its retry.
    await until(() => runs.length === 1 && attempts.length === 1);
    // The failure is written just after the handler threw.
    await until(async () => (await queuedJobs(org.id))[0]?.lastError != null);
    const [waiting] = await queuedJobs(org.id);
    expect(waiting).toMatchObject({ task: 'test.jobsPoison', attempts: 1, lastError: 'the remote service said no' });
    // graphile-worker's backoff: e^attempts seconds after the failure.
    expect(waiting!.runAt.getTime() - attempts[0]!).toBeGreaterThan(2_000);

    await until(async () => (await queuedJobs(org.id))[0]?.attempts === 2 && attempts.length === 2, 15_000);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThan(2_000);
    // Parked: still there with its error, never picked again.
    await sleep(1_500);
    expect(attempts).toHaveLength(2);
    const [parked] = await queuedJobs(org.id);
    expect(parked).toMatchObject({ attempts: 2, maxAttempts: 2, lastError: 'the remote service said no' });
    // Operators see it: one warning per failed attempt, one error when it is parked.
    expect(logged.filter((line) => line.task === 'test.jobsPoison').map((line) => [line.level, line.msg])).toEqual([
      [40, 'job failed; it will be retried'],
      [50, 'job failed permanently; parked with its error'],
    ]);
    expect(logged.find((line) => line.level === 50)).toMatchObject({
      jobId: parked!.id,
      err: { message: 'the remote service said no' },
    });
    const failed = await listFailedJobs(client.db, 1000);
    expect(failed.find((job) => job.id === parked!.id)).toMatchObject({
      task: 'test.jobsPoison',
      organizationId: org.id,
      attempts: 2,
      lastError: 'the remote service said no',
    });
    // More jobs still run.
    await inTransaction(org.id, (sql) => enqueueJob(sql, healthy, { n: 2 }));
    await until(() => runs.length === 2);
    // An operator runs the parked job again, as the README says.
    await client.db.query({
      text: 'SELECT graphile_worker.reschedule_jobs(ARRAY[$1]::bigint[], run_at := now(), attempts := 0)',
      values: [parked!.id],
    });
    await until(() => attempts.length === 3, 5_000);
  });

  it('lets a running job finish when the runner stops, and leaves the others queued for the next runner', async () => {
    const org = await createOrganization(client.db);
    const finished: number[] = [];
    let started = 0;
    const slow = defineTask({
      name: 'test.jobsSlow',
      payload: z.object({ n: z.number().int() }),
      handler: async ({ n }) => {
        started++;
        await sleep(400);
        finished.push(n);
      },
    });
    const runner = await startJobRunner({ db: client.db, log: silentLogger, tasks: [slow], concurrency: 1 });
    await inTransaction(org.id, async (sql) => {
      for (let n = 0; n < 5; n++) await enqueueJob(sql, slow, { n });
    });
    await until(() => started === 1);
    await runner.stop();
    // The running job finished and was not failed; the other four wait, unlocked.
    expect(finished).toHaveLength(1);
    const left = await queuedJobs(org.id);
    expect(left).toHaveLength(4);
    expect(left.every((job) => job.attempts === 0 && job.lastError === null)).toBe(true);

    await start([slow], 2);
    await until(() => finished.length === 5, 10_000);
    expect([...finished].sort()).toEqual([0, 1, 2, 3, 4]);
    await until(async () => (await queuedJobs(org.id)).length === 0);
  });
});
