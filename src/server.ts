// The process: configuration, database start-up, HTTP listener, background jobs, graceful
// shutdown. The only module with process-level side effects (with src/jobs/process.ts for
// `npm run worker`).
import { eventRetention } from './events/retention.js';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, ConfigError, loadConfig } from './config.js';
import { DatabaseOpenError } from './db/client.js';
import { DEMO_CHANNEL_FILE } from './db/development-key.js';
import { EventHub } from './events/hub.js';
import { MigrationError } from './db/migrate.js';
import { prepareDatabase } from './db/setup.js';
import { type JobRunner, startJobRunner } from './jobs/runner.js';
import type { TaskDefinition } from './jobs/task.js';
import { APP_TASKS } from './jobs/tasks.js';
import { createLogger, type Logger, LogSink } from './logger.js';
import { createRateLimiter } from './rate-limit/index.js';
import { SecretError } from './secrets.js';
import { attachWebSocket } from './transports/websocket.js';
import { createSendLimiter, type SendLimiter } from './whatsapp/send-limits.js';
import type { FakeCloudApi } from './whatsapp/fake-cloud-api.js';
import {
  playSimulatedStatuses,
  readDemoChannel,
  type SimulatedChannel,
  simulate,
  startSimulatedCloudApi,
} from './whatsapp/simulator.js';
import { createWagraphYoga } from './yoga.js';

/** Deliveries the simulator sends after `npm start` in development. */
const SIMULATED_AT_START = 30;

/** In-flight requests get this long to finish after SIGTERM before connections are cut. */
const DRAIN_TIMEOUT_MS = 8_000;

function fail(message: string): never {
  process.stderr.write(`wagraph: ${message}\n`);
  process.exit(1);
}

async function main(tasks: readonly TaskDefinition[]): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  // Logs go to standard output without ever blocking the process (src/logger.ts); at exit,
  // one last attempt to write what is still buffered, which never waits.
  const logSink = new LogSink();
  process.on('exit', () => logSink.flushAtExit());
  const log = createLogger(config.logLevel, logSink);

  let prepared;
  try {
    prepared = await prepareDatabase(config, log, { seed: config.seedDemoData });
  } catch (error) {
    if (error instanceof DatabaseOpenError || error instanceof MigrationError) fail(error.message);
    if (error instanceof SecretError) fail(error.message);
    throw error;
  }
  const { db, seededKeys, developmentKey, secrets } = prepared;
  // A seeded key nobody chose (no DEMO_API_KEY) is shown once, to a person at a terminal
  // only: never through the logger, never into a log collector that reads standard error.
  if (seededKeys && process.stderr.isTTY) {
    for (const [index, key] of seededKeys.entries()) {
      if (config.demoApiKeys[index]) continue;
      process.stderr.write(
        `wagraph: demo data seeded; API key of ${key.email} (${key.organization}), shown only now: ${key.secret}\n`,
      );
    }
  }

  const rateLimiter = await createRateLimiter(config.rateLimit, log);
  log.info(
    {
      // Whether JWTs are accepted, and the claims they must carry; never the secret.
      jwt: config.jwt ? { issuer: config.jwt.issuer ?? 'any', audience: config.jwt.audience ?? 'any' } : 'off',
      // REDIS_URL may hold a password: only whether the budget is shared is logged.
      rateLimit:
        config.rateLimit.perMinute === 0
          ? 'off'
          : {
              perMinute: config.rateLimit.perMinute,
              burst: config.rateLimit.burst,
              organizationPerMinute: config.rateLimit.organizationPerMinute || 'off',
              organizationBurst: config.rateLimit.organizationBurst,
              shared: config.rateLimit.redisUrl !== undefined,
            },
      authFailuresPerMinute: config.authFailuresPerMinute || 'off',
      trustProxy: config.trustProxy,
      maxApiKeysPerMember: config.maxApiKeysPerMember,
      limits: config.limits,
      subscriptions: { ...config.subscriptionLimits, perConnection: config.maxSubscriptionsPerConnection },
      dbStatementTimeoutMs: config.databaseUrl ? config.dbStatementTimeoutMs : 'n/a (embedded database)',
      persistedOperations: config.persistedOperations?.size ?? 'off',
      introspection: config.introspection,
      graphiql: config.graphiql,
      corsOrigins: config.corsOrigins,
      corsLoopbackOrigins: config.corsLoopbackOrigins,
    },
    'security settings',
  );

  // One hub per process: it follows the change feed once per organization for all of this
  // instance's subscribers, and announces commits (mutations, background jobs) to every
  // instance through Redis with REDIS_URL, in this process only without (src/events/hub.ts).
  const eventHub = new EventHub({ db, log, redisUrl: config.rateLimit.redisUrl });

  let shuttingDown = false;
  const developing = config.env !== 'production';
  // In development, the simulator's channel; with WHATSAPP_API_URL unset, the gateway fetches
  // media from a fake Cloud API that holds the simulated files, never from Meta.
  const simulated = config.simulator ? demoChannelToSimulate(config, log) : undefined;
  let fakeCloudApi: FakeCloudApi | undefined;
  if (simulated && !config.whatsappApiUrlSet) {
    fakeCloudApi = await startSimulatedCloudApi(simulated);
    process.stderr.write(
      `wagraph: media of simulated messages come from, and messages sent go to, a fake WhatsApp Cloud API at ${fakeCloudApi.url} (WHATSAPP_API_URL unset)\n`,
    );
  }
  const yoga = createWagraphYoga({
    db,
    log,
    graphiql: config.graphiql,
    graphiqlApiKey: developing ? (config.demoApiKeys[0] ?? developmentKey ?? seededKeys?.[0]?.secret) : undefined,
    isShuttingDown: () => shuttingDown,
    secrets,
    eventHub,
    subscriptionLimits: config.subscriptionLimits,
    jwt: config.jwt,
    limits: config.limits,
    webhookMaxBodyBytes: config.webhookMaxBodyBytes,
    whatsappApiUrl: fakeCloudApi?.url ?? config.whatsappApiUrl,
    mediaMaxBytes: config.mediaMaxBytes,
    introspection: config.introspection,
    fieldSuggestions: config.fieldSuggestions,
    persistedOperations: config.persistedOperations,
    rateLimiter,
    authFailuresPerMinute: config.authFailuresPerMinute,
    trustProxy: config.trustProxy,
    maxApiKeysPerMember: config.maxApiKeysPerMember,
    corsOrigins: config.corsOrigins,
    corsLoopbackOrigins: config.corsLoopbackOrigins,
    maxConcurrentRequests: config.maxConcurrentRequests,
    maxConcurrentRequestsPerOrganization: config.maxConcurrentRequestsPerOrganization,
    maxConnectionsPerRequest: config.maxConnectionsPerRequest,
    maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
    // The embedded database has one connection.
    poolShare: {
      connections: config.databaseUrl ? config.dbPoolSize : 1,
      perOrganization: config.databaseUrl ? config.maxConnectionsPerOrganization : 1,
    },
  });
  // Slow clients: a connection that takes longer than these to send its headers, or its whole
  // request, gets 408 and is closed. (A request holds no execution slot before its body is
  // in; these bound the sockets and buffers it can hold.) Node looks for expired connections
  // every connectionsCheckingInterval, 30 s by default: once a second instead.
  const server = http.createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
    },
    yoga,
  );
  // GraphQL over WebSocket on /graphql (src/transports/websocket.ts).
  const webSockets = attachWebSocket(server, {
    yoga,
    log,
    maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
    maxPayloadBytes: config.limits.maxBodyBytes,
    maxTokens: config.limits.maxTokens,
    corsOrigins: config.corsOrigins,
    corsLoopbackOrigins: config.corsLoopbackOrigins,
  });

  await new Promise<void>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      void Promise.all([eventHub.close(), db.close(), rateLimiter?.close()]).finally(() =>
        fail(`Cannot listen on ${config.host}:${config.port}: ${error.message}`),
      );
    });
    server.listen(config.port, config.host, resolve);
  });
  // Background jobs in this process too (WORKERS=in-process, the default; src/jobs/runner.ts).
  let jobRunner: JobRunner | undefined;
  let sendLimiter: SendLimiter | undefined;
  if (config.workers === 'in-process') {
    sendLimiter = await createSendLimiter(config.whatsappSendLimits, { redisUrl: config.rateLimit.redisUrl, log });
    jobRunner = await startJobRunner({
      db,
      log,
      tasks,
      concurrency: config.workerConcurrency,
      schedules: [eventRetention(config.eventRetentionDays)],
      cloudApi: {
        url: fakeCloudApi?.url ?? config.whatsappApiUrl,
        secrets,
        sendTimeoutMs: config.whatsappSendTimeoutMs,
        sendMaxAttempts: config.whatsappSendMaxAttempts,
        sendLimiter,
      },
      feed: eventHub,
    });
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ port, host: config.host }, `wagraph listening on http://localhost:${port}/graphql`);
  if (config.graphiql) {
    const where =
      config.host === '0.0.0.0' || config.host === '::'
        ? 'localhost'
        : config.host.includes(':')
          ? `[${config.host}]`
          : config.host;
    const prefilled = developing && (config.demoApiKeys[0] ?? developmentKey ?? seededKeys?.[0]) !== undefined;
    process.stderr.write(
      `wagraph: GraphiQL at http://${where}:${port}/graphql${prefilled ? ' (signed in as the demo owner when opened from this machine)' : ''}\n`,
    );
  }

  const simulation = simulated ? simulateOnDemoChannel(simulated, port, log) : undefined;
  // Sends on the demo channel get their statuses back from the simulated Cloud API.
  if (simulated && fakeCloudApi)
    playSimulatedStatuses(fakeCloudApi, simulated, `http://127.0.0.1:${port}/webhooks/whatsapp`);

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    simulation?.abort();
    log.info({ signal }, 'shutting down: draining in-flight requests');
    // Keep-alive connections that are idle now, or become idle after their last response, are closed.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const cut = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
    // WebSocket clients are told to go away (1001) and come back to another instance.
    await webSockets.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    clearInterval(idle);
    clearTimeout(cut);
    // Running jobs finish (or go back to the queue) before the database closes.
    await jobRunner?.stop();
    await Promise.all([
      eventHub.close(),
      db.close(),
      rateLimiter?.close(),
      sendLimiter?.close(),
      fakeCloudApi?.close(),
    ]);
    log.info('stopped');
    // A log reader that stalled must not hold the exit: what it has not taken is dropped.
    await logSink.drain(500);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * The demo channel to simulate WhatsApp users on: in development on the embedded database
 * only, and only when DATA_DIR holds its file (src/db/development-key.ts).
 */
function demoChannelToSimulate(config: Config, log: Logger): SimulatedChannel | undefined {
  if (config.databaseUrl || !fs.existsSync(path.join(config.dataDir, DEMO_CHANNEL_FILE))) return undefined;
  try {
    return readDemoChannel(config.dataDir);
  } catch (error) {
    log.warn({ err: error }, 'the simulator cannot read the demo channel: not simulating');
    return undefined;
  }
}

/**
 * In development on the embedded database: WhatsApp users writing to the demo channel, a
 * delivery every few seconds, so that a newcomer sees conversations arrive (SIMULATOR=off
 * stops it).
 */
function simulateOnDemoChannel(channel: SimulatedChannel, port: number, log: Logger): AbortController {
  const controller = new AbortController();
  process.stderr.write(
    `wagraph: simulating WhatsApp users on the demo channel: ${SIMULATED_AT_START} messages, one every few seconds (SIMULATOR=off to stop)\n`,
  );
  simulate({
    channel,
    url: `http://127.0.0.1:${port}/webhooks/whatsapp`,
    count: SIMULATED_AT_START,
    intervalMs: [2_000, 5_000],
    signal: controller.signal,
    print: (line) => log.debug({ simulator: line }, 'simulated delivery'),
  }).catch((error: unknown) => log.warn({ err: error }, 'the simulator stopped'));
  return controller;
}

/** Runs the gateway with these background tasks (a test runs it with its own). */
export function startGateway(tasks: readonly TaskDefinition[]): void {
  main(tasks).catch((error: unknown) => {
    process.stderr.write(`wagraph: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

// Run as the entry point (`node dist/src/server.js`, `tsx src/server.ts`), not when imported.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) startGateway(APP_TASKS);
