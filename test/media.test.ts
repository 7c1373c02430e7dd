// Inbound media: Message.media read from Meta's media object, and GET /media/{messageId},
// which fetches the file from the Cloud API (here its fake, src/whatsapp/fake-cloud-api.ts,
// on a random loopback port) with the channel's access token and streams it.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prisma } from '../src/generated/prisma/client.js';
import { MemoryRateLimiter } from '../src/rate-limit/index.js';
import { FakeCloudApi } from '../src/whatsapp/fake-cloud-api.js';
import { createTestClient, globalId, type TestClient, testSecretBox } from './helpers/client.js';
import {
  createContact,
  createConversation,
  createMember,
  createOrganization,
  createWhatsAppChannel,
  type TestMember,
  type TestOrganization,
} from './helpers/factories.js';

let fake: FakeCloudApi;
let client: TestClient;

beforeAll(async () => {
  fake = await FakeCloudApi.start();
  client = await createTestClient({ whatsappApiUrl: fake.url, mediaTimeoutMs: 2_000 });
});

afterAll(async () => {
  await fake.close();
});

type MediaType = 'image' | 'audio' | 'video' | 'document' | 'sticker';

/** An organization with a channel whose access token the fake accepts, and a conversation on it. */
async function setup(options: { accessToken?: boolean } = {}) {
  const org = await createOrganization(client.db);
  const channel = await createWhatsAppChannel(
    client.db,
    testSecretBox,
    org.id,
    options.accessToken === false ? { accessTokenSealed: null, accessTokenFingerprint: null } : {},
  );
  fake.acceptToken(channel.secrets.accessToken);
  const contact = await createContact(client.db, org.id);
  const conversation = await createConversation(client.db, org.id, { contactId: contact.id, channelId: channel.id });
  return { org, channel, conversation };
}

/** An inbound media message whose data is Meta's object for `type`, returning its global id. */
async function mediaMessage(
  org: TestOrganization,
  conversationId: string,
  type: MediaType,
  media: Record<string, unknown>,
): Promise<string> {
  const message = await client.db.prisma.message.create({
    data: {
      organizationId: org.id,
      conversationId,
      direction: 'INBOUND',
      status: 'DELIVERED',
      messageType: type.toUpperCase() as 'IMAGE',
      messageData: { type, [type]: media } as Prisma.InputJsonObject,
    },
  });
  return globalId('Message', message.id);
}

function get(path: string, as: TestMember | null, headers: Record<string, string> = {}): Promise<Response> {
  return client.request({
    path,
    method: 'GET',
    headers: { ...(as ? { authorization: `Bearer ${as.apiKey}` } : {}), ...headers },
  });
}

const MEDIA = 'media { mimeType sha256 fileName caption url }';

describe('Message.media', () => {
  it.each([
    ['image', { id: '101', mime_type: 'image/jpeg', sha256: 'aGFzaA==', caption: 'The box' }, 'The box', null],
    ['audio', { id: '102', mime_type: 'audio/ogg; codecs=opus', sha256: 'aGFzaA==', voice: true }, null, null],
    ['video', { id: '103', mime_type: 'video/mp4', sha256: 'aGFzaA==', caption: 'Unboxing' }, 'Unboxing', null],
    [
      'document',
      { id: '104', mime_type: 'application/pdf', sha256: 'aGFzaA==', filename: 'invoice.pdf', caption: 'Invoice' },
      'Invoice',
      'invoice.pdf',
    ],
    ['sticker', { id: '105', mime_type: 'image/webp', sha256: 'aGFzaA==', animated: false }, null, null],
  ] as const)(
    '%s: the fields of Meta’s object, and the gateway URL of the file',
    async (type, media, caption, fileName) => {
      const { org, conversation } = await setup();
      const id = await mediaMessage(org, conversation.id, type, media);
      const response = await client.gql(
        `query($id: ID!) { node(id: $id) { ... on Message { messageType text ${MEDIA} } } }`,
        { id },
        { as: org.owner },
      );
      expect(response.errors).toBeUndefined();
      expect(response.data?.node).toEqual({
        messageType: type.toUpperCase(),
        text: type === 'audio' || type === 'sticker' ? null : caption,
        media: {
          mimeType: media.mime_type,
          sha256: 'aGFzaA==',
          fileName,
          caption,
          url: `/media/${encodeURIComponent(id)}`,
        },
      });
    },
  );

  it('is null for messages that are not media, and for a media type whose data holds no object', async () => {
    const { org, conversation } = await setup();
    const text = await client.db.prisma.message.create({
      data: {
        organizationId: org.id,
        conversationId: conversation.id,
        direction: 'INBOUND',
        status: 'DELIVERED',
        messageType: 'TEXT',
        messageData: { text: { body: 'hi' } },
      },
    });
    const empty = await client.db.prisma.message.create({
      data: {
        organizationId: org.id,
        conversationId: conversation.id,
        direction: 'INBOUND',
        status: 'DELIVERED',
        messageType: 'IMAGE',
        messageData: { type: 'image' },
      },
    });
    const response = await client.gql(
      `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Message { ${MEDIA} } } }`,
      { ids: [globalId('Message', text.id), globalId('Message', empty.id)] },
      { as: org.owner },
    );
    expect(response.data?.nodes).toEqual([{ media: null }, { media: null }]);
  });
});

describe('GET /media/{messageId}', () => {
  it('streams the file: the same bytes, Meta’s Content-Type and the length, never the token or Meta’s URL', async () => {
    const { org, conversation, channel } = await setup();
    const bytes = randomBytes(300_000);
    const mediaId = fake.addMedia({ bytes, mimeType: 'image/png' });
    const id = await mediaMessage(org, conversation.id, 'image', { id: mediaId, mime_type: 'image/png', sha256: 'x' });
    const response = await get(`/media/${encodeURIComponent(id)}`, org.owner);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.equals(bytes)).toBe(true);
    const headers = JSON.stringify([...response.headers]);
    expect(headers).not.toContain(channel.secrets.accessToken);
    expect(headers).not.toContain(fake.url.replace(/\/v21\.0$/, ''));
  });

  it('serves a document as an attachment under its file name, and works with Get:Conversation alone', async () => {
    const { org, conversation } = await setup();
    const reader = await createMember(client.db, org.id, { permissions: ['Get:Conversation'] });
    const bytes = Buffer.from('%PDF-1.4\n% fake\n');
    const mediaId = fake.addMedia({ bytes, mimeType: 'application/pdf', chunked: true });
    const id = await mediaMessage(org, conversation.id, 'document', {
      id: mediaId,
      mime_type: 'application/pdf',
      filename: 'facture é.pdf',
    });
    const response = await get(`/media/${id}`, reader);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="facture _.pdf"; filename*=UTF-8''facture%20%C3%A9.pdf`,
    );
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('401 without a credential or with an invalid one, before anything is fetched', async () => {
    const { org, conversation } = await setup();
    const mediaId = fake.addMedia({ bytes: Buffer.from('x'), mimeType: 'image/png' });
    const id = await mediaMessage(org, conversation.id, 'image', { id: mediaId, mime_type: 'image/png' });
    const before = fake.requests.length;
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wgk_not-a-key' }];
    for (const headers of attempts) {
      const response = await get(`/media/${id}`, null, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await response.json()) as any).error.code).toBe('UNAUTHENTICATED');
    }
    expect(fake.requests.length).toBe(before);
  });

  it('403 without Get:Conversation', async () => {
    const { org, conversation } = await setup();
    const member = await createMember(client.db, org.id, { permissions: ['Get:Contact'] });
    const id = await mediaMessage(org, conversation.id, 'image', { id: '1', mime_type: 'image/png' });
    const response = await get(`/media/${id}`, member);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: { code: 'FORBIDDEN', message: 'You do not have the Get:Conversation permission.' },
    });
  });

  it('404 alike for another organization’s message, an unknown or malformed id, and a message that is not media', async () => {
    const { org, conversation } = await setup();
    const other = await setup();
    const mediaId = fake.addMedia({ bytes: Buffer.from('secret'), mimeType: 'image/png' });
    const theirs = await mediaMessage(other.org, other.conversation.id, 'image', {
      id: mediaId,
      mime_type: 'image/png',
    });
    const text = await client.db.prisma.message.create({
      data: {
        organizationId: org.id,
        conversationId: conversation.id,
        direction: 'INBOUND',
        status: 'DELIVERED',
        messageType: 'TEXT',
        messageData: { text: { body: 'hi' } },
      },
    });
    const answers: [number, unknown][] = [];
    for (const id of [
      theirs,
      globalId('Message', '00000000-0000-4000-8000-000000000000'),
      globalId('Contact', other.conversation.contactId),
      'not-an-id',
      '%E0%A4%A',
      globalId('Message', text.id),
    ]) {
      const response = await get(`/media/${id}`, org.owner);
      answers.push([response.status, await response.json()]);
    }
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(answers[0]).toEqual([404, { error: { code: 'NOT_FOUND', message: expect.any(String) } }]);
  });

  it('405 for anything but GET', async () => {
    const { org } = await setup();
    const response = await client.request({
      path: '/media/x',
      method: 'POST',
      headers: { authorization: `Bearer ${org.owner.apiKey}` },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('502 NO_ACCESS_TOKEN when the channel has no access token', async () => {
    const { org, conversation } = await setup({ accessToken: false });
    const id = await mediaMessage(org, conversation.id, 'image', { id: '1', mime_type: 'image/png' });
    const response = await get(`/media/${id}`, org.owner);
    expect(response.status).toBe(502);
    expect(((await response.json()) as any).error.code).toBe('NO_ACCESS_TOKEN');
  });

  it('502 when the Cloud API refuses the token (190), saying so without the token or Meta’s message', async () => {
    const { org, conversation, channel } = await setup();
    const mediaId = fake.addMedia({ bytes: Buffer.from('x'), mimeType: 'image/png' });
    await client.db.prisma.whatsAppChannel.update({
      where: { id: channel.id },
      data: {
        // A token the fake never accepted (an expired one, to Meta).
        accessTokenSealed: testSecretBox.seal('EAAG-expired', `WhatsAppChannel.accessToken:${channel.id}`),
      },
    });
    const id = await mediaMessage(org, conversation.id, 'image', { id: mediaId, mime_type: 'image/png' });
    const response = await get(`/media/${id}`, org.owner);
    expect(response.status).toBe(502);
    const body = (await response.json()) as any;
    expect(body.error.code).toBe('CLOUD_API_ERROR');
    expect(body.error.message).toMatch(/error code 190.*invalid or has expired/);
    const text = JSON.stringify(body);
    for (const leak of ['EAAG-expired', '127.0.0.1', 'OAuth', 'Cannot parse']) expect(text).not.toContain(leak);
  });

  it('502 for a media id the Cloud API does not know (100)', async () => {
    const { org, conversation } = await setup();
    const id = await mediaMessage(org, conversation.id, 'image', { id: '999999', mime_type: 'image/png' });
    const response = await get(`/media/${id}`, org.owner);
    expect(response.status).toBe(502);
    expect(((await response.json()) as any).error.message).toMatch(/HTTP 400, error code 100/);
  });

  it('502 when the Cloud API cannot be reached at all', async () => {
    const closed = await FakeCloudApi.start();
    const url = closed.url;
    await closed.close();
    const unreachable = await createTestClient({ whatsappApiUrl: url, mediaTimeoutMs: 2_000 }, client.db);
    const { org, conversation } = await setup();
    const id = await mediaMessage(org, conversation.id, 'image', { id: '1', mime_type: 'image/png' });
    const response = await unreachable.request({
      path: `/media/${id}`,
      method: 'GET',
      headers: { authorization: `Bearer ${org.owner.apiKey}` },
    });
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({
      error: { code: 'CLOUD_API_ERROR', message: 'The WhatsApp Cloud API could not be reached.' },
    });
  });

  describe('MEDIA_MAX_BYTES', () => {
    let capped: TestClient;
    beforeAll(async () => {
      capped = await createTestClient({ whatsappApiUrl: fake.url, mediaMaxBytes: 1_000 }, client.db);
    });
    const fetchAs = (path: string, as: TestMember) =>
      capped.request({ path, method: 'GET', headers: { authorization: `Bearer ${as.apiKey}` } });

    it('serves a file of exactly the cap', async () => {
      const { org, conversation } = await setup();
      const bytes = randomBytes(1_000);
      const mediaId = fake.addMedia({ bytes, mimeType: 'image/png' });
      const id = await mediaMessage(org, conversation.id, 'image', { id: mediaId, mime_type: 'image/png' });
      const response = await fetchAs(`/media/${id}`, org.owner);
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it('refuses by Meta’s file_size before downloading (502 MEDIA_TOO_LARGE)', async () => {
      const { org, conversation } = await setup();
      const mediaId = fake.addMedia({ bytes: randomBytes(1_001), mimeType: 'video/mp4' });
      const id = await mediaMessage(org, conversation.id, 'video', { id: mediaId, mime_type: 'video/mp4' });
      const before = fake.requests.length;
      const response = await fetchAs(`/media/${id}`, org.owner);
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({
        error: {
          code: 'MEDIA_TOO_LARGE',
          message: 'The file is 1001 bytes, over the 1000 bytes served (MEDIA_MAX_BYTES).',
        },
      });
      // The lookup only: the download was never asked for.
      expect(fake.requests.slice(before)).toEqual([`GET /v21.0/${mediaId}`]);
    });

    it('refuses by the download’s Content-Length when file_size understated it', async () => {
      const { org, conversation } = await setup();
      const mediaId = fake.addMedia({ bytes: randomBytes(5_000), mimeType: 'image/png', reportedSize: 10 });
      const id = await mediaMessage(org, conversation.id, 'image', { id: mediaId, mime_type: 'image/png' });
      const response = await fetchAs(`/media/${id}`, org.owner);
      expect(response.status).toBe(502);
      expect(((await response.json()) as any).error.code).toBe('MEDIA_TOO_LARGE');
    });

    it('cuts the stream off when the bytes exceed the cap though nothing declared it (no truncated file passed off as whole)', async () => {
      const { org, conversation } = await setup();
      const mediaId = fake.addMedia({
        bytes: randomBytes(200_000),
        mimeType: 'image/png',
        reportedSize: 10,
        chunked: true,
      });
      const id = await mediaMessage(org, conversation.id, 'image', { id: mediaId, mime_type: 'image/png' });
      const response = await fetchAs(`/media/${id}`, org.owner);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBeNull();
      await expect(response.arrayBuffer()).rejects.toThrow();
    });
  });

  it('over real HTTP: a file of a few MB arrives whole; one over the cap, or stalling, ends the connection early', async () => {
    const capped = await createTestClient({ whatsappApiUrl: fake.url, mediaMaxBytes: 4_000_000 }, client.db);
    const server = http.createServer(capped.yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { org, conversation } = await setup();
      const bytes = randomBytes(3_000_000);
      const whole = await mediaMessage(org, conversation.id, 'video', {
        id: fake.addMedia({ bytes, mimeType: 'video/mp4', chunked: true }),
        mime_type: 'video/mp4',
      });
      const headers = { authorization: `Bearer ${org.owner.apiKey}` };
      const response = await fetch(`${base}/media/${whole}`, { headers });
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);

      const lying = await mediaMessage(org, conversation.id, 'video', {
        id: fake.addMedia({ bytes: randomBytes(6_000_000), mimeType: 'video/mp4', reportedSize: 10, chunked: true }),
        mime_type: 'video/mp4',
      });
      const cut = await fetch(`${base}/media/${lying}`, { headers });
      expect(cut.status).toBe(200);
      await expect(cut.arrayBuffer()).rejects.toThrow();

      // A download that stalls after its start is cut off after the timeout (300 ms here).
      const quick = await createTestClient({ whatsappApiUrl: fake.url, mediaTimeoutMs: 300 }, client.db);
      server.removeAllListeners('request');
      server.on('request', quick.yoga);
      const stalling = await mediaMessage(org, conversation.id, 'video', {
        id: fake.addMedia({ bytes: randomBytes(200_000), mimeType: 'video/mp4', stallAfter: 50_000 }),
        mime_type: 'video/mp4',
      });
      const started = performance.now();
      const stalled = await fetch(`${base}/media/${stalling}`, { headers });
      expect(stalled.status).toBe(200);
      expect(stalled.headers.get('content-length')).toBe('200000');
      await expect(stalled.arrayBuffer()).rejects.toThrow();
      expect(performance.now() - started).toBeLessThan(5_000);

      // A client that goes away mid-file: the download from the Cloud API is dropped too.
      server.removeAllListeners('request');
      server.on('request', capped.yoga);
      const gone = await mediaMessage(org, conversation.id, 'video', {
        id: fake.addMedia({ bytes: randomBytes(200_000), mimeType: 'video/mp4', stallAfter: 50_000 }),
        mime_type: 'video/mp4',
      });
      const leaving = new AbortController();
      const partial = await fetch(`${base}/media/${gone}`, { headers, signal: leaving.signal });
      await partial.body?.getReader().read();
      expect(fake.hanging).toBe(1);
      leaving.abort();
      await expect.poll(() => fake.hanging, { timeout: 5_000 }).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('504 when the Cloud API hangs, within the timeout; nothing is left waiting', async () => {
    const hanging = await FakeCloudApi.start();
    const quick = await createTestClient({ whatsappApiUrl: hanging.url, mediaTimeoutMs: 300 }, client.db);
    const { org, conversation, channel } = await setup();
    hanging.acceptToken(channel.secrets.accessToken);
    hanging.stall = true;
    const id = await mediaMessage(org, conversation.id, 'image', { id: '1', mime_type: 'image/png' });
    const started = performance.now();
    const response = await quick.request({
      path: `/media/${id}`,
      method: 'GET',
      headers: { authorization: `Bearer ${org.owner.apiKey}` },
    });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({
      error: { code: 'CLOUD_API_TIMEOUT', message: 'The WhatsApp Cloud API did not answer in time.' },
    });
    expect(hanging.requests).toEqual(['GET /v21.0/1']);
    await hanging.close();
  });

  it('draws on the member’s rate limit, as /graphql does', async () => {
    const limited = await createTestClient(
      { whatsappApiUrl: fake.url, rateLimiter: new MemoryRateLimiter({ perMinute: 1, burst: 1 }) },
      client.db,
    );
    const { org, conversation } = await setup();
    const mediaId = fake.addMedia({ bytes: Buffer.from('x'), mimeType: 'image/png' });
    const id = await mediaMessage(org, conversation.id, 'image', { id: mediaId, mime_type: 'image/png' });
    const fetchIt = () =>
      limited.request({
        path: `/media/${id}`,
        method: 'GET',
        headers: { authorization: `Bearer ${org.owner.apiKey}` },
      });
    expect((await fetchIt()).status).toBe(200);
    const second = await fetchIt();
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBeTruthy();
    expect(((await second.json()) as any).error.code).toBe('RATE_LIMITED');
  });
});
