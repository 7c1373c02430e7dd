// Writing conversations: status and tags, assignment, read state.
import { builder } from '../builder.js';
import { Conversation, ConversationStatus } from './conversation.js';
import { loadPayloadNode, type Payload, requires, runMutation, UserError } from './mutation.js';

export const UpdateConversationInput = builder.inputType('UpdateConversationInput', {
  description: 'An omitted (or null) field is left unchanged; `tagIds` given replaces the whole set.',
  fields: (t) => ({
    id: t.id({ required: true }),
    status: t.field({ type: ConversationStatus }),
    tagIds: t.idList(),
  }),
});

export const AssignConversationInput = builder.inputType('AssignConversationInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    memberId: t.id({ required: true, description: 'A member of the organization.' }),
  }),
});

export const UnassignConversationInput = builder.inputType('UnassignConversationInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

export const MarkConversationReadInput = builder.inputType('MarkConversationReadInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

export const ConversationPayload = builder
  .objectRef<Payload & { conversationId?: string }>('ConversationPayload')
  .implement({
    fields: (t) => ({
      conversation: t.field({
        type: Conversation,
        nullable: true,
        resolve: (payload, _args, ctx, info) => loadPayloadNode(ctx, info, 'conversation', payload.conversationId),
      }),
      userErrors: t.field({ type: [UserError], resolve: (payload) => payload.userErrors }),
    }),
  });

builder.mutationFields((t) => ({
  updateConversation: t.field({
    type: ConversationPayload,
    ...requires('Update:Conversation'),
    args: { input: t.arg({ type: UpdateConversationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const id = await v.id('Conversation', ['input', 'id'], input.id, 'update');
        const tagIds = input.tagIds ? await v.ids('Tag', ['input', 'tagIds'], input.tagIds) : undefined;
        v.check();
        await tx.conversation.update({
          where: { id: id! },
          data: { ...(input.status ? { status: input.status } : {}), updatedAt: new Date() },
        });
        if (tagIds) {
          await tx.conversationTag.deleteMany({ where: { conversationId: id!, tagId: { notIn: tagIds } } });
          await tx.conversationTag.createMany({
            data: tagIds.map((tagId) => ({ organizationId: ctx.viewer.organizationId, conversationId: id!, tagId })),
            skipDuplicates: true,
          });
        }
        return { conversationId: id! };
      }),
  }),

  assignConversation: t.field({
    type: ConversationPayload,
    ...requires('Assign:Conversation'),
    args: { input: t.arg({ type: AssignConversationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const id = await v.id('Conversation', ['input', 'id'], input.id, 'update');
        const memberId = await v.id('OrganizationMember', ['input', 'memberId'], input.memberId);
        v.check();
        await tx.conversation.update({ where: { id: id! }, data: { assignedToId: memberId! } });
        return { conversationId: id! };
      }),
  }),

  unassignConversation: t.field({
    type: ConversationPayload,
    ...requires('Unassign:Conversation'),
    args: { input: t.arg({ type: UnassignConversationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const id = await v.id('Conversation', ['input', 'id'], input.id, 'update');
        v.check();
        await tx.conversation.update({ where: { id: id! }, data: { assignedToId: null } });
        return { conversationId: id! };
      }),
  }),

  markConversationRead: t.field({
    type: ConversationPayload,
    ...requires('Update:Conversation'),
    description: 'Marks every inbound message that is not READ as READ.',
    args: { input: t.arg({ type: MarkConversationReadInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const id = await v.id('Conversation', ['input', 'id'], input.id);
        v.check();
        await tx.message.updateMany({
          where: { conversationId: id!, direction: 'INBOUND', status: { not: 'READ' } },
          data: { status: 'READ' },
        });
        return { conversationId: id! };
      }),
  }),
}));
