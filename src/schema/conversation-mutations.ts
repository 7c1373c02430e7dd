// Writing conversations: status and tags, assignment, read state.
import { builder } from '../builder.js';
import { IDS_MAX } from '../validation.js';
import { Conversation, ConversationStatus } from './conversation.js';
import { loadPayloadNode, type Payload, requires, runMutation, UserError } from './mutation.js';

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

export const UnassignConversationInput = builder.inputType('UnassignConversationInput', {
  description: 'The input of `unassignConversation`.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The conversation to unassign.' }) }),
});

export const MarkConversationReadInput = builder.inputType('MarkConversationReadInput', {
  description: 'The input of `markConversationRead`.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The conversation whose messages to mark as read.' }) }),
});

export const ConversationPayload = builder
  .objectRef<Payload & { conversationId?: string }>('ConversationPayload')
  .implement({
    description: 'The result of a mutation of a conversation.',
    fields: (t) => ({
      conversation: t.field({
        type: Conversation,
        nullable: true,
        description: 'The conversation as written; null when the mutation failed (see userErrors).',
        resolve: (payload, _args, ctx, info) => loadPayloadNode(ctx, info, 'conversation', payload.conversationId),
      }),
      userErrors: t.field({
        type: [UserError],
        description: 'Why the mutation did nothing; empty when it succeeded.',
        resolve: (payload) => payload.userErrors,
      }),
    }),
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
    description: 'Leaves a conversation assigned to nobody. Needs Unassign:Conversation.',
    args: {
      input: t.arg({ type: UnassignConversationInput, required: true, description: 'The conversation to unassign.' }),
    },
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
