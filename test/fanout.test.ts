// Fan-out across instances (REDIS_URL): a change committed on one instance, by a mutation or
// by a background job processing a webhook delivery, reaches subscribers on the others through
// Redis, well before the feed's 1 s poll would have found it; with Redis stopped for a few
// seconds, a subscriber that stayed connected gets every event through the poll, and one that
// resumes with `after` gets every event it missed, in order, without a duplicate.
//
// On PostgreSQL (.ci/run's second pass): three gateway processes (src/server.ts) on one fresh
// database, one Redis of the test's own, and an `npm run worker` process that processes the
// webhook deliveries (the gateways run no jobs). On the embedded database, which one process opens,
// the same scenario runs in this process: three yogas on the test database, each with its own
// EventHub on that Redis (each hub follows the feed by itself, as an instance does, so only
// Redis carries a wake-up from one to another).
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/client.js';
import { EventHub, POLL_INTERVAL_MS } from '../src/events/hub.js';
import { type JobRunner, startJobRunner } from '../src/jobs/runner.js';
import { processWebhookDelivery } from '../src/whatsapp/process.js';
import {
  createTestClient,
  globalId,
  silentLogger,
  TEST_SECRETS_KEY,
  type TestClient,
  testSecretBox,
} from './helpers/client.js';
import { testDatabase, testDatabaseTarget } from './helpers/database.js';
import {
  createContact,
  createConversation,
  createOrganization,
  createWhatsAppChannel,
  type TestOrganization,
} from './helpers/factories.js';
import { discardJobs } from './helpers/jobs.js';
import { runScript, type ServerProcess, startServer } from './helpers/process.js';
import { recordStatements } from './helpers/record-statements.js';
import { type OwnRedis, startOwnRedis } from './helpers/redis-server.js';
import { type SseSubscription, subscribe } from './helpers/sse.js';
import { deliveryFor, postDelivery, signed, textMessageValue } from './helpers/whatsapp.js';

const target = testDatabaseTarget();
const TIMEOUT = { timeout: 240_000 };
/** Well under the poll: a delivery this fast was woken through Redis. */
const WOKEN_WITHIN_MS = POLL_INTERVAL_MS / 2;

type Request = Pick<TestClient, 'request'>;

const EVENTS = `subscription($after: String) {
  events(after: $after) { cursor kind ... on MessageEvent { message { text } } }
}`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { message { id } userErrors { message } } }`;

/** A subscriber's MESSAGE_CREATED events as they arrive: text, cursor, when. */
class Watcher {
  readonly received: { text: string; cursor: string; at: number }[] = [];
  readonly cursors: string[] = [];
  private closed = false;
  private readonly done: Promise<void>;

  constructor(readonly subscription: SseSubscription) {
    this.done = (async () => {
      for (;;) {
        const payload = await subscription.next(600_000).catch(() => null);
        if (!payload || this.closed) return;
        expect(payload.errors).toBeUndefined();
        const event = payload.data.events;
        this.cursors.push(event.cursor);
        if (event.kind === 'MESSAGE_CREATED')
          this.received.push({ text: event.message.text, cursor: event.cursor, at: Date.now() });
      }
    })();
  }

  static async start(instance: Request, apiKey: string, after?: string): Promise<Watcher> {
    const subscription = await subscribe(instance, EVENTS, after ? { after } : {}, null, {
      authorization: `Bearer ${apiKey}`,
    });
    expect(subscription.status).toBe(200);
    return new Watcher(subscription);
  }

  /** When `text` arrived; waits for it up to `timeoutMs`. */
  async arrival(text: string, timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((event) => event.text === text);
      if (found) return found.at;
      if (Date.now() > deadline) throw new Error(`"${text}" did not arrive within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscription.close();
    // Over yoga.fetch an aborted stream is not always ended on the reading side: not waited for long.
    await Promise.race([this.done, sleep(1_000)]);
  }
}

interface Scenario {
  /** Three instances: the first writes, the other two are watched. */
  instances: Request[];
  db: Database;
  redis: OwnRedis;
}

async function chat(db: Database) {
  const org = await createOrganization(db);
  const contact = await createContact(db, org.id);
  const conversation = await createConversation(db, org.id, { contactId: contact.id });
  return { org, conversationId: globalId('Conversation', conversation.id) };
}

async function send(instance: Request, org: TestOrganization, conversationId: string, text: string) {
  const response = await instance.request({
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
    body: JSON.stringify({ query: SEND, variables: { input: { conversationId, text } } }),
  });
  const body = (await response.json()) as any;
  expect(body.errors).toBeUndefined();
  expect(body.data.sendMessage.userErrors).toEqual([]);
}

/** Sends `texts` one after the other from the writer; each one's latency to each watcher. */
async function sendAndTime(
  scenario: Scenario,
  chatOf: Awaited<ReturnType<typeof chat>>,
  watchers: Watcher[],
  texts: string[],
) {
  const latencies: number[] = [];
  for (const text of texts) {
    const sent = Date.now();
    await send(scenario.instances[0]!, chatOf.org, chatOf.conversationId, text);
    for (const watcher of watchers) latencies.push((await watcher.arrival(text)) - sent);
  }
  return latencies;
}

function fanOutTests(scenario: () => Scenario) {
  it('a mutation on one instance reaches subscribers on the two others through Redis', TIMEOUT, async () => {
    const { instances, db } = scenario();
    const chatOf = await chat(db);
    const watchers = await Promise.all(
      instances.slice(1).map((instance) => Watcher.start(instance, chatOf.org.owner.apiKey)),
    );
    try {
      // Ten in a row: by the poll alone each would take 0–1,000 ms; all ten under half of that is Redis.
      // The first one untimed: an instance subscribes to the organization's Redis channel when its first subscriber comes.
      const latencies = (
        await sendAndTime(
          scenario(),
          chatOf,
          watchers,
          Array.from({ length: 10 }, (_, n) => `live ${n}`),
        )
      ).slice(watchers.length);
      console.log(`mutation → subscriber on another instance: max ${Math.max(...latencies)} ms`);
      expect(Math.max(...latencies)).toBeLessThan(WOKEN_WITHIN_MS);
      for (const watcher of watchers)
        expect(watcher.received.map((event) => event.text)).toEqual(Array.from({ length: 10 }, (_, n) => `live ${n}`));
    } finally {
      await Promise.all(watchers.map((watcher) => watcher.close()));
    }
  });

  it(
    'a webhook message processed by a background job reaches subscribers on the other instances through Redis',
    TIMEOUT,
    async () => {
      const { instances, db } = scenario();
      const org = await createOrganization(db);
      const channel = await createWhatsAppChannel(db, testSecretBox, org.id);
      const watchers = await Promise.all(
        instances.slice(1).map((instance) => Watcher.start(instance, org.owner.apiKey)),
      );
      try {
        const latencies: number[] = [];
        for (let n = 0; n < 5; n++) {
          const body = `inbound ${n}`;
          const delivery = signed(
            deliveryFor(channel, textMessageValue({ from: '15550001234', body })),
            channel.secrets.appSecret,
          );
          const acked = Date.now();
          const response = await postDelivery(
            (url, init) => instances[0]!.request({ ...init, path: new URL(url).pathname }),
            delivery,
          );
          expect(response.status).toBe(200);
          // The first one untimed, as above.
          for (const watcher of watchers) {
            const latency = (await watcher.arrival(body)) - acked;
            if (n > 0) latencies.push(latency);
          }
        }
        console.log(`webhook ack → subscriber on another instance: max ${Math.max(...latencies)} ms`);
        // From the webhook's answer: the job's pick-up (NOTIFY), its transaction, the wake-up;
        // a quarter of the poll more than a mutation’s (by the poll alone, five deliveries
        // under it would take luck: each waits 0–1,000 ms after its commit).
        expect(Math.max(...latencies)).toBeLessThan(WOKEN_WITHIN_MS + POLL_INTERVAL_MS / 4);
      } finally {
        await Promise.all(watchers.map((watcher) => watcher.close()));
      }
    },
  );

  it(
    'with Redis stopped for a few seconds, no event is lost: the poll serves a connected subscriber, `after` a resuming one',
    TIMEOUT,
    async () => {
      const { instances, db, redis } = scenario();
      const chatOf = await chat(db);
      const stayed = await Watcher.start(instances[1]!, chatOf.org.owner.apiKey);
      const leaving = await Watcher.start(instances[2]!, chatOf.org.owner.apiKey);
      try {
        await sendAndTime(scenario(), chatOf, [stayed, leaving], ['before']);
        const resumeAfter = leaving.cursors.at(-1)!;
        await leaving.close();
        await redis.stop();
        const down = Date.now();
        const during = Array.from({ length: 5 }, (_, n) => `during ${n}`);
        for (const text of during) await send(instances[0]!, chatOf.org, chatOf.conversationId, text);
        // The connected subscriber: through its instance's poll, within a second or two. for (const text of during) await stayed.arrival(text, 5_000);
        await sleep(Math.max(0, 3_000 - (Date.now() - down)));
        await redis.start();

        // The one that left resumes on another instance, with its last cursor.
        const resumed = await Watcher.start(instances[1]!, chatOf.org.owner.apiKey, resumeAfter);
        try {
          for (const text of during) await resumed.arrival(text, 5_000);
          // Redis is back (ioredis reconnects within a second and subscribes again): fast again.
          await sleep(2_000);
          const after = Array.from({ length: 5 }, (_, n) => `after ${n}`);
          const latencies = await sendAndTime(scenario(), chatOf, [stayed, resumed], after);
          expect(Math.max(...latencies)).toBeLessThan(WOKEN_WITHIN_MS);

          const expected = ['before', ...during, ...after];
          expect(stayed.received.map((event) => event.text)).toEqual(expected);
          expect(resumed.received.map((event) => event.text)).toEqual([...during, ...after]);
          // Every event (status changes, conversation updates too) exactly once, in the same order.
          expect(new Set(stayed.cursors).size).toBe(stayed.cursors.length);
          const from = stayed.cursors.indexOf(resumeAfter);
          expect(from).toBeGreaterThanOrEqual(0);
          expect(resumed.cursors).toEqual(stayed.cursors.slice(from + 1, from + 1 + resumed.cursors.length));
          expect(resumed.cursors.at(-1)).toBe(stayed.cursors.at(-1));
        } finally {
          await resumed.close();
        }
      } finally {
        await stayed.close();
      }
    },
  );
}

if (target.kind === 'postgres') {
  describe('three gateway processes, one PostgreSQL, one Redis', () => {
    const name = `wagraph_fanout_${process.pid}`;
    let admin: pg.Client;
    let redis: OwnRedis;
    let db: Database;
    let gateways: ServerProcess[] = [];
    let worker: ReturnType<typeof runScript> | undefined;

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: target.url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(target.url);
      url.pathname = `/${name}`;
      redis = await startOwnRedis();
      // A database of this file's own: the gateways' job runners take only its deliveries.
      const env = {
        DATABASE_URL: url.toString(),
        REDIS_URL: redis.url,
        SEED_DEMO_DATA: 'false',
        SECRETS_KEY: TEST_SECRETS_KEY.toString('base64'),
        // Webhook deliveries are processed by an `npm run worker` process, which serves no
        // subscriber: only Redis can wake the gateways' subscribers at once.
        WORKERS: 'off',
      };
      // The first migrates; the two others start on the migrated database.
      gateways = [await startServer(env)];
      gateways.push(...(await Promise.all([startServer(env), startServer(env)])));
      worker = runScript('src/worker.ts', env);
      const deadline = Date.now() + 60_000;
      while (!/"msg":"job runner started"/.test(worker.output())) {
        if (worker.child.exitCode !== null || Date.now() > deadline)
          throw new Error(`the worker did not start:\n${worker.output()}`);
        await sleep(50);
      }
      db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 4 });
    }, 300_000);

    afterAll(async () => {
      if (worker && worker.child.exitCode === null) worker.child.kill('SIGTERM');
      await Promise.all([...gateways.map((gateway) => gateway.stop()), worker?.exited]);
      await db?.close();
      await redis?.stop();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    });

    fanOutTests(() => ({
      instances: gateways.map((gateway) => ({
        request: ({ path = '/graphql', ...init }) => fetch(`${gateway.url}${path}`, init),
      })),
      db,
      redis,
    }));
  });
} else {
  describe('three instances in one process on the embedded database, one Redis', () => {
    let redis: OwnRedis;
    let db: Database;
    let hubs: EventHub[] = [];
    let clients: TestClient[] = [];
    let runner: JobRunner;

    beforeAll(async () => {
      db = await testDatabase();
      redis = await startOwnRedis();
      hubs = [0, 1, 2].map(() => new EventHub({ db, log: silentLogger, redisUrl: redis.url }));
      clients = await Promise.all(hubs.map((eventHub) => createTestClient({ eventHub }, db)));
      // Deliveries other files stored but did not process are not this file's.
      await discardJobs(db, processWebhookDelivery.name);
      // The first instance runs the jobs and announces through its hub, as src/server.ts wires it.
      runner = await startJobRunner({
        db,
        log: silentLogger,
        tasks: [processWebhookDelivery],
        concurrency: 2,
        feed: hubs[0],
      });
    });

    afterAll(async () => {
      await runner?.stop();
      await Promise.all(hubs.map((hub) => hub.close()));
      await redis?.stop();
    });

    fanOutTests(() => ({ instances: clients, db, redis }));
  });
}

describe('fan-out within an instance', () => {
  let hub: EventHub;
  let client: TestClient;

  beforeAll(async () => {
    const db = await testDatabase();
    hub = new EventHub({ db, log: silentLogger });
    client = await createTestClient({ eventHub: hub }, db);
  });

  afterAll(async () => {
    await hub.close();
  });

  it('subscribers that select the same share one read of each event’s row', TIMEOUT, async () => {
    const chatOf = await chat(client.db);
    // The subscribers' statements only (they run in the context they were started in), not the mutation's.
    const { result: watchers, statements } = await recordStatements(() =>
      Promise.all(Array.from({ length: 10 }, () => Watcher.start(client, chatOf.org.owner.apiKey))),
    );
    try {
      await sendAndTime({ instances: [client], db: client.db, redis: undefined as never }, chatOf, watchers, [
        'shared',
      ]);
      for (const watcher of watchers) expect(watcher.received.map((event) => event.text)).toEqual(['shared']);
    } finally {
      await Promise.all(watchers.map((watcher) => watcher.close()));
    }
    const messageReads = statements.filter((sql) => /^SELECT\b/i.test(sql) && /FROM "Message"/.test(sql));
    expect(messageReads).toHaveLength(1);
  });
});
