// `npm run db:migrate`: applies pending migrations to the configured database and exits.
// (The server does the same on every start; this is for deploy pipelines.)
import { ConfigError, loadConfig } from '../src/config.js';
import { DatabaseOpenError, openDatabase } from '../src/db/client.js';
import { MigrationError, migrate } from '../src/db/migrate.js';
import { databaseTarget } from '../src/db/setup.js';

try {
  const db = await openDatabase(databaseTarget(loadConfig()));
  try {
    const applied = await migrate(db);
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
