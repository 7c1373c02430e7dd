// Sending messages.
import { randomUUID } from 'node:crypto';
import { builder } from '../builder.js';
import type { TenantTransaction } from '../db/tenant.js';
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
      'Records an OUTBOUND TEXT message with status SENT and hands it to the delivery transport. ' +
      'The conversation’s lastMessageAt moves to it, and a CLOSED or RESOLVED conversation becomes ACTIVE again. ' +
      'Needs Update:Conversation.',
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

        const { status, contact } = await tx.conversation.findUniqueOrThrow({
          where: { id: conversationId },
          select: { status: true, contact: { select: { phone: true } } },
        });
        const id = randomUUID();
        const createdAt = new Date();
        // Record first, deliver last: a write that fails must not leave a message delivered
        // to the contact but missing here, and a delivery that fails rolls the writes back.
        await tx.message.create({
          data: {
            id,
            organizationId: ctx.viewer.organizationId,
            conversationId,
            direction: 'OUTBOUND',
            status: 'SENT',
            messageType: 'TEXT',
            messageData: { text },
            replyToId: replyTo?.id ?? null,
            createdAt,
          },
        });
        // lastMessageAt follows the new message by trigger (migration 20261130020107_change_feed),
        // under the conversation's lock, so that concurrent senders never move it backwards.
        if (status !== 'ACTIVE')
          await tx.conversation.update({ where: { id: conversationId }, data: { status: 'ACTIVE' } });
        const { whatsAppMessageId } = await ctx.transport.send({
          organizationId: ctx.viewer.organizationId,
          conversationId,
          messageId: id,
          to: contact.phone,
          text,
          replyToWhatsAppMessageId: replyTo?.whatsAppMessageId ?? null,
        });
        if (whatsAppMessageId !== null) await tx.message.update({ where: { id }, data: { whatsAppMessageId } });
        return { id };
      }),
  }),
}));
