// `npm run bench`: builds wagraph, makes sure the dataset and the PostGraphile peer are
// there, then for each target (wagraph, PostGraphile, raw SQL):
//   1. counting phase: the server behind the statement-counting proxy; each operation's
//      response is checked (a failure is reported for that operation, the rest go on),
//      then a batch of sequential requests gives SQL statements and rows read per request;
//   2. load phase: the server started afresh, connected directly; autocannon at each
//      concurrency, RSS sampled.
// Then the scenarios: count-costs (./count-costs.ts), noisy-neighbour (./noisy-neighbour.ts),
// fanout (./fanout.ts) and webhook-ingestion (./webhook-ingestion.ts, on a database of its
// own: it alone needs no dataset).
// Results: bench/out/results-<time>.{json,md}, and bench/RESULTS.md after a complete
// default run. `--soak` and `--profile` run wagraph alone instead (see ./options.ts).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadMigrations } from '../src/db/migrate.js';
import { benchDatabaseUrl, maintenanceUrl } from './bench-database.js';
import { runCountCosts } from './count-costs.js';
import { runDelivery } from './delivery.js';
import { cancelLeftoverQueries, waitUntilQuiet } from './database-idle.js';
import { runFanout } from './fanout.js';
import { type Fixture, FixtureMissingError, readFixture } from './fixture.js';
import { runLoad } from './load.js';
import { readMemory, sampleRss } from './memory.js';
import { runNoisyNeighbour } from './noisy-neighbour.js';
import {
  BENCH_PHONE_PREFIX,
  type HttpRequest,
  type Operation,
  OPERATIONS,
  OperationCheckError,
  type TargetName,
} from './operations.js';
import { type BenchOptions, parseOptions, USAGE } from './options.js';
import { BENCH_DIR, OUT_DIR, PEER_DIR, ROOT_DIR } from './paths.js';
import { preparePeerAccess } from './peer-access.js';
import { formatTop } from './profile-top.js';
import { renderDeliverySection, renderReport } from './report.js';
import type { MachineInfo, OperationResult, RunResults } from './results.js';
import { seedBenchDatabase } from './seed.js';
import type { ServerProcess } from './server-process.js';
import { openTableReads } from './table-reads.js';
import { startTarget } from './targets.js';
import { runWebhookIngestion } from './webhook-ingestion.js';
import { startWireCounter } from './wire-counter.js';

function log(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

function sh(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd} (exit ${result.status})`);
}

function output(command: string, args: string[], cwd: string): string {
  return spawnSync(command, args, { cwd, encoding: 'utf8' }).stdout?.trim() ?? '';
}

// --- preparation ------------------------------------------------------------------------------

/** Migrations of this checkout that the bench database lacks (or has in another version). */
async function outdatedMigrations(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; checksum: string }>(
      'SELECT name, checksum FROM "_wagraph_migrations"',
    );
    const applied = new Map(rows.map((row) => [row.name, row.checksum]));
    return loadMigrations()
      .filter((migration) => applied.get(migration.name) !== migration.checksum)
      .map((migration) => migration.name);
  } finally {
    await client.end();
  }
}

async function ensureDataset(url: string, options: BenchOptions): Promise<Fixture> {
  if (!options.reseed) {
    try {
      const fixture = await readFixture(url);
      // wagraph would migrate the database itself at start-up, in the middle of the
      // benchmark; a dataset generated on the current schema is what gets measured.
      const outdated = await outdatedMigrations(url);
      if (outdated.length) log(`the bench database lacks migrations ${outdated.join(', ')}: reseeding`);
      else if (fixture.scale === options.scale) return fixture;
      else log(`the bench database holds scale ${fixture.scale}, not ${options.scale}: reseeding`);
    } catch (error) {
      if (!(error instanceof FixtureMissingError)) throw error;
      log(`${error.message.replace(/; run npm run bench:seed$/, '')}: seeding`);
    }
  }
  return seedBenchDatabase(url, options.scale);
}

/** The peer's own package, installed from its lockfile when missing (npm registry only). */
function ensurePeerInstalled(): void {
  if (fs.existsSync(path.join(PEER_DIR, 'node_modules', '.bin', 'node'))) return;
  log('installing bench/peer (npm ci)');
  sh('npm', ['ci', '--no-audit', '--no-fund'], PEER_DIR);
}

async function machineInfo(url: string, loadAtStart: number): Promise<MachineInfo> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const postgres = (await client.query<{ version: string }>('SELECT version()')).rows[0]!.version.split(' on ')[0]!;
  await client.end();
  const dirty = output('git', ['status', '--porcelain', '--', '.'], ROOT_DIR) ? ' (with uncommitted changes)' : '';
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown CPU',
    cores: os.availableParallelism(),
    memoryGb: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    peerNode: output(path.join(PEER_DIR, 'node_modules', '.bin', 'node'), ['--version'], PEER_DIR).replace(/^v/, ''),
    postgres,
    commit: `${output('git', ['rev-parse', '--short', 'HEAD'], ROOT_DIR)} (${output('git', ['rev-parse', '--abbrev-ref', 'HEAD'], ROOT_DIR)})${dirty}`,
    loadAverage: [loadAtStart, os.loadavg()[0]!],
  };
}

// --- requests ---------------------------------------------------------------------------------

async function send(
  server: ServerProcess,
  apiKey: string,
  request: HttpRequest,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.origin}${request.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: request.body,
  });
  return { status: response.status, text: await response.text() };
}

/** One request, checked: the summary of its response, or an OperationCheckError. */
async function sendChecked(
  server: ServerProcess,
  fixture: Fixture,
  target: TargetName,
  operation: Operation,
  request: HttpRequest,
): Promise<{ summary: unknown; bytes: number }> {
  const { status, text } = await send(server, fixture.apiKey, request);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OperationCheckError(`HTTP ${status}, not JSON: ${text.slice(0, 200)}`);
  }
  // GraphQL servers may answer errors with 4xx: report the errors rather than the status.
  const summary = operation.check(target, body, fixture);
  if (status !== 200) throw new OperationCheckError(`HTTP ${status}: ${text.slice(0, 200)}`);
  return { summary, bytes: Buffer.byteLength(text) };
}

/** The SQL one request sent, for reading what the statement count is made of. */
function writeStatements(target: TargetName, operation: string, statements: string[]): void {
  const dir = path.join(OUT_DIR, 'sql');
  fs.mkdirSync(dir, { recursive: true });
  const text = statements.map((sql, index) => `-- ${index + 1}\n${sql.trim()};\n`).join('\n');
  fs.writeFileSync(path.join(dir, `${target}-${operation}.sql`), text);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function deleteBenchContacts(url: string, organizationId: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query(`DELETE FROM "Contact" WHERE "organizationId" = $1 AND phone LIKE $2`, [
      organizationId,
      `${BENCH_PHONE_PREFIX}%`,
    ]);
    await client.query('VACUUM (ANALYZE) "Contact", "ContactListMembership", "ContactTag"');
    return rowCount ?? 0;
  } finally {
    await client.end();
  }
}

// --- the two phases ---------------------------------------------------------------------------

async function countingPhase(
  url: string,
  fixture: Fixture,
  target: TargetName,
  operations: Operation[],
  options: BenchOptions,
): Promise<OperationResult[]> {
  const proxy = await startWireCounter(url);
  const reads = await openTableReads(url);
  const results: OperationResult[] = [];
  let server: ServerProcess | undefined;
  try {
    server = await startTarget(target, { databaseUrl: proxy.url, fixture, label: 'counting' });
    for (const operation of operations) {
      const result: OperationResult = { target, operation: operation.name, runs: [] };
      results.push(result);
      const next = operation.requests[target]!(fixture);
      try {
        const firstStarted = performance.now();
        proxy.startRecording();
        const first = await sendChecked(server, fixture, target, operation, next()).finally(() =>
          writeStatements(target, operation.name, proxy.stopRecording()),
        );
        const firstMs = performance.now() - firstStarted;
        result.summary = first.summary;
        result.responseBytes = first.bytes;
        // Slow operations get a smaller batch: their counts do not vary from one request to
        // the next, and the whole table must fit in 15 minutes.
        const batch = firstMs > 3_000 ? 1 : Math.max(2, Math.min(options.batch, Math.round(4_000 / firstMs)));
        // Warm-up (caches, JIT, prepared statements), skipped for very slow operations;
        // then the counted batch.
        const warmups = firstMs > 3_000 ? 0 : firstMs > 1_000 ? 1 : 2;
        for (let i = 0; i < warmups; i++) await sendChecked(server, fixture, target, operation, next());
        // Statements on warm connections (a new connection may run set-up statements)…
        const statementsBefore = proxy.statements();
        for (let i = 0; i < batch; i++) await sendChecked(server, fixture, target, operation, next());
        result.statementsPerRequest = (proxy.statements() - statementsBefore) / batch;
        // …rows read around a second batch, with the connections closed before and after
        // so that every backend has published its counters (./table-reads.ts).
        const readsBefore = await reads.flushAndRead();
        for (let i = 0; i < batch; i++) await sendChecked(server, fixture, target, operation, next());
        const readsAfter = await reads.flushAndRead();
        result.rowsReadPerRequest = (readsAfter - readsBefore) / batch;
        result.countedOver = batch;
        log(
          `${target} ${operation.name}: ${result.statementsPerRequest.toFixed(1)} statements, ` +
            `${Math.round(result.rowsReadPerRequest)} rows read per request (over ${batch}), ${result.responseBytes} response bytes, first request ${Math.round(firstMs)} ms`,
        );
      } catch (error) {
        result.error = describe(error);
        log(`${target} ${operation.name}: NOT MEASURED: ${result.error}`);
      }
    }
  } catch (error) {
    // The server did not start (or the harness failed): the operations not done yet fail with that reason.
    for (const operation of operations.filter((o) => !results.some((r) => r.operation === o.name))) {
      results.push({ target, operation: operation.name, runs: [], error: describe(error) });
    }
    log(`${target}: ${describe(error)}`);
  } finally {
    await server?.stop();
    await reads.close();
    await proxy.close();
  }
  return results;
}

/** Sequential requests for `seconds` (at least one): warms the server without leaving any in flight. */
async function warmUp(
  server: ServerProcess,
  fixture: Fixture,
  target: TargetName,
  operation: Operation,
  next: () => HttpRequest,
  seconds: number,
): Promise<void> {
  const until = performance.now() + seconds * 1000;
  do await sendChecked(server, fixture, target, operation, next());
  while (performance.now() < until);
}

async function loadPhase(
  url: string,
  fixture: Fixture,
  target: TargetName,
  results: OperationResult[],
  options: BenchOptions,
): Promise<number | undefined> {
  const measurable = results.filter((result) => !result.error);
  if (!measurable.length) return undefined;
  let server: ServerProcess | undefined;
  let peakKb = 0;
  const start = async () => {
    server = await startTarget(target, { databaseUrl: url, fixture, label: 'load' });
    return server;
  };
  /** Drops the requests a run abandoned: kill the server, cancel its queries, start anew. */
  const restart = async () => {
    peakKb = Math.max(peakKb, readMemory(server!.pid)?.peakKb ?? 0);
    await server!.kill();
    const cancelled = await cancelLeftoverQueries(url);
    log(`${target}: restarted the server to drop the requests the run left in flight (${cancelled} queries cancelled)`);
    return start();
  };
  try {
    await start();
    for (const result of measurable) {
      const operation = OPERATIONS.find((o) => o.name === result.operation)!;
      const next = operation.requests[target]!(fixture);
      const sampler = sampleRss(() => server!.pid, 250);
      try {
        if (options.warmupSeconds > 0) await warmUp(server!, fixture, target, operation, next, options.warmupSeconds);
        for (const [index, connections] of options.concurrency.entries()) {
          const previous = result.runs.at(-1);
          if (previous && (previous.requests === 0 || previous.p50Ms > (options.durationSeconds * 1000) / 2)) {
            // No request would complete within the run: report that instead of waiting for it.
            result.skipped = { connections: options.concurrency.slice(index), after: previous.connections };
            log(
              `${target} ${operation.name}: c=${result.skipped.connections.join(',')} skipped (too slow at c=${previous.connections})`,
            );
            break;
          }
          const run = await runLoad({
            origin: server!.origin,
            apiKey: fixture.apiKey,
            connections,
            durationSeconds: options.durationSeconds,
            nextRequest: next,
            varies: !!operation.varies,
          });
          result.runs.push(run);
          log(
            `${target} ${operation.name} c=${connections}: ${run.requestsPerSecond.toFixed(1)} req/s, ` +
              `p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms${run.errors ? `, ${run.errors} ERRORS` : ''}`,
          );
          // What the run left in flight finishes within about a p99 latency, or never.
          const graceMs = Math.min(15_000, Math.max(2_000, run.p99Ms * 1.5));
          if (!(await waitUntilQuiet(url, server!.pid, graceMs))) {
            await restart();
            if (index < options.concurrency.length - 1 && options.warmupSeconds > 0) {
              await warmUp(server!, fixture, target, operation, next, Math.min(1, options.warmupSeconds));
            }
          }
        }
      } catch (error) {
        result.error = `load run failed: ${describe(error)}`;
        log(`${target} ${operation.name}: ${result.error}`);
      } finally {
        const { samples, peakKb: samplerPeakKb } = sampler.stop();
        peakKb = Math.max(peakKb, samplerPeakKb);
        result.peakRssMb = Math.max(...samples.map(([, kb]) => kb)) / 1024;
        if (operation.name === 'createContacts') {
          log(`deleted ${await deleteBenchContacts(url, fixture.organizationId)} contacts created by the benchmark`);
        }
      }
    }
    peakKb = Math.max(peakKb, readMemory(server!.pid)?.peakKb ?? 0);
    return peakKb / 1024;
  } catch (error) {
    for (const result of measurable) result.error ??= `server failed: ${describe(error)}`;
    log(`${target}: ${describe(error)}`);
    return undefined;
  } finally {
    await server?.stop();
  }
}

/** Compares every target's summary with the first target that answered the operation. */
function compareSummaries(results: OperationResult[]): void {
  for (const operation of OPERATIONS) {
    const answered = results.filter((r) => r.operation === operation.name && r.summary !== undefined && !r.error);
    const [reference, ...others] = answered;
    if (!reference || reference.summary === null) continue;
    for (const other of others) {
      other.agreement = sameData(reference.summary, other.summary, `vs ${reference.target}`);
    }
  }
}

function sameData(expected: unknown, actual: unknown, label: string, at = ''): string {
  if (JSON.stringify(expected) === JSON.stringify(actual)) return `same data as ${label.replace(/^vs /, '')}`;
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length !== actual.length) {
    return `differs ${label} at ${at || 'the top'}: ${actual.length} items instead of ${expected.length}`;
  }
  if (expected && actual && typeof expected === 'object' && typeof actual === 'object') {
    for (const key of Object.keys(expected)) {
      const difference = sameData(
        (expected as any)[key],
        (actual as any)[key],
        label,
        `${at}${Array.isArray(expected) ? `[${key}]` : `.${key}`}`,
      );
      if (difference.startsWith('differs')) return difference;
    }
  }
  return `differs ${label} at ${at || 'the top'}: ${JSON.stringify(actual)?.slice(0, 160)} instead of ${JSON.stringify(expected)?.slice(0, 160)}`;
}

// --- modes ------------------------------------------------------------------------------------

/** `fixture` is undefined when only the webhook-ingestion scenario runs (it brings its own database). */
async function runTable(
  url: string,
  fixture: Fixture | undefined,
  options: BenchOptions,
  started: number,
): Promise<void> {
  const loadAtStart = os.loadavg()[0]!;
  const results: OperationResult[] = [];
  const serverPeakMb: RunResults['serverPeakMb'] = {};
  for (const target of options.targets) {
    const operations = OPERATIONS.filter((o) => options.operations.includes(o.name) && o.requests[target]);
    if (!operations.length || !fixture) continue;
    log(`── ${target}: counting statements and rows (through the proxy)`);
    const targetResults = await countingPhase(url, fixture, target, operations, options);
    log(`── ${target}: load, ${options.concurrency.join('/')} connections × ${options.durationSeconds} s`);
    const peak = await loadPhase(url, fixture, target, targetResults, options);
    if (peak !== undefined) serverPeakMb[target] = peak;
    results.push(...targetResults);
  }
  compareSummaries(results);
  const scenarios = await runScenarios(url, fixture, options);

  const runResults: RunResults = {
    startedAt: new Date(started).toISOString(),
    command: ['npm run bench', ...(process.argv.slice(2).length ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    machine: await machineInfo(fixture ? url : maintenanceUrl(url), loadAtStart),
    scale: fixture?.scale ?? Number.NaN,
    seedSeconds: fixture?.seedSeconds ?? Number.NaN,
    rows: fixture?.rows ?? {},
    durationSeconds: options.durationSeconds,
    concurrency: options.concurrency,
    batch: options.batch,
    serverPeakMb,
    results,
    ...scenarios,
    totalSeconds: (Date.now() - started) / 1000,
  };
  const stamp = runResults.startedAt.replace(/[:.]/g, '-');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, `results-${stamp}.json`), `${JSON.stringify(runResults, null, 2)}\n`);
  const report = renderReport(runResults);
  fs.writeFileSync(path.join(OUT_DIR, `results-${stamp}.md`), report);
  if (options.complete) fs.writeFileSync(path.join(BENCH_DIR, 'RESULTS.md'), report);
  process.stdout.write(`\n${report}\n`);
  log(
    `written: bench/out/results-${stamp}.{json,md}${options.complete ? ' and bench/RESULTS.md' : ' (a partial run does not touch bench/RESULTS.md)'}; ` +
      `${(runResults.totalSeconds / 60).toFixed(1)} minutes`,
  );
}

/** The scenarios after the table; a scenario that fails is reported as such, the others still run. */
async function runScenarios(
  url: string,
  fixture: Fixture | undefined,
  options: BenchOptions,
): Promise<Pick<RunResults, 'noisyNeighbour' | 'countCosts' | 'fanout' | 'webhookIngestion' | 'delivery'>> {
  const outcome: Pick<RunResults, 'noisyNeighbour' | 'countCosts' | 'fanout' | 'webhookIngestion' | 'delivery'> = {};
  if (options.scenarios.includes('count-costs') && fixture) {
    log(`── count-costs: counts of the inbox and the contact table, p50 over ${options.batch} sequential requests`);
    outcome.countCosts = await runCountCosts(url, fixture, options.batch).catch((error: unknown) => {
      log(`count-costs failed: ${describe(error)}`);
      return { error: describe(error) };
    });
  }
  if (options.scenarios.includes('noisy-neighbour') && fixture) {
    log(
      `── noisy-neighbour: ${options.noise.idleSeconds} s idle, then ${options.noise.seconds} s of ${options.noise.kinds.join(', ')}`,
    );
    outcome.noisyNeighbour = await runNoisyNeighbour(url, fixture, {
      noiseSeconds: options.noise.seconds,
      idleSeconds: options.noise.idleSeconds,
      kinds: options.noise.kinds,
      slowClients: 50,
    }).catch((error: unknown) => {
      log(`noisy-neighbour failed: ${describe(error)}`);
      return { error: describe(error) };
    });
  }
  if (options.scenarios.includes('fanout')) {
    const { subscribers, rate, seconds } = options.fanout;
    log(`── fanout: ${subscribers} SSE subscribers on two instances (Redis), ${rate} writes/s for ${seconds} s`);
    outcome.fanout = await runFanout(url, options.fanout).catch((error: unknown) => {
      log(`fanout failed: ${describe(error)}`);
      return { error: describe(error) };
    });
  }
  if (options.scenarios.includes('webhook-ingestion')) {
    log(
      `── webhook-ingestion: signed deliveries at ${options.webhook.rates.join(', ')} events/s, ${options.webhook.stepSeconds} s each`,
    );
    outcome.webhookIngestion = await runWebhookIngestion(url, options.webhook).catch((error: unknown) => {
      log(`webhook-ingestion failed: ${describe(error)}`);
      return { error: describe(error) };
    });
  }
  if (options.scenarios.includes('delivery')) {
    log('── delivery: 10,000 messages to 2,000 recipients at 80/s through the fake Cloud API');
    outcome.delivery = await runDelivery(url).catch((error: unknown) => {
      log(`delivery failed: ${describe(error)}`);
      return { error: describe(error) };
    });
  }
  return outcome;
}

async function runSoak(url: string, fixture: Fixture, options: BenchOptions): Promise<void> {
  const operation = OPERATIONS.find(
    (o) => o.name === (options.operations.length === OPERATIONS.length ? 'inbox' : (options.operations[0] ?? 'inbox')),
  )!;
  const server = await startTarget('wagraph', { databaseUrl: url, fixture, label: 'soak' });
  try {
    const next = operation.requests.wagraph!(fixture);
    await sendChecked(server, fixture, 'wagraph', operation, next());
    log(`soak: wagraph ${operation.name}, 64 connections for ${options.soak!.minutes} minutes, RSS every 5 s`);
    const sampler = sampleRss(() => server.pid, 5_000);
    const progress = setInterval(() => {
      const memory = readMemory(server.pid);
      if (memory) log(`soak: RSS ${(memory.rssKb / 1024).toFixed(0)} MB`);
    }, 30_000);
    const run = await runLoad({
      origin: server.origin,
      apiKey: fixture.apiKey,
      connections: 64,
      durationSeconds: options.soak!.minutes * 60,
      nextRequest: next,
      varies: !!operation.varies,
    });
    clearInterval(progress);
    const { samples, peakKb } = sampler.stop();
    const mb = (kb: number) => kb / 1024;
    const minuteAverage = (from: number, to: number) => {
      const inside = samples.filter(([t]) => t >= from && t < to).map(([, kb]) => kb);
      return inside.length ? mb(inside.reduce((a, b) => a + b, 0) / inside.length) : NaN;
    };
    const end = samples.at(-1)?.[0] ?? 0;
    const file = path.join(OUT_DIR, `soak-${operation.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify({ operation: operation.name, run, samples, peakKb }, null, 2)}\n`);
    log(
      `soak: ${run.requestsPerSecond.toFixed(1)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, ${run.errors} errors; ` +
        `RSS first minute ${minuteAverage(0, 60).toFixed(0)} MB, last minute ${minuteAverage(end - 60, end + 1).toFixed(0)} MB, ` +
        `peak ${mb(peakKb).toFixed(0)} MB; samples in ${path.relative(ROOT_DIR, file)}`,
    );
  } finally {
    await server.stop();
    if (operation.name === 'createContacts') await deleteBenchContacts(url, fixture.organizationId);
  }
}

async function runProfile(url: string, fixture: Fixture, options: BenchOptions): Promise<void> {
  const operation = OPERATIONS.find((o) => o.name === options.profile)!;
  const profileDir = path.join(OUT_DIR, 'profiles');
  fs.mkdirSync(profileDir, { recursive: true });
  const before = new Set(fs.readdirSync(profileDir));
  const server = await startTarget('wagraph', {
    databaseUrl: url,
    fixture,
    cpuProfileDir: profileDir,
    label: 'profile',
  });
  try {
    const next = operation.requests.wagraph!(fixture);
    await sendChecked(server, fixture, 'wagraph', operation, next());
    const run = await runLoad({
      origin: server.origin,
      apiKey: fixture.apiKey,
      connections: 16,
      durationSeconds: options.durationSeconds,
      nextRequest: next,
      varies: !!operation.varies,
    });
    log(`profile: wagraph ${operation.name} c=16: ${run.requestsPerSecond.toFixed(1)} req/s, p50 ${run.p50Ms} ms`);
  } finally {
    // A graceful stop: wagraph exits through process.exit, which is when V8 writes the
    // profile. Let the abandoned requests finish first (or fail, once their queries are
    // cancelled), so that its shutdown does not outlast the grace period.
    if (!(await waitUntilQuiet(url, server.pid, 60_000))) await cancelLeftoverQueries(url);
    await server.stop(60_000);
    if (operation.name === 'createContacts') await deleteBenchContacts(url, fixture.organizationId);
  }
  const written = fs.readdirSync(profileDir).filter((file) => file.endsWith('.cpuprofile') && !before.has(file));
  if (!written.length) throw new Error('wagraph wrote no CPU profile (did it exit gracefully?)');
  const file = path.join(profileDir, written[0]!);
  const named = path.join(
    profileDir,
    `wagraph-${operation.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`,
  );
  fs.renameSync(file, named);
  process.stdout.write(`\n${formatTop(JSON.parse(fs.readFileSync(named, 'utf8')))}\n\n`);
  log(
    `profile: ${path.relative(ROOT_DIR, named)} (open it in Chrome DevTools or re-read with npx tsx bench/profile-top.ts)`,
  );
}

/** `--only delivery`: the one scenario that needs no dataset (it makes its own database). */
async function runDeliveryOnly(url: string, started: number): Promise<void> {
  log('── delivery: 10,000 messages to 2,000 recipients at 80/s through the fake Cloud API');
  const delivery = await runDelivery(url);
  const commit = `${output('git', ['rev-parse', '--short', 'HEAD'], ROOT_DIR)}${output('git', ['status', '--porcelain', '--', '.'], ROOT_DIR) ? ' (with uncommitted changes)' : ''}`;
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ');
  const report = `# Benchmark: delivery

Generated by \`${command}\` (bench/run.ts) on ${new Date(started).toISOString()}, commit ${commit}; ${((Date.now() - started) / 60_000).toFixed(1)} minutes.
Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores; Node ${process.versions.node}.

${renderDeliverySection({ delivery })}`;
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, `delivery-${stamp}.json`), `${JSON.stringify(delivery, null, 2)}\n`);
  fs.writeFileSync(path.join(OUT_DIR, `delivery-${stamp}.md`), report);
  process.stdout.write(`\n${report}\n`);
  log(`written: bench/out/delivery-${stamp}.{json,md}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const url = benchDatabaseUrl();
  if (options.build) {
    log('npm run build');
    sh('npm', ['run', 'build', '--silent'], ROOT_DIR);
  }
  if (options.operations.length === 0 && options.scenarios.every((scenario) => scenario === 'delivery')) {
    await runDeliveryOnly(url, started);
    return;
  }
  const peer =
    options.operations.length > 0 && options.targets.includes('postgraphile') && !options.soak && !options.profile;
  if (peer) ensurePeerInstalled();
  // The webhook-ingestion scenario creates a database of its own; everything else reads the dataset.
  const needsDataset =
    options.operations.length > 0 ||
    !!options.soak ||
    !!options.profile ||
    options.scenarios.some((scenario) => scenario !== 'webhook-ingestion');
  const fixture = needsDataset ? await ensureDataset(url, options) : undefined;
  if (peer) await preparePeerAccess(url);
  if (options.soak) await runSoak(url, fixture!, options);
  else if (options.profile) await runProfile(url, fixture!, options);
  else await runTable(url, fixture, options, started);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
