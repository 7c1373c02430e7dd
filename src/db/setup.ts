// Start-up of the database, shared by the server and the db:* scripts: open it, apply
// pending migrations, seed demo data into an empty database, make the demo keys valid.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { type Database, type DatabaseTarget, openDatabase } from './client.js';
import { SecretBox } from '../secrets.js';
import { resealChannels } from '../whatsapp/channels.js';
import { keepDemoChannel, keepDevelopmentKey, keptSecretsKey } from './development-key.js';
import { installJobSchema } from '../jobs/runner.js';
import { migrate } from './migrate.js';
import { ensureDemoKeys, type SeededKey, seedDemoData } from './seed.js';

export function databaseTarget(config: Config): DatabaseTarget {
  return config.databaseUrl
    ? {
        kind: 'postgres',
        url: config.databaseUrl,
        poolSize: config.dbPoolSize,
        statementTimeoutMs: config.dbStatementTimeoutMs,
      }
    : { kind: 'pglite', dataDir: config.dataDir };
}

export interface PreparedDatabase {
  db: Database;
  /** The demo owners' keys when this start seeded them (the only time they are known). */
  seededKeys: SeededKey[] | undefined;
  /**
   * On the embedded database in development: a working key of the first demo owner, kept in
   * DATA_DIR (src/db/development-key.ts), for GraphiQL on this machine.
   */
  developmentKey: string | undefined;
  /** Seals and opens the WhatsApp channels' secrets (SECRETS_KEY, or in development the key kept in DATA_DIR). */
  secrets: SecretBox;
}

/** SECRETS_KEY (and SECRETS_KEY_PREVIOUS); unset outside production: the key kept in DATA_DIR. */
export function secretBox(config: Config): SecretBox {
  const current = config.secretsKey.current ?? keptSecretsKey(config.dataDir);
  return new SecretBox(current, config.secretsKey.previous);
}

export async function prepareDatabase(
  config: Config,
  log: Logger,
  options: { seed: boolean },
): Promise<PreparedDatabase> {
  const target = databaseTarget(config);
  const db = await openDatabase(target);
  try {
    const applied = await migrate(db);
    log.info({ database: target.kind, applied }, applied.length ? 'migrations applied' : 'database schema up to date');
    // The job queue's own schema (graphile_worker), installed or upgraded by graphile-worker.
    await installJobSchema(db, log);
    const seededKeys = options.seed ? await seedDemoData(db, config.demoApiKeys) : undefined;
    // Which organizations were seeded, never their keys: no secret is logged at any level.
    if (seededKeys) log.info({ organizations: seededKeys.map((key) => key.organization) }, 'demo data seeded');
    await ensureDemoKeys(db.prisma, config.demoApiKeys);
    const secrets = secretBox(config);
    // After a rotation: what the previous key sealed is sealed again under the new one.
    const { resealed, unreadable } = await resealChannels(db.prisma, secrets);
    if (resealed > 0) {
      log.info({ channels: resealed }, 'WhatsApp channel secrets re-sealed under the current SECRETS_KEY');
    }
    if (unreadable.length > 0) {
      log.error(
        { channels: unreadable, keyId: secrets.keyId },
        'WhatsApp channel secrets that neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS opens: their webhooks fail until the key that sealed them is set as SECRETS_KEY_PREVIOUS, or they are connected again',
      );
    }
    if (config.env !== 'production') await keepDemoChannel(db, secrets, config.dataDir);
    const developmentKey =
      target.kind === 'pglite' && target.dataDir !== undefined && config.env !== 'production' && !config.demoApiKeys[0]
        ? await keepDevelopmentKey(db, target.dataDir, seededKeys?.[0]?.secret)
        : undefined;
    return { db, seededKeys, developmentKey, secrets };
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}
