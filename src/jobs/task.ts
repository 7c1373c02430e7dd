// A background task: a name, the zod schema of its payload, and the handler that runs it.
// Tasks are plain values handed to the runner (./runner.ts), never registered globally: the
// gateway and `npm run worker` run the tasks of ./tasks.ts, a test runs its own.
import type { z } from 'zod';
import type { Database } from '../db/database.js';
import type { FeedPublisher } from '../events/hub.js';
import type { Logger } from '../logger.js';
import type { CloudApiAccess } from '../whatsapp/cloud-api.js';

/** What a handler gets besides its payload. */
export interface JobContext {
  /** The organization the job was enqueued for (bound by ./enqueue.ts from the enqueuing transaction). */
  organizationId: string;
  db: Database;
  log: Logger;
  /**
   * Announces the job's committed changes to subscribers on every instance (call it after the
   * transaction commits, never inside it); the feed's poll would find them anyway, later.
   */
  feed: FeedPublisher;
  job: {
    id: string;
    /** This run is attempt number `attempt` (from 1) of at most `maxAttempts`. */
    attempt: number;
    maxAttempts: number;
  };
  /** Where the WhatsApp Cloud API is (WHATSAPP_API_URL) and the key that opens the channels' access tokens. */
  cloudApi: CloudApiAccess;
  /** Aborted when the runner is shutting down and the grace period is over. */
  signal: AbortSignal | undefined;
}

export interface TaskDefinition<Schema extends z.ZodType = z.ZodType> {
  /** The task identifier in the queue; `<domain>.<verb>`, e.g. `webhook.process`. */
  name: string;
  payload: Schema;
  /** Runs before giving up (default 25, graphile-worker's: about three days of retries). */
  maxAttempts?: number;
  /** Throws to fail this attempt: the job is retried after a backoff, then parked with its error. */
  handler(payload: z.output<Schema>, context: JobContext): Promise<void>;
}

export function defineTask<Schema extends z.ZodType>(task: TaskDefinition<Schema>): TaskDefinition<Schema> {
  if (!/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*$/.test(task.name)) {
    throw new Error(`A task name is dotted lower camel case words, e.g. webhook.process: ${task.name}`);
  }
  return task;
}

/**
 * A task the queue runs on a schedule, for the whole database rather than one organization
 * (retention, clean-up). graphile-worker's cron runs it once per due time across every
 * process, and a time missed while no process ran is not caught up.
 */
export interface ScheduledTask {
  /** The task identifier; `<domain>.<verb>`, like a TaskDefinition's. */
  name: string;
  /** When it runs, in crontab syntax (UTC): `0 * * * *` is hourly. */
  schedule: string;
  run(context: { db: Database; log: Logger; signal: AbortSignal | undefined }): Promise<void>;
}
