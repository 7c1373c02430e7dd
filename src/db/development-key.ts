// Files of the data directory that make a developer's machine work without configuration:
// the GraphiQL key, the secrets key, the demo WhatsApp channel's secrets.
//
// The API key GraphiQL is pre-filled with on a developer's machine (embedded database,
// development only), kept in a file of the data directory so that it works at every start,
// not only the first: the database stores keys only as hashes, so a key not kept here
// cannot be shown again. The file is readable by its owner only (0600), like the database
// files beside it; yoga.ts hands the key to loopback clients only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { newApiKey } from '../auth/api-keys.js';
import type { Database } from './client.js';
import { newSecretsKey, parseSecretsKey, type SecretBox, SecretError } from '../secrets.js';
import { sealNewChannelSecrets, secretContext } from '../whatsapp/channels.js';
import { DEMO_OWNERS } from './seed.js';

export const DEVELOPMENT_KEY_FILE = 'graphiql-key';

function keep(file: string, secret: string): void {
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created.
  fs.chmodSync(file, 0o600);
}

/**
 * The development key of the first demo owner: `seeded` (the key this start has just
 * seeded), else the kept one if it still works, else a new key minted for that owner.
 * Undefined when the demo organization is not in the database.
 */
export async function keepDevelopmentKey(db: Database, dataDir: string, seeded?: string): Promise<string | undefined> {
  const file = path.join(path.resolve(dataDir), DEVELOPMENT_KEY_FILE);
  if (seeded) {
    keep(file, seeded);
    return seeded;
  }
  let kept: string | undefined;
  try {
    kept = fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    // Not written yet (a database seeded before this file existed, or not seeded at all).
  }
  if (kept) {
    const key = await db.prisma.apiKey.findUnique({ where: { keyHash: newApiKey(kept).keyHash } });
    if (key && key.revokedAt === null) return kept;
  }
  const owner = DEMO_OWNERS[0];
  if (!(await db.prisma.organizationMember.findUnique({ where: { id: owner.memberId } }))) return undefined;
  const key = newApiKey();
  await db.prisma.apiKey.create({
    data: { ...owner, name: 'GraphiQL (local development)', prefix: key.prefix, keyHash: key.keyHash },
  });
  keep(file, key.secret);
  return key.secret;
}

// --- secrets key and demo channel (development only) --------------------------------------

export const SECRETS_KEY_FILE = 'secrets-key';
export const DEMO_CHANNEL_FILE = 'whatsapp-demo-channel.json';

/**
 * SECRETS_KEY when it is not set outside production: a random key kept in DATA_DIR (0600),
 * created on the first start, so that the channels sealed under it open at every later one.
 * Two processes starting at once on one DATA_DIR (on PostgreSQL) agree on one key: the file
 * is written aside and linked into place, which only the first one manages.
 */
export function keptSecretsKey(dataDir: string): Buffer {
  const file = path.join(path.resolve(dataDir), SECRETS_KEY_FILE);
  let text: string;
  try {
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const aside = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
      keep(aside, newSecretsKey());
      try {
        fs.linkSync(aside, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        fs.rmSync(aside, { force: true });
      }
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new SecretError(
      `Cannot keep the development secrets key in ${file} (${(error as Error).message}): set SECRETS_KEY, or make DATA_DIR writable`,
    );
  }
  const key = parseSecretsKey(text);
  if (!key) {
    throw new SecretError(
      `${file} does not hold a 32-byte key: restore it, or remove it to start over (channels sealed under it must then be connected again)`,
    );
  }
  return key;
}
/** The demo channel of the first demo organization, for the local simulator to deliver to. */
export const DEMO_CHANNEL = {
  id: '0d1c6a52-6f2e-4c61-9a53-1f0c2b7e4c01',
  organizationId: DEMO_OWNERS[0].organizationId,
  name: 'Demo WhatsApp number',
  phoneNumberId: '100000000000001',
  businessAccountId: '200000000000001',
  displayPhoneNumber: '+1 555-000-1111',
} as const;

export interface DemoChannelSecrets {
  phoneNumberId: string;
  accessToken: string;
  appSecret: string;
  verifyToken: string;
}

/**
 * Development only: makes sure the first demo organization has the demo channel, CONNECTED
 * unless a developer disconnected it, and that its secrets are in
 * DATA_DIR/whatsapp-demo-channel.json (0600), where the local simulator reads them to sign
 * its deliveries. The secrets are derived from the secrets key, so that every start (and two
 * at once) computes the same ones. Undefined when the demo organization is not in the database.
 */
export async function keepDemoChannel(
  db: Database,
  box: SecretBox,
  dataDir: string,
): Promise<DemoChannelSecrets | undefined> {
  const { id, organizationId, ...fields } = DEMO_CHANNEL;
  if (!(await db.prisma.organization.findUnique({ where: { id: organizationId } }))) return undefined;
  const derived = (purpose: string) => box.digest(`wagraph demo channel ${purpose}`).slice(0, 32);
  const secrets: DemoChannelSecrets = {
    phoneNumberId: fields.phoneNumberId,
    accessToken: `demo-access-token-${derived('access token')}`,
    appSecret: derived('app secret'),
    verifyToken: `demo-verify-${derived('verify token')}`,
  };
  const existing = await db.prisma.whatsAppChannel.findUnique({ where: { id } });
  let current = false;
  try {
    current =
      existing !== null &&
      box.open(existing.appSecretSealed, secretContext(id, 'appSecret')) === secrets.appSecret &&
      box.open(existing.verifyTokenSealed, secretContext(id, 'verifyToken')) === secrets.verifyToken;
  } catch {
    // Sealed under a key that is gone: sealed again below.
  }
  if (!current) {
    const sealed = sealNewChannelSecrets(box, id, secrets);
    await db.prisma.whatsAppChannel.upsert({
      where: { id },
      create: { id, organizationId, ...fields, ...sealed },
      update: sealed,
    });
  }
  const file = path.join(path.resolve(dataDir), DEMO_CHANNEL_FILE);
  const text = JSON.stringify(secrets, null, 2);
  let kept: string | undefined;
  try {
    kept = fs.readFileSync(file, 'utf8').trim();
  } catch {
    // Not written yet.
  }
  if (kept !== text) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    keep(file, text);
  }
  return secrets;
}
