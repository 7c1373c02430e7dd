// GET /webhooks/whatsapp, Meta's verification of the callback URL: the challenge comes back
// as plain text when the verify token is a connected channel's, else 403; malformed requests
// are 400. Also what the delivery handler builds on (channelForDelivery), and the re-sealing
// of channel secrets after a key rotation, the secrets key and demo channel of development.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import {
  DEMO_CHANNEL,
  DEMO_CHANNEL_FILE,
  keepDemoChannel,
  keptSecretsKey,
  SECRETS_KEY_FILE,
} from '../src/db/development-key.js';
import { migrate } from '../src/db/migrate.js';
import { DEMO_OWNERS } from '../src/db/seed.js';
import { parseSecretsKey, SecretBox } from '../src/secrets.js';
import { channelForDelivery, isVerifyTokenOfConnectedChannel, resealChannels } from '../src/whatsapp/channels.js';
import { createTestClient, type TestClient, TEST_SECRETS_KEY, testSecretBox } from './helpers/client.js';
import { freshDatabase } from './helpers/database.js';
import { createOrganization, createWhatsAppChannel } from './helpers/factories.js';

let client: TestClient;
const temporary: string[] = [];

beforeAll(async () => {
  client = await createTestClient();
});
afterAll(() => {
  for (const dir of temporary.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function temporaryDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-webhook-'));
  temporary.push(dir);
  return dir;
}

function verification(params: Record<string, string>, target: TestClient = client, method = 'GET') {
  const query = new URLSearchParams(params).toString();
  return target.yoga.fetch(`http://wagraph.test/webhooks/whatsapp?${query}`, { method });
}

const subscribe = (verifyToken: string, challenge = '1158201444') => ({
  'hub.mode': 'subscribe',
  'hub.verify_token': verifyToken,
  'hub.challenge': challenge,
});

describe('GET /webhooks/whatsapp (verification)', () => {
  it('answers 200 with the challenge as plain text for a connected channel’s verify token, without any API key', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const response = await verification(subscribe(channel.secrets.verifyToken));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('1158201444');
  });

  it('answers 403 for a token no channel has, a near miss, and a disconnected channel’s token', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const disconnected = await createWhatsAppChannel(client.db, testSecretBox, org.id, { status: 'DISCONNECTED' });
    for (const token of [
      'not-a-token-of-anyone',
      channel.secrets.verifyToken.slice(0, -1),
      `${channel.secrets.verifyToken} `,
      channel.secrets.verifyToken.toUpperCase(),
      disconnected.secrets.verifyToken,
      '',
      'x'.repeat(5_000),
    ]) {
      const response = await verification(subscribe(token));
      expect(response.status, token).toBe(403);
      expect(await response.text()).not.toContain('1158201444');
    }
  });

  it.each([
    ['no parameters', {}],
    ['no hub.mode', { 'hub.verify_token': 't', 'hub.challenge': '1' }],
    ['no hub.verify_token', { 'hub.mode': 'subscribe', 'hub.challenge': '1' }],
    ['no hub.challenge', { 'hub.mode': 'subscribe', 'hub.verify_token': 't' }],
    ['another hub.mode', { 'hub.mode': 'unsubscribe', 'hub.verify_token': 't', 'hub.challenge': '1' }],
    ['an empty challenge', subscribe('t', '')],
    ['markup as the challenge', subscribe('t', '<script>alert(1)</script>')],
    ['a challenge of 257 characters', subscribe('t', '1'.repeat(257))],
  ])('answers 400 for %s, as plain text that echoes nothing', async (_case, params) => {
    const response = await verification(params as Record<string, string>);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).not.toContain('<script>');
  });

  it('logs refusals as a warning now and then, with their count, never the token', async () => {
    const lines: string[] = [];
    const logged = await createTestClient({
      log: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }),
    });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect((await verification(subscribe(`guessed-token-${attempt}`), logged)).status).toBe(403);
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, refused: 1 });
    expect(lines.join('')).not.toContain('guessed-token');
  });

  it('echoes a challenge of up to 256 URL-safe characters', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const challenge = `${'Ab9._~-'.repeat(36)}abcd`;
    expect(challenge).toHaveLength(256);
    const response = await verification(subscribe(channel.secrets.verifyToken, challenge));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(challenge);
  });

  it('refuses every token when the server has no secrets key', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const bare = await createTestClient({ secrets: undefined });
    expect((await verification(subscribe(channel.secrets.verifyToken), bare)).status).toBe(403);
  });

  it('answers 405 to methods other than GET and POST (deliveries: test/whatsapp-deliveries.test.ts)', async () => {
    const response = await client.yoga.fetch('http://wagraph.test/webhooks/whatsapp', { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
  });

  it('finds a token sealed under the previous key during a rotation', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const rotated = new SecretBox(Buffer.alloc(32, 0x77), TEST_SECRETS_KEY);
    const during = await createTestClient({ secrets: rotated });
    expect((await verification(subscribe(channel.secrets.verifyToken), during)).status).toBe(200);
    // With the previous key gone, the old digest finds nothing.
    expect(
      await isVerifyTokenOfConnectedChannel(
        client.db.prisma,
        new SecretBox(Buffer.alloc(32, 0x77)),
        channel.secrets.verifyToken,
      ),
    ).toBe(false);
  });
});

describe('channelForDelivery', () => {
  it('gives a connected channel’s organization and opened app secret; null for an unknown or disconnected phone-number id', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    const disconnected = await createWhatsAppChannel(client.db, testSecretBox, org.id, { status: 'DISCONNECTED' });
    expect(await channelForDelivery(client.db.prisma, testSecretBox, channel.phoneNumberId)).toEqual({
      channelId: channel.id,
      organizationId: org.id,
      appSecret: channel.secrets.appSecret,
    });
    expect(await channelForDelivery(client.db.prisma, testSecretBox, disconnected.phoneNumberId)).toBeNull();
    expect(await channelForDelivery(client.db.prisma, testSecretBox, '999999999999999999')).toBeNull();
  });

  it('refuses (SecretError) a channel whose app secret no configured key opens', async () => {
    const org = await createOrganization(client.db);
    const channel = await createWhatsAppChannel(client.db, testSecretBox, org.id);
    await expect(
      channelForDelivery(client.db.prisma, new SecretBox(Buffer.alloc(32, 0x78)), channel.phoneNumberId),
    ).rejects.toThrow(/unknown key/);
  });
});

// On a database of its own: re-sealing and the demo channel act on every channel there is.
describe('key rotation and development secrets', () => {
  let db: Database;
  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db);
  });

  it('re-seals what the previous key sealed, once, and reports what no key opens', async () => {
    const keyA = Buffer.alloc(32, 0xa1);
    const keyB = Buffer.alloc(32, 0xb2);
    const boxA = new SecretBox(keyA);
    const org = await createOrganization(db);
    const withToken = await createWhatsAppChannel(db, boxA, org.id);
    const withoutToken = await createWhatsAppChannel(db, boxA, org.id, {
      accessTokenSealed: null,
      accessTokenFingerprint: null,
    });
    const lost = await createWhatsAppChannel(db, new SecretBox(Buffer.alloc(32, 0xc3)), org.id);
    const rotated = new SecretBox(keyB, keyA);
    expect(await resealChannels(db.prisma, rotated)).toEqual({ resealed: 2, unreadable: [lost.id] });
    expect(await resealChannels(db.prisma, rotated)).toEqual({ resealed: 0, unreadable: [lost.id] });

    // The new key alone now opens them, and finds them by verify token.
    const after = new SecretBox(keyB);
    expect(await channelForDelivery(db.prisma, after, withToken.phoneNumberId)).toMatchObject({
      appSecret: withToken.secrets.appSecret,
    });
    expect(await isVerifyTokenOfConnectedChannel(db.prisma, after, withToken.secrets.verifyToken)).toBe(true);
    expect(await isVerifyTokenOfConnectedChannel(db.prisma, after, withoutToken.secrets.verifyToken)).toBe(true);
    const row = await db.prisma.whatsAppChannel.findUniqueOrThrow({ where: { id: withoutToken.id } });
    expect(row.accessTokenSealed).toBeNull();
    expect(row.appSecretFingerprint).toBe(withoutToken.appSecretFingerprint);
  });

  it('keeps a development secrets key in DATA_DIR (0600) and reads the same one at every start', () => {
    const dataDir = path.join(temporaryDir(), 'nested', 'data');
    const key = keptSecretsKey(dataDir);
    expect(key).toHaveLength(32);
    const file = path.join(dataDir, SECRETS_KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(parseSecretsKey(fs.readFileSync(file, 'utf8'))).toEqual(key);
    expect(keptSecretsKey(dataDir)).toEqual(key);
    expect(fs.readdirSync(dataDir)).toEqual([SECRETS_KEY_FILE]);
    fs.writeFileSync(file, 'not a key\n');
    expect(() => keptSecretsKey(dataDir)).toThrow(/does not hold a 32-byte key/);
  });

  it('seeds the demo channel with secrets kept in DATA_DIR, the same at every start; verification and delivery use them', async () => {
    const dataDir = temporaryDir();
    const box = new SecretBox(keptSecretsKey(dataDir));
    expect(await keepDemoChannel(db, box, dataDir)).toBeUndefined();
    await db.prisma.organization.create({ data: { id: DEMO_OWNERS[0].organizationId, name: 'Demo' } });
    const secrets = await keepDemoChannel(db, box, dataDir);
    const file = path.join(dataDir, DEMO_CHANNEL_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(secrets);
    expect(secrets?.phoneNumberId).toBe(DEMO_CHANNEL.phoneNumberId);
    const before = await db.prisma.whatsAppChannel.findUniqueOrThrow({ where: { id: DEMO_CHANNEL.id } });
    expect(await keepDemoChannel(db, box, dataDir)).toEqual(secrets);
    expect(await db.prisma.whatsAppChannel.findUniqueOrThrow({ where: { id: DEMO_CHANNEL.id } })).toEqual(before);
    expect(await channelForDelivery(db.prisma, box, DEMO_CHANNEL.phoneNumberId)).toEqual({
      channelId: DEMO_CHANNEL.id,
      organizationId: DEMO_OWNERS[0].organizationId,
      appSecret: secrets!.appSecret,
    });
    expect(await isVerifyTokenOfConnectedChannel(db.prisma, box, secrets!.verifyToken)).toBe(true);
    // A new secrets key (a new DATA_DIR on the same database): new secrets, sealed anew.
    const otherDir = temporaryDir();
    const otherBox = new SecretBox(keptSecretsKey(otherDir));
    const renewed = await keepDemoChannel(db, otherBox, otherDir);
    expect(renewed?.appSecret).not.toBe(secrets?.appSecret);
    expect(await channelForDelivery(db.prisma, otherBox, DEMO_CHANNEL.phoneNumberId)).toMatchObject({
      appSecret: renewed!.appSecret,
    });
  });
});
