// The local WhatsApp simulator (src/whatsapp/simulator.ts, `npm run simulate`) against a real
// gateway over HTTP: on a database of its own with the demo organization, the demo channel
// kept in a DATA_DIR as a development start keeps it, and the gateway listening on a free port.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { DEMO_CHANNEL, DEMO_CHANNEL_FILE, keepDemoChannel } from '../src/db/development-key.js';
import { migrate } from '../src/db/migrate.js';
import { installJobSchema } from '../src/jobs/runner.js';
import { createLogger } from '../src/logger.js';
import { DEMO_OWNERS } from '../src/db/seed.js';
import {
  isLoopbackUrl,
  readDemoChannel,
  type SimulatedChannel,
  SimulatorError,
  simulate,
  simulatedDeliveries,
  startSimulatedCloudApi,
  playSimulatedStatuses,
  SIMULATED_FAILURE_MARK,
} from '../src/whatsapp/simulator.js';
import { startJobRunner } from '../src/jobs/runner.js';
import { deliverMessages } from '../src/whatsapp/outbound.js';
import { processWebhookDelivery } from '../src/whatsapp/process.js';
import { createTestClient, globalId, testSecretBox } from './helpers/client.js';
import { createContact, createConversation, createMember } from './helpers/factories.js';
import { freshDatabase } from './helpers/database.js';
import { runScript } from './helpers/process.js';

let db: Database;
let dataDir: string;
let server: http.Server;
let webhook: string;
let port: number;

beforeAll(async () => {
  db = await freshDatabase();
  await migrate(db);
  // Storing a delivery enqueues its processing job in the same transaction.
  await installJobSchema(db, createLogger('silent'));
  await db.prisma.organization.create({ data: { id: DEMO_OWNERS[0].organizationId, name: 'Demo' } });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-simulator-'));
  await keepDemoChannel(db, testSecretBox, dataDir);
  const client = await createTestClient({}, db);
  server = http.createServer(client.yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  webhook = `http://127.0.0.1:${port}/webhooks/whatsapp`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const demoRows = () =>
  db.prisma.webhookDelivery.findMany({
    where: { organizationId: DEMO_OWNERS[0].organizationId, channelId: DEMO_CHANNEL.id },
  });

const digestOf = (body: string) => createHash('sha256').update(body).digest('hex');

/** Every message type and status the stored bodies carry. */
function eventsIn(bodies: string[]) {
  const types = new Set<string>();
  const statuses: string[] = [];
  for (const body of bodies) {
    for (const entry of JSON.parse(body).entry) {
      for (const change of entry.changes) {
        for (const message of change.value.messages ?? []) types.add(message.type);
        for (const status of change.value.statuses ?? []) statuses.push(status.status);
      }
    }
  }
  return { types, statuses };
}

describe('the local WhatsApp simulator', () => {
  it('delivers its sequence for the demo channel: every delivery answered 200, stored for the demo organization, the duplicate once', async () => {
    const before = (await demoRows()).length;
    const channel = readDemoChannel(dataDir);
    expect(channel.phoneNumberId).toBe(DEMO_CHANNEL.phoneNumberId);
    const lines: string[] = [];
    const count = 18;
    const results = await simulate({ channel, url: webhook, count, intervalMs: 0, print: (line) => lines.push(line) });
    expect(results).toHaveLength(count);
    expect(results.map((result) => result.status)).toEqual(Array(count).fill(200));
    expect(lines).toHaveLength(count);
    expect(lines[0]).toMatch(/^\[ 1\/18\] Ana Souza: text .* → 200/);
    expect(lines.find((line) => line.includes('duplicate'))).toMatch(/→ 200/);

    const rows = (await demoRows()).slice(before);
    // One delivery is the first one again, byte for byte: stored once.
    expect(rows).toHaveLength(count - 1);
    expect(rows.every((row) => row.status === 'RECEIVED' || row.status === 'PROCESSED')).toBe(true);
    const sent = simulatedDeliveries(channel, count);
    expect(sent[5]?.delivery.body).toBe(sent[0]?.delivery.body);
    const { types, statuses } = eventsIn(rows.map((row) => row.body));
    expect([...types].sort()).toEqual(
      [
        'audio',
        'button',
        'contacts',
        'document',
        'image',
        'interactive',
        'location',
        'reaction',
        'sticker',
        'text',
        'video',
      ].sort(),
    );
    expect(statuses.sort()).toEqual(['delivered', 'failed', 'read']);
    // Nothing for anyone else.
    expect(
      await db.prisma.webhookDelivery.count({ where: { OR: [{ organizationId: null }, { channelId: null }] } }),
    ).toBe(0);
  });

  it('sends media whose files the simulated Cloud API holds: the gateway pointed at it serves them on /media', async () => {
    const channel = readDemoChannel(dataDir);
    expect(channel.accessToken).toMatch(/^demo-access-token-/);
    const cloudApi = await startSimulatedCloudApi(channel);
    try {
      const gateway = await createTestClient({ whatsappApiUrl: cloudApi.url }, db);
      const owner = await createMember(db, DEMO_OWNERS[0].organizationId, { accessLevel: 'OWNER' });
      const contact = await createContact(db, DEMO_OWNERS[0].organizationId);
      const conversation = await createConversation(db, DEMO_OWNERS[0].organizationId, {
        contactId: contact.id,
        channelId: DEMO_CHANNEL.id,
      });
      const messages = simulatedDeliveries(channel, 40).flatMap(({ delivery }) =>
        JSON.parse(delivery.body).entry.flatMap((entry: any) =>
          entry.changes.flatMap((change: any) => change.value.messages ?? []),
        ),
      );
      const media = messages.filter((message: any) =>
        ['image', 'audio', 'video', 'document', 'sticker'].includes(message.type),
      );
      expect(new Set(media.map((message: any) => message.type)).size).toBe(5);
      for (const message of media) {
        const row = await db.prisma.message.create({
          data: {
            organizationId: DEMO_OWNERS[0].organizationId,
            conversationId: conversation.id,
            direction: 'INBOUND',
            status: 'DELIVERED',
            messageType: message.type.toUpperCase(),
            messageData: message,
          },
        });
        const response = await gateway.request({
          path: `/media/${globalId('Message', row.id)}`,
          method: 'GET',
          headers: { authorization: `Bearer ${owner.apiKey}` },
        });
        expect(response.status, message.type).toBe(200);
        const object = message[message.type];
        expect(response.headers.get('content-type')).toBe(object.mime_type);
        const bytes = Buffer.from(await response.arrayBuffer());
        // Meta's sha256 of the message is the file's.
        expect(createHash('sha256').update(bytes).digest('base64')).toBe(object.sha256);
        if (message.type === 'image') expect(bytes.subarray(1, 4).toString()).toBe('PNG');
      }
    } finally {
      await cloudApi.close();
    }
  });

  it('answers the gateway’s sends on the demo channel and plays their statuses back: PENDING to READ, or FAILED', async () => {
    const channel = readDemoChannel(dataDir);
    const cloudApi = await startSimulatedCloudApi(channel);
    playSimulatedStatuses(cloudApi, channel, webhook);
    const runner = await startJobRunner({
      db,
      log: createLogger('silent'),
      tasks: [deliverMessages, processWebhookDelivery],
      concurrency: 2,
      cloudApi: { url: cloudApi.url, secrets: testSecretBox },
    });
    try {
      const gateway = await createTestClient({ whatsappApiUrl: cloudApi.url }, db);
      const owner = await createMember(db, DEMO_OWNERS[0].organizationId, { accessLevel: 'OWNER' });
      const contact = await createContact(db, DEMO_OWNERS[0].organizationId);
      // The contact wrote just now (createConversation's default): inside the 24-hour window.
      const conversation = await createConversation(db, DEMO_OWNERS[0].organizationId, {
        contactId: contact.id,
        channelId: DEMO_CHANNEL.id,
      });
      const send = async (text: string) => {
        const response = await gateway.gql(
          `mutation($input: SendMessageInput!) { sendMessage(input: $input) { message { id status } } }`,
          { input: { conversationId: globalId('Conversation', conversation.id), text } },
          { as: owner },
        );
        expect(response.data?.sendMessage.message.status).toBe('PENDING');
        return response.data?.sendMessage.message.id as string;
      };
      const ids = [await send('Hello from GraphiQL'), await send(`This one will not arrive ${SIMULATED_FAILURE_MARK}`)];
      const statusOf = async (id: string) =>
        (
          await gateway.gql(
            `query($id: ID!) { node(id: $id) { ... on Message { status error { code } } } }`,
            { id },
            { as: owner },
          )
        ).data?.node;
      const deadline = Date.now() + 20_000;
      let statuses = await Promise.all(ids.map(statusOf));
      while (statuses[0]?.status !== 'READ' || statuses[1]?.status !== 'FAILED') {
        if (Date.now() > deadline) throw new Error(`Not played back in time: ${JSON.stringify(statuses)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        statuses = await Promise.all(ids.map(statusOf));
      }
      expect(statuses).toEqual([
        { status: 'READ', error: null },
        { status: 'FAILED', error: { code: 131026 } },
      ]);
      expect(cloudApi.sent.map((sent) => sent.text)).toEqual([
        'Hello from GraphiQL',
        `This one will not arrive ${SIMULATED_FAILURE_MARK}`,
      ]);
    } finally {
      await runner.stop();
      await cloudApi.close();
    }
  });

  it('refuses a URL that is not this machine before sending anything, unless allowed', async () => {
    const channel: SimulatedChannel = readDemoChannel(dataDir);
    const called: string[] = [];
    const recording = (async (url: URL | RequestInfo) => {
      called.push(String(url));
      return new Response('', { status: 200 });
    }) as typeof fetch;
    for (const url of [
      'http://example.com/webhooks/whatsapp',
      'https://graph.facebook.com/v21.0/webhooks',
      'http://10.0.0.5:4000/webhooks/whatsapp',
      'http://127.0.0.1.example.com/webhooks/whatsapp',
      'http://[::2]:4000/webhooks/whatsapp',
    ]) {
      await expect(simulate({ channel, url, count: 1, intervalMs: 0, fetch: recording }), url).rejects.toThrow(
        /Refusing .* --allow-remote/,
      );
    }
    await expect(simulate({ channel, url: 'file:///etc/passwd', fetch: recording })).rejects.toThrow(SimulatorError);
    await expect(simulate({ channel, url: 'not a url', fetch: recording })).rejects.toThrow(/Not a URL/);
    await expect(simulate({ channel, url: webhook, count: 0, fetch: recording })).rejects.toThrow(/count/);
    expect(called).toEqual([]);

    const allowed = await simulate({
      channel,
      url: 'http://example.com/webhooks/whatsapp',
      allowRemote: true,
      count: 2,
      intervalMs: 0,
      fetch: recording,
    });
    expect(allowed.map((result) => result.status)).toEqual([200, 200]);
    expect(called).toEqual(['http://example.com/webhooks/whatsapp', 'http://example.com/webhooks/whatsapp']);

    for (const url of ['http://localhost:4000/', 'http://127.0.0.1/', 'http://127.8.9.1/', 'http://[::1]:4000/']) {
      expect(isLoopbackUrl(new URL(url)), url).toBe(true);
    }
  });

  it('stops at the first delivery nobody answers, saying so', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const lines: string[] = [];
    const results = await simulate({
      channel: readDemoChannel(dataDir),
      url: `http://127.0.0.1:${freePort}/webhooks/whatsapp`,
      count: 5,
      intervalMs: 0,
      print: (line) => lines.push(line),
    });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ status: null, error: 'ECONNREFUSED' });
    expect(lines[0]).toMatch(/no answer .*ECONNREFUSED.*is the gateway running\?/);
  });

  it('stops when told to (Ctrl-C), without waiting out the pause', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const results = await simulate({
      channel: readDemoChannel(dataDir),
      url: webhook,
      count: 10,
      intervalMs: 60_000,
      signal: controller.signal,
      print: () => controller.abort(),
    });
    expect(results.map((result) => result.status)).toEqual([200]);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('says how to get the demo channel when DATA_DIR does not hold it', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-simulator-empty-'));
    try {
      expect(() => readDemoChannel(empty)).toThrow(/Start the gateway once in development/);
      fs.writeFileSync(path.join(empty, DEMO_CHANNEL_FILE), '{"phoneNumberId": 1}');
      expect(() => readDemoChannel(empty)).toThrow(/does not hold a phoneNumberId and an appSecret/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('npm run simulate: reads DATA_DIR and PORT, prints a line per delivery, exits 0; refuses a remote URL with 2', async () => {
    const before = (await demoRows()).length;
    const run = runScript('scripts/simulate.ts', { DATA_DIR: dataDir, PORT: String(port) }, [
      '--count',
      '7',
      '--interval-ms',
      '0',
    ]);
    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).toMatch(/\[7\/7\] .* → 200/);
    expect(run.output()).toContain('7 deliveries sent to');
    expect(run.output()).toContain('7 answered 200');
    expect((await demoRows()).length - before).toBe(6);

    const remote = runScript('scripts/simulate.ts', { DATA_DIR: dataDir }, ['--url', 'http://example.com/']);
    expect(await remote.exited).toBe(2);
    expect(remote.output()).toMatch(/simulate: Refusing http:\/\/example\.com/);
  }, 60_000);
});

it('builds distinct deliveries but the duplicate, and sends a read status before its earlier delivered', () => {
  const deliveries = simulatedDeliveries({ phoneNumberId: '1', businessAccountId: '2', appSecret: 'secret' }, 30, {
    start: new Date('2026-11-30T00:00:00Z'),
  });
  const digests = deliveries.map(({ delivery }) => digestOf(delivery.body));
  expect(new Set(digests).size).toBe(29);
  const statuses = deliveries.flatMap(
    ({ delivery }) => JSON.parse(delivery.body).entry[0].changes[0].value.statuses ?? [],
  ) as { id: string; status: string; timestamp: string }[];
  expect(statuses.map((status) => status.status)).toEqual(['read', 'delivered', 'failed']);
  const [read, delivered] = statuses;
  expect(read?.id).toBe(delivered?.id);
  expect(Number(read?.timestamp)).toBeGreaterThan(Number(delivered?.timestamp));
});
