// `npm run worker`: a process that runs background jobs and serves no HTTP (src/jobs/process.ts).
import { startWorkerProcess } from './jobs/process.js';
import { APP_TASKS } from './jobs/tasks.js';

startWorkerProcess(APP_TASKS);
