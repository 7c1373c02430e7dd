// Webhook deliveries (POST /webhooks/whatsapp): what a POST's JSON is routed to, how its
// signature is checked, and how it is stored before it is acknowledged, each RECEIVED row with
// the job that processes it (./process.ts: contacts, conversations, messages, statuses);
// nothing here interprets messages or statuses.
//
// Routing. One POST may carry several entries (business accounts) and changes (phone
// numbers). Each change goes by its `value.metadata.phone_number_id` to the CONNECTED channel
// with that phone-number id, and the POST is stored as one row per channel holding only that
// channel's changes, so that no organization's row carries another's data. Changes of an
// unknown phone-number id are one UNROUTED row, changes without a phone-number id one
// REJECTED row; neither has an organization.
//
// Signature. Meta signs the whole body with the secret of the one Meta app that sends it, so
// the body's `X-Hub-Signature-256` must verify with the app secret of EVERY channel the body
// names: a POST naming another organization's phone-number id, signed with my app secret, is
// refused as a whole (401), nothing stored. A body that names no channel we know cannot be
// checked against anything: it is acknowledged (so that Meta stops retrying a delivery for a
// number disconnected here) and stored as UNROUTED/REJECTED, but only a few such bodies a
// minute, each cut to its first UNVERIFIED_BODY_MAX characters, since anyone can send them.
//
// Replays. A row's `bodyDigest` is the SHA-256 of the raw body: the same body delivered again
// (Meta's at-least-once delivery) finds its first receipt and is not stored again.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ConnectionShare } from '../db/connection-share.js';
import type { Database } from '../db/database.js';
import { tenantSql, transactionSql } from '../db/tenant-sql.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { WebhookDeliveryStatus } from '../generated/prisma/enums.js';
import type { SecretBox } from '../secrets.js';
import { enqueueJobs } from '../jobs/enqueue.js';
import { channelsForDelivery, type DeliveryChannel } from './channels.js';
import { insertReceived } from './delivery-insert.js';
import { processWebhookDelivery } from './process.js';

/** The CONNECTED channels among some phone-number ids, by phone-number id. */
export type ChannelLookup = (phoneNumberIds: readonly string[]) => Promise<Map<string, DeliveryChannel>>;

/** How long a channel found by phone-number id is reused without reading it again. */
export const CHANNEL_CACHE_MS = 5_000;
const CHANNEL_CACHE_ENTRIES = 10_000;

/**
 * channelsForDelivery, remembering each channel found for CHANNEL_CACHE_MS: a busy number's
 * deliveries then cost one statement (the insert), not two. What this trades, for at most
 * those seconds after a change: a channel disconnected (or moved) still takes deliveries, and
 * a new app secret is refused (401, which Meta retries) until the old one is forgotten. A
 * phone-number id that names no channel is never remembered, so a channel just connected
 * takes its first delivery at once.
 */
export function cachedChannelLookup(prisma: PrismaClient, box: SecretBox, ttlMs = CHANNEL_CACHE_MS): ChannelLookup {
  const cache = new Map<string, { channel: DeliveryChannel; until: number }>();
  return async (phoneNumberIds) => {
    const now = Date.now();
    const found = new Map<string, DeliveryChannel>();
    const missing: string[] = [];
    for (const id of phoneNumberIds) {
      const cached = cache.get(id);
      if (cached && cached.until > now) found.set(id, cached.channel);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const read = await channelsForDelivery(prisma, box, missing);
    if (cache.size + read.size > CHANNEL_CACHE_ENTRIES) cache.clear();
    for (const [id, channel] of read) {
      cache.set(id, { channel, until: now + ttlMs });
      found.set(id, channel);
    }
    return found;
  };
}

/** The default body limit (WEBHOOK_MAX_BODY_BYTES): Meta's payloads are at most 3 MB, and usually far smaller. */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** A body naming more phone-number ids than this is rejected as a whole (Meta's name one business's few). */
export const MAX_PHONE_NUMBER_IDS = 100;
/** What is kept of a body no channel's signature vouches for. */
export const UNVERIFIED_BODY_MAX = 16 * 1024;
/** The longest phone-number id looked up; Meta's are about 15 digits. */
const PHONE_NUMBER_ID_MAX = 64;
/** Reasons listed in a row's `reason`, before "and N more". */
const REASONS_LISTED = 5;

const SIGNATURE_HEADER = /^sha256=([0-9a-f]{64})$/i;

/** The 32 bytes of `X-Hub-Signature-256: sha256=<hex>`, or null when it is missing or malformed. */
export function parseSignature(header: string | null): Buffer | null {
  const hex = header === null ? undefined : header.trim().match(SIGNATURE_HEADER)?.[1];
  return hex === undefined ? null : Buffer.from(hex, 'hex');
}

/** `sha256=<hex HMAC-SHA256 of body keyed with appSecret>`: the header Meta sends. */
export function signatureHeader(body: Uint8Array | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

/** Whether `signature` is the HMAC of exactly these bytes under `appSecret` (constant time). */
export function signatureMatches(body: Uint8Array, signature: Buffer, appSecret: string): boolean {
  const expected = createHmac('sha256', appSecret).update(body).digest();
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A share of the envelope: its entries, each with only some of its changes. */
interface Share {
  entries: Map<number, { entry: Json; changes: unknown[] }>;
  changes: number;
}

function addTo(share: Share, index: number, entry: Json, change?: unknown) {
  let kept = share.entries.get(index);
  if (!kept) {
    kept = { entry, changes: [] };
    share.entries.set(index, kept);
  }
  if (change !== undefined) kept.changes.push(change);
  share.changes += 1;
}

const newShare = (): Share => ({ entries: new Map(), changes: 0 });

/** The envelope with only this share's entries and changes, as JSON. */
function envelopeOf(object: unknown, share: Share): string {
  return JSON.stringify({
    object,
    entry: [...share.entries.values()].map(({ entry, changes }) =>
      Array.isArray(entry.changes) ? { ...entry, changes } : entry,
    ),
  });
}

function listed(reasons: string[]): string {
  const shown = reasons.slice(0, REASONS_LISTED).join('; ');
  return reasons.length > REASONS_LISTED ? `${shown}; and ${reasons.length - REASONS_LISTED} more` : shown;
}

/** A short, printable rendering of a value someone else chose. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/** What a parsed body is made of: a shape we do not know, or its changes by phone-number id. */
export type SortedDelivery =
  | { kind: 'unknown-shape'; reason: string }
  | {
      kind: 'changes';
      object: unknown;
      byPhoneNumberId: Map<string, Share>;
      /** Changes that name no phone-number id, with why. */
      unroutable: { share: Share; reasons: string[] } | null;
    };

/** Sorts a parsed body's changes by `value.metadata.phone_number_id` (see the header). */
export function sortDelivery(payload: unknown): SortedDelivery {
  if (!isObject(payload)) return { kind: 'unknown-shape', reason: 'the body is not a JSON object' };
  if (payload.object !== 'whatsapp_business_account') {
    return {
      kind: 'unknown-shape',
      reason: `"object" is ${payload.object === undefined ? 'missing' : shown(payload.object)}, not "whatsapp_business_account"`,
    };
  }
  const entries = payload.entry;
  if (!Array.isArray(entries) || entries.length === 0) {
    return { kind: 'unknown-shape', reason: '"entry" is not a non-empty array' };
  }
  const byPhoneNumberId = new Map<string, Share>();
  const unroutable = newShare();
  const reasons: string[] = [];
  entries.forEach((entry: unknown, index) => {
    if (!isObject(entry) || !Array.isArray(entry.changes) || entry.changes.length === 0) {
      reasons.push(`entry[${index}] has no "changes" array`);
      addTo(unroutable, index, isObject(entry) ? entry : { entry });
      return;
    }
    entry.changes.forEach((change: unknown, changeIndex) => {
      const value = isObject(change) ? change.value : undefined;
      const metadata = isObject(value) ? value.metadata : undefined;
      const id = isObject(metadata) ? metadata.phone_number_id : undefined;
      if (typeof id !== 'string' || id.length === 0 || id.length > PHONE_NUMBER_ID_MAX) {
        reasons.push(`entry[${index}].changes[${changeIndex}] has no value.metadata.phone_number_id`);
        addTo(unroutable, index, entry, change);
        return;
      }
      let share = byPhoneNumberId.get(id);
      if (!share) {
        share = newShare();
        byPhoneNumberId.set(id, share);
      }
      addTo(share, index, entry, change);
    });
  });
  if (byPhoneNumberId.size > MAX_PHONE_NUMBER_IDS) {
    return {
      kind: 'unknown-shape',
      reason: `names ${byPhoneNumberId.size} phone-number ids, more than the ${MAX_PHONE_NUMBER_IDS} one delivery may`,
    };
  }
  return {
    kind: 'changes',
    object: payload.object,
    byPhoneNumberId,
    unroutable: reasons.length > 0 ? { share: unroutable, reasons } : null,
  };
}

export interface DeliveryRow {
  organizationId: string | null;
  channelId: string | null;
  status: WebhookDeliveryStatus;
  reason: string | null;
  body: string;
  bodyDigest: string;
}

/** What becomes of a POST whose body is JSON. */
export type Receipt =
  /** The signature does not verify with some named channel's app secret: 401, nothing stored. */
  | { outcome: 'refused' }
  /** Verified by every named channel's app secret (`verified`), or by none since none is named. */
  | { outcome: 'accepted'; verified: boolean; rows: DeliveryRow[] };

function cut(body: string, reason: string): { body: string; reason: string } {
  if (body.length <= UNVERIFIED_BODY_MAX) return { body, reason };
  return {
    body: body.slice(0, UNVERIFIED_BODY_MAX),
    reason: `${reason} (body cut to its first ${UNVERIFIED_BODY_MAX} characters: no channel's signature vouches for it)`,
  };
}

/**
 * Routes a parsed body and checks its signature: the rows to store, or a refusal. `raw` is
 * the body as received (its bytes are what is signed), `text` the same decoded.
 */
export async function receiveDelivery(
  lookup: ChannelLookup,
  delivery: { raw: Uint8Array; text: string; payload: unknown; signature: Buffer },
): Promise<Receipt> {
  const bodyDigest = createHash('sha256').update(delivery.raw).digest('hex');
  const sorted = sortDelivery(delivery.payload);
  if (sorted.kind === 'unknown-shape') {
    const kept = cut(delivery.text, sorted.reason);
    return {
      outcome: 'accepted',
      verified: false,
      rows: [{ organizationId: null, channelId: null, status: 'REJECTED', bodyDigest, ...kept }],
    };
  }
  const channels: Map<string, DeliveryChannel> =
    sorted.byPhoneNumberId.size === 0 ? new Map() : await lookup([...sorted.byPhoneNumberId.keys()]);
  const secrets = new Set([...channels.values()].map((channel) => channel.appSecret));
  for (const appSecret of secrets) {
    if (!signatureMatches(delivery.raw, delivery.signature, appSecret)) return { outcome: 'refused' };
  }
  const verified = channels.size > 0;
  const whole = sorted.byPhoneNumberId.size === 1 && sorted.unroutable === null;
  const rows: DeliveryRow[] = [];
  const unknown = newShare();
  const unknownIds: string[] = [];
  for (const [phoneNumberId, share] of sorted.byPhoneNumberId) {
    const channel = channels.get(phoneNumberId);
    if (!channel) {
      unknownIds.push(phoneNumberId);
      for (const [index, { entry, changes }] of share.entries) {
        for (const change of changes) addTo(unknown, index, entry, change);
      }
      continue;
    }
    rows.push({
      organizationId: channel.organizationId,
      channelId: channel.channelId,
      status: 'RECEIVED',
      reason: null,
      body: whole ? delivery.text : envelopeOf(sorted.object, share),
      bodyDigest,
    });
  }
  const unassigned = (status: WebhookDeliveryStatus, share: Share, reason: string): DeliveryRow => {
    const body = whole ? delivery.text : envelopeOf(sorted.object, share);
    return {
      organizationId: null,
      channelId: null,
      status,
      bodyDigest,
      ...(verified ? { body, reason } : cut(body, reason)),
    };
  };
  if (unknownIds.length > 0) {
    const reasons = unknownIds.map((id) => `no connected channel has phone_number_id ${shown(id)}`);
    rows.push(unassigned('UNROUTED', unknown, listed(reasons)));
  }
  if (sorted.unroutable) rows.push(unassigned('REJECTED', sorted.unroutable.share, listed(sorted.unroutable.reasons)));
  return { outcome: 'accepted', verified, rows };
}

/**
 * Stores a POST's rows, all or none, with a processing job (./process.ts) for each RECEIVED
 * row, atomically: a row is never stored without its job, nor a job without its row. The usual
 * POST (RECEIVED rows of one organization) is one statement (./delivery-insert.ts); any other
 * (rows without organization, several organizations) a transaction. A row whose body was
 * stored before (same digest, same channel or same status without one) is skipped, and gets
 * no job. Returns the new rows' ids and statuses.
 */
export async function storeDelivery(
  db: Pick<Database, 'prisma' | 'query'>,
  rows: DeliveryRow[],
): Promise<{ id: string; status: WebhookDeliveryStatus }[]> {
  if (rows.length === 0) return [];
  const organizationId = rows[0]?.organizationId ?? null;
  const received = rows.flatMap((row) =>
    row.status === 'RECEIVED' && row.organizationId === organizationId && row.channelId !== null
      ? [{ channelId: row.channelId, body: row.body, bodyDigest: row.bodyDigest }]
      : [],
  );
  if (organizationId !== null && received.length === rows.length) {
    // The usual POST: one organization's rows, stored with their jobs in one statement.
    const ids = await insertReceived(tenantSql(organizationId, db, new ConnectionShare(1)), received);
    return ids.map((id) => ({ id, status: 'RECEIVED' }));
  }
  return db.prisma.$transaction(async (tx) => {
    const stored = await tx.webhookDelivery.createManyAndReturn({
      data: rows,
      skipDuplicates: true,
      select: { id: true, status: true, organizationId: true },
    });
    const byOrganization = new Map<string, { deliveryId: string }[]>();
    for (const row of stored) {
      if (row.status !== 'RECEIVED' || row.organizationId === null) continue;
      const jobs = byOrganization.get(row.organizationId) ?? [];
      jobs.push({ deliveryId: row.id });
      byOrganization.set(row.organizationId, jobs);
    }
    for (const [organizationId, jobs] of byOrganization) {
      await enqueueJobs(transactionSql(tx, organizationId), processWebhookDelivery, jobs);
    }
    return stored.map(({ id, status }) => ({ id, status }));
  });
}
