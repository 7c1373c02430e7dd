// Writing conversations: status and tags, assignment, read state.
import { builder } from '../builder.js';
import { Conversation, ConversationStatus } from './conversation.js';
import { idInput, nodePayload, replaceLinks, requires, runMutation } from './mutation.js';

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

export const UnassignConversationInput = idInput('UnassignConversationInput', 'The conversation to unassign.');

export const MarkConversationReadInput = idInput('MarkConversationReadInput', 'The conversation to mark read.');

export const ConversationPayload = nodePayload('ConversationPayload', {
  field: 'conversation',
  type: Conversation,
  model: 'conversation',
  description: 'The conversation as written; null when the mutation failed.',
});

builder.mutationFields((t) => ({
  updateConversation: t.field({
    type: ConversationPayload,
    ...requires('Update:Conversation'),
    args: { input: t.arg({ type: UpdateConversationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id, tagIds } = v.valid({
          id: await v.id('Conversation', ['input', 'id'], input.id, 'update'),
          tagIds: input.tagIds ? await v.ids('Tag', ['input', 'tagIds'], input.tagIds) : undefined,
        });
        await tx.conversation.update({
          where: { id },
          data: { ...(input.status ? { status: input.status } : {}), updatedAt: new Date() },
        });
        if (tagIds) {
          await replaceLinks(tx.conversationTag, ctx.viewer.organizationId, { conversationId: id }, 'tagId', tagIds);
        }
        return { id };
      }),
  }),

  assignConversation: t.field({
    type: ConversationPayload,
    ...requires('Assign:Conversation'),
    args: { input: t.arg({ type: AssignConversationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id, memberId } = v.valid({
          id: await v.id('Conversation', ['input', 'id'], input.id, 'update'),
          memberId: await v.id('OrganizationMember', ['input', 'memberId'], input.memberId),
        });
        await tx.conversation.update({ where: { id }, data: { assignedToId: memberId } });
        return { id };
      }),
  }),

  unassignConversation: t.field({
    type: ConversationPayload,
    ...requires('Unassign:Conversation'),
    args: { input: t.arg({ type: UnassignConversationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id } = v.valid({ id: await v.id('Conversation', ['input', 'id'], input.id, 'update') });
        await tx.conversation.update({ where: { id }, data: { assignedToId: null } });
        return { id };
      }),
  }),

  markConversationRead: t.field({
    type: ConversationPayload,
    ...requires('Update:Conversation'),
    description: 'Marks every inbound message that is not READ as READ.',
    args: { input: t.arg({ type: MarkConversationReadInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id } = v.valid({ id: await v.id('Conversation', ['input', 'id'], input.id) });
        await tx.message.updateMany({
          where: { conversationId: id, direction: 'INBOUND', status: { not: 'READ' } },
          data: { status: 'READ' },
        });
        return { id };
      }),
  }),
}));
