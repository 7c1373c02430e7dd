// Processing a stored webhook delivery (./deliveries.ts stores it, with a job of this task, in
// one transaction): the messages and statuses of its changes become contacts, conversations,
// messages and message states of the delivery's organization.
//
// Each event (one message, one status) is processed in a transaction of its own, so one bad
// event does not block the others: what could not be processed is recorded in the row's
// `problems` (`{ event: "entry[0].changes[0].value.messages[1]", reason }`). The row ends
// PROCESSED, or REJECTED (with a reason) when it held events and none could be processed. An
// error of the database is not a problem of the event: it fails the job, which is retried.
//
// Everything is idempotent, since a job runs at least once and Meta delivers at least once: a
// message is inserted once per wamid (`Message.whatsAppMessageId`, unique per organization,
// inserted with ON CONFLICT DO NOTHING), and a status only ever moves a message forward. The
// message and the statuses of one wamid are serialised by a lock on the wamid (lockKey), so
// that a status arriving while its message is inserted is either applied to it or kept as a
// PendingStatus that the insert then applies.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { lockKey, rowLocker } from '../db/row-locks.js';
import { ConnectionShare } from '../db/connection-share.js';
import type { Database } from '../db/database.js';
import { type TenantTransaction, tenantClient } from '../db/tenant.js';
import { tenantSql, transactionSql } from '../db/tenant-sql.js';
import type { MessageStatus, MessageType } from '../generated/prisma/enums.js';
import { isTransientConflict } from '../errors.js';
import { defineTask } from '../jobs/task.js';
import type { Logger } from '../logger.js';
import { NAME_MAX } from '../validation.js';
import { messageIdFromCallbackData } from './cloud-api.js';
import {
  applyEvents,
  claimDeliveries,
  type DeliveryOutcome,
  deliveryReceived,
  type EventPlan,
  finishDeliveries,
  type MessagePlan,
  type StatusPlan,
} from './process-batch.js';

/** An event that cannot be processed as it is: recorded with its reason, never retried. */
class EventProblem extends Error {
  override name = 'EventProblem';
}

export interface Problem {
  /** Where the event is in the stored body, e.g. `entry[0].changes[0].value.messages[1]`. */
  event: string;
  reason: string;
}

/** Meta's message types and ours; any other type (a new one) is UNSUPPORTED, its object kept. */
const MESSAGE_TYPES: Readonly<Record<string, MessageType>> = {
  text: 'TEXT',
  image: 'IMAGE',
  video: 'VIDEO',
  audio: 'AUDIO',
  voice: 'AUDIO',
  document: 'DOCUMENT',
  sticker: 'STICKER',
  location: 'LOCATION',
  contacts: 'CONTACTS',
  interactive: 'INTERACTIVE',
  button: 'BUTTON',
  reaction: 'REACTION',
  order: 'ORDER',
  system: 'SYSTEM',
  request_welcome: 'SYSTEM',
  unknown: 'UNSUPPORTED',
  unsupported: 'UNSUPPORTED',
};

export function messageTypeOf(metaType: string): MessageType {
  return (Object.hasOwn(MESSAGE_TYPES, metaType) ? MESSAGE_TYPES[metaType] : undefined) ?? 'UNSUPPORTED';
}

/** Meta's statuses, in the order a message goes through them. */
const STATUSES: Readonly<Record<string, MessageStatus>> = {
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'READ',
  failed: 'FAILED',
};

/** How far each status is: a status only ever replaces one that is not further. */
const RANK: Readonly<Record<MessageStatus, number>> = {
  PENDING: 0,
  SENT: 1,
  UNDELIVERED: 1,
  DELIVERED: 2,
  READ: 3,
  FAILED: 4,
};

/** 9999-12-31T23:59:59Z: a later time is not one the database stores. */
const LAST_SECOND = 253_402_300_799;
/** Meta's message ids (`wamid.HBg…`) are printable ASCII. */
const wamidSchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,512}$/, 'is not a message id of 1 to 512 printable ASCII characters');
/** Seconds since the epoch, as Meta writes them (a string of digits). */
const timestampSchema = z
  .union([z.string().regex(/^\d{1,12}$/), z.number().int().nonnegative()])
  .transform((value) => Number(value))
  .refine((value) => value <= LAST_SECOND, 'is after the year 9999')
  .transform((value) => new Date(value * 1000));
/** A phone number without its `+`, as Meta writes `wa_id` and `from`. */
const waIdSchema = z.string().regex(/^[1-9]\d{5,14}$/, 'is not a phone number of 6 to 15 digits');

const inboundMessageSchema = z.looseObject({
  id: wamidSchema,
  from: waIdSchema,
  timestamp: timestampSchema,
  type: z.string().min(1).max(64),
  context: z.looseObject({ id: wamidSchema.optional() }).optional(),
  reaction: z.looseObject({ message_id: wamidSchema.optional() }).optional(),
});

const statusSchema = z.looseObject({
  id: wamidSchema,
  status: z.string(),
  timestamp: timestampSchema,
  // What our send carried (src/whatsapp/cloud-api.ts callbackDataOf): names our message.
  biz_opaque_callback_data: z.string().optional().catch(undefined),
  errors: z
    .array(
      z.looseObject({
        // An integer column: a code out of its range is not kept.
        code: z
          .number()
          .int()
          .min(-(2 ** 31))
          .max(2 ** 31 - 1)
          .optional()
          .catch(undefined),
        title: z.string().optional(),
        message: z.string().optional(),
        error_data: z.looseObject({ details: z.string().optional() }).optional(),
      }),
    )
    .optional(),
});

const contactsSchema = z.array(
  z.looseObject({ wa_id: z.string().optional(), profile: z.looseObject({ name: z.string().optional() }).optional() }),
);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A string PostgreSQL takes: no NUL character, no lone surrogate (text and jsonb refuse both). */
/** With the `u` flag a surrogate matches only when it is not half of a pair. */
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;
const storable = (text: string) => text.replaceAll('\u0000', '').replace(LONE_SURROGATES, '\uFFFD');

const cut = (text: string, max: number) => storable(text.length > max ? text.slice(0, max) : text);

/** A JSON value with every string (and key) storable. */
function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storable(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storable(key), storableJson(item)]));
  }
  return value;
}

function reasonOf(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'the event'}: ${issue.message}`)
    .join('; ');
}

function parsed<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new EventProblem(reasonOf(result.error));
  return result.data;
}

/** One event of a delivery: where it is, what it says (checked), and how to process it alone. */
interface Event {
  path: string;
  /** The checked event, for the set-based path (./process-batch.ts); throws an EventProblem. */
  plan(): EventPlan;
  run(tx: TenantTransaction, organizationId: string): Promise<void>;
}

interface StatusUpdate {
  status: MessageStatus;
  at: Date;
  errorCode: number | null;
  errorTitle: string | null;
  errorDetails: string | null;
}

/**
 * Applies a status to the message with this wamid, or keeps it for later: only forward (a
 * further status replaces the message's, the earliest delivery and read times are kept, the
 * first failure's error is kept), so that any order of the same statuses ends the same.
 */
async function applyStatus(
  tx: TenantTransaction,
  organizationId: string,
  wamid: string,
  update: StatusUpdate,
  /** Our message id, from the status's callback data. */
  namedMessageId: string | null = null,
): Promise<void> {
  const select = { id: true, status: true, deliveredAt: true, readAt: true, errorCode: true, errorTitle: true };
  let message = await tx.message.findFirst({ where: { whatsAppMessageId: wamid }, select });
  if (!message && namedMessageId !== null) {
    // A send whose answer never came (src/whatsapp/outbound.ts): the status names our message,
    // which takes the wamid unless it already has one (a retry's).
    const { count } = await tx.message.updateMany({
      where: { id: namedMessageId, direction: 'OUTBOUND', whatsAppMessageId: null },
      data: { whatsAppMessageId: wamid },
    });
    if (count > 0) {
      message = await tx.message.findFirst({ where: { id: namedMessageId }, select });
      await applyPendingStatuses(tx, organizationId, wamid);
    }
  }
  if (!message) {
    await tx.pendingStatus.createMany({ data: [{ organizationId, wamid, ...update }], skipDuplicates: true });
    return;
  }
  const earliest = (current: Date | null) => (current === null || update.at < current ? update.at : current);
  const data: Record<string, unknown> = {};
  if (RANK[update.status] > RANK[message.status]) data.status = update.status;
  if (update.status === 'DELIVERED' && earliest(message.deliveredAt) !== message.deliveredAt) {
    data.deliveredAt = update.at;
  }
  if (update.status === 'READ' && earliest(message.readAt) !== message.readAt) data.readAt = update.at;
  if (update.status === 'FAILED' && message.errorCode === null && message.errorTitle === null) {
    data.errorCode = update.errorCode;
    data.errorTitle = update.errorTitle;
    data.errorDetails = update.errorDetails;
  }
  if (Object.keys(data).length > 0) await tx.message.update({ where: { id: message.id }, data });
}

/** Applies the statuses kept for `wamid` (its message was just inserted), then forgets them. */
export async function applyPendingStatuses(
  tx: TenantTransaction,
  organizationId: string,
  wamid: string,
): Promise<void> {
  const pending = await tx.pendingStatus.findMany({ where: { wamid }, orderBy: [{ at: 'asc' }, { id: 'asc' }] });
  if (pending.length === 0) return;
  for (const { status, at, errorCode, errorTitle, errorDetails } of pending) {
    await applyStatus(tx, organizationId, wamid, { status, at, errorCode, errorTitle, errorDetails });
  }
  await tx.pendingStatus.deleteMany({ where: { id: { in: pending.map((status) => status.id) } } });
}

function statusPlan(raw: unknown): StatusPlan {
  const event = parsed(statusSchema, raw);
  const status = Object.hasOwn(STATUSES, event.status) ? STATUSES[event.status] : undefined;
  if (!status) throw new EventProblem(`status ${JSON.stringify(cut(event.status, 64))} is not one we apply`);
  const error = event.errors?.[0];
  return {
    kind: 'status',
    wamid: event.id,
    status,
    at: event.timestamp,
    errorCode: status === 'FAILED' ? (error?.code ?? null) : null,
    errorTitle: status === 'FAILED' ? cut(error?.title ?? error?.message ?? '', 1_000) || null : null,
    errorDetails: status === 'FAILED' ? cut(error?.error_data?.details ?? '', 4_000) || null : null,
    messageId: messageIdFromCallbackData(event.biz_opaque_callback_data),
  };
}

function statusEvent(path: string, raw: unknown): Event {
  return {
    path,
    plan: () => statusPlan(raw),
    async run(tx, organizationId) {
      const { wamid, kind: _kind, messageId, ...update } = statusPlan(raw);
      await lockKey(transactionSql(tx, organizationId), `wamid:${wamid}`);
      await applyStatus(tx, organizationId, wamid, update, messageId);
    },
  };
}

function messagePlan(raw: unknown, contacts: unknown, channelId: string | null): MessagePlan {
  const event = parsed(inboundMessageSchema, raw);
  if (channelId === null) throw new EventProblem('the channel of this delivery was deleted');
  const phone = `+${event.from}`;
  const profiles = contactsSchema.safeParse(contacts);
  const profileName = profiles.success
    ? profiles.data.find((contact) => contact.wa_id === event.from)?.profile?.name?.trim()
    : undefined;
  return {
    kind: 'message',
    wamid: event.id,
    phone,
    name: cut(profileName || phone, NAME_MAX),
    channelId,
    messageType: messageTypeOf(event.type),
    messageData: storableJson(raw),
    at: event.timestamp,
    replyTo: (event.type === 'reaction' ? event.reaction?.message_id : event.context?.id) ?? null,
  };
}

function messageEvent(path: string, raw: unknown, contacts: unknown, channelId: string | null): Event {
  return {
    path,
    plan: () => messagePlan(raw, contacts, channelId),
    async run(tx, organizationId) {
      const event = messagePlan(raw, contacts, channelId);
      const sql = transactionSql(tx, organizationId);
      await lockKey(sql, `wamid:${event.wamid}`);
      const known = await tx.message.findFirst({ where: { whatsAppMessageId: event.wamid }, select: { id: true } });
      if (known) return;

      const { phone } = event;
      await tx.contact.createMany({ data: [{ organizationId, phone, name: event.name }], skipDuplicates: true });
      const contact = await tx.contact.findFirst({ where: { phone }, select: { id: true } });
      if (!contact) throw new Error(`The contact ${phone} was neither found nor created`);
      // One conversation per contact and channel: messages of the contact wait for each other here.
      await rowLocker(sql)('Contact', [contact.id], 'update');

      let conversation = await tx.conversation.findFirst({
        where: { contactId: contact.id, channelId: event.channelId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        select: { id: true, status: true },
      });
      if (!conversation) {
        conversation = await tx.conversation.create({
          data: {
            organizationId,
            contactId: contact.id,
            channelId: event.channelId,
            status: 'ACTIVE',
            initiatedBy: 'CONTACT',
          },
          select: { id: true, status: true },
        });
      } else if (conversation.status !== 'ACTIVE') {
        await tx.conversation.update({ where: { id: conversation.id }, data: { status: 'ACTIVE' } });
      }

      const replyTo = event.replyTo
        ? await tx.message.findFirst({ where: { whatsAppMessageId: event.replyTo }, select: { id: true } })
        : null;
      const id = randomUUID();
      const inserted = await tx.message.createMany({
        data: [
          {
            id,
            organizationId,
            conversationId: conversation.id,
            replyToId: replyTo?.id ?? null,
            direction: 'INBOUND',
            status: 'DELIVERED',
            messageType: event.messageType,
            messageData: event.messageData as object,
            whatsAppMessageId: event.wamid,
            createdAt: event.at,
          },
        ],
        skipDuplicates: true,
      });
      // The conversation's lastMessageAt follows by trigger, and only forward: an older
      // message delivered late leaves it.
      if (inserted.count === 0) return;
      await applyPendingStatuses(tx, organizationId, event.wamid);
    },
  };
}

/** The events of a stored body, in order; a body we cannot read at all is a reason. */
function eventsOf(body: string, channelId: string | null): Event[] | string {
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    return 'the stored body is not JSON';
  }
  if (!isObject(payload) || !Array.isArray(payload.entry)) return 'the body has no "entry" array';
  const events: Event[] = [];
  payload.entry.forEach((entry: unknown, entryIndex) => {
    if (!isObject(entry) || !Array.isArray(entry.changes)) return;
    entry.changes.forEach((change: unknown, changeIndex) => {
      // Other fields (template status, quality, account alerts) are not processed here.
      if (!isObject(change) || change.field !== 'messages' || !isObject(change.value)) return;
      const value = change.value;
      const at = `entry[${entryIndex}].changes[${changeIndex}].value`;
      if (Array.isArray(value.messages)) {
        value.messages.forEach((message: unknown, index) => {
          events.push(messageEvent(`${at}.messages[${index}]`, message, value.contacts, channelId));
        });
      }
      if (Array.isArray(value.statuses)) {
        value.statuses.forEach((status: unknown, index) => {
          events.push(statusEvent(`${at}.statuses[${index}]`, status));
        });
      }
    });
  });
  return events;
}

/** Problems listed in a REJECTED row's reason. */
const REASONS_LISTED = 3;

/** How a delivery ends: PROCESSED, or REJECTED when it held events and none could be processed. */
function outcomeOf(id: string, events: Event[] | string, problems: Problem[]): DeliveryOutcome {
  const rejected = typeof events === 'string' || (events.length > 0 && problems.length === events.length);
  const reason =
    typeof events === 'string'
      ? events
      : rejected
        ? problems
            .slice(0, REASONS_LISTED)
            .map((problem) => `${problem.event}: ${problem.reason}`)
            .join('; ') + (problems.length > REASONS_LISTED ? `; and ${problems.length - REASONS_LISTED} more` : '')
        : null;
  return { id, status: rejected ? 'REJECTED' : 'PROCESSED', reason, problems };
}

/** Deliveries one job claims and processes together (./process-batch.ts). */
export const BATCH_DELIVERIES = 50;
/** Runs of a batch that a concurrent transaction aborted (a deadlock) before it goes event by event. */
const BATCH_ATTEMPTS = 3;
/** How long one batch may hold its transaction (10,000 events in one delivery fit easily). */
const BATCH_TIMEOUT_MS = 60_000;

/**
 * The set-based path: this job's delivery and up to BATCH_DELIVERIES − 1 others of the
 * organization, in one transaction. Returns their outcomes.
 */
function processBatch(db: Database, organizationId: string, deliveryId: string): Promise<DeliveryOutcome[]> {
  return db.prisma.$transaction(
    async (tx) => {
      const sql = transactionSql(tx, organizationId);
      const claimed = await claimDeliveries(sql, deliveryId, BATCH_DELIVERIES);
      const plans: EventPlan[] = [];
      const outcomes = claimed.map((delivery) => {
        const events = eventsOf(delivery.body, delivery.channelId);
        const problems: Problem[] = [];
        if (typeof events !== 'string') {
          for (const event of events) {
            try {
              plans.push(event.plan());
            } catch (error) {
              if (!(error instanceof EventProblem)) throw error;
              problems.push({ event: event.path, reason: error.message });
            }
          }
        }
        return outcomeOf(delivery.id, events, problems);
      });
      await applyEvents(sql, plans);
      await finishDeliveries(sql, outcomes);
      return outcomes;
    },
    { timeout: BATCH_TIMEOUT_MS, maxWait: BATCH_TIMEOUT_MS },
  );
}

/** The per-event path: each event of the delivery in a transaction of its own, a bad one recorded. */
async function processEventByEvent(
  db: Database,
  organizationId: string,
  deliveryId: string,
): Promise<DeliveryOutcome | null> {
  const tenant = tenantClient(db.prisma, organizationId);
  const delivery = await tenant.webhookDelivery.findFirst({
    where: { id: deliveryId },
    select: { status: true, body: true, channelId: true },
  });
  if (delivery?.status !== 'RECEIVED') return null;
  const events = eventsOf(delivery.body, delivery.channelId);
  const problems: Problem[] = [];
  if (typeof events !== 'string') {
    for (const event of events) {
      try {
        await tenant.$transaction((tx) => event.run(tx, organizationId));
      } catch (error) {
        if (!(error instanceof EventProblem)) throw error;
        problems.push({ event: event.path, reason: error.message });
      }
    }
  }
  const outcome = outcomeOf(deliveryId, events, problems);
  await tenant.webhookDelivery.updateMany({
    where: { id: deliveryId, status: 'RECEIVED' },
    data: { status: outcome.status, reason: outcome.reason, problems: problems as never, processedAt: new Date() },
  });
  return outcome;
}

/** A short random pause before running a batch again, so that the two sides of a deadlock do not meet again. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));

/** Rounds of a job whose delivery another batch held and then gave back (it rolled back). */
const MAX_ROUNDS = 5;

/**
 * The set-based path, with the per-event path as its fallback: the outcomes of the deliveries
 * processed. A batch that a concurrent transaction aborted (a deadlock) is run again; one that
 * failed otherwise was rolled back, so the other deliveries it held go back to their own jobs,
 * and this job's delivery is processed event by event, where a bad event is isolated (a
 * database error there fails the job, which is retried).
 */
async function processSome(
  db: Database,
  organizationId: string,
  deliveryId: string,
  log: Logger,
): Promise<DeliveryOutcome[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await processBatch(db, organizationId, deliveryId);
    } catch (error) {
      if (attempt < BATCH_ATTEMPTS && isTransientConflict(error)) {
        await backoff(attempt);
        continue;
      }
      log.warn({ deliveryId, err: error }, 'set-based processing failed; processing the delivery event by event');
      const outcome = await processEventByEvent(db, organizationId, deliveryId);
      return outcome ? [outcome] : [];
    }
  }
}

export const processWebhookDelivery = defineTask({
  name: 'whatsapp.processDelivery',
  payload: z.object({ deliveryId: z.uuid() }),
  maxAttempts: 10,
  handler: async ({ deliveryId }, { organizationId, db, log, feed }) => {
    const outside = tenantSql(organizationId, db, new ConnectionShare(1));
    // Gone (its organization was deleted), or processed by an earlier run or another job's batch.
    if (!(await deliveryReceived(outside, deliveryId))) return;
    for (let round = 1; ; round += 1) {
      const outcomes = await processSome(db, organizationId, deliveryId, log);
      // Committed: subscribers on every instance read the new feed events now, not at their next poll.
      if (outcomes.length > 0) feed.committed(organizationId);
      for (const outcome of outcomes) {
        if (outcome.problems.length > 0) {
          log.warn(
            { deliveryId: outcome.id, problems: outcome.problems.slice(0, 10) },
            'WhatsApp delivery events not processed',
          );
        }
      }
      if (outcomes.some((outcome) => outcome.id === deliveryId)) return;
      // Another job's batch holds this delivery (this one processed others meanwhile): done
      // when that batch commits; taken again if it rolled back.
      if (!(await deliveryReceived(outside, deliveryId, true))) return;
      if (round === MAX_ROUNDS)
        throw new Error(`Delivery ${deliveryId} was taken back by other batches ${round} times`);
    }
  },
});
