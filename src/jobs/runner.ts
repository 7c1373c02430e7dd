// Background jobs: graphile-worker (https://worker.graphile.org), pinned at 0.18.0.
//
// Why graphile-worker rather than pg-boss: a job is enqueued by a SQL function,
// `graphile_worker.add_job(…)`, so it is one more statement in the transaction that writes
// the rows the job needs (./enqueue.ts, through the tenant SQL helper), with no second
// client or connection; workers are woken by LISTEN/NOTIFY (no polling delay) and claim jobs
// with SKIP LOCKED, so any number of gateway and worker processes on one PostgreSQL run each
// job once; a failed attempt is retried after an exponential backoff (e^attempt seconds:
// 3 s, 7 s, 20 s, … capped at e^10 ≈ 6 h) until `max_attempts`, after which the job stays
// in its table with `last_error`, no longer picked (parked), without holding back other
// jobs. It installs and upgrades its own schema (`graphile_worker`), which wagraph runs at
// start-up right after its own migrations (installJobSchema). pg-boss 12 can enqueue in a
// caller's transaction too, but through its JavaScript API and a connection adapter rather
// than one SQL statement through the tenant SQL helper, and its workers poll (every 2 s by
// default) where graphile-worker's are woken by NOTIFY on commit.
//
// The embedded database: graphile-worker runs on PGlite unchanged, given a pool look-alike
// over PGlite's one session (src/db/pglite-pool.ts): its schema installs, LISTEN/NOTIFY works
// within the session, and its statements take turns with the requests' ones. One process
// only (PGlite cannot be opened by two), so `npm run worker` needs DATABASE_URL.
//
// Shutdown (SIGTERM): `stop()` stops taking jobs and waits for the running ones to finish;
// their AbortSignal fires after GRACE_MS, and a job still running after STOP_TIMEOUT_MS is
// returned to the queue (recorded as a failed attempt, so it runs again after its backoff).
// A process killed without that (SIGKILL, a crash) leaves its running jobs locked;
// graphile-worker frees them after four hours and they run again: at least once, never lost.
import {
  type Job,
  type JobHelpers,
  Logger,
  parseCronItems,
  type Runner,
  run,
  runMigrations,
  type TaskList,
} from 'graphile-worker';
import { DEFAULT_WHATSAPP_API_URL } from '../config.js';
import type { Database } from '../db/database.js';
import type { FeedPublisher } from '../events/hub.js';
import type { Logger as WagraphLogger } from '../logger.js';
import type { CloudApiAccess } from '../whatsapp/cloud-api.js';
import type { JobEnvelope } from './enqueue.js';
import type { ScheduledTask, TaskDefinition } from './task.js';

/** Running jobs get this long after stop() before their AbortSignal fires. */
const GRACE_MS = 5_000;
/** After this, jobs still running at stop() are returned to the queue. */
const STOP_TIMEOUT_MS = 10_000;
/** Jobs fetched ahead per concurrent job (graphile-worker's local queue). */
const LOCAL_QUEUE_PER_SLOT = 4;
/** Scheduled jobs (retries, run_at) are looked for this often; new jobs arrive by NOTIFY. */
const POLL_INTERVAL_MS = 1_000;

/** graphile-worker's log lines through wagraph's logger; its per-job lines are debug. */
function workerLogger(log: WagraphLogger): Logger {
  return new Logger((scope) => (level, message, meta) => {
    const fields = {
      scope: { label: scope.label, workerId: scope.workerId, taskIdentifier: scope.taskIdentifier, jobId: scope.jobId },
      ...(meta && 'error' in meta ? { err: meta.error } : {}),
    };
    // A failed attempt is logged once, by the runner's own events (startJobRunner).
    if (level === 'error' && !message.startsWith('Failed task')) log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else log.debug(fields, message);
  });
}

/** Installs or upgrades graphile-worker's schema; safe on every start and from several processes at once. */
export async function installJobSchema(db: Database, log: WagraphLogger): Promise<void> {
  const pool = db.jobPool(1);
  try {
    await runMigrations({ pgPool: pool, logger: workerLogger(log) });
  } finally {
    await pool.end();
  }
}

export interface JobRunnerOptions {
  db: Database;
  log: WagraphLogger;
  tasks: readonly TaskDefinition[];
  /** Jobs run at once by this process. */
  concurrency: number;
  /** Tasks run on a schedule (./task.ts). */
  schedules?: readonly ScheduledTask[];
  /** For tasks that call WhatsApp (default: Meta's URL and no key, so no channel's token opens). */
  cloudApi?: CloudApiAccess;
  /** Where jobs announce committed changes (the process's EventHub); default: nowhere (subscribers' poll finds them). */
  feed?: FeedPublisher;
}

/** Announces nothing: subscribers find the changes at their next poll of the feed. */
const UNANNOUNCED: FeedPublisher = { committed: () => {} };

export interface JobRunner {
  /** Stops taking jobs and waits for the running ones (see the header). */
  stop(): Promise<void>;
}

function taskList(
  tasks: readonly TaskDefinition[],
  schedules: readonly ScheduledTask[],
  db: Database,
  log: WagraphLogger,
  cloudApi: CloudApiAccess,
  feed: FeedPublisher,
): TaskList {
  const list: TaskList = {};
  for (const scheduled of schedules) {
    list[scheduled.name] = (_payload: unknown, helpers: JobHelpers) =>
      scheduled.run({
        db,
        log: log.child({ task: scheduled.name, jobId: String(helpers.job.id) }),
        signal: helpers.abortSignal,
      });
  }
  for (const task of tasks) {
    if (list[task.name]) throw new Error(`Two tasks are named ${task.name}`);
    list[task.name] = async (raw: unknown, helpers: JobHelpers) => {
      const { job } = helpers;
      const envelope = raw as Partial<JobEnvelope> | null;
      const organizationId = typeof envelope?.organizationId === 'string' ? envelope.organizationId : '';
      const parsed = task.payload.safeParse(envelope?.data);
      if (!organizationId || !parsed.success) {
        throw new Error(
          `Invalid payload for ${task.name}: ${parsed.success ? 'no organizationId' : parsed.error.message}`,
        );
      }
      await task.handler(parsed.data, {
        organizationId,
        db,
        log: log.child({ task: task.name, jobId: String(job.id), organizationId }),
        feed,
        job: { id: String(job.id), attempt: job.attempts, maxAttempts: job.max_attempts },
        cloudApi,
        signal: helpers.abortSignal,
      });
    };
  }
  return list;
}

// graphile-worker types a job id as a string (pg's bigint); PGlite hands it over as a number.
function describe(job: Job) {
  return { jobId: String(job.id), task: job.task_identifier, attempt: job.attempts, maxAttempts: job.max_attempts };
}

/** Starts graphile-worker on this database with `tasks`; the schema must be installed (installJobSchema). */
export async function startJobRunner({
  db,
  log,
  tasks,
  concurrency,
  schedules = [],
  cloudApi = { url: DEFAULT_WHATSAPP_API_URL, secrets: undefined },
  feed = UNANNOUNCED,
}: JobRunnerOptions): Promise<JobRunner> {
  if (tasks.length === 0) {
    // graphile-worker would report "no tasks" on every poll; jobs wait for a process that has them.
    log.info('job runner not started: no tasks to run');
    return { stop: async () => {} };
  }
  // The concurrent jobs, the LISTEN connection and one to spare for completing and failing jobs.
  const pool = db.jobPool(concurrency + 2);
  let runner: Runner;
  try {
    runner = await run({
      pgPool: pool,
      concurrency,
      pollInterval: POLL_INTERVAL_MS,
      taskList: taskList(tasks, schedules, db, log, cloudApi, feed),
      logger: workerLogger(log),
      // wagraph's process owns the signals (src/server.ts, src/jobs/process.ts).
      noHandleSignals: true,
      // The schedules given, never a crontab file; a run missed while nothing ran is skipped.
      parsedCronItems: parseCronItems(
        schedules.map((scheduled) => ({
          task: scheduled.name,
          match: scheduled.schedule,
          options: { backfillPeriod: 0 },
        })),
      ),
      gracefulShutdownAbortTimeout: GRACE_MS,
      // Batched (within a tick) completion and failure writes. Besides fewer statements, this
      // is what makes stop() wait for them: unbatched, 0.18 does not await a completion, and
      // a job that finished just before shutdown stayed locked, to run again hours later.
      // The local queue fetches (and locks) up to LOCAL_QUEUE_PER_SLOT jobs per slot in one
      // statement rather than one per job: a burst of short jobs (webhook deliveries, most of
      // them already processed by another job's batch) costs a fetch per several jobs. Jobs
      // still waiting there at stop() are returned to the queue unlocked.
      preset: {
        worker: {
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
          localQueue: { size: concurrency * LOCAL_QUEUE_PER_SLOT },
        },
      },
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
  runner.events.on('job:error', ({ job, error }) => {
    if (job.attempts < job.max_attempts) {
      log.warn({ ...describe(job), err: error }, 'job failed; it will be retried');
    }
  });
  // The operator's line: the job is parked, with its error, until someone acts.
  runner.events.on('job:failed', ({ job, error }) => {
    log.error({ ...describe(job), err: error }, 'job failed permanently; parked with its error');
  });
  log.info({ concurrency, tasks: tasks.map((task) => task.name), database: db.kind }, 'job runner started');
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS);
        });
        try {
          const graceful = runner.stop();
          if ((await Promise.race([graceful, late])) === 'late') {
            log.warn('jobs still running at shutdown: returned to the queue');
            await runner.kill('shutdown: the job did not finish in time; returned to the queue');
          }
        } finally {
          clearTimeout(timer);
          await pool.end();
        }
        log.info('job runner stopped');
      })();
      return stopping;
    },
  };
}
