// `npm run db:seed`: migrates the configured database and seeds the demo organizations
// into it if it holds none (it never seeds twice). The server does this by itself on the
// first start of an empty database unless SEED_DEMO_DATA=false.
import { ConfigError, loadConfig } from '../src/config.js';
import { DatabaseOpenError } from '../src/db/client.js';
import { MigrationError } from '../src/db/migrate.js';
import { prepareDatabase } from '../src/db/setup.js';
import { createLogger } from '../src/logger.js';

try {
  const config = loadConfig();
  const { db, seededKeys } = await prepareDatabase(config, createLogger('warn'), { seed: true });
  await db.close();
  if (!seededKeys) {
    process.stdout.write('The database already holds organizations: nothing seeded.\n');
  } else {
    for (const key of seededKeys) {
      process.stdout.write(`Seeded ${key.organization}. API key of ${key.email} (shown only now): ${key.secret}\n`);
    }
  }
} catch (error) {
  if (error instanceof ConfigError || error instanceof DatabaseOpenError || error instanceof MigrationError) {
    process.stderr.write(`wagraph: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
