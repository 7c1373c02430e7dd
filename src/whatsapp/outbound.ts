// Outbound delivery, a transactional outbox: sendMessage records a message PENDING and, in the
// same transaction, enqueues this task for the message's conversation (enqueueDelivery). The
// job runs after the commit, outside any transaction while it waits for WhatsApp, and
// delivers the conversation's PENDING messages one at a time, oldest first (by feed
// position, which is the order of the sendMessage calls: each locks the conversation).
//
// Order: one job per conversation (job key and named queue `whatsapp.send:<conversation>`).
// The key keeps at most one waiting job per conversation; the queue runs a conversation's
// jobs one at a time across every process, so a message enqueued while its conversation's
// job runs waits for it. A message is sent only once the one before it is SENT or FAILED.
//
// Failures (src/whatsapp/cloud-api.ts sorts them): a permanent one (an invalid recipient,
// 131047 outside the window, 132xxx a template problem, 190 a bad token, 100 a bad
// parameter …) makes the message FAILED with Meta's code, title and details, and the next
// message goes on: no retry. A retryable one (no connection, a timeout, HTTP 5xx or 429,
// 130429 throughput, 131056 pair rate …) counts an attempt on the message
// (`Message.sendAttempts`) and schedules the conversation's job again after a delay that
// doubles from 3 s up to 10 min, with jitter (half to all of it, so that the conversations
// a Meta outage failed together do not all come back at once); a sendMessage meanwhile does
// not bring the retry forward (the key keeps the scheduled time). At WHATSAPP_SEND_MAX_ATTEMPTS
// (10, about 25 minutes) the message is FAILED with the last error and the rest of the
// conversation goes on. graphile-worker's own retries are left for errors of the database.
//
// Rate limits (src/whatsapp/send-limits.ts): before each send the job takes a token for the
// channel's phone number (throughput) and for the recipient (pair rate). Without one, the
// send waits for it: here, asleep, when it is due within INLINE_WAIT_MS (the throughput
// limit's few milliseconds); otherwise the conversation's job is scheduled again for when it
// is (the pair rate's seconds), so that a worker is not held. A short wait reserves the token
// (the buckets go below zero, and the senders behind wait longer): the sends then go at the
// bucket's pace, where waiters racing for each token as their timers fired would lose the
// timers' lateness on every token. Neither is an attempt: a burst
// to one recipient is spaced, never failed, and stays in order (the message waited for is
// still the conversation's oldest PENDING one). When Meta answers a throttling error all the
// same (130429 throughput, HTTP 429, 131056 pair rate: another system sending on the number,
// a lower tier than configured), the bucket it names is emptied for every worker, and the
// retry, like every send, takes a token first: the back-off never sends before the limiter
// allows it.
//
// An unknown outcome (no answer in time, a connection cut after the request was written) is
// retried too: at least once, since a chat message that never arrives is worse than a rare
// duplicate. Every send carries our message id as Meta's `biz_opaque_callback_data`, which
// Meta echoes in the message's status webhooks: when the request did reach Meta, its `sent`
// status (usually within seconds, before the retry) names our message, which then gets its
// wamid and status from the webhook (src/whatsapp/process.ts), and the retry finds it no
// longer PENDING and sends nothing. A duplicate remains possible only when Meta took the
// request and its status webhook came after the retry.
import { z } from 'zod';
import { lockKey } from '../db/row-locks.js';
import { type TenantClient, type TenantTransaction, tenantClient } from '../db/tenant.js';
import { type TenantSql, transactionSql } from '../db/tenant-sql.js';
import { enqueueJob } from '../jobs/enqueue.js';
import { defineTask } from '../jobs/task.js';
import type { DeliveryOutcome, OutboundMessage, OutboundTransport } from '../messaging/transport.js';
import { recordOnlyTransport } from '../messaging/transport.js';
import { MemoryRateLimiter } from '../rate-limit/index.js';
import { SecretError } from '../secrets.js';
import { secretContext } from './channels.js';
import {
  type CloudApiAccess,
  callbackDataOf,
  SEND_MAX_ATTEMPTS,
  SEND_RETRY_BASE_MS,
  SEND_RETRY_MAX_MS,
  type SendError,
  sendTextMessage,
} from './cloud-api.js';
import { applyPendingStatuses } from './process.js';
import { SendLimiter, type SendSlot } from './send-limits.js';
import { pause } from '../pause.js';

/** Messages one run delivers before it makes way for other conversations (a new job goes on). */
export const SEND_BATCH = 50;

/** A wait for a send token up to this long is slept here; a longer one reschedules the job. */
export const INLINE_WAIT_MS = 1_000;
/** A reserved token's sleep may run this much late; later, the token is given up (see waitForToken). */
const OVERSLEPT_MS = 15;

/** The limiter of runners given none (CloudApiAccess.sendLimiter): this process's buckets, the defaults. */
const processLimiter = new SendLimiter(new MemoryRateLimiter());

const jobKey = (conversationId: string) => `whatsapp.send:${conversationId}`;

export const deliverMessages = defineTask({
  name: 'whatsapp.sendMessages',
  payload: z.object({ conversationId: z.uuid() }),
  handler: async ({ conversationId }, { organizationId, db, log, cloudApi, signal }) => {
    const tenant = tenantClient(db.prisma, organizationId);
    const maxAttempts = cloudApi.sendMaxAttempts ?? SEND_MAX_ATTEMPTS;
    const limiter = cloudApi.sendLimiter ?? processLimiter;
    // The conversation's recipient and channel, read once per run (a run lasts seconds): each
    // message then costs one read of its own row.
    const conversation = await tenant.conversation.findFirst({
      where: { id: conversationId },
      select: {
        contact: { select: { phone: true } },
        channel: {
          select: { id: true, phoneNumberId: true, status: true, accessTokenSealed: true, messagesPerSecond: true },
        },
      },
    });
    if (!conversation) return;
    const { channel } = conversation;
    const transport = transportFor(channel, cloudApi);
    const slot: SendSlot | null =
      channel === null || 'error' in transport
        ? null
        : {
            phoneNumberId: channel.phoneNumberId,
            to: conversation.contact.phone,
            messagesPerSecond: channel.messagesPerSecond,
          };
    for (let sent = 0; ; sent += 1) {
      const message = await tenant.message.findFirst({
        where: { conversationId, direction: 'OUTBOUND', status: 'PENDING' },
        orderBy: [{ position: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }],
        select: { id: true, messageData: true, sendAttempts: true, replyToId: true },
      });
      if (!message) return;
      if (sent === SEND_BATCH) {
        await enqueueAgain(tenant, organizationId, conversationId, new Date());
        return;
      }
      const replyTo =
        message.replyToId === null
          ? null
          : await tenant.message.findFirst({ where: { id: message.replyToId }, select: { whatsAppMessageId: true } });
      if (slot) {
        const waitMs = await waitForToken(limiter, slot, signal);
        if (waitMs > 0) {
          log.debug({ messageId: message.id, conversationId, retryInMs: waitMs }, 'WhatsApp send limit: waiting');
          await enqueueAgain(tenant, organizationId, conversationId, new Date(Date.now() + waitMs));
          return;
        }
      }
      const outcome: DeliveryOutcome =
        'error' in transport
          ? { ok: false, retry: false, unknown: false, status: null, error: transport.error }
          : await transport.send(
              {
                messageId: message.id,
                to: conversation.contact.phone,
                text: textOf(message.messageData),
                replyToWhatsAppMessageId: replyTo?.whatsAppMessageId ?? null,
              } satisfies OutboundMessage,
              signal,
            );
      if (outcome.ok) {
        await tenant.$transaction((tx) => recordSent(tx, organizationId, message.id, outcome.wamid, log));
        continue;
      }
      const attempt = message.sendAttempts + 1;
      const failure = { messageId: message.id, conversationId, attempt, ...outcome };
      const throttled = throttlingOf(outcome);
      if (slot && throttled) await limiter.throttled(slot, throttled);
      if (!outcome.retry) {
        log.warn(failure, 'WhatsApp refused a message: FAILED');
        await recordFailed(tenant, message.id, outcome.error, attempt);
        continue;
      }
      if (attempt >= maxAttempts) {
        log.warn(failure, 'WhatsApp send failed on its last attempt: FAILED');
        await recordFailed(tenant, message.id, outcome.error, attempt);
        continue;
      }
      const delayMs = retryDelayMs(attempt, cloudApi.sendRetryBaseMs ?? SEND_RETRY_BASE_MS);
      log.warn({ ...failure, retryInMs: delayMs }, 'WhatsApp send failed; retrying later');
      await tenant.message.updateMany({
        where: { id: message.id, status: 'PENDING' },
        data: { sendAttempts: attempt },
      });
      await enqueueAgain(tenant, organizationId, conversationId, new Date(Date.now() + delayMs));
      return;
    }
  },
});

/**
 * Takes a send token, sleeping for it when it is due within INLINE_WAIT_MS (reserved, so that
 * the bucket, not the timer, sets the pace): 0 once it may be sent, else how long until a
 * token is due (the job is to be scheduled again for then). A sleep that overran its time by
 * more than OVERSLEPT_MS (the event loop was busy) gives its token up and takes another: sent
 * that late, it would arrive together with the sends of the next tokens.
 */
async function waitForToken(limiter: SendLimiter, slot: SendSlot, signal: AbortSignal | undefined): Promise<number> {
  for (;;) {
    const permit = await limiter.take(slot, signal?.aborted ? 0 : INLINE_WAIT_MS);
    if (!permit.allowed) return permit.retryAfterMs;
    if (permit.waitMs === 0) return 0;
    const due = Date.now() + permit.waitMs;
    await pause(permit.waitMs, signal);
    // Shutting down while asleep: the job goes on later (the reserved token is lost, not overspent).
    if (signal?.aborted) return 1;
    if (Date.now() - due <= OVERSLEPT_MS) return 0;
  }
}

/** Which limit Meta said was hit, if the answer was a throttling one. */
function throttlingOf(outcome: DeliveryOutcome): 'throughput' | 'pair' | null {
  if (outcome.ok) return null;
  if (outcome.error.code === 131056) return 'pair';
  if (outcome.error.code === 130429 || outcome.status === 429) return 'throughput';
  return null;
}

/** The delay before retry number `attempt` (from 1): base·2^(attempt−1), at most SEND_RETRY_MAX_MS, times a jitter in [0.5, 1]. */
export function retryDelayMs(attempt: number, baseMs = SEND_RETRY_BASE_MS): number {
  const full = Math.min(baseMs * 2 ** Math.min(attempt - 1, 30), SEND_RETRY_MAX_MS);
  return Math.round(full * (0.5 + Math.random() / 2));
}

/**
 * Adds the conversation's delivery job in the transaction of `sql`: from sendMessage, due now
 * unless a retry is already scheduled (it stays: the new message waits behind the one
 * retried); from the job itself, at `retryAt`.
 */
export function enqueueDelivery(sql: TenantSql, conversationId: string, retryAt?: Date): Promise<{ id: string }> {
  return enqueueJob(
    sql,
    deliverMessages,
    { conversationId },
    {
      key: jobKey(conversationId),
      queue: jobKey(conversationId),
      ...(retryAt ? { runAt: retryAt, keyMode: 'replace' } : { keyMode: 'preserve_run_at' }),
    },
  );
}

/** A new job for the conversation at `runAt`, behind the running one in its queue. */
async function enqueueAgain(
  tenant: TenantClient,
  organizationId: string,
  conversationId: string,
  runAt: Date,
): Promise<void> {
  await tenant.$transaction((tx) => enqueueDelivery(transactionSql(tx, organizationId), conversationId, runAt));
}

type Channel = {
  id: string;
  phoneNumberId: string;
  status: string;
  accessTokenSealed: string | null;
} | null;

/**
 * The transport of a conversation: the Cloud API with its channel's access token; record only
 * without a channel. A channel that cannot send is a permanent error of the message.
 */
function transportFor(channel: Channel, cloudApi: CloudApiAccess): OutboundTransport | { error: SendError } {
  if (channel === null) return recordOnlyTransport;
  const cannot = (why: string): { error: SendError } => ({
    error: { code: null, title: `The conversation’s WhatsApp channel cannot send: ${why}.`, details: null },
  });
  if (channel.status !== 'CONNECTED') return cannot('it is disconnected');
  if (channel.accessTokenSealed === null) return cannot('it has no access token');
  if (cloudApi.secrets === undefined) return cannot('no SECRETS_KEY opens its access token');
  let accessToken: string;
  try {
    accessToken = cloudApi.secrets.open(channel.accessTokenSealed, secretContext(channel.id, 'accessToken'));
  } catch (error) {
    if (!(error instanceof SecretError)) throw error;
    return cannot('neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS opens its access token');
  }
  return {
    send: async (message, signal) => {
      const outcome = await sendTextMessage({
        apiUrl: cloudApi.url,
        accessToken,
        phoneNumberId: channel.phoneNumberId,
        to: message.to,
        text: message.text,
        replyTo: message.replyToWhatsAppMessageId,
        callbackData: callbackDataOf(message.messageId),
        signal,
        ...(cloudApi.sendTimeoutMs === undefined ? {} : { timeoutMs: cloudApi.sendTimeoutMs }),
      });
      return outcome;
    },
  };
}

/** sendMessage stores `{ text }`. */
function textOf(data: unknown): string {
  const text = (data as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : '';
}

/**
 * The send succeeded: the message gets its wamid and moves to SENT, only forward (a status
 * webhook may have moved it further already, having named it by its callback data), and the
 * statuses that arrived for the wamid before this are applied. Under the wamid's lock, like
 * the webhook's processing of that wamid.
 */
async function recordSent(
  tx: TenantTransaction,
  organizationId: string,
  messageId: string,
  wamid: string | null,
  log: { warn: (fields: object, message: string) => void },
): Promise<void> {
  if (wamid !== null) await lockKey(transactionSql(tx, organizationId), `wamid:${wamid}`);
  // Conditional updates: a status webhook naming this message may set its wamid concurrently.
  const claimed =
    wamid === null
      ? 0
      : (
          await tx.message.updateMany({
            where: { id: messageId, whatsAppMessageId: null },
            data: { whatsAppMessageId: wamid },
          })
        ).count;
  await tx.message.updateMany({ where: { id: messageId, status: 'PENDING' }, data: { status: 'SENT' } });
  if (wamid === null) return;
  if (claimed > 0) {
    await applyPendingStatuses(tx, organizationId, wamid);
    return;
  }
  const kept = await tx.message.findFirst({ where: { id: messageId }, select: { whatsAppMessageId: true } });
  if (kept && kept.whatsAppMessageId !== wamid) {
    // An earlier attempt's outcome was unknown, Meta had taken it, and its status came after this retry.
    log.warn({ messageId, kept: kept.whatsAppMessageId, duplicate: wamid }, 'a message was sent twice');
  }
}

/** The message ends FAILED with the error, unless something else moved it on meanwhile. */
async function recordFailed(
  tenant: TenantClient,
  messageId: string,
  error: SendError,
  attempts: number,
): Promise<void> {
  await tenant.message.updateMany({
    where: { id: messageId, status: 'PENDING' },
    data: {
      status: 'FAILED',
      errorCode: error.code,
      errorTitle: error.title,
      errorDetails: error.details,
      sendAttempts: attempts,
    },
  });
}
