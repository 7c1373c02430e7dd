// The noisy-neighbour scenario: can one tenant, within the limits the server sets, slow
// down another? wagraph runs as `npm run serve` runs it (rate limit, concurrency limit and
// every other setting at its default). Organization B (a small one) reads its inbox on 4
// connections, first on an idle server, then while organization A (the large one, so that
// its counts have the most rows to scan) spends its whole rate budget on the most
// expensive requests the limits let through, and anonymous clients trickle bodies:
//   documents     distinct documents just under the document size limit (a long comment);
//   slow-clients  anonymous connections sending a body one byte every 2 s (reconnecting
//                 when the server cuts them);
//   counts        aliased lists(first:100) { nodes { contacts(filter: { search }) { totalCount } } },
//                 each alias with its own search, priced as high as the cost limit allows;
//   permissions   `viewer { permissions }` repeated as often as the token limit allows;
//   concurrency   A's budgeted requests sent without waiting for earlier answers, up to
//                 twice the server's concurrency slots in flight.
// Each attack is sized from the server's own configuration (src/config.ts, read with the
// environment the server gets), then probed: a refused size (4xx) makes the next smaller
// one be tried, so a server with new limits is attacked at its new ceiling, and a refusal
// is an outcome, not a failure. What is reported: B's p50/p99 idle and under noise, the
// server's peak RSS, and every answer A got, by HTTP status.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { newApiKey } from '../src/auth/api-keys.js';
import { loadConfig } from '../src/config.js';
import { cancelLeftoverQueries, waitUntilQuiet } from './database-idle.js';
import type { Fixture } from './fixture.js';
import { type Answer, type Client, errorCodes, httpClient, percentile } from './http-client.js';
import { readMemory, sampleRss } from './memory.js';
import { OPERATIONS } from './operations.js';
import { ROOT_DIR } from './paths.js';
import type { ServerProcess } from './server-process.js';
import { startTarget, wagraphEnvironment } from './targets.js';

export const NOISE_KINDS = ['documents', 'slow-clients', 'counts', 'permissions', 'concurrency'] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number];

export interface NoisyOptions {
  noiseSeconds: number;
  idleSeconds: number;
  kinds: NoiseKind[];
  slowClients: number;
}

/** B's requests in one phase. */
export interface PhaseStats {
  seconds: number;
  /** Answers that were 200 and passed the inbox check. */
  ok: number;
  /** Of those, the ones that arrived before the phase ended (the others were sent during it and answered later). */
  okInPhase: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Everything else, by status (and error code when the body names one). */
  failures: Record<string, number>;
}

export interface AttackShape {
  kind: NoiseKind;
  /** What A sends, as sized and accepted. */
  description: string;
  /** Sizes the server refused while probing, most expensive first (e.g. "499 fields: 400 OPERATION_LIMIT_EXCEEDED"). */
  refused: string[];
  /** On the idle server, sequentially: latency and the server's CPU time per request (ms). */
  idleLatencyMs?: number;
  idleCpuMs?: number;
  /** No size was accepted: the attack is refused outright (the expected outcome of a limit). */
  refusedOutright?: boolean;
}

export interface SlowClientStats {
  /** Connections open at once. */
  concurrent: number;
  opened: number;
  /** Closed by the server before the end of the noise, and after how long (median, max). */
  cutByServer: number;
  cutAfterMedianMs: number;
  cutAfterMaxMs: number;
  /** Status lines the server sent to them before closing, by status. */
  statuses: Record<string, number>;
}

export interface NoisyResult {
  startedAt: string;
  organizations: { a: string; b: string };
  /** The server's settings the attacks were sized from. */
  settings: Record<string, number | string>;
  kinds: NoiseKind[];
  attacks: AttackShape[];
  /** A's pace: its rate budget (requests/s, after an initial burst), and its cap on requests in flight. */
  aPace: { perSecond: number; burst: number; maxInFlight: number };
  /** B's pace: 4 connections, at most this many requests/s in all (under its own rate budget). */
  bPerSecond: number;
  idle: PhaseStats;
  noisy: PhaseStats;
  /** A's answers during the noise, per kind, by status ("200", "429", "connection error", …). */
  aStatuses: Partial<Record<NoiseKind, Record<string, number>>>;
  slowClients?: SlowClientStats;
  /** VmHWM over the whole scenario (start-up, probes, idle and noise). */
  peakRssMb: number;
  /** Highest VmRSS sampled during the noise. */
  noisePeakRssMb: number;
  /** Whether the process was still running and answering after the noise. */
  aliveAfter: boolean;
  /** What the server did after the noise, in words. */
  afterNoise: string;
  /** 1-minute load average of the machine when B's idle run started and when the noise ended. */
  loadAverage: [number, number];
  serverLog: string;
}

/** Fixed secret of the API key of organization B's owner (created by this scenario). */
const NEIGHBOUR_API_KEY = 'wag_bench_neighbour_key_0002';
/** B paces itself under its own budget: the scenario measures A's effect, not B's limiter. */
const B_CONNECTIONS = 4;
const B_MAX_PER_SECOND = 4;
const SLOW_CLIENT_BYTE_EVERY_MS = 2_000;
/** Single letters and pairs common in the generated names: counts that scan nearly every member. */
const SEARCH_TERMS = [
  'a',
  'e',
  'i',
  'o',
  'r',
  'n',
  's',
  'l',
  'm',
  'd',
  'u',
  't',
  'c',
  'h',
  'b',
  'an',
  'ar',
  'er',
  'el',
  'in',
  'ma',
  'ra',
  'on',
  'ri',
  'la',
];

function log(message: string): void {
  process.stdout.write(`[bench] noisy-neighbour: ${message}\n`);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

/** "429", "400 OPERATION_LIMIT_EXCEEDED", "200 INTERNAL_SERVER_ERROR", "timeout", … */
function statusLabel(answer: Answer): string {
  if (typeof answer.status !== 'number') return answer.status;
  const codes = [...new Set(errorCodes(answer.text))];
  return codes.length ? `${answer.status} ${codes.join('+')}` : String(answer.status);
}

/** CPU time (user + system) the process has used so far, in ms. */
function cpuMs(pid: number): number {
  try {
    const fields = fs
      .readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    // In clock ticks, 100 per second on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

// --- the two organizations ----------------------------------------------------------------------

/**
 * B is the second organization of the dataset; its owner gets an API key (created here, and
 * refreshed every run so that its stored prefix follows the code's). A acts with the
 * benchmark's key in the large organization, whose prefix is refreshed the same way.
 */
async function prepareKeys(url: string, fixture: Fixture): Promise<{ a: string; b: string; bKey: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const owner = await client.query<{ member: string; organization: string; name: string }>(
      `SELECT m.id::text AS member, o.id::text AS organization, o.name
       FROM "OrganizationMember" m JOIN "Organization" o ON o.id = m."organizationId"
       WHERE m.id = bench.id('member', 1, 0)`,
    );
    const b = owner.rows[0];
    if (!b) throw new Error('the bench database has no second organization (reseed with npm run bench:seed)');
    const key = newApiKey(NEIGHBOUR_API_KEY);
    await client.query('DELETE FROM "ApiKey" WHERE "keyHash" = $1', [key.keyHash]);
    await client.query(
      `INSERT INTO "ApiKey" (id, "organizationId", "memberId", name, prefix, "keyHash", "createdAt", "updatedAt")
       VALUES (bench.id('apikey', 1, 0), $1, $2, 'noisy-neighbour benchmark', $3, $4, now(), now())`,
      [b.organization, b.member, key.prefix, key.keyHash],
    );
    const aKey = newApiKey(fixture.apiKey);
    await client.query('UPDATE "ApiKey" SET prefix = $1 WHERE "keyHash" = $2', [aKey.prefix, aKey.keyHash]);
    const a = await client.query<{ name: string }>('SELECT name FROM "Organization" WHERE id = $1', [
      fixture.organizationId,
    ]);
    return { a: a.rows[0]!.name, b: b.name, bKey: NEIGHBOUR_API_KEY };
  } finally {
    await client.end();
  }
}

// --- the attacks --------------------------------------------------------------------------------

interface Candidate {
  description: string;
  body: () => string;
  /** For a kind sized by one number: that number, and the same attack at another size (to refine the largest accepted one). */
  size?: number;
  resize?: (size: number) => Candidate;
}

interface Limits {
  maxBodyBytes: number;
  /** MAX_DOCUMENT_BYTES where the server has one, else the body limit. */
  maxDocumentBytes: number;
  maxTokens: number;
  maxAliases: number;
  maxCost: number;
}

/** Every numeric setting of the configuration, nested ones included, by name. */
function numericSettings(value: unknown, into: [string, number][] = [], depth = 0): [string, number][] {
  if (value && typeof value === 'object' && depth < 3) {
    for (const [name, inner] of Object.entries(value)) {
      if (typeof inner === 'number' && inner > 0) into.push([name, inner]);
      else numericSettings(inner, into, depth + 1);
    }
  }
  return into;
}

function limitsOf(config: ReturnType<typeof loadConfig>): Limits {
  // Looked up by name, in `limits` first, then anywhere in the configuration: a limit a
  // later version adds (a document size, say) is found wherever it is kept.
  const settings = [...numericSettings(config.limits), ...numericSettings(config)];
  const number = (pattern: RegExp) => settings.find(([name]) => pattern.test(name))?.[1];
  const maxBodyBytes = number(/^maxBodyBytes$/) ?? 1_048_576;
  return {
    maxBodyBytes,
    maxDocumentBytes: Math.min(maxBodyBytes, number(/document.*bytes|^maxDocument/i) ?? maxBodyBytes),
    maxTokens: number(/^maxTokens$/) ?? 2_000,
    maxAliases: number(/^maxAliases$/) ?? 15,
    maxCost: number(/^maxCost$/) ?? 25_000,
  };
}

/** Distinct documents of `bytes` bytes: a comment of random text, then `{ __typename }`. */
function bigDocument(bytes: number): Candidate {
  const tail = '\n{ __typename }';
  return {
    size: bytes,
    resize: bigDocument,
    description: `distinct ${bytes.toLocaleString('en-US')}-byte documents (a comment, then \`{ __typename }\`)`,
    body: () => {
      const head = `# ${randomBytes(16).toString('hex')} `;
      return JSON.stringify({ query: head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail });
    },
  };
}

function documentCandidates(limits: Limits): Candidate[] {
  // The JSON envelope ({"query":"…"}) must also fit under the body limit.
  const largest = Math.min(limits.maxDocumentBytes, limits.maxBodyBytes - 64) - 16;
  const sizes = [largest];
  while (sizes.length < 10 && sizes.at(-1)! > 2_048) sizes.push(Math.floor(sizes.at(-1)! / 2));
  return sizes.map(bigDocument);
}

function countCandidates(limits: Limits): Candidate[] {
  let request = 0;
  const shape = (aliases: number, lists: number, contacts: number): Candidate => {
    const cost = aliases * lists * (1 + contacts);
    return {
      description:
        `${aliases} aliases of \`lists(first: ${lists}) { nodes { contacts(first: ${contacts}, filter: { search: "…" }) { totalCount } } }\`` +
        `, each alias with its own search (page cost ${cost.toLocaleString('en-US')} of ${limits.maxCost.toLocaleString('en-US')})`,
      body: () => {
        // Rotated per request: every alias counts its own filter (and a comment makes every document distinct).
        const offset = request++ % SEARCH_TERMS.length;
        const fields = Array.from({ length: aliases }, (_, i) => {
          const term = SEARCH_TERMS[(offset + i) % SEARCH_TERMS.length]!;
          return `c${i}: lists(first: ${lists}) { nodes { contacts(first: ${contacts}, filter: { search: ${JSON.stringify(term)} }) { totalCount } } }`;
        });
        return JSON.stringify({ query: `# ${randomBytes(8).toString('hex')}\n{ ${fields.join(' ')} }` });
      },
    };
  };
  const aliases = Math.max(1, limits.maxAliases);
  // Page cost: each alias costs its lists plus lists × contacts (bench/../src/plugins/page-cost.ts).
  const contacts = Math.max(1, Math.min(100, Math.floor(limits.maxCost / (aliases * 100)) - 1));
  const candidates = [shape(aliases, 100, contacts), shape(aliases, 100, 1)];
  for (let a = Math.floor(aliases / 2); a >= 1; a = Math.floor(a / 2)) candidates.push(shape(a, 100, 1));
  candidates.push(shape(1, 20, 1));
  return candidates;
}

function permissionCandidates(limits: Limits): Candidate[] {
  // `viewer { permissions }` is 4 tokens; the braces around all of them 2 more.
  const most = Math.max(1, Math.floor((limits.maxTokens - 2) / 4));
  // Steps of 10%: the validation cost grows with the square of the count, so the largest
  // size that gets through matters.
  const counts = [most];
  while (counts.length < 25 && counts.at(-1)! > 1) counts.push(Math.max(1, Math.floor(counts.at(-1)! * 0.9)));
  const repeated = (n: number): Candidate => ({
    size: n,
    resize: repeated,
    description: `\`{ viewer { permissions } }\` with \`viewer { permissions }\` repeated ${n} times (${4 * n + 2} tokens)`,
    // A comment costs no token but makes every document distinct: no parse or validation cache helps.
    body: () =>
      JSON.stringify({
        query: `# ${randomBytes(8).toString('hex')}\n{ ${Array.from({ length: n }, () => 'viewer { permissions }').join(' ')} }`,
      }),
  });
  return counts.map(repeated);
}

/**
 * The most expensive candidate the server does not refuse outright (a 4xx), trying them in
 * order; a 429 is waited out. A 200 with errors counts as accepted: the server did the work
 * (a document that fails validation has been parsed and validated; a count that hit the
 * statement timeout has run for that long). Then, on the idle server, its latency and the
 * server's CPU per request.
 */
async function probe(
  kind: NoiseKind,
  candidates: Candidate[],
  client: Client,
  aKey: string,
  pid: number,
): Promise<{ shape: AttackShape; accepted?: Candidate }> {
  const refused: string[] = [];
  const send = async (candidate: Candidate): Promise<Answer> => {
    for (let attempt = 0; ; attempt++) {
      const answer = await client.post('/graphql', candidate.body(), { authorization: `Bearer ${aKey}` });
      if (answer.status !== 429 || attempt === 30) return answer;
      await pause(1_000);
    }
  };
  let accepted: { candidate: Candidate; answer: Answer } | undefined;
  let smallestRefused: Candidate | undefined;
  for (const candidate of candidates) {
    const answer = await send(candidate);
    if (answer.status === 200) {
      accepted = { candidate, answer };
      break;
    }
    refused.push(`${candidate.description}: ${statusLabel(answer)}`);
    smallestRefused = candidate;
  }
  if (!accepted) return { shape: { kind, description: 'every size refused', refused, refusedOutright: true } };
  // Between the largest size accepted and the smallest refused: a few halvings of the gap.
  const { resize } = accepted.candidate;
  if (resize && smallestRefused?.size !== undefined) {
    let low = accepted.candidate.size!;
    let high = smallestRefused.size;
    for (let step = 0; step < 5 && high - low > 1; step++) {
      const middle = resize(Math.floor((low + high) / 2));
      const answer = await send(middle);
      if (answer.status === 200) {
        accepted = { candidate: middle, answer };
        low = middle.size!;
      } else {
        refused.push(`${middle.description}: ${statusLabel(answer)}`);
        high = middle.size!;
      }
    }
  }
  // On the idle server: three requests, or one when it is slow (a count that runs for seconds).
  const { candidate } = accepted;
  const latencies: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < (accepted.answer.ms < 2_000 ? 3 : 1); i++) {
    const before = cpuMs(pid);
    latencies.push((await send(candidate)).ms);
    cpu.push(cpuMs(pid) - before);
  }
  const codes = errorCodes(accepted.answer.text);
  const description = `${candidate.description}${codes.length ? ` (answered 200 with errors: ${[...new Set(codes)].join(', ')})` : ''}`;
  return {
    accepted: candidate,
    shape: { kind, description, refused, idleLatencyMs: percentile(latencies, 50), idleCpuMs: percentile(cpu, 50) },
  };
}

// --- slow clients -------------------------------------------------------------------------------

function slowClients(origin: string, concurrent: number, until: () => boolean): { stop(): SlowClientStats } {
  const { port } = new URL(origin);
  const stats: SlowClientStats = {
    concurrent,
    opened: 0,
    cutByServer: 0,
    cutAfterMedianMs: NaN,
    cutAfterMaxMs: NaN,
    statuses: {},
  };
  const cutAfter: number[] = [];
  const sockets = new Set<net.Socket>();
  const body = JSON.stringify({ query: '{ __typename }' }).padEnd(4_096, ' ');
  let stopped = false;
  const open = () => {
    if (stopped || !until()) return;
    stats.opened++;
    const opened = performance.now();
    const socket = net.connect(Number(port), '127.0.0.1');
    sockets.add(socket);
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      timer = setInterval(() => {
        if (sent < body.length && socket.writable) socket.write(body[sent++]!);
      }, SLOW_CLIENT_BYTE_EVERY_MS);
    });
    socket.on('data', (chunk: Buffer) => {
      const status = /^HTTP\/1\.\d (\d{3})/.exec(chunk.toString('latin1'))?.[1];
      if (status) count(stats.statuses, status);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      if (stopped) return;
      stats.cutByServer++;
      cutAfter.push(performance.now() - opened);
      // A real attacker reconnects; a short pause keeps a server that refuses at once from spinning us.
      setTimeout(open, 100);
    });
  };
  for (let i = 0; i < concurrent; i++) open();
  return {
    stop() {
      stopped = true;
      for (const socket of sockets) socket.destroy();
      stats.cutAfterMedianMs = percentile(cutAfter, 50);
      stats.cutAfterMaxMs = cutAfter.length ? Math.max(...cutAfter) : NaN;
      return stats;
    },
  };
}

// --- B, the neighbour ---------------------------------------------------------------------------

async function runNeighbour(
  client: Client,
  bKey: string,
  fixture: Fixture,
  seconds: number,
  perSecond: number,
): Promise<PhaseStats> {
  const inbox = OPERATIONS.find((operation) => operation.name === 'inbox')!;
  const request = inbox.requests.wagraph!(fixture)();
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let okInPhase = 0;
  const deadline = performance.now() + seconds * 1000;
  const intervalMs = (B_CONNECTIONS / perSecond) * 1000;
  const phaseStarted = performance.now();
  const worker = async (index: number) => {
    // Each connection has a schedule (spread over the interval, so that the 4 do not send
    // together), and a request's latency counts from its scheduled time: a connection stuck
    // behind a locked-out request still owes the requests it could not send meanwhile, and
    // they count with the time they waited (no "coordinated omission").
    for (let k = 0; ; k++) {
      const scheduled = phaseStarted + (intervalMs / B_CONNECTIONS) * index + k * intervalMs;
      if (scheduled >= deadline) return;
      await pause(Math.max(0, scheduled - performance.now()));
      const answer = await client.post(request.path, request.body, { authorization: `Bearer ${bKey}` });
      if (answer.status === 'abandoned') return;
      let ok = answer.status === 200;
      if (ok) {
        try {
          inbox.check('wagraph', JSON.parse(answer.text), fixture);
        } catch {
          ok = false;
        }
      }
      if (ok) {
        latencies.push(performance.now() - scheduled);
        if (performance.now() < deadline) okInPhase++;
      } else {
        count(failures, statusLabel(answer));
      }
    }
  };
  await Promise.all(Array.from({ length: B_CONNECTIONS }, (_, index) => worker(index)));
  return {
    seconds,
    ok: latencies.length,
    okInPhase,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? Math.max(...latencies) : NaN,
    failures,
  };
}

// --- the scenario -------------------------------------------------------------------------------

export async function runNoisyNeighbour(url: string, fixture: Fixture, options: NoisyOptions): Promise<NoisyResult> {
  const startedAt = new Date().toISOString();
  const names = await prepareKeys(url, fixture);
  const environment = wagraphEnvironment({ databaseUrl: url, rateLimit: 'server defaults' }, 0);
  const config = loadConfig(environment);
  const limits = limitsOf(config);
  const slots = config.maxConcurrentRequests > 0 ? config.maxConcurrentRequests : 2 * config.dbPoolSize;
  const settings: Record<string, number | string> = {
    RATE_LIMIT_PER_MINUTE: config.rateLimit.perMinute,
    RATE_LIMIT_BURST: config.rateLimit.burst,
    MAX_CONCURRENT_REQUESTS: config.maxConcurrentRequests,
    DB_POOL_SIZE: config.dbPoolSize,
    DB_STATEMENT_TIMEOUT_MS: config.dbStatementTimeoutMs,
    ...Object.fromEntries(
      Object.entries(config.limits as unknown as Record<string, unknown>).filter(([, v]) => typeof v === 'number') as [
        string,
        number,
      ][],
    ),
  };
  const budgetPerSecond = config.rateLimit.perMinute > 0 ? config.rateLimit.perMinute / 60 : 20;
  const aPace = {
    perSecond: budgetPerSecond,
    burst: config.rateLimit.perMinute > 0 ? config.rateLimit.burst : 20,
    maxInFlight: options.kinds.includes('concurrency') ? 2 * slots : 4,
  };
  const bPerSecond = Math.min(B_MAX_PER_SECOND, 0.8 * budgetPerSecond);
  log(
    `A: ${names.a} (${aPace.perSecond}/s after a burst of ${aPace.burst}, up to ${aPace.maxInFlight} in flight); B: ${names.b} (inbox, ${B_CONNECTIONS} connections, ${bPerSecond}/s)`,
  );

  const server: ServerProcess = await startTarget('wagraph', {
    databaseUrl: url,
    fixture,
    label: 'noisy',
    rateLimit: 'server defaults',
  });
  const aClient = httpClient(server.origin, { maxSockets: Math.max(aPace.maxInFlight, 4), timeoutMs: 60_000 });
  const bClient = httpClient(server.origin, { maxSockets: B_CONNECTIONS, timeoutMs: 30_000 });
  const aKey = fixture.apiKey;
  try {
    // Sizes, from the most expensive down to the first the server accepts.
    const candidates: Partial<Record<NoiseKind, Candidate[]>> = {
      documents: documentCandidates(limits),
      counts: countCandidates(limits),
      permissions: permissionCandidates(limits),
    };
    const attacks: AttackShape[] = [];
    const accepted: { kind: NoiseKind; candidate: Candidate }[] = [];
    for (const kind of options.kinds) {
      const list = candidates[kind];
      if (!list) continue;
      const { shape, accepted: candidate } = await probe(kind, list, aClient, aKey, server.pid);
      attacks.push(shape);
      if (candidate) accepted.push({ kind, candidate });
      log(
        `${kind}: ${shape.description}; idle ${shape.idleLatencyMs?.toFixed(0) ?? '–'} ms, server CPU ${shape.idleCpuMs?.toFixed(0) ?? '–'} ms${shape.refused.length ? `; refused: ${shape.refused.join(' | ')}` : ''}`,
      );
    }
    // A kind refused at every size is still sent, at its most expensive size: the refusals are what is measured.
    for (const kind of options.kinds) {
      if (candidates[kind] && !accepted.some((a) => a.kind === kind))
        accepted.push({ kind, candidate: candidates[kind]![0]! });
    }
    if (!accepted.length && options.kinds.includes('concurrency'))
      accepted.push({ kind: 'concurrency', candidate: countCandidates(limits)[0]! });

    // What the probes left running (a count past its answer, in PostgreSQL) must not slow B's idle run.
    if (!(await waitUntilQuiet(url, server.pid, 20_000)))
      log(`cancelled ${await cancelLeftoverQueries(url)} queries the probes left running`);

    // B's warm-up (a fresh server compiles and prepares on its first requests), then B on the
    // idle server; meanwhile A's bucket refills (burst / rate seconds).
    await runNeighbour(bClient, names.bKey, fixture, 2, bPerSecond);
    const loadAtIdle = os.loadavg()[0]!;
    const idleStarted = performance.now();
    const idle = await runNeighbour(bClient, names.bKey, fixture, options.idleSeconds, bPerSecond);
    log(
      `B idle: p50 ${idle.p50Ms.toFixed(0)} ms, p99 ${idle.p99Ms.toFixed(0)} ms, ${idle.ok} ok, failures ${JSON.stringify(idle.failures)}`,
    );
    await pause(Math.max(0, (aPace.burst / aPace.perSecond) * 1000 - (performance.now() - idleStarted)));

    // The noise, and B under it.
    const sampler = sampleRss(() => server.pid, 250);
    const noiseEnd = performance.now() + options.noiseSeconds * 1000;
    const during = () => performance.now() < noiseEnd;
    const slow = options.kinds.includes('slow-clients')
      ? slowClients(server.origin, options.slowClients, during)
      : undefined;
    const aStatuses: NoisyResult['aStatuses'] = {};
    const attacker = (async () => {
      let tokens = aPace.burst;
      let last = performance.now();
      let next = 0;
      const sent: Promise<void>[] = [];
      // Runs for the whole noise even with nothing to send: its end is what stops the slow clients.
      while (during()) {
        const now = performance.now();
        tokens = Math.min(aPace.burst, tokens + ((now - last) / 1000) * aPace.perSecond);
        last = now;
        while (accepted.length && tokens >= 1 && aClient.inFlight() < aPace.maxInFlight) {
          tokens--;
          const { kind, candidate } = accepted[next++ % accepted.length]!;
          sent.push(
            aClient.post('/graphql', candidate.body(), { authorization: `Bearer ${aKey}` }).then((answer) => {
              count((aStatuses[kind] ??= {}), statusLabel(answer));
            }),
          );
        }
        await pause(10);
      }
      return sent;
    })();
    // The noise stops at its deadline whatever B is waiting for: B's last requests, sent
    // during the noise, then finish (or time out) on a server that is no longer attacked.
    const noiseStopped = attacker.then(async (sent) => {
      const stats = slow?.stop();
      aClient.close();
      await Promise.all(sent);
      return stats;
    });
    const noisy = await runNeighbour(bClient, names.bKey, fixture, options.noiseSeconds, bPerSecond);
    const slowStats = await noiseStopped;
    const { samples, peakKb } = sampler.stop();
    const loadAfterNoise = os.loadavg()[0]!;
    log(
      `B noisy: p50 ${noisy.p50Ms.toFixed(0)} ms, p99 ${noisy.p99Ms.toFixed(0)} ms, ${noisy.ok} ok, failures ${JSON.stringify(noisy.failures)}`,
    );
    log(`A's answers: ${JSON.stringify(aStatuses)}${slowStats ? `; slow clients ${JSON.stringify(slowStats)}` : ''}`);

    // Still there? A simple request of B's, once A's connections are closed, every second
    // until it is answered (what A left in flight may still hold the pool for a while).
    const recoveryStarted = performance.now();
    let after: Answer;
    do {
      after = await bClient.post('/graphql', JSON.stringify({ query: '{ __typename }' }), {
        authorization: `Bearer ${names.bKey}`,
      });
      if (after.status === 200 || readMemory(server.pid) === undefined) break;
      await pause(1_000);
    } while (performance.now() - recoveryStarted < 30_000);
    const running = readMemory(server.pid) !== undefined;
    const aliveAfter = after.status === 200 && running;
    const afterNoise = aliveAfter
      ? `running, answered B's \`{ __typename }\` ${((performance.now() - recoveryStarted) / 1000).toFixed(1)} s after the noise stopped`
      : running
        ? `running, but not answering B's \`{ __typename }\` within 30 s of the noise stopping (last answer: ${statusLabel(after)})`
        : `not running: the process exited (see ${path.relative(ROOT_DIR, server.logFile)})`;
    const peakRssMb = Math.max(peakKb, readMemory(server.pid)?.peakKb ?? 0) / 1024;
    const noisePeakRssMb = Math.max(0, ...samples.map(([, kb]) => kb)) / 1024;
    log(`peak RSS ${peakRssMb.toFixed(0)} MB (noise: ${noisePeakRssMb.toFixed(0)} MB); server ${afterNoise}`);
    return {
      startedAt,
      organizations: { a: names.a, b: names.b },
      settings,
      kinds: options.kinds,
      attacks,
      aPace,
      bPerSecond,
      idle,
      noisy,
      aStatuses,
      ...(slowStats ? { slowClients: slowStats } : {}),
      peakRssMb,
      noisePeakRssMb,
      aliveAfter,
      afterNoise,
      loadAverage: [loadAtIdle, loadAfterNoise],
      serverLog: server.logFile,
    };
  } finally {
    aClient.close();
    bClient.close();
    await server.stop();
    await cancelLeftoverQueries(url);
  }
}
