// `npm run db:migrate`: applies pending migrations to the configured database and exits.
// and installs or upgrades the job queue's schema. (The server and `npm run worker` do the same
// on every start; this is for deploy pipelines.)
import { ConfigError, loadConfig } from '../src/config.js';
import { DatabaseOpenError, openDatabase } from '../src/db/client.js';
import { MigrationError, migrate } from '../src/db/migrate.js';
import { databaseTarget } from '../src/db/setup.js';
import { installJobSchema } from '../src/jobs/runner.js';
import { createLogger } from '../src/logger.js';

try {
  const db = await openDatabase(databaseTarget(loadConfig()));
  try {
    const applied = await migrate(db);
    // The job queue's schema (graphile_worker), installed or upgraded by graphile-worker itself.
    await installJobSchema(db, createLogger('warn'));
    process.stdout.write(
      applied.length ? `Applied: ${applied.join(', ')}\n` : 'Nothing to apply: the database is up to date.\n',
    );
  } finally {
    await db.close();
  }
} catch (error) {
  if (error instanceof ConfigError || error instanceof DatabaseOpenError || error instanceof MigrationError) {
    process.stderr.write(`wagraph: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
