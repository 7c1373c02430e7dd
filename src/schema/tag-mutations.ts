// Writing tags. Labels are unique per organization regardless of case: the database's
// unique index decides (src/errors.ts maps a violation to TAKEN), so that two concurrent
// requests cannot both create "VIP" and "vip".
import { builder } from '../builder.js';
import { DeletePayload, loadPayloadNode, type Payload, requires, runMutation, UserError } from './mutation.js';
import { Tag } from './tag.js';

export const CreateTagInput = builder.inputType('CreateTagInput', {
  fields: (t) => ({
    label: t.string({ required: true, description: 'Trimmed; 1–255 characters; unique regardless of case.' }),
  }),
});

export const UpdateTagInput = builder.inputType('UpdateTagInput', {
  fields: (t) => ({ id: t.id({ required: true }), label: t.string({ required: true }) }),
});

export const DeleteTagInput = builder.inputType('DeleteTagInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

export const TagPayload = builder.objectRef<Payload & { tagId?: string }>('TagPayload').implement({
  fields: (t) => ({
    tag: t.field({
      type: Tag,
      nullable: true,
      resolve: (payload, _args, ctx, info) => loadPayloadNode(ctx, info, 'tag', payload.tagId),
    }),
    userErrors: t.field({ type: [UserError], resolve: (payload) => payload.userErrors }),
  }),
});

builder.mutationFields((t) => ({
  createTag: t.field({
    type: TagPayload,
    ...requires('Create:Tag'),
    args: { input: t.arg({ type: CreateTagInput, required: true }) },
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
    args: { input: t.arg({ type: UpdateTagInput, required: true }) },
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
    description: 'Deletes the tag and its links to contacts, lists and conversations (not those objects).',
    args: { input: t.arg({ type: DeleteTagInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const id = await v.id('Tag', ['input', 'id'], input.id, 'update');
        v.check();
        await tx.tag.deleteMany({ where: { id: id! } });
        return { deletedId: input.id };
      }),
  }),
}));
