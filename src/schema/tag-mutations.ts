// Writing tags. Labels are unique per organization regardless of case: the database's
// unique index decides (src/errors.ts maps a violation to TAKEN), so that two concurrent
// requests cannot both create "VIP" and "vip".
import { builder } from '../builder.js';
import { DeletePayload, idInput, nodePayload, requires, runMutation } from './mutation.js';
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

export const DeleteTagInput = idInput('DeleteTagInput', {
  description: 'The input of `deleteTag`.',
  id: 'The tag to delete.',
});

export const TagPayload = nodePayload('TagPayload', {
  description: 'The result of `createTag` and `updateTag`.',
  field: 'tag',
  type: Tag,
  model: 'tag',
  fieldDescription: 'The tag as written; null when the mutation failed.',
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
        const { label } = v.valid({ label: v.name(['input', 'label'], input.label, 'Label') });
        const tag = await tx.tag.create({ data: { organizationId: ctx.viewer.organizationId, label } });
        return { id: tag.id };
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
        const { id, label } = v.valid({
          id: await v.id('Tag', ['input', 'id'], input.id, 'update'),
          label: v.name(['input', 'label'], input.label, 'Label'),
        });
        await tx.tag.update({ where: { id }, data: { label } });
        return { id };
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
        const { id } = v.valid({ id: await v.id('Tag', ['input', 'id'], input.id, 'update') });
        await tx.tag.deleteMany({ where: { id } });
        return { deletedId: input.id };
      }),
  }),
}));
