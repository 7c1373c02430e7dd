// Sending messages: sendMessage records the message PENDING and enqueues its delivery in the
// same transaction (a transactional outbox); nothing leaves before the commit, and a rollback
// leaves no job. The delivery job (src/whatsapp/outbound.ts) sends it and records the outcome.
import { randomUUID } from 'node:crypto';
import { builder } from '../builder.js';
import type { TenantTransaction } from '../db/tenant.js';
import { transactionSql } from '../db/tenant-sql.js';
import { UserErrors } from '../errors.js';
import { isInServiceWindow, serviceWindowExpiresAt } from '../messaging/service-window.js';
import { enqueueDelivery } from '../whatsapp/outbound.js';
import { INVALID, type Invalid, type Validator } from '../validation.js';
import { Message } from './message.js';
import { nodePayload, requires, runMutation } from './mutation.js';

export const SendMessageInput = builder.inputType('SendMessageInput', {
  description: 'The input of `sendMessage`.',
  fields: (t) => ({
    conversationId: t.id({ required: true, description: 'The conversation to send the message in.' }),
    text: t.string({ required: true, description: '1–4096 characters (WhatsApp’s limit).' }),
    replyToId: t.id({ description: 'A message of the same conversation that this one answers.' }),
  }),
});

export const MessagePayload = nodePayload('MessagePayload', {
  description: 'The result of `sendMessage`.',
  field: 'message',
  type: Message,
  model: 'message',
  fieldDescription: 'The message sent; null when the mutation failed.',
});

type ReplyTarget = { id: string; whatsAppMessageId: string | null };

/**
 * The message a new one answers: a message of the same conversation, locked like every
 * row the Validator finds. A message of another conversation is, for this one, not found
 * (when the conversation is itself not found, only the message's existence is checked).
 */
async function replyTarget(
  tx: TenantTransaction,
  v: Validator,
  conversationId: string | Invalid,
  replyToGlobalId: string,
): Promise<ReplyTarget | Invalid> {
  const replyToId = await v.id('Message', ['input', 'replyToId'], replyToGlobalId);
  if (replyToId === INVALID) return INVALID;
  const target = await tx.message.findFirst({
    where: { id: replyToId, ...(conversationId === INVALID ? {} : { conversationId }) },
    select: { id: true, whatsAppMessageId: true },
  });
  return target ?? v.notFound(['input', 'replyToId'], 'Message', replyToGlobalId);
}

builder.mutationFields((t) => ({
  sendMessage: t.field({
    type: MessagePayload,
    ...requires('Update:Conversation'),
    description:
      'Records an OUTBOUND TEXT message with status PENDING, sent by the viewer, and queues its delivery: a background ' +
      'job hands it to WhatsApp through the conversation’s channel, after the messages sent before it in the conversation, ' +
      'and it becomes SENT (then DELIVERED and READ as WhatsApp reports them), or FAILED with `error` when WhatsApp ' +
      'refuses it or cannot be reached for about half an hour. A conversation without a channel only records it (SENT, ' +
      'no WhatsApp id). Only inside WhatsApp’s 24-hour customer-service window (`Conversation.serviceWindowExpiresAt`; ' +
      'OUTSIDE_SERVICE_WINDOW otherwise). The conversation’s lastMessageAt moves to it, and a CLOSED or RESOLVED ' +
      'conversation becomes ACTIVE again. Needs Update:Conversation.',
    args: {
      input: t.arg({
        type: SendMessageInput,
        required: true,
        description: 'The conversation, the text and the message it answers, if any.',
      }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const conversation = await v.id('Conversation', ['input', 'conversationId'], input.conversationId, 'update');
        const { conversationId, text, replyTo } = v.valid({
          conversationId: conversation,
          text: v.messageText(['input', 'text'], input.text),
          replyTo: input.replyToId == null ? null : await replyTarget(tx, v, conversation, input.replyToId),
        });

        const { status, lastInboundMessageAt } = await tx.conversation.findUniqueOrThrow({
          where: { id: conversationId },
          select: { status: true, lastInboundMessageAt: true },
        });
        const createdAt = new Date();
        // Refused up front rather than sent to fail with Meta's 131047 later. The conversation is
        // locked: an inbound message that would reopen the window waits for this check.
        if (!isInServiceWindow(lastInboundMessageAt, createdAt)) {
          const expiresAt = serviceWindowExpiresAt(lastInboundMessageAt);
          throw new UserErrors([
            {
              field: ['input', 'conversationId'],
              code: 'OUTSIDE_SERVICE_WINDOW',
              message:
                (expiresAt === null
                  ? 'The contact has never written in this conversation, '
                  : `WhatsApp’s 24-hour customer-service window closed at ${expiresAt.toISOString()}, `) +
                'so a free-form message cannot be sent: a template message is needed to reopen the conversation.',
            },
          ]);
        }
        const id = randomUUID();
        await tx.message.create({
          data: {
            id,
            organizationId: ctx.viewer.organizationId,
            conversationId,
            direction: 'OUTBOUND',
            status: 'PENDING',
            messageType: 'TEXT',
            messageData: { text },
            replyToId: replyTo?.id ?? null,
            sentById: ctx.viewer.memberId,
            createdAt,
          },
        });
        // lastMessageAt follows the new message by trigger (migration 20261130020107_change_feed),
        // under the conversation's lock, so that concurrent senders never move it backwards.
        if (status !== 'ACTIVE')
          await tx.conversation.update({ where: { id: conversationId }, data: { status: 'ACTIVE' } });
        // The delivery job exists exactly when this transaction commits.
        await enqueueDelivery(transactionSql(tx, ctx.viewer.organizationId), conversationId);
        return { id };
      }),
  }),
}));
