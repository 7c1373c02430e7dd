// The webhook-ingestion scenario: how many WhatsApp events one gateway acknowledges and
// processes. One wagraph process (as deployed, background jobs in-process with the default
// WORKER_CONCURRENCY) on a database of its own, created for the run and dropped after it; an
// organization with a channel connected through `connectWhatsAppChannel`, and contacts with
// outbound messages (what statuses, replies and reactions name). Then, at each rate, signed
// deliveries in Meta's shapes (src/whatsapp/meta-payloads.ts) sent on a fixed schedule for a few
// seconds, the queue drained, and at the end every event checked in the database.
//
// What is measured, per rate:
// - acknowledged events/s and the ack latency of each POST, counted from its scheduled time
//   (a POST the client could not send on time is late by that much);
// - processing lag: some new messages, each the first of a new contact, are looked up through
//   /graphql with an API key until they are readable; lag = answer that showed it − the ack of
//   the POST that carried it. Also, from the database, every delivery's processedAt − receivedAt;
// - the gateway's RSS (sampled) and peak (VmHWM);
// - events lost, at the end: every new message exists exactly once, every status applied.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { newApiKey } from '../src/auth/api-keys.js';
import { FIRST_NAMES } from '../src/db/sample-data.js';
import {
  type ChannelIdentity,
  deliveryFor,
  mediaMessageValue,
  reactionValue,
  type SignedDelivery,
  signed,
  statusValue,
  textMessageValue,
} from '../src/whatsapp/meta-payloads.js';
import { databaseName, dropDatabase, recreateDatabase } from './bench-database.js';
import { type Answer, httpClient, percentile } from './http-client.js';
import { readMemory, sampleRss } from './memory.js';
import { OUT_DIR } from './paths.js';
import { formatTop } from './profile-top.js';
import { startWagraphOn } from './targets.js';

/** Issue 12's targets for one gateway process. */
export const WEBHOOK_TARGETS = { ackedPerSecond: 500, ackP99Ms: 100, lagP99Ms: 2_000, lost: 0 } as const;
export const DEFAULT_WEBHOOK_RATES = [100, 250, 500, 750, 1000];
export const DEFAULT_WEBHOOK_STEP_SECONDS = 10;

/** Contacts that exist before the run, each with a conversation and OUTBOUND_PER_CONTACT sent messages. */
const KNOWN_CONTACTS = 2_000;
const OUTBOUND_PER_CONTACT = 3;
/** The mix of events, in percent. */
export const EVENT_MIX = {
  /** A text from a phone the organization has never seen (a new contact and conversation). */
  newContactText: 40,
  /** A text from a contact who wrote before (or was written to). */
  knownContactText: 25,
  /** An image, voice note or document. */
  media: 8,
  /** A text quoting one of our outbound messages (`context.id`). */
  reply: 5,
  /** A reaction to one of our outbound messages. */
  reaction: 3,
  /** `delivered`, then later `read`, of one of our outbound messages. */
  status: 16,
  /** A message already sent, again, in a new POST (Meta's at-least-once delivery). */
  duplicateMessage: 3,
} as const;
type EventKind = keyof typeof EVENT_MIX;
/** Events per POST: Meta batches a few changes when it is busy. Weights of 1, 2, 3, 4 events. */
const EVENTS_PER_POST_WEIGHTS = [40, 30, 20, 10];
/** Share of POSTs that are a byte-identical replay of a recent POST (a retried delivery). */
const REPLAYED_POSTS = 0.02;
/** New messages looked up through /graphql per second (a sample is a new contact's first message). */
const SAMPLES_PER_SECOND = 10;
/** How often the outstanding samples are looked up, and how many per request (aliases; MAX_ALIASES is 15). */
const POLL_INTERVAL_MS = 100;
const POLL_BATCH = 12;
/** After each rate: how long the queue may take to drain before the next rate starts anyway. */
const DRAIN_TIMEOUT_MS = 300_000;
/** A sample not readable this long after its ack counts as not seen. */
const SAMPLE_TIMEOUT_MS = 300_000;

const ORGANIZATION_ID = '00000000-0000-4000-8000-00000000b0b1';
const OWNER_ID = '00000000-0000-4000-8000-00000000b0b2';
const CHANNEL: ChannelIdentity = {
  phoneNumberId: '100200300400500',
  businessAccountId: '900800700600500',
  displayPhoneNumber: '+1 555-010-0000',
};
const APP_SECRET = 'bench-webhook-app-secret';

export interface WebhookStep {
  targetPerSecond: number;
  seconds: number;
  posts: number;
  events: number;
  /** Events in POSTs answered 200. */
  ackedEvents: number;
  /** ackedEvents over the time from the step's start to its last answer (at least the step's seconds). */
  ackedPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  /** Answers other than 200, by status. */
  failures: Record<string, number>;
  /** Sampled new messages read back through /graphql. */
  lag: { samples: number; seen: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Every delivery of the step: processedAt − receivedAt (database clock), once the queue drained. */
  deliveryLag: { deliveries: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Seconds after the step's last POST until no delivery or job was left (NaN: not within the timeout). */
  drainSeconds: number;
  /** Events processed per second from the step's start until its queue drained. */
  processedPerSecond: number;
  /** Highest VmRSS sampled (every 250 ms) during the step and its drain. */
  peakRssMb: number;
  /** The machine's 1-minute load average when the step started and when its queue had drained. */
  loadAverage: [number, number];
}

export interface WebhookOptions {
  rates: number[];
  stepSeconds: number;
  /** off: WORKERS=off, the gateway only acknowledges (no lag, no check). */
  workers: 'in-process' | 'off';
  /** The gateway under node --cpu-prof; the profile goes to bench/out/profiles. */
  cpuProfile: boolean;
}

export interface WebhookResult {
  database: string;
  workers: WebhookOptions['workers'];
  workerConcurrency: string;
  mix: typeof EVENT_MIX;
  eventsPerPost: string;
  replayedPosts: number;
  knownContacts: number;
  outboundMessages: number;
  samplesPerSecond: number;
  pollIntervalMs: number;
  steps: WebhookStep[];
  /** VmHWM of the gateway over the whole scenario. */
  peakRssMb: number;
  /** Undefined with workers off (nothing is processed). */
  check?: {
    newMessages: number;
    missing: number;
    duplicated: number;
    /** INBOUND rows that are none of the messages sent. */
    unexpected: number;
    repliesLinked: { expected: number; linked: number };
    statuses: { messages: number; applied: number };
    deliveries: Record<string, number>;
    deliveriesWithProblems: number;
    jobsLeft: number;
    failedJobs: number;
    lost: number;
  };
}

/** The scenario's own database beside the bench database: `<name>_webhooks` on the same server. */
export function webhookDatabaseUrl(benchUrl: string): string {
  const url = new URL(benchUrl);
  url.pathname = `/${databaseName(benchUrl)}_webhooks`;
  return url.toString();
}

function log(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// --- the organization ---------------------------------------------------------------------------

interface Outbound {
  wamid: string;
  /** Digits, as Meta writes recipient_id. */
  recipient: string;
  /** Statuses sent so far: 0 none, 1 delivered, 2 read. */
  sent: number;
}

async function prepareOrganization(
  db: pg.Client,
  origin: string,
): Promise<{ apiKey: string; knownPhones: string[]; outbound: Outbound[] }> {
  const key = newApiKey();
  await db.query(`INSERT INTO "Organization" (id, name, "createdAt", "updatedAt") VALUES ($1, $2, now(), now())`, [
    ORGANIZATION_ID,
    'Webhook ingestion benchmark',
  ]);
  await db.query(
    `INSERT INTO "OrganizationMember" (id, "organizationId", name, email, "accessLevel", "createdAt", "updatedAt")
     VALUES ($1, $2, 'Bench Owner', 'owner@webhooks.bench', 'OWNER', now(), now())`,
    [OWNER_ID, ORGANIZATION_ID],
  );
  await db.query(
    `INSERT INTO "ApiKey" (id, "organizationId", "memberId", name, prefix, "keyHash", "createdAt", "updatedAt")
     VALUES (gen_random_uuid(), $1, $2, 'webhook benchmark', $3, $4, now(), now())`,
    [ORGANIZATION_ID, OWNER_ID, key.prefix, key.keyHash],
  );
  // The channel as a member connects it: through the API.
  const connected = await graphql(origin, key.secret, {
    query: `mutation Connect($input: ConnectWhatsAppChannelInput!) {
      connectWhatsAppChannel(input: $input) { channel { id } userErrors { code message } } }`,
    variables: {
      input: {
        name: 'Benchmark number',
        phoneNumberId: CHANNEL.phoneNumberId,
        businessAccountId: CHANNEL.businessAccountId,
        displayPhoneNumber: CHANNEL.displayPhoneNumber,
        appSecret: APP_SECRET,
        verifyToken: 'bench-webhook-verify-token',
      },
    },
  });
  const payload = (connected as { data?: { connectWhatsAppChannel?: { channel?: { id: string } } } }).data
    ?.connectWhatsAppChannel;
  if (!payload?.channel) throw new Error(`connectWhatsAppChannel failed: ${JSON.stringify(connected).slice(0, 300)}`);
  const channelId = (
    await db.query<{ id: string }>(`SELECT id::text FROM "WhatsAppChannel" WHERE "phoneNumberId" = $1`, [
      CHANNEL.phoneNumberId,
    ])
  ).rows[0]!.id;
  // Contacts we have written to: their conversations on the channel, our messages SENT.
  await db.query(
    `INSERT INTO "Contact" (id, "organizationId", name, phone, "createdAt", "updatedAt")
     SELECT gen_random_uuid(), $1, 'Known contact ' || i, '+1444' || lpad(i::text, 7, '0'), now(), now()
     FROM generate_series(1, $2::int) AS i`,
    [ORGANIZATION_ID, KNOWN_CONTACTS],
  );
  await db.query(
    `INSERT INTO "Conversation" (id, "organizationId", "contactId", "channelId", status, "initiatedBy", "lastMessageAt", "createdAt", "updatedAt")
     SELECT gen_random_uuid(), $1, c.id, $2, 'ACTIVE', 'CONTACT', now(), now(), now()
     FROM "Contact" c WHERE c."organizationId" = $1`,
    [ORGANIZATION_ID, channelId],
  );
  const { rows } = await db.query<{ wamid: string; phone: string }>(
    `INSERT INTO "Message" (id, "organizationId", "conversationId", direction, status, "messageType", "messageData",
                            "whatsAppMessageId", "createdAt", "updatedAt")
     SELECT gen_random_uuid(), $1, v.id, 'OUTBOUND', 'SENT', 'TEXT', '{"text": "Hello from the benchmark"}',
            'wamid.bench-outbound-' || v.id || '-' || n, now(), now()
     FROM "Conversation" v, generate_series(1, $2::int) AS n WHERE v."organizationId" = $1
     RETURNING "whatsAppMessageId" AS wamid,
               (SELECT c.phone FROM "Contact" c JOIN "Conversation" w ON w."contactId" = c.id WHERE w.id = "conversationId") AS phone`,
    [ORGANIZATION_ID, OUTBOUND_PER_CONTACT],
  );
  await db.query('VACUUM ANALYZE "Contact", "Conversation", "Message"');
  const knownPhones = [...new Set(rows.map((row) => row.phone.slice(1)))];
  return {
    apiKey: key.secret,
    knownPhones,
    outbound: rows.map((row) => ({ wamid: row.wamid, recipient: row.phone.slice(1), sent: 0 })),
  };
}

async function graphql(origin: string, apiKey: string, body: { query: string; variables?: unknown }): Promise<unknown> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  return response.json();
}

// --- the traffic ---------------------------------------------------------------------------------

interface Post {
  delivery: SignedDelivery;
  events: number;
  /** The sampled message this POST carries, if any. */
  sample?: Sample;
}

interface Sample {
  wamid: string;
  /** The contact's phone, digits: what /graphql searches for. */
  phone: string;
  ackedAt?: number;
  seenAt?: number;
  step: number;
}

/** Deterministic pseudo-random numbers (mulberry32), so that every run sends the same mix. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Builds the POSTs and remembers what the database must hold at the end. */
class Traffic {
  readonly expectedMessages = new Set<string>();
  readonly replies = new Set<string>();
  readonly statusesSent = new Map<string, number>();
  private readonly rand = random(12);
  private readonly sentMessages: Record<string, unknown>[] = [];
  private readonly recentPosts: Post[] = [];
  private newContacts = 0;
  private samplesDue = 0;
  readonly kinds: Record<EventKind | 'replay', number> = {
    newContactText: 0,
    knownContactText: 0,
    media: 0,
    reply: 0,
    reaction: 0,
    status: 0,
    duplicateMessage: 0,
    replay: 0,
  };

  constructor(
    private readonly knownPhones: string[],
    private readonly outbound: Outbound[],
  ) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!;
  }

  private kind(): EventKind {
    let roll = this.rand() * 100;
    for (const [kind, share] of Object.entries(EVENT_MIX) as [EventKind, number][]) {
      if (roll < share) return kind;
      roll -= share;
    }
    return 'newContactText';
  }

  private message(value: Record<string, unknown>): Record<string, unknown> {
    const id = (value.messages as { id: string }[])[0]!.id;
    this.expectedMessages.add(id);
    this.sentMessages.push(value);
    if (this.sentMessages.length > 2_000) this.sentMessages.splice(0, 1_000);
    return value;
  }

  /** One event, as the value of a change; a new contact's first message may be the sample. */
  private event(step: number, wantSample: boolean): { value: Record<string, unknown>; sample?: Sample } {
    let kind = this.kind();
    if (kind === 'status' && !this.outbound.some((o) => o.sent < 2)) kind = 'knownContactText';
    if (kind === 'duplicateMessage' && this.sentMessages.length === 0) kind = 'newContactText';
    if (wantSample) kind = 'newContactText';
    this.kinds[kind] += 1;
    const name = this.pick(FIRST_NAMES);
    switch (kind) {
      case 'newContactText': {
        this.newContacts += 1;
        const phone = `1555${String(this.newContacts).padStart(7, '0')}`;
        const value = this.message(textMessageValue({ from: phone, name, body: `Hi, I am ${name}` }));
        // A sample stays its contact's only message; other new contacts may write again.
        if (wantSample) return { value, sample: { wamid: (value.messages as { id: string }[])[0]!.id, phone, step } };
        this.knownPhones.push(phone);
        return { value };
      }
      case 'knownContactText':
        return {
          value: this.message(
            textMessageValue({ from: this.pick(this.knownPhones), name, body: 'Is my order on its way?' }),
          ),
        };
      case 'media': {
        const type = this.pick(['image', 'audio', 'document'] as const);
        const media =
          type === 'image'
            ? { mimeType: 'image/jpeg', caption: 'the receipt' }
            : type === 'audio'
              ? { mimeType: 'audio/ogg; codecs=opus' }
              : { mimeType: 'application/pdf', filename: 'invoice.pdf' };
        return { value: this.message(mediaMessageValue({ from: this.pick(this.knownPhones), name }, type, media)) };
      }
      case 'reply': {
        const quoted = this.pick(this.outbound);
        const value = this.message(
          textMessageValue({ from: quoted.recipient, name, body: 'Yes, please', replyTo: quoted.wamid }),
        );
        this.replies.add((value.messages as { id: string }[])[0]!.id);
        return { value };
      }
      case 'reaction': {
        const liked = this.pick(this.outbound);
        return {
          value: this.message(reactionValue({ from: liked.recipient, name }, { messageId: liked.wamid, emoji: '👍' })),
        };
      }
      case 'status': {
        let target = this.pick(this.outbound);
        while (target.sent >= 2) target = this.pick(this.outbound);
        target.sent += 1;
        this.statusesSent.set(target.wamid, target.sent);
        return {
          value: statusValue({
            id: target.wamid,
            status: target.sent === 1 ? 'delivered' : 'read',
            recipient: target.recipient,
          }),
        };
      }
      case 'duplicateMessage':
        return { value: this.pick(this.sentMessages) };
    }
  }

  /** The next POST of a step; `samplesPerEvent` spreads the samples over the events. */
  next(step: number, samplesPerEvent: number): Post {
    if (this.recentPosts.length > 0 && this.rand() < REPLAYED_POSTS) {
      const replayed = this.pick(this.recentPosts);
      this.kinds.replay += replayed.events;
      return { delivery: replayed.delivery, events: replayed.events };
    }
    let roll = this.rand() * 100;
    let events = 1;
    for (const [index, weight] of EVENTS_PER_POST_WEIGHTS.entries()) {
      if (roll < weight) {
        events = index + 1;
        break;
      }
      roll -= weight;
    }
    const values: Record<string, unknown>[] = [];
    let sample: Sample | undefined;
    for (let i = 0; i < events; i += 1) {
      this.samplesDue += samplesPerEvent;
      const wantSample = sample === undefined && this.samplesDue >= 1;
      const made = this.event(step, wantSample);
      if (made.sample) {
        sample = made.sample;
        this.samplesDue -= 1;
      }
      values.push(made.value);
    }
    const post: Post = { delivery: signed(deliveryFor(CHANNEL, ...values), APP_SECRET), events, sample };
    this.recentPosts.push({ delivery: post.delivery, events });
    if (this.recentPosts.length > 200) this.recentPosts.shift();
    return post;
  }
}

// --- looking samples up through /graphql ----------------------------------------------------------

function samplePoller(origin: string, apiKey: string) {
  const client = httpClient(origin, { maxSockets: 1, timeoutMs: 10_000 });
  const outstanding: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const now = Date.now();
      for (let i = outstanding.length - 1; i >= 0; i -= 1) {
        if (now - outstanding[i]!.ackedAt! > SAMPLE_TIMEOUT_MS) outstanding.splice(i, 1);
      }
      const batch = outstanding.slice(0, POLL_BATCH);
      if (batch.length > 0) {
        const fields = batch
          .map(
            (sample, index) =>
              `s${index}: contacts(first: 1, filter: { search: "${sample.phone}" }) { nodes { conversations(first: 1) { nodes { messages(first: 5) { nodes { whatsAppMessageId } } } } } }`,
          )
          .join('\n');
        const answer = await client.post('/graphql', JSON.stringify({ query: `{ ${fields} }` }), {
          authorization: `Bearer ${apiKey}`,
        });
        const seenAt = Date.now();
        const data =
          answer.status === 200 ? (JSON.parse(answer.text) as { data?: Record<string, unknown> }).data : null;
        if (!data) log(`webhook-ingestion: a sample lookup answered ${answer.status}: ${answer.text.slice(0, 200)}`);
        batch.forEach((sample, index) => {
          if (JSON.stringify(data?.[`s${index}`] ?? null).includes(sample.wamid)) {
            sample.seenAt = seenAt;
            outstanding.splice(outstanding.indexOf(sample), 1);
          }
        });
      }
      await sleep(Math.max(0, POLL_INTERVAL_MS - (performance.now() - started)));
    }
  })();
  return {
    add: (sample: Sample) => outstanding.push(sample),
    outstanding: () => outstanding.length,
    async stop() {
      running = false;
      await loop;
      client.close();
    },
  };
}

// --- the run ---------------------------------------------------------------------------------------

async function queueLeft(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ received: number; jobs: number }>(
    `SELECT (SELECT count(*)::int FROM "WebhookDelivery" WHERE status = 'RECEIVED') AS received,
            (SELECT count(*)::int FROM graphile_worker._private_jobs WHERE attempts < max_attempts) AS jobs`,
  );
  return rows[0]!.received + rows[0]!.jobs;
}

async function drained(db: pg.Client, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await queueLeft(db)) === 0) return true;
    await sleep(250);
  }
  return false;
}

async function runStep(
  index: number,
  targetPerSecond: number,
  seconds: number,
  context: {
    traffic: Traffic;
    webhook: ReturnType<typeof httpClient>;
    poller: ReturnType<typeof samplePoller> | undefined;
    db: pg.Client;
    pid: number;
  },
): Promise<WebhookStep> {
  const { traffic, webhook, poller, db, pid } = context;
  const samplesPerEvent = SAMPLES_PER_SECOND / targetPerSecond;
  const loadAtStart = os.loadavg()[0]!;
  const rss = sampleRss(() => pid, 250);
  const stepStart = performance.now();
  const dbStart = (await db.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now;
  const answers: Promise<void>[] = [];
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const samples: Sample[] = [];
  let posts = 0;
  let events = 0;
  let ackedEvents = 0;
  let lastAnswer = stepStart;
  let scheduled = stepStart;
  const end = stepStart + seconds * 1000;
  while (scheduled < end) {
    const now = performance.now();
    if (scheduled > now) {
      await sleep(Math.min(scheduled - now, 20));
      continue;
    }
    // Every POST that is due goes out now; each is timed from when it was due.
    while (scheduled <= performance.now() && scheduled < end) {
      const post = traffic.next(index, samplesPerEvent);
      const due = scheduled;
      posts += 1;
      events += post.events;
      if (post.sample) samples.push(post.sample);
      answers.push(
        webhook.post('/webhooks/whatsapp', post.delivery.body, post.delivery.headers).then((answer: Answer) => {
          const at = performance.now();
          lastAnswer = Math.max(lastAnswer, at);
          latencies.push(at - due);
          if (answer.status === 200) {
            ackedEvents += post.events;
            if (post.sample) {
              post.sample.ackedAt = Date.now();
              poller?.add(post.sample);
            }
          } else {
            failures[String(answer.status)] = (failures[String(answer.status)] ?? 0) + 1;
          }
        }),
      );
      scheduled += (post.events / targetPerSecond) * 1000;
    }
  }
  await Promise.all(answers);
  const sentEnd = performance.now();
  const emptied = poller ? await drained(db, DRAIN_TIMEOUT_MS) : false;
  const drainSeconds = emptied ? (performance.now() - sentEnd) / 1000 : Number.NaN;
  // The last samples' lookups: the queue is empty, so they are readable by now or never.
  const lookupDeadline = Date.now() + 5_000;
  while (
    poller &&
    samples.some((s) => s.ackedAt !== undefined && s.seenAt === undefined) &&
    Date.now() < lookupDeadline
  ) {
    await sleep(100);
  }
  const { samples: rssSamples } = rss.stop();
  const lags = samples.filter((s) => s.seenAt !== undefined).map((s) => s.seenAt! - s.ackedAt!);
  const deliveries = await db.query<{ ms: number }>(
    `SELECT extract(epoch FROM "processedAt" - "receivedAt") * 1000 AS ms FROM "WebhookDelivery"
     WHERE "receivedAt" >= $1 AND "processedAt" IS NOT NULL`,
    [dbStart],
  );
  const deliveryLags = deliveries.rows.map((row) => Number(row.ms));
  const processedSeconds = ((emptied ? performance.now() : sentEnd) - stepStart) / 1000;
  return {
    targetPerSecond,
    seconds,
    posts,
    events,
    ackedEvents,
    ackedPerSecond: ackedEvents / (Math.max(lastAnswer - stepStart, seconds * 1000) / 1000),
    ackP50Ms: percentile(latencies, 50),
    ackP99Ms: percentile(latencies, 99),
    ackMaxMs: Math.max(...latencies),
    failures,
    lag: {
      samples: samples.length,
      seen: lags.length,
      p50Ms: percentile(lags, 50),
      p99Ms: percentile(lags, 99),
      maxMs: lags.length ? Math.max(...lags) : Number.NaN,
    },
    deliveryLag: {
      deliveries: deliveryLags.length,
      p50Ms: percentile(deliveryLags, 50),
      p99Ms: percentile(deliveryLags, 99),
      maxMs: deliveryLags.length ? Math.max(...deliveryLags) : Number.NaN,
    },
    drainSeconds,
    processedPerSecond: emptied ? events / processedSeconds : Number.NaN,
    peakRssMb: Math.max(...rssSamples.map(([, kb]) => kb)) / 1024,
    loadAverage: [loadAtStart, os.loadavg()[0]!],
  };
}

async function check(db: pg.Client, traffic: Traffic): Promise<WebhookResult['check']> {
  const expected = [...traffic.expectedMessages];
  const found = await db.query<{ wamid: string; rows: number; linked: boolean }>(
    `SELECT "whatsAppMessageId" AS wamid, count(*)::int AS rows, bool_and("replyToId" IS NOT NULL) AS linked
     FROM "Message" WHERE "organizationId" = $1 AND direction = 'INBOUND' GROUP BY 1`,
    [ORGANIZATION_ID],
  );
  const byWamid = new Map(found.rows.map((row) => [row.wamid, row]));
  const missing = expected.filter((id) => !byWamid.has(id)).length;
  const duplicated = found.rows.filter((row) => row.rows > 1).length;
  const unexpected = found.rows.filter((row) => !traffic.expectedMessages.has(row.wamid)).length;
  const linked = [...traffic.replies].filter((id) => byWamid.get(id)?.linked).length;
  const statuses = await db.query<{ wamid: string; status: string }>(
    `SELECT "whatsAppMessageId" AS wamid, status::text FROM "Message"
     WHERE "organizationId" = $1 AND "whatsAppMessageId" = ANY($2::text[])`,
    [ORGANIZATION_ID, [...traffic.statusesSent.keys()]],
  );
  const want = (sent: number) => (sent >= 2 ? 'READ' : 'DELIVERED');
  const applied = statuses.rows.filter((row) => row.status === want(traffic.statusesSent.get(row.wamid)!)).length;
  const deliveries = await db.query<{ status: string; n: number; problems: number }>(
    `SELECT status::text, count(*)::int AS n, count(*) FILTER (WHERE problems::text <> '[]')::int AS problems
     FROM "WebhookDelivery" GROUP BY 1 ORDER BY 1`,
  );
  const jobs = await db.query<{ left: number; failed: number }>(
    `SELECT count(*)::int AS left, count(*) FILTER (WHERE attempts >= max_attempts)::int AS failed
     FROM graphile_worker._private_jobs`,
  );
  const unapplied = traffic.statusesSent.size - applied;
  return {
    newMessages: expected.length,
    missing,
    duplicated,
    unexpected,
    repliesLinked: { expected: traffic.replies.size, linked },
    statuses: { messages: traffic.statusesSent.size, applied },
    deliveries: Object.fromEntries(deliveries.rows.map((row) => [row.status, row.n])),
    deliveriesWithProblems: deliveries.rows.reduce((sum, row) => sum + row.problems, 0),
    jobsLeft: jobs.rows[0]!.left,
    failedJobs: jobs.rows[0]!.failed,
    lost: missing + duplicated + unapplied,
  };
}

/** The profile the gateway wrote when it stopped, renamed, and its top functions printed. */
function reportProfile(profileDir: string, before: Set<string>): void {
  const written = fs.readdirSync(profileDir).filter((file) => file.endsWith('.cpuprofile') && !before.has(file));
  if (!written.length) {
    log('webhook-ingestion: the gateway wrote no CPU profile');
    return;
  }
  const named = path.join(profileDir, `wagraph-webhooks-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  fs.renameSync(path.join(profileDir, written[0]!), named);
  process.stdout.write(`\n${formatTop(JSON.parse(fs.readFileSync(named, 'utf8')))}\n\n`);
  log(`webhook-ingestion: profile in ${path.relative(process.cwd(), named)}`);
}

export async function runWebhookIngestion(benchUrl: string, options: WebhookOptions): Promise<WebhookResult> {
  const url = webhookDatabaseUrl(benchUrl);
  // Created afresh each run (a rerun starts from the same empty state), dropped at the end.
  await recreateDatabase(url);
  const profileDir = path.join(OUT_DIR, 'profiles');
  fs.mkdirSync(profileDir, { recursive: true });
  const profilesBefore = new Set(fs.readdirSync(profileDir));
  const server = await startWagraphOn(url, 'webhooks', {
    cpuProfileDir: options.cpuProfile ? profileDir : undefined,
    environment: options.workers === 'off' ? { WORKERS: 'off' } : {},
  });
  const db = new pg.Client({ connectionString: url });
  const webhook = httpClient(server.origin, { maxSockets: 64, timeoutMs: 30_000 });
  let poller: ReturnType<typeof samplePoller> | undefined;
  try {
    await db.connect();
    const { apiKey, knownPhones, outbound } = await prepareOrganization(db, server.origin);
    log(
      `webhook-ingestion: ${knownPhones.length} known contacts, ${outbound.length} outbound messages; rates ${options.rates.join(', ')} events/s, ${options.stepSeconds} s each`,
    );
    // New contacts join the list as they write; the report counts those that existed before.
    const knownContacts = knownPhones.length;
    const traffic = new Traffic(knownPhones, outbound);
    if (options.workers === 'in-process') poller = samplePoller(server.origin, apiKey);
    // A warm-up: a few POSTs, processed, so that the first step does not pay for start-up.
    for (let i = 0; i < 20; i += 1) {
      const post = traffic.next(-1, 0);
      await webhook.post('/webhooks/whatsapp', post.delivery.body, post.delivery.headers);
    }
    if (poller) await drained(db, DRAIN_TIMEOUT_MS);
    const steps: WebhookStep[] = [];
    for (const [index, rate] of options.rates.entries()) {
      const step = await runStep(index, rate, options.stepSeconds, { traffic, webhook, poller, db, pid: server.pid });
      steps.push(step);
      log(
        `webhook-ingestion ${rate}/s: acked ${step.ackedPerSecond.toFixed(0)} events/s, ack p50 ${step.ackP50Ms.toFixed(0)} ms p99 ${step.ackP99Ms.toFixed(0)} ms; ` +
          `lag p50 ${step.lag.p50Ms.toFixed(0)} ms p99 ${step.lag.p99Ms.toFixed(0)} ms (${step.lag.seen}/${step.lag.samples} samples); ` +
          `drained ${step.drainSeconds.toFixed(1)} s after; RSS ${step.peakRssMb.toFixed(0)} MB`,
      );
    }
    if (poller) await drained(db, DRAIN_TIMEOUT_MS);
    const peakKb = readMemory(server.pid)?.peakKb ?? Number.NaN;
    const checked = poller ? await check(db, traffic) : undefined;
    log(`webhook-ingestion: check ${JSON.stringify(checked)}; mix sent ${JSON.stringify(traffic.kinds)}`);
    return {
      database: databaseName(url),
      workers: options.workers,
      workerConcurrency: 'default (4)',
      mix: EVENT_MIX,
      eventsPerPost: `1 to 4 (${EVENTS_PER_POST_WEIGHTS.map((w, i) => `${i + 1}: ${w}%`).join(', ')})`,
      replayedPosts: REPLAYED_POSTS,
      knownContacts,
      outboundMessages: outbound.length,
      samplesPerSecond: SAMPLES_PER_SECOND,
      pollIntervalMs: POLL_INTERVAL_MS,
      steps,
      peakRssMb: peakKb / 1024,
      check: checked,
    };
  } finally {
    await poller?.stop();
    webhook.close();
    await db.end().catch(() => {});
    // Gracefully: the profile is written when the process exits.
    await server.stop(60_000);
    if (options.cpuProfile) reportProfile(profileDir, profilesBefore);
    await dropDatabase(url);
  }
}
