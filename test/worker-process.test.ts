// `npm run worker` as real processes (src/jobs/process.ts through tsx, with a test task:
// test/helpers/job-worker.ts). Two processes on one PostgreSQL run each job once; SIGTERM lets
// the running jobs finish and leaves the rest queued. The embedded database can be opened by
// one process only, so there the worker process must refuse to start (its jobs run inside
// the gateway: test/jobs.test.ts runs them on PGlite).
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { tenantClient } from '../src/db/tenant.js';
import { transactionSql } from '../src/db/tenant-sql.js';
import { enqueueJobs } from '../src/jobs/enqueue.js';
import { createTestClient, type TestClient } from './helpers/client.js';
import { testDatabaseTarget } from './helpers/database.js';
import { createOrganization } from './helpers/factories.js';
import { recordRun } from './helpers/job-worker.js';
import { runScript } from './helpers/process.js';

const target = testDatabaseTarget();

function startWorker(env: Record<string, string>, script = 'test/helpers/job-worker.ts') {
  const worker = runScript(script, env);
  return {
    ...worker,
    async ready(pattern = /"msg":"job runner started"/, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(worker.output())) {
        if (worker.child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`the worker did not start:\n${worker.output()}`);
        }
        await sleep(50);
      }
    },
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (worker.child.exitCode === null) worker.child.kill(signal);
      return worker.exited;
    },
  };
}

if (target.kind === 'pglite') {
  describe('npm run worker on the embedded database', () => {
    it('refuses to start, saying why', async () => {
      const worker = startWorker({ DATA_DIR: '/nonexistent-wagraph-test-dir' });
      expect(await worker.exited).toBe(1);
      expect(worker.output()).toContain('needs DATABASE_URL');
    });
  });
} else {
  describe('npm run worker on PostgreSQL', () => {
    let client: TestClient;
    const env = { DATABASE_URL: target.url, WORKER_CONCURRENCY: '4', LOG_LEVEL: 'info' };

    beforeAll(async () => {
      client = await createTestClient();
      await client.db.session((session) =>
        session.exec(
          'CREATE TABLE IF NOT EXISTS job_test_run (batch text NOT NULL, n int NOT NULL, job_id text NOT NULL, pid int NOT NULL)',
        ),
      );
    });

    /** `count` jobs in one transaction (graphile_worker.add_jobs: one statement). */
    async function enqueue(organizationId: string, batch: string, count: number, sleepMs: number) {
      const payloads = Array.from({ length: count }, (_, n) => ({ batch, n, sleepMs }));
      const { ids } = await tenantClient(client.db.prisma, organizationId).$transaction((tx) =>
        enqueueJobs(transactionSql(tx, organizationId), recordRun, payloads),
      );
      expect(ids).toHaveLength(count);
    }

    async function recorded(batch: string) {
      const [row] = await client.db.query<{ runs: number; distinct: number; pids: number }>({
        text: 'SELECT count(*)::int AS "runs", count(DISTINCT n)::int AS "distinct", count(DISTINCT pid)::int AS "pids" FROM job_test_run WHERE batch = $1',
        values: [batch],
      });
      return row!;
    }

    async function queued(organizationId: string) {
      return client.db.query<{ id: string; locked: boolean; attempts: number }>({
        text: `SELECT id::text AS "id", locked_at IS NOT NULL AS "locked", attempts AS "attempts"
          FROM graphile_worker._private_jobs WHERE payload->>'organizationId' = $1`,
        values: [organizationId],
      });
    }

    async function until(condition: () => Promise<boolean>, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
        await sleep(100);
      }
    }

    it('two worker processes run 1,000 jobs, each exactly once', { timeout: 120_000 }, async () => {
      const org = await createOrganization(client.db);
      const batch = `two-${org.id}`;
      const workers = [startWorker(env), startWorker(env)];
      try {
        await Promise.all(workers.map((worker) => worker.ready()));
        const started = Date.now();
        await enqueue(org.id, batch, 1_000, 2);
        const enqueued = Date.now() - started;
        await until(async () => (await recorded(batch)).runs >= 1_000, 60_000);
        const elapsed = Date.now() - started;
        // Anything run twice would show up here, late: wait a little before counting.
        await sleep(500);
        expect(await recorded(batch)).toEqual({ runs: 1_000, distinct: 1_000, pids: 2 });
        await until(async () => (await queued(org.id)).length === 0, 5_000);
        console.log(`1,000 jobs through two worker processes: ${elapsed} ms, of which enqueueing ${enqueued} ms`);
      } finally {
        expect(await Promise.all(workers.map((worker) => worker.stop()))).toEqual([0, 0]);
      }
    });

    it('the gateway runs jobs in-process unless WORKERS=off, and on SIGTERM lets them finish', {
      timeout: 120_000,
    }, async () => {
      const org = await createOrganization(client.db);
      const batch = `gateway-${org.id}`;
      const gatewayEnv = { ...env, SEED_DEMO_DATA: 'false', WORKER_CONCURRENCY: '2' };
      const idle = startWorker({ ...gatewayEnv, WORKERS: 'off' }, 'test/helpers/gateway-with-task.ts');
      await idle.ready(/wagraph listening/);
      await enqueue(org.id, batch, 20, 150);
      await sleep(1_500);
      expect(await idle.stop()).toBe(0);
      expect(await recorded(batch)).toMatchObject({ runs: 0 });

      const gateway = startWorker({ ...gatewayEnv, WORKERS: 'in-process' }, 'test/helpers/gateway-with-task.ts');
      await gateway.ready(/wagraph listening/);
      await until(async () => (await recorded(batch)).runs >= 4, 30_000);
      expect(await gateway.stop('SIGTERM')).toBe(0);
      const done = await recorded(batch);
      expect(done.runs).toBe(done.distinct);
      const left = await queued(org.id);
      expect(done.runs + left.length).toBe(20);
      expect(left.every((job) => !job.locked && job.attempts === 0)).toBe(true);
      // The rest is not this test's to run: out of the queue the other tests' workers share.
      await client.db.query({
        text: 'SELECT graphile_worker.complete_jobs($1::bigint[])',
        values: [left.map((job) => job.id)],
      });
    });

    it('SIGTERM lets running jobs finish and leaves the others queued; nothing is lost', {
      timeout: 120_000,
    }, async () => {
      const org = await createOrganization(client.db);
      const batch = `sigterm-${org.id}`;
      const first = startWorker({ ...env, WORKER_CONCURRENCY: '2' });
      await first.ready();
      await enqueue(org.id, batch, 30, 150);
      await until(async () => (await recorded(batch)).runs >= 4, 30_000);
      expect(await first.stop('SIGTERM')).toBe(0);
      expect(first.output()).toContain('letting running jobs finish');

      // What ran is recorded and gone from the queue; the rest waits, unlocked and unattempted.
      const done = await recorded(batch);
      expect(done.runs).toBe(done.distinct);
      const left = await queued(org.id);
      expect(done.runs + left.length).toBe(30);
      expect(left.every((job) => !job.locked && job.attempts === 0)).toBe(true);

      const second = startWorker(env);
      try {
        await second.ready();
        await until(async () => (await recorded(batch)).runs >= 30, 30_000);
        await sleep(300);
        expect(await recorded(batch)).toMatchObject({ runs: 30, distinct: 30 });
        await until(async () => (await queued(org.id)).length === 0, 5_000);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    });
  });
}
