// The gateway (src/server.ts) running test/helpers/job-worker.ts's test task in-process, for
// test/worker-process.test.ts.
import { startGateway } from '../../src/server.js';
import { recordRun } from './job-worker.js';

startGateway([recordRun]);
