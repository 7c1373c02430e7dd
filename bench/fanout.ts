// The fan-out scenario (`npm run bench -- --only fanout`): live subscribers on two gateway
// instances sharing one PostgreSQL database and one Redis, while inbound webhook messages and
// sendMessage mutations write at a steady rate.
//
// - A database of its own (wagraph_bench_fanout, dropped and recreated each run: the seeded
//   dataset of the table has no channels and its size does not matter here), migrated and
//   seeded with the demo data (two organizations) by the first instance; each organization
//   connects a WhatsApp channel through connectWhatsAppChannel. A Redis server of its own
//   (redis-server on a free port). The instances run the build (`dist/`) as `npm run serve`
//   does, in production mode, background jobs in-process (WORKERS' default).
// - `subscribers` SSE subscriptions to `events` (Yoga's distinct-connections protocol, raw
//   node:http), spread evenly over the two organizations and the two instances; all must be
//   answered 200 before the writes start.
// - For `seconds`, `rate` writes per second alternating between the organizations: half are
//   sendMessage mutations (to instance 1), half signed webhook deliveries of one text message
//   (to instance 2), each with a unique text. Open loop: a write is sent on its schedule
//   whether or not the previous ones were answered.
// - Latency, per subscriber and write, from when the write was answered to when the
//   subscriber parsed its MESSAGE_CREATED event. For sendMessage the answer comes after the
//   commit (an honest start: the commit is a little earlier, so this slightly under-counts);
//   for a webhook delivery the answer (200, the delivery stored) comes before the job that
//   processes it even starts, so the latency includes the job's pick-up and transaction
//   (an over-count of commit-to-subscriber). Both are reported apart.
// - Lost: for every subscriber, the writes of its organization whose event it never got
//   (waiting up to 10 s after the last write); and every event of the feed (all kinds: a
//   message's conversation update too) counted against the feed's own rows.
// - Peak RSS per instance (VmHWM), and CPU time per instance (utime + stime from
//   /proc/<pid>/stat) over the write window, per 1,000 feed events.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { deliveryFor, signed, textMessageValue } from '../src/whatsapp/meta-payloads.js';
import { readMemory } from './memory.js';
import { ROOT_DIR } from './paths.js';
import { freePort, type ServerProcess, startServer } from './server-process.js';
import { wagraphEnvironment } from './targets.js';

export interface FanoutOptions {
  subscribers: number;
  /** Writes per second (each makes one MESSAGE_CREATED event, and its conversation's events). */
  rate: number;
  seconds: number;
}

export const FANOUT_DEFAULTS: FanoutOptions = { subscribers: 1_000, rate: 60, seconds: 30 };

export interface FanoutResult {
  subscribers: number;
  instances: number;
  writesPerSecond: number;
  seconds: number;
  /** Feed events committed in the window (all kinds), and per second. */
  feedEvents: number;
  feedEventsPerSecond: number;
  /** Deliveries of events to subscribers that were expected, and how many never came. */
  expectedDeliveries: number;
  lost: number;
  /** Feed events (all kinds) each subscriber should have got, summed, minus those it got. */
  lostFeedEvents: number;
  latencyMs: {
    sendMessage: { p50: number; p99: number; max: number };
    webhook: { p50: number; p99: number; max: number };
  };
  /** Writes answered with an error, and the first error. */
  failedWrites: number;
  firstWriteError?: string;
  /** Subscriptions that ended early (with their first error). */
  endedSubscriptions: number;
  endedReason?: string;
  perInstance: { peakRssMb: number; cpuSeconds: number; cpuMsPer1000Events: number }[];
}

const DATABASE = 'wagraph_bench_fanout';
const KEYS = ['fanout-bench-owner-key-of-organization-1', 'fanout-bench-owner-key-of-organization-2'];
const SUBSCRIPTION = JSON.stringify({
  query: 'subscription { events { cursor kind ... on MessageEvent { message { text } } } }',
});

function log(message: string): void {
  process.stdout.write(`[bench] fanout: ${message}\n`);
}

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdio: 'ignore' },
  );
  await sleep(300);
  if (child.exitCode !== null) throw new Error('redis-server did not start (is it installed?)');
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function gql(origin: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors) throw new Error(`${query.slice(0, 60)}…: ${body.errors[0]!.message}`);
  return body.data;
}

/** One SSE subscriber: the texts of the MESSAGE_CREATED events it got and when, and its event count. */
class Subscriber {
  readonly arrivals = new Map<string, number>();
  events = 0;
  ended: string | undefined;
  private request: http.ClientRequest | undefined;

  constructor(
    readonly organization: number,
    readonly origin: string,
  ) {}

  open(agent: http.Agent): Promise<void> {
    return new Promise((resolve, reject) => {
      const url = new URL('/graphql', this.origin);
      this.request = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            authorization: `Bearer ${KEYS[this.organization]}`,
          },
        },
        (response) => {
          if (response.statusCode !== 200) {
            reject(new Error(`subscription answered ${response.statusCode}`));
            response.resume();
            return;
          }
          resolve();
          response.setEncoding('utf8');
          let buffer = '';
          response.on('data', (chunk: string) => {
            buffer += chunk;
            let end = buffer.indexOf('\n\n');
            while (end >= 0) {
              this.message(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
              end = buffer.indexOf('\n\n');
            }
          });
          response.on('end', () => {
            this.ended ??= 'the stream ended';
          });
          response.on('error', () => {});
        },
      );
      this.request.on('error', (error) => {
        this.ended ??= error.message;
        reject(error);
      });
      this.request.end(SUBSCRIPTION);
    });
  }

  private message(message: string): void {
    if (!message.startsWith('event: next')) {
      if (message.startsWith('event: complete')) this.ended ??= 'completed';
      return;
    }
    const data = message.slice(message.indexOf('data:') + 5);
    const payload = JSON.parse(data) as { data?: { events: any }; errors?: { message: string }[] };
    if (payload.errors) {
      this.ended ??= payload.errors[0]!.message;
      return;
    }
    this.events++;
    const event = payload.data!.events;
    if (event.kind === 'MESSAGE_CREATED') this.arrivals.set(event.message.text, performance.now());
  }

  close(): void {
    this.request?.destroy();
  }
}

export async function runFanout(benchUrl: string, options: FanoutOptions): Promise<FanoutResult> {
  const adminUrl = new URL(benchUrl);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  const url = new URL(benchUrl);
  url.pathname = `/${DATABASE}`;
  const databaseUrl = url.toString();
  const redis = await startRedis();
  const instances: ServerProcess[] = [];
  const subscribers: Subscriber[] = [];
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  try {
    for (const n of [1, 2]) {
      const port = await freePort();
      instances.push(
        await startServer({
          name: `wagraph-fanout-${n}`,
          command: process.execPath,
          args: ['--max-old-space-size=192', path.join(ROOT_DIR, 'dist', 'src', 'server.js')],
          cwd: ROOT_DIR,
          env: {
            ...wagraphEnvironment({ databaseUrl, rateLimit: 'off' }, port),
            REDIS_URL: redis.url,
            // The first instance seeds the demo organizations, with these owners' keys.
            SEED_DEMO_DATA: n === 1 ? 'true' : 'false',
            DEMO_API_KEY: KEYS[0],
            DEMO_API_KEY_2: KEYS[1],
            MAX_SUBSCRIPTIONS_PER_MEMBER: String(options.subscribers),
            MAX_SUBSCRIPTIONS_PER_ORGANIZATION: String(options.subscribers),
          },
          port,
          ready: async (origin) => (await fetch(`${origin}/readyz`)).status === 200,
          startTimeoutMs: 120_000,
        }),
      );
    }
    const [one, two] = instances as [ServerProcess, ServerProcess];

    // Each organization: a channel to receive on, and conversations to send to.
    const channels: { phoneNumberId: string; businessAccountId: string; appSecret: string }[] = [];
    const conversations: string[][] = [];
    for (const [index, key] of KEYS.entries()) {
      const channel = {
        phoneNumberId: String(900_000_000_000 + index),
        businessAccountId: String(800_000_000_000 + index),
        appSecret: `fanout-app-secret-${index}`,
      };
      const connected = await gql(
        one.origin,
        key,
        `mutation($input: ConnectWhatsAppChannelInput!) { connectWhatsAppChannel(input: $input) { userErrors { message } } }`,
        {
          input: {
            name: `Fan-out ${index + 1}`,
            displayPhoneNumber: '+1 555-000-1111',
            verifyToken: `fanout-verify-token-${index}-xxxxxxxx`,
            ...channel,
          },
        },
      );
      if (connected.connectWhatsAppChannel.userErrors.length)
        throw new Error(JSON.stringify(connected.connectWhatsAppChannel.userErrors));
      channels.push(channel);
      const page = await gql(one.origin, key, '{ conversations(first: 20) { edges { node { id } } } }');
      conversations.push(page.conversations.edges.map((edge: any) => edge.node.id));
      if (!conversations[index]!.length) throw new Error('the demo organization has no conversation');
    }
    // The demo's contacts last wrote long ago: as if they had just written, so that free-form
    // sends are inside WhatsApp's 24-hour window (a send outside it is refused up front).
    const opener = new pg.Client({ connectionString: databaseUrl });
    await opener.connect();
    try {
      await opener.query(`UPDATE "Conversation" SET "lastInboundMessageAt" = now()`);
    } finally {
      await opener.end();
    }

    log(`${options.subscribers} SSE subscribers over 2 organizations × 2 instances`);
    for (let n = 0; n < options.subscribers; n++) {
      subscribers.push(new Subscriber(n % 2, instances[Math.floor(n / 2) % 2]!.origin));
    }
    for (let from = 0; from < subscribers.length; from += 50) {
      await Promise.all(subscribers.slice(from, from + 50).map((subscriber) => subscriber.open(agent)));
    }
    await sleep(2_000);

    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const positions = async () =>
      (
        await db.query<{ organizationId: string; n: string }>(
          `SELECT "organizationId", count(*)::text AS n FROM "Event" GROUP BY 1`,
        )
      ).rows;
    const before = await positions();
    const cpuBefore = instances.map((instance) => cpuSeconds(instance.pid));

    log(`${options.rate} writes/s for ${options.seconds} s (sendMessage and webhook deliveries, alternating)`);
    const writes: { text: string; organization: number; kind: 'sendMessage' | 'webhook'; answered?: number }[] = [];
    let failedWrites = 0;
    let firstWriteError: string | undefined;
    const pending: Promise<void>[] = [];
    const started = performance.now();
    const total = Math.round(options.rate * options.seconds);
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const organization = n % 2;
      const kind = Math.floor(n / 2) % 2 === 0 ? 'sendMessage' : 'webhook';
      const write: (typeof writes)[number] = { text: `fanout ${n}`, organization, kind };
      writes.push(write);
      pending.push(
        (async () => {
          try {
            if (kind === 'sendMessage') {
              const list = conversations[organization]!;
              const data = await gql(
                one.origin,
                KEYS[organization]!,
                'mutation($input: SendMessageInput!) { sendMessage(input: $input) { userErrors { message } } }',
                { input: { conversationId: list[n % list.length], text: write.text } },
              );
              if (data.sendMessage.userErrors.length) throw new Error(data.sendMessage.userErrors[0].message);
            } else {
              const channel = channels[organization]!;
              const delivery = signed(
                deliveryFor(
                  channel,
                  textMessageValue({ from: `1555${String(n % 50).padStart(7, '0')}`, body: write.text }),
                ),
                channel.appSecret,
              );
              const response = await fetch(`${two.origin}/webhooks/whatsapp`, {
                method: 'POST',
                headers: delivery.headers,
                body: delivery.body,
              });
              await response.arrayBuffer();
              if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
            }
            write.answered = performance.now();
          } catch (error) {
            failedWrites++;
            firstWriteError ??= error instanceof Error ? error.message : String(error);
          }
        })(),
      );
    }
    await Promise.all(pending);
    const window = (performance.now() - started) / 1000;
    const cpuAfter = instances.map((instance) => cpuSeconds(instance.pid));

    // Every subscriber has every answered write's event, or 10 s pass.
    const answered = writes.filter((write) => write.answered !== undefined);
    const deadline = Date.now() + 10_000;
    const missing = () =>
      subscribers.reduce(
        (sum, subscriber) =>
          sum +
          answered.filter(
            (write) => write.organization === subscriber.organization && !subscriber.arrivals.has(write.text),
          ).length,
        0,
      );
    while (missing() > 0 && Date.now() < deadline) await sleep(250);
    const lost = missing();

    const after = await positions();
    const newEvents = new Map<string, number>();
    for (const row of after) {
      const was = Number(before.find((b) => b.organizationId === row.organizationId)?.n ?? 0);
      newEvents.set(row.organizationId, Number(row.n) - was);
    }
    await db.end();
    const feedEvents = [...newEvents.values()].reduce((a, b) => a + b, 0);
    // Subscribers of organization i should have got every new event of i: the organizations
    // are the two with new events, told apart by their writes' counts (alternating: equal).
    const orgEvents = [...newEvents.values()];
    const expectedFeed = subscribers.reduce((sum, s) => sum + (orgEvents[s.organization] ?? 0), 0);
    const gotFeed = subscribers.reduce((sum, s) => sum + s.events, 0);

    const latencies = { sendMessage: [] as number[], webhook: [] as number[] };
    for (const subscriber of subscribers) {
      for (const write of answered) {
        if (write.organization !== subscriber.organization) continue;
        const at = subscriber.arrivals.get(write.text);
        if (at !== undefined) latencies[write.kind].push(Math.max(0, at - write.answered!));
      }
    }
    const summary = (values: number[]) => ({
      p50: Math.round(percentile(values, 50)),
      p99: Math.round(percentile(values, 99)),
      // A loop, not Math.max(...values): a spread of a million latencies overflows the stack.
      max: Math.round(values.reduce((most, value) => (value > most ? value : most), Number.NEGATIVE_INFINITY)),
    });
    const ended = subscribers.filter((subscriber) => subscriber.ended !== undefined);
    return {
      subscribers: options.subscribers,
      instances: instances.length,
      writesPerSecond: options.rate,
      seconds: Math.round(window * 10) / 10,
      feedEvents,
      feedEventsPerSecond: Math.round(feedEvents / window),
      expectedDeliveries: answered.length * (options.subscribers / 2),
      lost,
      lostFeedEvents: Math.max(0, expectedFeed - gotFeed),
      latencyMs: { sendMessage: summary(latencies.sendMessage), webhook: summary(latencies.webhook) },
      failedWrites,
      ...(firstWriteError ? { firstWriteError } : {}),
      endedSubscriptions: ended.length,
      ...(ended[0] ? { endedReason: ended[0].ended } : {}),
      perInstance: instances.map((instance, index) => {
        const cpu = cpuAfter[index]! - cpuBefore[index]!;
        return {
          peakRssMb: Math.round((readMemory(instance.pid)?.peakKb ?? 0) / 1024),
          cpuSeconds: Math.round(cpu * 10) / 10,
          cpuMsPer1000Events: Math.round((cpu * 1000 * 1000) / Math.max(1, feedEvents)),
        };
      }),
    };
  } finally {
    for (const subscriber of subscribers) subscriber.close();
    agent.destroy();
    await Promise.all(instances.map((instance) => instance.stop(5_000)));
    await redis.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

/** The fan-out section of the report. */
export function renderFanout(result: FanoutResult | { error: string } | undefined): string {
  if (!result) return '';
  if ('error' in result) return `## Fan-out across instances\n\n**Not measured:** ${result.error}\n\n`;
  const { sendMessage, webhook } = result.latencyMs;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const worstRss = Math.max(...result.perInstance.map((instance) => instance.peakRssMb));
  return `## Fan-out across instances

${result.subscribers} SSE subscribers (\`subscription { events { … } }\`), half in each of two organizations, spread
over ${result.instances} gateway instances sharing PostgreSQL and Redis (REDIS_URL); ${result.writesPerSecond} writes/s for
${result.seconds} s, alternating sendMessage (to instance 1) and signed webhook deliveries (to instance 2, processed
by whichever instance's job runner takes the job): ${result.feedEvents} feed events, ${result.feedEventsPerSecond} events/s.
How it is measured: bench/fanout.ts.

| measure | value | target |
| --- | --- | --- |
| latency, sendMessage answered → subscriber, p50 / p99 / max | ${sendMessage.p50} / ${sendMessage.p99} / ${sendMessage.max} ms | p99 ≤ 250 ms: ${verdict(sendMessage.p99 <= 250)} |
| latency, webhook acknowledged → subscriber (includes the job's pick-up), p50 / p99 / max | ${webhook.p50} / ${webhook.p99} / ${webhook.max} ms | p99 ≤ 250 ms: ${verdict(webhook.p99 <= 250)} |
| messages not delivered 10 s after the last write (lost, or still queued: see the latencies), of ${result.expectedDeliveries} deliveries | ${result.lost} | 0 lost: ${verdict(result.lost === 0)} |
| feed events of any kind not delivered by then (summed over subscribers) | ${result.lostFeedEvents} | 0 |
| subscriptions ended early | ${result.endedSubscriptions}${result.endedReason ? ` (${result.endedReason})` : ''} | 0 |
| writes that failed | ${result.failedWrites}${result.firstWriteError ? ` (first: ${result.firstWriteError.replaceAll('|', '\\|')})` : ''} | 0 |
${result.perInstance.map((instance, index) => `| instance ${index + 1}: peak RSS; CPU over the window; CPU per 1,000 feed events | ${instance.peakRssMb} MB; ${instance.cpuSeconds} s; ${instance.cpuMsPer1000Events} ms | RSS ≤ 300 MB: ${verdict(instance.peakRssMb <= 300)} |`).join('\n')}

Worst peak RSS: ${worstRss} MB.

`;
}
