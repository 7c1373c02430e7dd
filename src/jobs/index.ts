// Background jobs (graphile-worker; why, and how it runs on each database: ./runner.ts).
export {
  type EnqueueOptions,
  enqueueJob,
  enqueueJobs,
  InvalidJobPayloadError,
  MAX_JOBS_PER_STATEMENT,
} from './enqueue.js';
export { type FailedJob, listFailedJobs } from './failed.js';
export { installJobSchema, type JobRunner, startJobRunner } from './runner.js';
export { defineTask, type JobContext, type TaskDefinition } from './task.js';
