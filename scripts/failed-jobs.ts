// `npm run jobs:failed`: the background jobs that failed every attempt (parked), newest first,
// one JSON line each, from the configured database. On the embedded database, stop the
// gateway first (one process at a time).
import { ConfigError, loadConfig } from '../src/config.js';
import { DatabaseOpenError, openDatabase } from '../src/db/client.js';
import { databaseTarget } from '../src/db/setup.js';
import { listFailedJobs } from '../src/jobs/failed.js';

try {
  const db = await openDatabase(databaseTarget(loadConfig()));
  try {
    const failed = await listFailedJobs(db, Number(process.argv[2] ?? 100));
    for (const job of failed) process.stdout.write(`${JSON.stringify(job)}\n`);
    process.stderr.write(`${failed.length} failed job(s) shown.\n`);
  } finally {
    await db.close();
  }
} catch (error) {
  if (error instanceof ConfigError || error instanceof DatabaseOpenError) {
    process.stderr.write(`wagraph: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
