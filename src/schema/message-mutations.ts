// Sending messages.
import { randomUUID } from 'node:crypto';
import { builder } from '../builder.js';
import { Message } from './message.js';
import { loadPayloadNode, type Payload, requires, runMutation, UserError } from './mutation.js';

export const SendMessageInput = builder.inputType('SendMessageInput', {
  description: 'The input of `sendMessage`.',
  fields: (t) => ({
    conversationId: t.id({ required: true, description: 'The conversation to send the message in.' }),
    text: t.string({ required: true, description: '1–4096 characters (WhatsApp’s limit).' }),
    replyToId: t.id({ description: 'A message of the same conversation that this one answers.' }),
  }),
});

export const MessagePayload = builder.objectRef<Payload & { messageId?: string }>('MessagePayload').implement({
  description: 'The result of `sendMessage`.',
  fields: (t) => ({
    message: t.field({
      type: Message,
      nullable: true,
      description: 'The message sent; null when the mutation failed (see userErrors).',
      resolve: (payload, _args, ctx, info) => loadPayloadNode(ctx, info, 'message', payload.messageId),
    }),
    userErrors: t.field({
      type: [UserError],
      description: 'Why the mutation did nothing; empty when it succeeded.',
      resolve: (payload) => payload.userErrors,
    }),
  }),
});

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
        const conversationId = await v.id('Conversation', ['input', 'conversationId'], input.conversationId, 'update');
        const text = v.messageText(['input', 'text'], input.text);
        let replyTo: { id: string; whatsAppMessageId: string | null } | null = null;
        if (input.replyToId != null) {
          const replyToId = await v.id('Message', ['input', 'replyToId'], input.replyToId);
          replyTo = replyToId
            ? await tx.message.findFirst({
                where: { id: replyToId, conversationId },
                select: { id: true, whatsAppMessageId: true },
              })
            : null;
          // A message of another conversation is, for this conversation, not found.
          if (replyToId && !replyTo) v.notFound(['input', 'replyToId'], 'Message', input.replyToId);
        }
        v.check();

        const conversation = await tx.conversation.findUniqueOrThrow({
          where: { id: conversationId! },
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
            conversationId: conversationId!,
            direction: 'OUTBOUND',
            status: 'SENT',
            messageType: 'TEXT',
            messageData: { text: text! },
            replyToId: replyTo?.id ?? null,
            createdAt,
          },
        });
        await tx.conversation.update({
          where: { id: conversationId! },
          data: { lastMessageAt: createdAt, ...(conversation.status !== 'ACTIVE' ? { status: 'ACTIVE' } : {}) },
        });
        const { whatsAppMessageId } = await ctx.transport.send({
          organizationId: ctx.viewer.organizationId,
          conversationId: conversationId!,
          messageId: id,
          to: conversation.contact.phone,
          text: text!,
          replyToWhatsAppMessageId: replyTo?.whatsAppMessageId ?? null,
        });
        if (whatsAppMessageId !== null) await tx.message.update({ where: { id }, data: { whatsAppMessageId } });
        return { messageId: id };
      }),
  }),
}));
