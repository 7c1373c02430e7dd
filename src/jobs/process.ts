// A process that only runs jobs (`npm run worker`, src/worker.ts): the gateway's
// configuration loader and logger, its database start-up (migrations included), and the same
// SIGTERM handling as src/server.ts: stop taking jobs, let the running ones finish, exit 0.
import { eventRetention } from '../events/retention.js';
import { ConfigError, loadConfig } from '../config.js';
import { DatabaseOpenError } from '../db/client.js';
import { EventHub } from '../events/hub.js';
import { MigrationError } from '../db/migrate.js';
import { prepareDatabase } from '../db/setup.js';
import { createLogger, LogSink } from '../logger.js';
import { createSendLimiter } from '../whatsapp/send-limits.js';
import { startJobRunner } from './runner.js';
import type { TaskDefinition } from './task.js';

function fail(message: string): never {
  process.stderr.write(`wagraph worker: ${message}\n`);
  process.exit(1);
}

export async function runWorkerProcess(tasks: readonly TaskDefinition[]): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  if (!config.databaseUrl) {
    fail(
      'needs DATABASE_URL: the embedded database can be opened by one process only, so its jobs run inside the gateway (WORKERS=in-process)',
    );
  }
  const logSink = new LogSink();
  process.on('exit', () => logSink.flushAtExit());
  const log = createLogger(config.logLevel, logSink).child({ process: 'worker' });
  let prepared;
  try {
    prepared = await prepareDatabase(config, log, { seed: false });
  } catch (error) {
    if (error instanceof DatabaseOpenError || error instanceof MigrationError) fail(error.message);
    throw error;
  }
  const { db, secrets } = prepared;
  // Publishes only (no subscribers here): with REDIS_URL, a job's commits wake the gateways'
  // subscribers at once; without it, they see them at their next poll of the feed.
  const eventHub = new EventHub({ db, log, redisUrl: config.rateLimit.redisUrl });
  const sendLimiter = await createSendLimiter(config.whatsappSendLimits, { redisUrl: config.rateLimit.redisUrl, log });
  const runner = await startJobRunner({
    db,
    log,
    tasks,
    concurrency: config.workerConcurrency,
    schedules: [eventRetention(config.eventRetentionDays)],
    cloudApi: {
      url: config.whatsappApiUrl,
      secrets,
      sendTimeoutMs: config.whatsappSendTimeoutMs,
      sendMaxAttempts: config.whatsappSendMaxAttempts,
      sendLimiter,
    },
    feed: eventHub,
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: letting running jobs finish');
    await runner.stop();
    await Promise.all([eventHub.close(), db.close(), sendLimiter.close()]);
    log.info('stopped');
    await logSink.drain(500);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Runs `runWorkerProcess`, turning a start-up failure into one line and exit code 1. */
export function startWorkerProcess(tasks: readonly TaskDefinition[]): void {
  runWorkerProcess(tasks).catch((error: unknown) => {
    process.stderr.write(
      `wagraph worker: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
