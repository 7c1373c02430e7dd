// A worker process for test/worker-process.test.ts: `npm run worker`'s entry (src/jobs/process.ts)
// with a test task that records each run in the table `job_test_run` (the test creates it).
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { startWorkerProcess } from '../../src/jobs/process.js';
import { defineTask } from '../../src/jobs/task.js';

export const recordRun = defineTask({
  name: 'test.recordRun',
  payload: z.object({ batch: z.string(), n: z.number().int(), sleepMs: z.number().int() }),
  handler: async ({ batch, n, sleepMs }, { db, job }) => {
    if (sleepMs > 0) await sleep(sleepMs);
    await db.query({
      text: 'INSERT INTO job_test_run (batch, n, job_id, pid) VALUES ($1, $2, $3, $4)',
      values: [batch, n, job.id, process.pid],
    });
  },
});

if (process.argv[1]?.endsWith('job-worker.ts')) startWorkerProcess([recordRun]);
