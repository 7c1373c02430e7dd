// Writing tags. Labels are unique per organization regardless of case: the database's
// unique index decides (src/errors.ts maps a violation to TAKEN), so that two concurrent
// requests cannot both create "VIP" and "vip".
import { builder } from '../builder.js';
import { DeletePayload, loadPayloadNode, type Payload, requires, runMutation, UserError } from './mutation.js';
import { Tag } from './tag.js';

export const CreateTagInput = builder.inputType('CreateTagInput', {
  description: 'The input of `createTag`.',
  fields: (t) => ({
    label: t.string({ required: true, description: 'Trimmed; 1–255 characters; unique regardless of case.' }),
  }),
});

export const UpdateTagInput = builder.inputType('UpdateTagInput', {
  description: 'The input of `updateTag`.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The tag to rename.' }),
    label: t.string({
      required: true,
      description: 'The new label. Trimmed; 1–255 characters; unique regardless of case.',
    }),
  }),
});

export const DeleteTagInput = builder.inputType('DeleteTagInput', {
  description: 'The input of `deleteTag`.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The tag to delete.' }) }),
});

export const TagPayload = builder.objectRef<Payload & { tagId?: string }>('TagPayload').implement({
  description: 'The result of `createTag` and `updateTag`.',
  fields: (t) => ({
    tag: t.field({
      type: Tag,
      nullable: true,
      description: 'The tag as written; null when the mutation failed (see userErrors).',
      resolve: (payload, _args, ctx, info) => loadPayloadNode(ctx, info, 'tag', payload.tagId),
    }),
    userErrors: t.field({
      type: [UserError],
      description: 'Why the mutation did nothing; empty when it succeeded.',
      resolve: (payload) => payload.userErrors,
    }),
  }),
});

builder.mutationFields((t) => ({
  createTag: t.field({
    type: TagPayload,
    ...requires('Create:Tag'),
    description:
      'Creates a tag; its label must not be taken in the organization, regardless of case (TAKEN). Needs Create:Tag.',
    args: { input: t.arg({ type: CreateTagInput, required: true, description: 'The tag to create.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const label = v.name(['input', 'label'], input.label, 'Label');
        v.check();
        const tag = await tx.tag.create({ data: { organizationId: ctx.viewer.organizationId, label: label! } });
        return { tagId: tag.id };
      }),
  }),

  updateTag: t.field({
    type: TagPayload,
    ...requires('Update:Tag'),
    description: 'Renames a tag; the new label must not be taken, regardless of case (TAKEN). Needs Update:Tag.',
    args: {
      input: t.arg({ type: UpdateTagInput, required: true, description: 'The tag to rename and its new label.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const id = await v.id('Tag', ['input', 'id'], input.id, 'update');
        const label = v.name(['input', 'label'], input.label, 'Label');
        v.check();
        await tx.tag.update({ where: { id: id! }, data: { label: label! } });
        return { tagId: id! };
      }),
  }),

  deleteTag: t.field({
    type: DeletePayload,
    ...requires('Delete:Tag'),
    description:
      'Deletes the tag and its links to contacts, lists and conversations (not those objects). Needs Delete:Tag.',
    args: { input: t.arg({ type: DeleteTagInput, required: true, description: 'The tag to delete.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const id = await v.id('Tag', ['input', 'id'], input.id, 'update');
        v.check();
        await tx.tag.deleteMany({ where: { id: id! } });
        return { deletedId: input.id };
      }),
  }),
}));
