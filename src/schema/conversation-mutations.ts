// Writing conversations: status and tags, assignment, read state.
import { builder } from '../builder.js';
import { IDS_MAX } from '../validation.js';
import { Conversation, ConversationStatus } from './conversation.js';
import { idInput, nodePayload, replaceLinks, requires, runMutation } from './mutation.js';

export const UpdateConversationInput = builder.inputType('UpdateConversationInput', {
  description:
    'The input of `updateConversation`. An omitted (or null) field is left unchanged; `tagIds` given replaces the whole set.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The conversation to change.' }),
    status: t.field({ type: ConversationStatus, description: 'The new status.' }),
    tagIds: t.idList({
      description: `The conversation’s tags, at most ${IDS_MAX}; given, it replaces the whole set (\`[]\` removes every tag).`,
    }),
  }),
});

export const AssignConversationInput = builder.inputType('AssignConversationInput', {
  description: 'The input of `assignConversation`.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The conversation to assign.' }),
    memberId: t.id({ required: true, description: 'A member of the organization.' }),
  }),
});

export const UnassignConversationInput = idInput('UnassignConversationInput', {
  description: 'The input of `unassignConversation`.',
  id: 'The conversation to unassign.',
});

export const MarkConversationReadInput = idInput('MarkConversationReadInput', {
  description: 'The input of `markConversationRead`.',
  id: 'The conversation to mark read.',
});

export const ConversationPayload = nodePayload('ConversationPayload', {
  description: 'The result of a mutation of a conversation.',
  field: 'conversation',
  type: Conversation,
  model: 'conversation',
  fieldDescription: 'The conversation as written; null when the mutation failed.',
});

builder.mutationFields((t) => ({
  updateConversation: t.field({
    type: ConversationPayload,
    ...requires('Update:Conversation'),
    description:
      "Changes a conversation's status or tags: an omitted field is left unchanged; `tagIds`, when given, replaces the whole set. Needs Update:Conversation.",
    args: {
      input: t.arg({
        type: UpdateConversationInput,
        required: true,
        description: 'The conversation to change and the fields to change.',
      }),
    },
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
    description: 'Assigns a conversation to a member, replacing any previous assignee. Needs Assign:Conversation.',
    args: {
      input: t.arg({
        type: AssignConversationInput,
        required: true,
        description: 'The conversation and the member to assign it to.',
      }),
    },
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
    description: 'Leaves a conversation assigned to nobody. Needs Unassign:Conversation.',
    args: {
      input: t.arg({ type: UnassignConversationInput, required: true, description: 'The conversation to unassign.' }),
    },
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
    description: 'Marks every inbound message that is not READ as READ. Needs Update:Conversation.',
    args: {
      input: t.arg({
        type: MarkConversationReadInput,
        required: true,
        description: 'The conversation to mark as read.',
      }),
    },
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
