// POST /webhooks/whatsapp: a delivery is stored before it is acknowledged, for the
// organization of the channel it names, only when its X-Hub-Signature-256 is the HMAC of the
// bytes as received under that channel's app secret. Every bad input gets its defined answer
// (src/plugins/whatsapp-webhook.ts lists them) and nothing reaches the wrong organization.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNVERIFIED_STORED_PER_MINUTE } from '../src/plugins/whatsapp-webhook.js';
import { SecretBox } from '../src/secrets.js';
import { signatureHeader, storeDelivery, UNVERIFIED_BODY_MAX } from '../src/whatsapp/deliveries.js';
import { createTestClient, type TestClient, testSecretBox } from './helpers/client.js';
import { createMember, createOrganization, createWhatsAppChannel } from './helpers/factories.js';
import { discardJobs } from './helpers/jobs.js';
import { recordStatements } from './helpers/record-statements.js';
import {
  deliveryFor,
  envelope,
  messagesChange,
  postDelivery,
  type SignedDelivery,
  signed,
  statusValue,
  textMessageValue,
  wamid,
} from './helpers/whatsapp.js';

let client: TestClient;

beforeAll(async () => {
  client = await createTestClient();
});

const digestOf = (body: string) => createHash('sha256').update(body).digest('hex');

/** The rows stored for a body, whatever their organization. */
const rowsOf = (body: string) =>
  client.db.prisma.webhookDelivery.findMany({ where: { bodyDigest: digestOf(body) }, orderBy: { status: 'asc' } });

const post = (delivery: SignedDelivery, target: TestClient = client) =>
  postDelivery((url, init) => target.yoga.fetch(url, init), delivery);

async function channelOf(organizationId?: string) {
  const org = organizationId ?? (await createOrganization(client.db)).id;
  return createWhatsAppChannel(client.db, testSecretBox, org);
}

const textFrom = (from = '5511999998888', body = `hello ${wamid()}`) => textMessageValue({ from, body });

describe('POST /webhooks/whatsapp', () => {
  it('stores a signed delivery for its channel’s organization before answering 200, the body as received', async () => {
    const channel = await channelOf();
    const message = textFrom();
    const delivery = signed(deliveryFor(channel, message), channel.secrets.appSecret);
    const response = await post(delivery);
    expect(response.status).toBe(200);
    const rows = await rowsOf(delivery.body);
    expect(rows).toEqual([
      expect.objectContaining({
        organizationId: channel.organizationId,
        channelId: channel.id,
        status: 'RECEIVED',
        reason: null,
        body: delivery.body,
        bodyDigest: digestOf(delivery.body),
      }),
    ]);
  });

  it('stores a status delivery, and accepts the signature in upper-case hex and a charset', async () => {
    const channel = await channelOf();
    const delivery = signed(
      deliveryFor(channel, statusValue({ id: wamid(), status: 'read', recipient: '5511999998888' })),
      channel.secrets.appSecret,
    );
    const header = delivery.headers['x-hub-signature-256']!;
    const response = await post({
      body: delivery.body,
      headers: {
        'content-type': 'application/json; charset=UTF-8',
        'x-hub-signature-256': `sha256=${header.slice(7).toUpperCase()}`,
      },
    });
    expect(response.status).toBe(200);
    expect(await rowsOf(delivery.body)).toHaveLength(1);
  });

  it.each([
    ['no signature', (_body: string, _secret: string) => undefined],
    ['an empty signature', () => ''],
    [
      'a signature without its sha256= prefix',
      (body: string, secret: string) => signed(body, secret).headers['x-hub-signature-256']!.slice(7),
    ],
    ['a SHA-1 signature', () => `sha1=${'a'.repeat(40)}`],
    ['a signature that is not hex', () => `sha256=${'z'.repeat(64)}`],
    [
      'a signature with another secret',
      (body: string) => signed(body, 'not-the-app-secret').headers['x-hub-signature-256']!,
    ],
    [
      'a signature of other bytes',
      (body: string, secret: string) => signed(`${body} `, secret).headers['x-hub-signature-256']!,
    ],
  ])('answers 401 to %s, and stores nothing', async (_case, signature) => {
    const channel = await channelOf();
    const body = JSON.stringify(deliveryFor(channel, textFrom()));
    const header = signature(body, channel.secrets.appSecret);
    const response = await post({
      body,
      headers: {
        'content-type': 'application/json',
        ...(header === undefined ? {} : { 'x-hub-signature-256': header }),
      },
    });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain(channel.secrets.appSecret);
    expect(await rowsOf(body)).toEqual([]);
  });

  it('refuses a signature computed over re-serialised JSON (401): only the bytes as received count', async () => {
    const channel = await channelOf();
    const payload = deliveryFor(channel, textFrom('5511999998888', 'Olá, “mundo” é/\u00e9'));
    // What a server that parsed the body and serialised it again would have signed.
    const asSent = JSON.stringify(payload, null, 2).replace(/é/g, '\\u00e9');
    const reserialised = JSON.stringify(JSON.parse(asSent));
    expect(reserialised).not.toBe(asSent);
    const response = await post({
      body: asSent,
      headers: signed(reserialised, channel.secrets.appSecret).headers,
    });
    expect(response.status).toBe(401);
    expect(await rowsOf(asSent)).toEqual([]);
    // The same bytes, signed as sent, are taken.
    expect((await post(signed(asSent, channel.secrets.appSecret))).status).toBe(200);
    expect(await rowsOf(asSent)).toHaveLength(1);
  });

  it.each([
    ['truncated JSON', '{"object":"whatsapp_business_account","entry":['],
    ['not JSON at all', 'object=whatsapp_business_account'],
    ['an empty body', ''],
  ])('answers 400 to %s (signed), and stores nothing', async (_case, body) => {
    const channel = await channelOf();
    const response = await post(signed(body, channel.secrets.appSecret));
    expect(response.status).toBe(400);
    expect(await rowsOf(body)).toEqual([]);
  });

  it('answers 400 to a body that is not UTF-8 (signed)', async () => {
    const channel = await channelOf();
    const bytes = Buffer.concat([Buffer.from('{"object":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const response = await client.yoga.fetch('http://wagraph.test/webhooks/whatsapp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signatureHeader(bytes, channel.secrets.appSecret),
      },
      body: bytes,
    });
    expect(response.status).toBe(400);
  });

  it.each([
    ['no content type', undefined],
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['JSON in another charset', 'application/json; charset=iso-8859-1'],
  ])('answers 415 to %s, and stores nothing', async (_case, contentType) => {
    const channel = await channelOf();
    const delivery = signed(deliveryFor(channel, textFrom()), channel.secrets.appSecret);
    const { 'content-type': _json, ...headers } = delivery.headers;
    const response = await post({
      body: delivery.body,
      headers: contentType === undefined ? headers : { ...headers, 'content-type': contentType },
    });
    expect(response.status).toBe(415);
    expect(await rowsOf(delivery.body)).toEqual([]);
  });

  it('answers 413 to a body over WEBHOOK_MAX_BODY_BYTES (a signed one), and stores nothing', async () => {
    const small = await createTestClient({ webhookMaxBodyBytes: 2_048 });
    const channel = await channelOf();
    const fits = signed(deliveryFor(channel, textFrom('5511999998888', 'x'.repeat(1_000))), channel.secrets.appSecret);
    expect(Buffer.byteLength(fits.body)).toBeLessThanOrEqual(2_048);
    expect((await post(fits, small)).status).toBe(200);
    const over = signed(deliveryFor(channel, textFrom('5511999998888', 'é'.repeat(1_000))), channel.secrets.appSecret);
    expect(over.body.length).toBeLessThan(2_048);
    expect(Buffer.byteLength(over.body)).toBeGreaterThan(2_048);
    const response = await post(over, small);
    expect(response.status).toBe(413);
    expect(await rowsOf(over.body)).toEqual([]);
    // A declared length over the limit is refused before anything is read.
    const declared = await small.yoga.fetch('http://wagraph.test/webhooks/whatsapp', {
      method: 'POST',
      headers: { ...fits.headers, 'content-length': '999999' },
      body: fits.body,
    });
    expect(declared.status).toBe(413);
  });

  it('acknowledges an unknown (or disconnected) phone-number id and stores it UNROUTED, without organization, with its reason', async () => {
    const disconnected = await createWhatsAppChannel(
      client.db,
      testSecretBox,
      (await createOrganization(client.db)).id,
      {
        status: 'DISCONNECTED',
      },
    );
    for (const phoneNumberId of ['109999999999999', disconnected.phoneNumberId]) {
      const delivery = signed(
        deliveryFor({ phoneNumberId, businessAccountId: '2000001' }, textFrom()),
        disconnected.secrets.appSecret,
      );
      const response = await post(delivery);
      expect(response.status).toBe(200);
      expect(await rowsOf(delivery.body)).toEqual([
        expect.objectContaining({
          organizationId: null,
          channelId: null,
          status: 'UNROUTED',
          reason: `no connected channel has phone_number_id "${phoneNumberId}"`,
          body: delivery.body,
        }),
      ]);
    }
  });

  it('routes to a channel connected just after a delivery for its phone-number id went unrouted', async () => {
    const org = await createOrganization(client.db);
    const phoneNumberId = `10${Date.now()}`;
    const before = signed(deliveryFor({ phoneNumberId, businessAccountId: '1' }, textFrom()), 'not-known-yet');
    expect((await post(before)).status).toBe(200);
    expect(await rowsOf(before.body)).toEqual([expect.objectContaining({ status: 'UNROUTED' })]);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id, { phoneNumberId });
    const after = signed(deliveryFor(channel, textFrom()), channel.secrets.appSecret);
    expect((await post(after)).status).toBe(200);
    expect(await rowsOf(after.body)).toEqual([
      expect.objectContaining({ status: 'RECEIVED', organizationId: org.id, channelId: channel.id }),
    ]);
  });

  it.each([
    ['another object', { object: 'page', entry: [] }, '"object" is "page", not "whatsapp_business_account"'],
    ['no object', { entry: [] }, '"object" is missing, not "whatsapp_business_account"'],
    ['no entry', { object: 'whatsapp_business_account' }, '"entry" is not a non-empty array'],
    ['an array', [1, 2, 3], 'the body is not a JSON object'],
    ['a string', 'hello', 'the body is not a JSON object'],
    [
      'entries without changes or phone-number ids',
      {
        object: 'whatsapp_business_account',
        entry: [{ id: '1' }, { id: '2', changes: [{ field: 'messages', value: {} }] }],
      },
      'entry[0] has no "changes" array; entry[1].changes[0] has no value.metadata.phone_number_id',
    ],
  ])(
    'acknowledges a body of an unknown shape (%s) and stores it REJECTED with its reason',
    async (_case, payload, reason) => {
      const delivery = signed(JSON.stringify(payload), 'no-channel-to-check-it-with');
      const response = await post(delivery);
      expect(response.status).toBe(200);
      expect(await rowsOf(delivery.body)).toEqual([
        expect.objectContaining({
          organizationId: null,
          channelId: null,
          status: 'REJECTED',
          reason,
          body: delivery.body,
        }),
      ]);
    },
  );

  it('refuses (401) another organization’s phone-number id signed with my app secret, alone or beside mine: nothing stored', async () => {
    const mine = await channelOf();
    const theirs = await channelOf();
    const alone = signed(deliveryFor(theirs, textFrom()), mine.secrets.appSecret);
    expect((await post(alone)).status).toBe(401);
    expect(await rowsOf(alone.body)).toEqual([]);
    const beside = signed(
      envelope([
        { businessAccountId: mine.businessAccountId, changes: [messagesChange(mine, textFrom())] },
        { businessAccountId: theirs.businessAccountId, changes: [messagesChange(theirs, textFrom())] },
      ]),
      mine.secrets.appSecret,
    );
    expect((await post(beside)).status).toBe(401);
    expect(await rowsOf(beside.body)).toEqual([]);
    expect(await client.db.prisma.webhookDelivery.count({ where: { channelId: { in: [mine.id, theirs.id] } } })).toBe(
      0,
    );
  });

  it('splits a body naming channels of two organizations of one Meta app: each row holds only its channel’s changes', async () => {
    const appSecret = `shared-app-secret-${wamid()}`;
    const a = await createWhatsAppChannel(client.db, testSecretBox, (await createOrganization(client.db)).id);
    const b = await createWhatsAppChannel(client.db, testSecretBox, (await createOrganization(client.db)).id);
    // Same Meta app: connect both with its secret.
    for (const channel of [a, b]) {
      await client.db.prisma.whatsAppChannel.update({
        where: { id: channel.id },
        data: { appSecretSealed: testSecretBox.seal(appSecret, `WhatsAppChannel.appSecret:${channel.id}`) },
      });
    }
    const forA = textMessageValue({ from: '5511911110000', body: 'for a' });
    const forB = textMessageValue({ from: '5511922220000', body: 'for b' });
    const unknown = textMessageValue({ from: '5511933330000', body: 'for nobody' });
    const delivery = signed(
      envelope([
        {
          businessAccountId: a.businessAccountId,
          changes: [
            messagesChange(a, forA),
            messagesChange({ phoneNumberId: '108888888888888', businessAccountId: '0' }, unknown),
          ],
        },
        {
          businessAccountId: b.businessAccountId,
          changes: [messagesChange(b, forB), { field: 'account_update', value: { event: 'X' } }],
        },
      ]),
      appSecret,
    );
    expect((await post(delivery)).status).toBe(200);
    const rows = await rowsOf(delivery.body);
    const byStatus = (status: string, organizationId: string | null) =>
      rows.find((row) => row.status === status && row.organizationId === organizationId);
    const rowA = byStatus('RECEIVED', a.organizationId)!;
    const rowB = byStatus('RECEIVED', b.organizationId)!;
    expect(rowA.channelId).toBe(a.id);
    expect(rowB.channelId).toBe(b.id);
    expect(JSON.parse(rowA.body)).toEqual(
      envelope([{ businessAccountId: a.businessAccountId, changes: [messagesChange(a, forA)] }]),
    );
    expect(JSON.parse(rowB.body)).toEqual(
      envelope([{ businessAccountId: b.businessAccountId, changes: [messagesChange(b, forB)] }]),
    );
    expect(rowA.body).not.toContain('for b');
    expect(rowB.body).not.toContain('for a');
    expect(byStatus('UNROUTED', null)).toMatchObject({
      reason: 'no connected channel has phone_number_id "108888888888888"',
    });
    expect(byStatus('UNROUTED', null)!.body).toContain('for nobody');
    expect(byStatus('REJECTED', null)).toMatchObject({
      reason: 'entry[1].changes[1] has no value.metadata.phone_number_id',
    });
    expect(rows).toHaveLength(4);
  });

  it('acknowledges a replayed delivery every time and stores it once, also when the copies arrive at once', async () => {
    const channel = await channelOf();
    const delivery = signed(deliveryFor(channel, textFrom()), channel.secrets.appSecret);
    expect((await post(delivery)).status).toBe(200);
    expect((await post(delivery)).status).toBe(200);
    expect(await rowsOf(delivery.body)).toHaveLength(1);
    const together = signed(deliveryFor(channel, textFrom()), channel.secrets.appSecret);
    const statuses = await Promise.all(Array.from({ length: 5 }, () => post(together).then((r) => r.status)));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(await rowsOf(together.body)).toHaveLength(1);
    // An unrouted replay too.
    const unrouted = signed(deliveryFor({ phoneNumberId: '107777777777777', businessAccountId: '1' }, textFrom()), 'x');
    expect((await post(unrouted)).status).toBe(200);
    expect((await post(unrouted)).status).toBe(200);
    expect(await rowsOf(unrouted.body)).toHaveLength(1);
  });

  it('takes 10,000 events in one POST as one delivery, and keeps serving GraphQL meanwhile', async () => {
    const org = await createOrganization(client.db);
    const channel = await channelOf(org.id);
    const statuses = Array.from({ length: 10_000 }, (_, index) =>
      statusValue({ id: `wamid.${index}`, status: 'delivered', recipient: '5511999998888' }),
    );
    const delivery = signed(deliveryFor(channel, ...statuses), channel.secrets.appSecret);
    expect(Buffer.byteLength(delivery.body)).toBeLessThan(4 * 1024 * 1024);
    const [response, viewer] = await Promise.all([
      post(delivery),
      client.gql('{ viewer { organization { name } } }', undefined, { as: org.owner }),
    ]);
    expect(response.status).toBe(200);
    expect(viewer.data?.viewer.organization.name).toBe(org.name);
    const rows = await rowsOf(delivery.body);
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.body).entry[0].changes).toHaveLength(10_000);
    // Not this file's to process; left waiting, the next runner of the task (another test file's)
    // would spend its first seconds on 10,000 statuses.
    await discardJobs(client.db, 'whatsapp.processDelivery', [org.id]);
  });

  it('stores at most a few deliveries a minute that no channel vouches for, and acknowledges the rest', async () => {
    const lines: string[] = [];
    const budget = 3;
    const fresh = await createTestClient({
      log: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }),
      webhookUnverifiedPerMinute: budget,
    });
    const bodies: string[] = [];
    for (let index = 0; index <= budget; index += 1) {
      const delivery = signed(
        { object: 'spam', entry: [], n: index, filler: 'x'.repeat(index === 0 ? 2 * UNVERIFIED_BODY_MAX : 10) },
        'anyone',
      );
      bodies.push(delivery.body);
      expect((await post(delivery, fresh)).status).toBe(200);
    }
    const stored = await client.db.prisma.webhookDelivery.count({
      where: { bodyDigest: { in: bodies.map(digestOf) } },
    });
    expect(stored).toBe(budget);
    // A long body no channel vouches for is kept cut.
    const [first] = await rowsOf(bodies[0]!);
    expect(first!.body).toHaveLength(UNVERIFIED_BODY_MAX);
    expect(first!.reason).toMatch(/cut to its first 16384 characters/);
    const logged = lines.map((line) => JSON.parse(line));
    expect(logged).toEqual([
      expect.objectContaining({ level: 40, stored: 1, status: 'REJECTED' }),
      expect.objectContaining({ level: 40, unstored: 1 }),
    ]);
    expect(UNVERIFIED_STORED_PER_MINUTE).toBe(60);
  });

  it('logs refused signatures as a warning now and then with their count, never a secret', async () => {
    const lines: string[] = [];
    const logged = await createTestClient({
      log: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }),
    });
    const channel = await channelOf();
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const delivery = signed(deliveryFor(channel, textFrom()), `guessed-secret-${attempt}`);
      expect((await post(delivery, logged)).status).toBe(401);
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, refused: 1, signature: 'wrong' });
    expect(lines.join('')).not.toContain('guessed-secret');
    expect(lines.join('')).not.toContain(channel.secrets.appSecret);
  });

  it('refuses every delivery (401) when the server has no secrets key', async () => {
    const channel = await channelOf();
    const bare = await createTestClient({ secrets: undefined });
    const delivery = signed(deliveryFor(channel, textFrom()), channel.secrets.appSecret);
    expect((await post(delivery, bare)).status).toBe(401);
    expect(await rowsOf(delivery.body)).toEqual([]);
  });

  it('answers 503 (Meta retries) when the channel’s app secret opens with no configured key, and stores nothing', async () => {
    const channel = await channelOf();
    const otherKey = await createTestClient({ secrets: new SecretBox(Buffer.alloc(32, 0x42)) });
    const delivery = signed(deliveryFor(channel, textFrom()), channel.secrets.appSecret);
    const response = await post(delivery, otherKey);
    expect(response.status).toBe(503);
    expect(await rowsOf(delivery.body)).toEqual([]);
  });

  it('answers 405 to other methods', async () => {
    const response = await client.yoga.fetch('http://wagraph.test/webhooks/whatsapp', { method: 'PUT', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
  });
});

describe('WebhookDelivery rows', () => {
  it('storeDelivery returns the rows it stored, none for a replay (what processing is told about)', async () => {
    const channel = await channelOf();
    const rows = [
      {
        organizationId: channel.organizationId,
        channelId: channel.id,
        status: 'RECEIVED' as const,
        reason: null,
        body: '{}',
        bodyDigest: digestOf(wamid()),
      },
      {
        organizationId: null,
        channelId: null,
        status: 'UNROUTED' as const,
        reason: 'r',
        body: '{}',
        bodyDigest: digestOf(wamid()),
      },
    ];
    const stored = await storeDelivery(client.db, rows);
    expect(stored.map((row) => row.status).sort()).toEqual(['RECEIVED', 'UNROUTED']);
    expect(await storeDelivery(client.db, rows)).toEqual([]);
    expect(await storeDelivery(client.db, [])).toEqual([]);
  });

  it('storeDelivery stores one organization’s rows with their processing jobs in one statement, and a replay without', async () => {
    const channel = await channelOf();
    const other = await channelOf(channel.organizationId);
    const rows = [channel, other].map((target) => ({
      organizationId: target.organizationId,
      channelId: target.id,
      status: 'RECEIVED' as const,
      reason: null,
      body: '{}',
      bodyDigest: digestOf(wamid()),
    }));
    const { result: stored, statements } = await recordStatements(() => storeDelivery(client.db, rows));
    expect(statements).toHaveLength(1);
    expect(stored.map((row) => row.status)).toEqual(['RECEIVED', 'RECEIVED']);
    const jobs = await client.db.prisma.$queryRawUnsafe<{ payload: any }[]>(
      `SELECT j.payload FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
       WHERE t.identifier = 'whatsapp.processDelivery' AND j.payload->>'organizationId' = $1`,
      channel.organizationId,
    );
    expect(jobs.map((job) => job.payload.data.deliveryId).sort()).toEqual(stored.map((row) => row.id).sort());
    expect(await storeDelivery(client.db, rows)).toEqual([]);
    expect(
      await client.db.prisma.$queryRawUnsafe<unknown[]>(
        `SELECT 1 FROM graphile_worker._private_jobs WHERE payload->>'organizationId' = $1`,
        channel.organizationId,
      ),
    ).toHaveLength(2);
  });

  it('are refused by the database when linked to another organization’s channel, or routed without organization', async () => {
    const mine = await channelOf();
    const theirs = await channelOf();
    const row = { status: 'RECEIVED' as const, body: '{}', bodyDigest: digestOf(wamid()) };
    await expect(
      client.db.prisma.webhookDelivery.create({
        data: { ...row, organizationId: mine.organizationId, channelId: theirs.id },
      }),
    ).rejects.toThrow();
    await expect(client.db.prisma.webhookDelivery.create({ data: { ...row, channelId: mine.id } })).rejects.toThrow();
    await expect(client.db.prisma.webhookDelivery.create({ data: row })).rejects.toThrow();
    await client.db.prisma.webhookDelivery.create({
      data: { ...row, organizationId: mine.organizationId, channelId: mine.id },
    });
    // Deleting the channel keeps its organization's deliveries, unlinked.
    await client.db.prisma.whatsAppChannel.delete({ where: { id: mine.id } });
    expect(
      await client.db.prisma.webhookDelivery.findFirstOrThrow({ where: { bodyDigest: row.bodyDigest } }),
    ).toMatchObject({ organizationId: mine.organizationId, channelId: null });
  });
});

describe('POST /webhooks/whatsapp through real HTTP', () => {
  it('stores a signed delivery; refuses a streamed body over the limit with 413 and goes on serving', async () => {
    const small = await createTestClient({ webhookMaxBodyBytes: 64 * 1024 });
    const server = http.createServer(small.yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const org = await createOrganization(client.db);
      const channel = await channelOf(org.id);
      const delivery = signed(deliveryFor(channel, textFrom()), channel.secrets.appSecret);
      expect((await postDelivery(fetch, delivery, base)).status).toBe(200);
      expect(await rowsOf(delivery.body)).toHaveLength(1);

      // Chunked, with no Content-Length: refused once the limit is passed, not read to the end.
      const status = await new Promise<number>((resolve, reject) => {
        const request = http.request(
          `${base}/webhooks/whatsapp`,
          { method: 'POST', headers: { ...delivery.headers, 'transfer-encoding': 'chunked' } },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.on('error', reject);
        const chunk = Buffer.alloc(16 * 1024, 0x20);
        for (let index = 0; index < 8; index += 1) request.write(chunk);
        request.end();
      });
      expect(status).toBe(413);
      const graphql = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${org.owner.apiKey}` },
        body: JSON.stringify({ query: '{ viewer { organization { webhookDeliveries { received } } } }' }),
      });
      expect(await graphql.json()).toEqual({
        data: { viewer: { organization: { webhookDeliveries: { received: 1 } } } },
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('Organization.webhookDeliveries', () => {
  const QUERY = '{ viewer { organization { webhookDeliveries { received processed rejected lastReceivedAt } } } }';

  it('counts the organization’s own deliveries for a member with Get:Organization; null and FORBIDDEN without it', async () => {
    const org = await createOrganization(client.db);
    const other = await createOrganization(client.db);
    const channel = await channelOf(org.id);
    const otherChannel = await channelOf(other.id);
    expect((await client.gql(QUERY, undefined, { as: org.owner })).data?.viewer.organization.webhookDeliveries).toEqual(
      {
        received: 0,
        processed: 0,
        rejected: 0,
        lastReceivedAt: null,
      },
    );
    for (const [target, count] of [
      [channel, 2],
      [otherChannel, 3],
    ] as const) {
      for (let index = 0; index < count; index += 1) {
        expect((await post(signed(deliveryFor(target, textFrom()), target.secrets.appSecret))).status).toBe(200);
      }
    }
    const latest = await client.db.prisma.webhookDelivery.findFirstOrThrow({
      where: { organizationId: org.id },
      orderBy: { receivedAt: 'desc' },
    });
    const counts = (await client.gql(QUERY, undefined, { as: org.owner })).data?.viewer.organization.webhookDeliveries;
    expect(counts).toEqual({ received: 2, processed: 0, rejected: 0, lastReceivedAt: latest.receivedAt.toISOString() });

    const withPermission = await createMember(client.db, org.id, { permissions: ['Get:Organization'] });
    expect(
      (await client.gql(QUERY, undefined, { as: withPermission })).data?.viewer.organization.webhookDeliveries,
    ).toEqual(counts);
    const without = await createMember(client.db, org.id, { permissions: ['Get:Contact'] });
    const refused = await client.gql(QUERY, undefined, { as: without });
    expect(refused.data?.viewer.organization.webhookDeliveries).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
