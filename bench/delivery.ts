// The delivery scenario (`npm run bench -- --only delivery`): 10,000 sendMessage calls to
// 2,000 recipients on one channel limited to 80 sends a second, delivered by wagraph's
// workers (src/whatsapp/outbound.ts) to the fake Cloud API, which this process starts on
// 127.0.0.1 and which keeps WhatsApp's limits (it answers 130429 / 131056 over one). What it
// measures, at the fake: the achieved send rate (target: within 5 % of the limit) and the
// busiest one-second window (never above it), the pair rate (no recipient's sends closer
// than the limiter allows), lost and duplicated sends; in the database, the time from each
// sendMessage call to its message's SENT write (p50/p99); the server's peak RSS.
//
// wagraph runs as deployed with separate workers: the gateway (dist/src/server.js,
// NODE_ENV=production, WORKERS=off) takes the sendMessage calls, and once all are in, one
// worker process (dist/src/worker.js, WORKER_CONCURRENCY 16) delivers them. Enqueueing first
// makes the backlog the limiter works against: on this shared 2-core machine the calls come in
// at a few dozen a second, slower than 80 a second, and delivering while they came in would
// measure the calls, not the limit. (sendMessage → SENT thus includes the time all calls took.)
// On a database of its own, `<bench database>_delivery`, created afresh: an organization, its
// owner's API key, the channel (messagesPerSecond 80) and 2,000 contacts, each in a
// conversation whose contact wrote a minute ago (the 24-hour window admits free-form sends).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { newApiKey } from '../src/auth/api-keys.js';
import { globalIdOf, rawIdOf } from '../src/global-id.js';
import { parseSecretsKey, SecretBox } from '../src/secrets.js';
import { sealNewChannelSecrets } from '../src/whatsapp/channels.js';
import { FakeCloudApi } from '../src/whatsapp/fake-cloud-api.js';
import { CALLBACK_PREFIX } from '../src/whatsapp/cloud-api.js';
import { databaseName, recreateDatabase } from './bench-database.js';
import { type RssSampler, sampleRss } from './memory.js';
import { OUT_DIR, ROOT_DIR } from './paths.js';
import { freePort, startServer } from './server-process.js';
import { wagraphEnvironment } from './targets.js';

export interface DeliveryOptions {
  messages: number;
  recipients: number;
  messagesPerSecond: number;
  /** sendMessage calls in flight at once. */
  callers: number;
  /** Jobs the worker process runs at once (WORKER_CONCURRENCY). */
  workers: number;
}

export const DELIVERY_DEFAULTS: DeliveryOptions = {
  messages: 10_000,
  recipients: 2_000,
  messagesPerSecond: 80,
  callers: 16,
  workers: 32,
};

/** WhatsApp's pair rate as the server keeps it by default (src/whatsapp/send-limits.ts). */
const PAIR = { intervalMs: 6_000, burst: 3 };

export interface DeliveryResult {
  options: DeliveryOptions;
  /** Seconds from the first sendMessage call to the last one answered. */
  enqueueSeconds: number;
  /** Seconds from the first send at the fake to the last. */
  deliverySeconds: number;
  /** Sends a second at the fake, first to last. */
  achievedPerSecond: number;
  /** The most sends the fake received in any one-second window (from each send on). */
  busiestSecond: number;
  /** Sends the fake refused for a limit (130429 throughput, 131056 pair rate). */
  refused: { throughput: number; pair: number };
  /** The shortest time between a recipient's send and its (burst + 1)-th before it, ms; the pair rate wants ≥ the interval. */
  shortestPairSpanMs: number;
  sent: number;
  lost: number;
  duplicated: number;
  /** Messages that were not SENT at the end (FAILED or still PENDING). */
  notSent: number;
  sendToSentMs: { p50: number; p99: number; max: number };
  /** Peak RSS (VmHWM) of the worker process that delivered. */
  workerPeakMb: number;
}

function log(message: string): void {
  process.stderr.write(`[bench] delivery: ${message}\n`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** The delivery database: the bench database's name with `_delivery`. */
function deliveryDatabaseUrl(benchUrl: string): string {
  const url = new URL(benchUrl);
  url.pathname = `/${databaseName(benchUrl)}_delivery`;
  return url.toString();
}

const SEND =
  'mutation($input: SendMessageInput!) { sendMessage(input: $input) { message { id } userErrors { code message } } }';

export async function runDelivery(
  benchUrl: string,
  options: DeliveryOptions = DELIVERY_DEFAULTS,
): Promise<DeliveryResult> {
  const url = deliveryDatabaseUrl(benchUrl);
  await recreateDatabase(url);
  const accessToken = `bench-${randomUUID()}`;
  const fake = await FakeCloudApi.start({
    accessTokens: [accessToken],
    limits: { messagesPerSecond: options.messagesPerSecond, pairIntervalMs: PAIR.intervalMs, pairBurst: PAIR.burst },
  });
  const port = await freePort();
  const environment: NodeJS.ProcessEnv = {
    ...wagraphEnvironment({ databaseUrl: url, rateLimit: 'off' }, port),
    WHATSAPP_API_URL: fake.url,
    WORKER_CONCURRENCY: String(options.workers),
    WORKERS: 'off',
  };
  const apiKey = newApiKey();
  let ready = false;
  const server = await startServer({
    name: 'wagraph-delivery',
    command: process.execPath,
    args: ['--max-old-space-size=192', path.join(ROOT_DIR, 'dist', 'src', 'server.js')],
    cwd: ROOT_DIR,
    env: environment,
    port,
    // The server migrates its fresh database first; then the fixture goes in, and then it is ready.
    ready: async (origin) => {
      if (!ready) ready = (await fetch(`${origin}/graphql`, { method: 'POST' }).catch(() => undefined)) !== undefined;
      return ready;
    },
  });
  let worker: ChildProcess | undefined;
  let sampler: RssSampler | undefined;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const box = new SecretBox(parseSecretsKey(environment.SECRETS_KEY ?? '') as Buffer);
    const conversations = await insertFixture(client, box, apiKey, accessToken, options);
    log(
      `${options.messages} messages to ${options.recipients} recipients at ${options.messagesPerSecond}/s (${options.callers} callers, ${options.workers} workers)`,
    );
    const calledAt = new Map<string, number>();
    const started = Date.now();
    let next = 0;
    const caller = async () => {
      for (;;) {
        const index = next++;
        if (index >= options.messages) return;
        const conversationId = conversations[index % conversations.length] ?? '';
        const at = Date.now();
        const response = await fetch(`${server.origin}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey.secret}` },
          body: JSON.stringify({ query: SEND, variables: { input: { conversationId, text: `Message ${index + 1}` } } }),
        });
        const body = (await response.json()) as {
          data?: { sendMessage?: { message?: { id: string } | null; userErrors: unknown[] } };
          errors?: unknown;
        };
        const id = body.data?.sendMessage?.message?.id;
        if (!id) throw new Error(`sendMessage failed: ${JSON.stringify(body).slice(0, 300)}`);
        calledAt.set(rawIdOf('Message', id) ?? id, at);
      }
    };
    await Promise.all(Array.from({ length: options.callers }, caller));
    const enqueueSeconds = (Date.now() - started) / 1_000;
    log(`${options.messages} sendMessage calls answered in ${enqueueSeconds.toFixed(1)} s; starting the worker`);
    worker = spawn(process.execPath, ['--max-old-space-size=192', path.join(ROOT_DIR, 'dist', 'src', 'worker.js')], {
      cwd: ROOT_DIR,
      env: environment,
      stdio: ['ignore', fs.openSync(path.join(OUT_DIR, 'wagraph-delivery-worker.log'), 'a'), 'inherit'],
    });
    const workerPid = worker.pid ?? 0;
    sampler = sampleRss(() => workerPid, 1_000);
    const deadline = Date.now() + Math.max(600_000, (options.messages / options.messagesPerSecond) * 3_000);
    for (;;) {
      const { rows } = await client.query<{ pending: string }>(
        `SELECT count(*) AS pending FROM "Message" WHERE direction = 'OUTBOUND' AND status = 'PENDING'`,
      );
      const pending = Number(rows[0]?.pending ?? 0);
      if (pending === 0) break;
      if (Date.now() > deadline) throw new Error(`${pending} messages still PENDING at the deadline`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const { peakKb } = sampler.stop();
    log('delivered; measuring');
    const { rows: messages } = await client.query<{ id: string; status: string; updatedAt: Date }>(
      `SELECT id::text, status::text, "updatedAt" FROM "Message" WHERE direction = 'OUTBOUND'`,
    );
    return measure(options, fake, messages, calledAt, enqueueSeconds, peakKb);
  } finally {
    sampler?.stop();
    await client.end();
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker?.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await server.stop();
    await fake.close();
  }
}

async function insertFixture(
  client: pg.Client,
  box: SecretBox,
  apiKey: ReturnType<typeof newApiKey>,
  accessToken: string,
  options: DeliveryOptions,
): Promise<string[]> {
  const organizationId = randomUUID();
  const memberId = randomUUID();
  const channelId = randomUUID();
  await client.query('BEGIN');
  await client.query(`INSERT INTO "Organization" (id, name) VALUES ($1, 'Delivery benchmark')`, [organizationId]);
  await client.query(
    `INSERT INTO "OrganizationMember" (id, "organizationId", name, email, "accessLevel")
     VALUES ($1, $2, 'Owner', 'owner@delivery.bench', 'OWNER')`,
    [memberId, organizationId],
  );
  await client.query(
    `INSERT INTO "ApiKey" (id, "organizationId", "memberId", name, prefix, "keyHash") VALUES ($1, $2, $3, 'delivery benchmark', $4, $5)`,
    [randomUUID(), organizationId, memberId, apiKey.prefix, apiKey.keyHash],
  );
  const sealed = sealNewChannelSecrets(box, channelId, {
    accessToken,
    appSecret: randomUUID().replace(/-/g, ''),
    verifyToken: `verify-${randomUUID()}`,
  });
  const columns = Object.keys(sealed);
  await client.query(
    `INSERT INTO "WhatsAppChannel" (id, "organizationId", name, "phoneNumberId", "businessAccountId", "displayPhoneNumber", "messagesPerSecond", ${columns.map((column) => `"${column}"`).join(', ')})
     VALUES ($1, $2, 'Delivery', '100000000001', '200000000001', '+1 555-000-0001', $3, ${columns.map((_, index) => `$${index + 4}`).join(', ')})`,
    [channelId, organizationId, options.messagesPerSecond, ...Object.values(sealed)],
  );
  const { rows } = await client.query<{ id: string }>(
    `WITH contacts AS (
       INSERT INTO "Contact" (id, "organizationId", name, phone)
       SELECT gen_random_uuid(), $1, 'Recipient ' || n, '+1415' || lpad(n::text, 7, '0')
       FROM generate_series(1, $2::int) AS n
       RETURNING id
     )
     INSERT INTO "Conversation" (id, "organizationId", "contactId", "channelId", "lastInboundMessageAt", "lastMessageAt")
     SELECT gen_random_uuid(), $1, id, $3, now() - interval '1 minute', now() - interval '1 minute' FROM contacts
     RETURNING id::text`,
    [organizationId, options.recipients, channelId],
  );
  await client.query('COMMIT');
  return rows.map((row) => globalIdOf('Conversation', row.id));
}

function measure(
  options: DeliveryOptions,
  fake: FakeCloudApi,
  messages: readonly { id: string; status: string; updatedAt: Date }[],
  calledAt: ReadonlyMap<string, number>,
  enqueueSeconds: number,
  peakKb: number,
): DeliveryResult {
  const sent = [...fake.sent].sort((a, b) => a.at - b.at);
  const times = sent.map((one) => one.at);
  let busiestSecond = 0;
  for (let end = 0, start = 0; end < times.length; end += 1) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= 1_000) start += 1;
    busiestSecond = Math.max(busiestSecond, end - start + 1);
  }
  const byRecipient = new Map<string, number[]>();
  const sentIds = new Map<string, number>();
  for (const one of sent) {
    const to = String(one.body.to);
    byRecipient.set(to, [...(byRecipient.get(to) ?? []), one.at]);
    const id = String(one.body.biz_opaque_callback_data ?? '').slice(CALLBACK_PREFIX.length);
    sentIds.set(id, (sentIds.get(id) ?? 0) + 1);
  }
  let shortestPairSpanMs = Number.POSITIVE_INFINITY;
  for (const arrivals of byRecipient.values()) {
    for (let index = PAIR.burst; index < arrivals.length; index += 1) {
      shortestPairSpanMs = Math.min(shortestPairSpanMs, (arrivals[index] ?? 0) - (arrivals[index - PAIR.burst] ?? 0));
    }
  }
  const latencies = messages
    .filter((message) => message.status === 'SENT')
    .map((message) => message.updatedAt.getTime() - (calledAt.get(message.id) ?? Number.NaN))
    .filter((ms) => Number.isFinite(ms))
    .sort((a, b) => a - b);
  const first = times[0] ?? 0;
  const last = times.at(-1) ?? 0;
  return {
    options,
    enqueueSeconds,
    deliverySeconds: (last - first) / 1_000,
    achievedPerSecond: times.length > 1 ? ((times.length - 1) * 1_000) / (last - first) : Number.NaN,
    busiestSecond,
    refused: { ...fake.throttled },
    shortestPairSpanMs,
    sent: sent.length,
    lost: messages.filter((message) => !sentIds.has(message.id)).length,
    duplicated: [...sentIds.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0),
    notSent: messages.filter((message) => message.status !== 'SENT').length,
    sendToSentMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
    },
    workerPeakMb: peakKb / 1024,
  };
}

export function renderDelivery(result: DeliveryResult): string {
  const { options: o } = result;
  const within = Math.abs(result.achievedPerSecond - o.messagesPerSecond) / o.messagesPerSecond;
  return `#### Delivery

${o.messages.toLocaleString('en')} \`sendMessage\` calls (${o.callers} at a time) to ${o.recipients.toLocaleString('en')} recipients on one channel with
\`messagesPerSecond\` ${o.messagesPerSecond}, taken by the gateway (\`WORKERS=off\`) and, once all are in, delivered by one
\`npm run worker\` process (\`WORKER_CONCURRENCY=${o.workers}\`) to the fake Cloud API on 127.0.0.1, which keeps the same
limits (pair rate: ${PAIR.burst} at once, then one per ${PAIR.intervalMs / 1000} s).

| measure | value | target |
| --- | --- | --- |
| achieved send rate at the fake | ${result.achievedPerSecond.toFixed(1)}/s (${(within * 100).toFixed(1)} % under the limit) | within 5 % of ${o.messagesPerSecond}/s |
| busiest one-second window at the fake | ${result.busiestSecond} | ≤ ${o.messagesPerSecond} |
| sends the fake refused (130429 / 131056) | ${result.refused.throughput} / ${result.refused.pair} | 0 / 0 |
| shortest span of ${PAIR.burst + 1} sends in a row to one recipient | ${(result.shortestPairSpanMs / 1000).toFixed(2)} s | ≥ ${PAIR.intervalMs / 1000} s |
| sent / lost / duplicated / not SENT | ${result.sent} / ${result.lost} / ${result.duplicated} / ${result.notSent} | ${o.messages} / 0 / 0 / 0 |
| sendMessage → SENT, p50 / p99 / max | ${(result.sendToSentMs.p50 / 1000).toFixed(1)} s / ${(result.sendToSentMs.p99 / 1000).toFixed(1)} s / ${(result.sendToSentMs.max / 1000).toFixed(1)} s | – |
| sendMessage calls answered in | ${result.enqueueSeconds.toFixed(1)} s | – |
| delivery, first send to last | ${result.deliverySeconds.toFixed(1)} s | ≈ ${(o.messages / o.messagesPerSecond).toFixed(0)} s |
| worker process's peak RSS (VmHWM) | ${result.workerPeakMb.toFixed(0)} MB | – |

sendMessage → SENT is dominated by the queue: every call is in before the worker starts, and then ${o.messages.toLocaleString('en')}
messages leave at ${o.messagesPerSecond}/s, so a message waits for the calls after it and for its place in the backlog.
`;
}
