// Set-based processing of webhook deliveries (./process.ts parses them and falls back to one
// transaction per event when this fails): the events of several deliveries of one
// organization become contacts, conversations, messages and message states in one
// transaction of a few statements, each over arrays of the whole batch, instead of about ten
// statements per event. Fewer transactions matter twice since the change feed numbers each
// transaction's events at commit under the organization's counter lock, which serialises an
// organization's commits (migration 20261130020107_change_feed).
//
// What one batch does, in this order (the same outcome as processing the events one by one):
// 1. lock every wamid the batch names (the same advisory locks as the per-event path, taken in
//    lock-id order so that two batches cannot deadlock on them);
// 2. read which of those wamids (messages, and the messages replied to) exist;
// 3. insert the contacts of the new messages (ON CONFLICT DO NOTHING: an existing contact and
//    its name are kept), then lock them in id order, which serialises finding or creating
//    one contact's conversation;
// 4. find each (contact, channel)'s latest conversation, create the missing ones, and reopen
//    the CLOSED or RESOLVED ones as ACTIVE;
// 5. insert the messages (ON CONFLICT on the wamid DO NOTHING), each linked to the message it
//    replies or reacts to, whether that one existed before or comes earlier in the batch;
// 6. apply the batch's statuses and those kept for the inserted wamids (PendingStatus, then
//    deleted) forward only, and keep those whose message does not exist yet.
// The counters, lastMessageAt and the change feed's events follow by trigger.
import { randomUUID } from 'node:crypto';
import { Prisma } from '../generated/prisma/client.js';
import type { MessageStatus, MessageType, WebhookDeliveryStatus } from '../generated/prisma/enums.js';
import type { TenantSql } from '../db/tenant-sql.js';

/** A new inbound message, parsed and checked (./process.ts). */
export interface MessagePlan {
  kind: 'message';
  wamid: string;
  /** The sender's phone, `+` and digits. */
  phone: string;
  /** The contact's name if the contact is new. */
  name: string;
  channelId: string;
  messageType: MessageType;
  /** The message as Meta sent it, every string storable. */
  messageData: unknown;
  at: Date;
  /** The wamid of the message it replies or reacts to. */
  replyTo: string | null;
}

/** A status of a message, parsed and checked (./process.ts). */
export interface StatusPlan {
  kind: 'status';
  wamid: string;
  status: MessageStatus;
  at: Date;
  errorCode: number | null;
  errorTitle: string | null;
  errorDetails: string | null;
  /** Our message the status names in its callback data (a send whose answer never came), if any. */
  messageId: string | null;
}

export type EventPlan = MessagePlan | StatusPlan;

/** A delivery claimed for processing. */
export interface ClaimedDelivery {
  id: string;
  body: string;
  channelId: string | null;
}

/**
 * Claims up to `limit` RECEIVED deliveries of the organization that no other transaction
 * holds (SKIP LOCKED), locked until the transaction ends: `deliveryId` first if it is free,
 * then the oldest others (their own jobs then find them processed). In the order they were
 * received.
 */
export async function claimDeliveries(sql: TenantSql, deliveryId: string, limit: number): Promise<ClaimedDelivery[]> {
  return sql.query<ClaimedDelivery>(
    (org) => Prisma.sql`
      SELECT "id"::text AS "id", "body", "channelId"::text AS "channelId"
      FROM (
        SELECT "id", "body", "channelId", "receivedAt" FROM "WebhookDelivery"
        WHERE "organizationId" = ${org} AND "status" = 'RECEIVED'
        ORDER BY "id" = ${deliveryId}::uuid DESC, "receivedAt", "id"
        LIMIT ${limit}::int
        FOR UPDATE SKIP LOCKED
      ) AS "claimed"
      ORDER BY "receivedAt", "id"`,
  );
}

/**
 * Whether the delivery is still RECEIVED: one statement outside any transaction. `wait`: after
 * waiting for a transaction that holds it (another job's batch) to end, so that a job does not
 * end while its delivery might still be unprocessed.
 */
export async function deliveryReceived(sql: TenantSql, deliveryId: string, wait = false): Promise<boolean> {
  const rows = await sql.query<{ received: boolean }>(
    (org) => Prisma.sql`
      SELECT true AS "received" FROM "WebhookDelivery"
      WHERE "organizationId" = ${org} AND "id" = ${deliveryId}::uuid AND "status" = 'RECEIVED'
      ${wait ? Prisma.sql`FOR UPDATE` : Prisma.empty}`,
  );
  return rows.length > 0;
}

/** How processing ends for one delivery. */
export interface DeliveryOutcome {
  id: string;
  status: Extract<WebhookDeliveryStatus, 'PROCESSED' | 'REJECTED'>;
  reason: string | null;
  problems: unknown[];
}

/** Marks claimed deliveries processed (or rejected), with their problems, in one statement. */
export async function finishDeliveries(sql: TenantSql, outcomes: readonly DeliveryOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await sql.query(
    (org) => Prisma.sql`
      UPDATE "WebhookDelivery" d
      SET "status" = o."status"::"WebhookDeliveryStatus", "reason" = o."reason", "problems" = o."problems"::jsonb,
        "processedAt" = clock_timestamp()
      FROM unnest(
        ${outcomes.map((outcome) => outcome.id)}::uuid[],
        ${outcomes.map((outcome) => outcome.status)}::text[],
        ${outcomes.map((outcome) => outcome.reason)}::text[],
        ${outcomes.map((outcome) => JSON.stringify(outcome.problems))}::text[]
      ) AS o("id", "status", "reason", "problems")
      WHERE d."organizationId" = ${org} AND d."id" = o."id" AND d."status" = 'RECEIVED'
      RETURNING 1 AS "done"`,
  );
}

/** Processes the events of a batch, in their order, in the transaction of `sql`. */
export async function applyEvents(sql: TenantSql, events: readonly EventPlan[]): Promise<void> {
  if (events.length === 0) return;
  const messages = events.filter((event): event is MessagePlan => event.kind === 'message');
  const statuses = events.filter((event): event is StatusPlan => event.kind === 'status');

  const wamids = [...new Set(events.map((event) => event.wamid))];
  await lockWamids(sql, wamids);
  const lookedUp = [
    ...new Set([...messages.map((message) => message.wamid), ...messages.flatMap((m) => m.replyTo ?? [])]),
  ];
  const known = await existingMessages(sql, lookedUp);

  // The first message of each wamid that is not stored yet.
  const fresh: MessagePlan[] = [];
  const seen = new Set<string>();
  for (const message of messages) {
    if (known.has(message.wamid) || seen.has(message.wamid)) continue;
    seen.add(message.wamid);
    fresh.push(message);
  }
  const inserted = fresh.length > 0 ? await insertMessages(sql, fresh, known) : [];
  const named = statuses.filter((status) => status.messageId !== null);
  const attached = named.length > 0 ? await attachWamids(sql, named) : [];
  const appeared = [...inserted, ...attached];
  if (statuses.length > 0 || appeared.length > 0) await applyStatuses(sql, statuses, appeared);
}

/**
 * Statuses naming one of our messages in their callback data, for a wamid no message has: a
 * send whose answer never came (src/whatsapp/outbound.ts). The message takes the wamid unless
 * it has one already (a retry's); returns the wamids given, whose kept statuses then apply.
 */
async function attachWamids(sql: TenantSql, statuses: readonly StatusPlan[]): Promise<string[]> {
  const rows = await sql.query<{ wamid: string }>(
    (org) => Prisma.sql`
      UPDATE "Message" m SET "whatsAppMessageId" = named."wamid", "updatedAt" = now()
      FROM (
        SELECT DISTINCT ON (n."id") n."id", n."wamid"
        FROM unnest(${statuses.map((status) => status.messageId)}::uuid[], ${statuses.map((status) => status.wamid)}::text[]) AS n("id", "wamid")
        WHERE NOT EXISTS (SELECT 1 FROM "Message" x WHERE x."organizationId" = ${org} AND x."whatsAppMessageId" = n."wamid")
      ) named
      WHERE m."organizationId" = ${org} AND m."id" = named."id" AND m."direction" = 'OUTBOUND' AND m."whatsAppMessageId" IS NULL
      RETURNING m."whatsAppMessageId" AS "wamid"`,
  );
  return rows.map((row) => row.wamid);
}

/** The advisory locks of ../db/row-locks.ts lockKey (`wamid:<id>`), in lock-id order. */
async function lockWamids(sql: TenantSql, wamids: readonly string[]): Promise<void> {
  await sql.query(
    (org) => Prisma.sql`
      SELECT count(*)::int AS "locked"
      FROM (
        SELECT pg_advisory_xact_lock("key")
        FROM (
          SELECT DISTINCT hashtextextended(${org}::text || ':' || 'wamid:' || w, 0) AS "key"
          FROM unnest(${wamids}::text[]) AS w
          ORDER BY 1
          OFFSET 0
        ) AS "keys"
      ) AS "locks"`,
  );
}

/** The ids of the organization's messages with these wamids, by wamid. */
async function existingMessages(sql: TenantSql, wamids: readonly string[]): Promise<Map<string, string>> {
  if (wamids.length === 0) return new Map();
  const rows = await sql.query<{ id: string; wamid: string }>(
    (org) => Prisma.sql`
      SELECT "id"::text AS "id", "whatsAppMessageId" AS "wamid" FROM "Message"
      WHERE "organizationId" = ${org} AND "whatsAppMessageId" = ANY(${wamids}::text[])`,
  );
  return new Map(rows.map((row) => [row.wamid, row.id]));
}

/** Contacts, conversations and the messages themselves (steps 3 to 5); returns the wamids inserted. */
async function insertMessages(
  sql: TenantSql,
  fresh: readonly MessagePlan[],
  known: ReadonlyMap<string, string>,
): Promise<string[]> {
  const names = new Map<string, string>();
  for (const message of fresh) if (!names.has(message.phone)) names.set(message.phone, message.name);
  const phones = [...names.keys()].sort();
  await sql.query(
    (org) => Prisma.sql`
      INSERT INTO "Contact" ("id", "organizationId", "name", "phone")
      SELECT c."id", ${org}, c."name", c."phone"
      FROM unnest(
        ${phones.map(() => randomUUID())}::uuid[], ${phones.map((phone) => names.get(phone))}::text[], ${phones}::text[]
      ) AS c("id", "name", "phone")
      ORDER BY c."phone"
      ON CONFLICT DO NOTHING
      RETURNING 1 AS "inserted"`,
  );
  const contacts = await sql.query<{ id: string; phone: string }>(
    (org) => Prisma.sql`
      SELECT "id"::text AS "id", "phone" FROM "Contact"
      WHERE "organizationId" = ${org} AND "phone" = ANY(${phones}::text[])
      ORDER BY "id"
      FOR UPDATE`,
  );
  const contactOf = new Map(contacts.map((contact) => [contact.phone, contact.id]));
  const pairKey = (contactId: string, channelId: string) => `${contactId}/${channelId}`;
  const pairs = new Map<string, { contactId: string; channelId: string }>();
  for (const message of fresh) {
    const contactId = contactOf.get(message.phone);
    if (!contactId) throw new Error(`The contact ${message.phone} was neither found nor created`);
    pairs.set(pairKey(contactId, message.channelId), { contactId, channelId: message.channelId });
  }
  const wanted = [...pairs.values()];
  const conversations = await sql.query<{ id: string; contactId: string; channelId: string }>(
    (org) => Prisma.sql`
      WITH "wanted" AS (
        SELECT * FROM unnest(
          ${wanted.map((pair) => pair.contactId)}::uuid[],
          ${wanted.map((pair) => pair.channelId)}::uuid[],
          ${wanted.map(() => randomUUID())}::uuid[]
        ) AS w("contactId", "channelId", "newId")
      ), "found" AS (
        SELECT DISTINCT ON (c."contactId", c."channelId") c."id", c."contactId", c."channelId", c."status"
        FROM "Conversation" c
        JOIN "wanted" w ON c."contactId" = w."contactId" AND c."channelId" = w."channelId"
        WHERE c."organizationId" = ${org}
        ORDER BY c."contactId", c."channelId", c."createdAt" DESC, c."id" DESC
      ), "created" AS (
        INSERT INTO "Conversation" ("id", "organizationId", "contactId", "channelId", "status", "initiatedBy")
        SELECT w."newId", ${org}, w."contactId", w."channelId", 'ACTIVE', 'CONTACT'
        FROM "wanted" w
        WHERE NOT EXISTS (SELECT 1 FROM "found" f WHERE f."contactId" = w."contactId" AND f."channelId" = w."channelId")
        ORDER BY w."newId"
        RETURNING "id", "contactId", "channelId"
      ), "reopened" AS (
        UPDATE "Conversation" c SET "status" = 'ACTIVE', "updatedAt" = CURRENT_TIMESTAMP
        FROM "found" f
        WHERE c."organizationId" = ${org} AND c."id" = f."id" AND f."status" <> 'ACTIVE'
        RETURNING c."id"
      )
      SELECT "id"::text AS "id", "contactId"::text AS "contactId", "channelId"::text AS "channelId" FROM "found"
      UNION ALL
      SELECT "id"::text, "contactId"::text, "channelId"::text FROM "created"`,
  );
  const conversationOf = new Map(conversations.map((row) => [pairKey(row.contactId, row.channelId), row.id]));

  // A reply links to the message it quotes: stored before, or earlier in this batch.
  const ids = new Map(known);
  const rows = fresh.map((message) => {
    const contactId = contactOf.get(message.phone) ?? '';
    const conversationId = conversationOf.get(pairKey(contactId, message.channelId));
    if (!conversationId) throw new Error(`No conversation for ${message.phone} on channel ${message.channelId}`);
    const row = {
      id: randomUUID(),
      conversationId,
      replyToId: message.replyTo === null ? null : (ids.get(message.replyTo) ?? null),
      message,
    };
    ids.set(message.wamid, row.id);
    return row;
  });
  const stored = await sql.query<{ wamid: string }>(
    (org) => Prisma.sql`
      INSERT INTO "Message" ("id", "organizationId", "conversationId", "replyToId", "direction", "status",
        "messageType", "messageData", "whatsAppMessageId", "createdAt")
      SELECT m."id", ${org}, m."conversationId", m."replyToId", 'INBOUND', 'DELIVERED',
        m."messageType"::"MessageType", m."messageData"::jsonb, m."wamid", m."createdAt"
      FROM unnest(
        ${rows.map((row) => row.id)}::uuid[],
        ${rows.map((row) => row.conversationId)}::uuid[],
        ${rows.map((row) => row.replyToId)}::uuid[],
        ${rows.map((row) => row.message.messageType)}::text[],
        ${rows.map((row) => JSON.stringify(row.message.messageData))}::text[],
        ${rows.map((row) => row.message.wamid)}::text[],
        ${rows.map((row) => row.message.at.toISOString())}::timestamptz[]
      ) WITH ORDINALITY AS m("id", "conversationId", "replyToId", "messageType", "messageData", "wamid", "createdAt", "position")
      ORDER BY m."position"
      ON CONFLICT ("organizationId", "whatsAppMessageId") DO NOTHING
      RETURNING "whatsAppMessageId" AS "wamid"`,
  );
  return stored.map((row) => row.wamid);
}

/**
 * Step 6, one statement. Applied in order (the kept statuses of an inserted wamid first, by
 * time, then the batch's in its order), a status only moves a message forward: the furthest
 * status wins over the message's if it is further (RANK of ./process.ts: PENDING 0, SENT and UNDELIVERED
 * 1, DELIVERED 2, READ 3, FAILED 4), the earliest delivery and read times are kept, and a
 * message without an error takes the first failure's that has a code or a title (else the
 * last failure's details), as applying them one by one does.
 */
async function applyStatuses(
  sql: TenantSql,
  statuses: readonly StatusPlan[],
  inserted: readonly string[],
): Promise<void> {
  await sql.query(
    (org) => Prisma.sql`
      WITH "batch" AS (
        SELECT * FROM unnest(
          ${statuses.map(() => randomUUID())}::uuid[],
          ${statuses.map((status) => status.wamid)}::text[],
          ${statuses.map((status) => status.status)}::text[],
          ${statuses.map((status) => status.at.toISOString())}::timestamptz[],
          ${statuses.map((status) => (status.errorCode === null ? null : String(status.errorCode)))}::int[],
          ${statuses.map((status) => status.errorTitle)}::text[],
          ${statuses.map((status) => status.errorDetails)}::text[]
        ) WITH ORDINALITY AS b("id", "wamid", "status", "at", "errorCode", "errorTitle", "errorDetails", "position")
      ), "kept" AS (
        DELETE FROM "PendingStatus" p
        WHERE p."organizationId" = ${org} AND p."wamid" = ANY(${inserted}::text[])
        RETURNING p."id", p."wamid", p."status"::text AS "status", p."at", p."errorCode", p."errorTitle", p."errorDetails"
      ), "updates" AS (
        SELECT "wamid", "status", "at", "errorCode", "errorTitle", "errorDetails",
          row_number() OVER (ORDER BY "at", "id") AS "position"
        FROM "kept"
        UNION ALL
        SELECT "wamid", "status", "at", "errorCode", "errorTitle", "errorDetails", 1000000000 + "position"
        FROM "batch"
      ), "ranked" AS (
        SELECT u.*, CASE u."status" WHEN 'SENT' THEN 1 WHEN 'UNDELIVERED' THEN 1 WHEN 'DELIVERED' THEN 2
          WHEN 'READ' THEN 3 WHEN 'FAILED' THEN 4 END AS "rank"
        FROM "updates" u
      ), "summary" AS (
        SELECT "wamid",
          (array_agg("status" ORDER BY "rank" DESC, "position"))[1] AS "furthest",
          max("rank") AS "furthestRank",
          min("at") FILTER (WHERE "status" = 'DELIVERED') AS "deliveredAt",
          min("at") FILTER (WHERE "status" = 'READ') AS "readAt",
          bool_or("status" = 'FAILED') AS "failed",
          COALESCE(
            (array_agg(ARRAY["errorCode"::text, "errorTitle", "errorDetails"] ORDER BY "position")
              FILTER (WHERE "status" = 'FAILED' AND ("errorCode" IS NOT NULL OR "errorTitle" IS NOT NULL)))[1:1],
            (array_agg(ARRAY["errorCode"::text, "errorTitle", "errorDetails"] ORDER BY "position" DESC)
              FILTER (WHERE "status" = 'FAILED'))[1:1]
          ) AS "error"
        FROM "ranked" GROUP BY "wamid"
      ), "next" AS (
        SELECT m."id",
          CASE WHEN s."furthestRank" > CASE m."status" WHEN 'PENDING' THEN 0 WHEN 'SENT' THEN 1 WHEN 'UNDELIVERED' THEN 1
            WHEN 'DELIVERED' THEN 2 WHEN 'READ' THEN 3 WHEN 'FAILED' THEN 4 END
            THEN s."furthest"::"MessageStatus" ELSE m."status" END AS "status",
          LEAST(m."deliveredAt", s."deliveredAt") AS "deliveredAt",
          LEAST(m."readAt", s."readAt") AS "readAt",
          s."failed" AND m."errorCode" IS NULL AND m."errorTitle" IS NULL AS "takesError",
          s."error"
        FROM "summary" s
        JOIN "Message" m ON m."organizationId" = ${org} AND m."whatsAppMessageId" = s."wamid"
      ), "applied" AS (
        UPDATE "Message" m
        SET "status" = n."status", "deliveredAt" = n."deliveredAt", "readAt" = n."readAt",
          "errorCode" = CASE WHEN n."takesError" THEN n."error"[1][1]::int ELSE m."errorCode" END,
          "errorTitle" = CASE WHEN n."takesError" THEN n."error"[1][2] ELSE m."errorTitle" END,
          "errorDetails" = CASE WHEN n."takesError" THEN n."error"[1][3] ELSE m."errorDetails" END,
          "updatedAt" = CURRENT_TIMESTAMP
        FROM "next" n
        WHERE m."organizationId" = ${org} AND m."id" = n."id"
          AND (n."status" <> m."status" OR n."deliveredAt" IS DISTINCT FROM m."deliveredAt"
            OR n."readAt" IS DISTINCT FROM m."readAt" OR n."takesError")
        RETURNING m."id"
      ), "waiting" AS (
        INSERT INTO "PendingStatus" ("id", "organizationId", "wamid", "status", "at", "errorCode", "errorTitle", "errorDetails")
        SELECT b."id", ${org}, b."wamid", b."status"::"MessageStatus", b."at", b."errorCode", b."errorTitle", b."errorDetails"
        FROM "batch" b
        WHERE NOT EXISTS (
          SELECT 1 FROM "Message" m WHERE m."organizationId" = ${org} AND m."whatsAppMessageId" = b."wamid"
        )
        ORDER BY b."position"
        ON CONFLICT DO NOTHING
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM "applied")::int AS "applied", (SELECT count(*) FROM "waiting")::int AS "waiting"`,
  );
}
