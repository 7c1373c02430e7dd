// Writing lists and their membership.
import { builder } from '../builder.js';
import { IDS_MAX } from '../validation.js';
import { List } from './list.js';
import { DeletePayload, idInput, nodePayload, replaceLinks, requires, runMutation } from './mutation.js';

export const CreateListInput = builder.inputType('CreateListInput', {
  description: 'The input of `createList`.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Trimmed; 1–255 characters.' }),
    description: t.string({ description: 'At most 2,000 characters.' }),
    tagIds: t.idList({ description: `The list’s tags, at most ${IDS_MAX}.` }),
  }),
});

export const UpdateListInput = builder.inputType('UpdateListInput', {
  description:
    'The input of `updateList`. An omitted (or null) field is left unchanged; `tagIds` given replaces the whole set.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The list to change.' }),
    name: t.string({ description: 'The new name. Trimmed; 1–255 characters.' }),
    description: t.string({ description: 'The new description, at most 2,000 characters; an empty string clears it.' }),
    tagIds: t.idList({
      description: `The list’s tags, at most ${IDS_MAX}; given, it replaces the whole set (\`[]\` removes every tag).`,
    }),
  }),
});

export const DeleteListInput = idInput('DeleteListInput', {
  description: 'The input of `deleteList`.',
  id: 'The list to delete.',
});

export const AddContactsToListInput = builder.inputType('AddContactsToListInput', {
  description: 'The input of `addContactsToList`.',
  fields: (t) => ({
    listId: t.id({ required: true, description: 'The list to add the contacts to.' }),
    contactIds: t.idList({
      required: true,
      description: `At most ${IDS_MAX}. Contacts already in the list are left as they are.`,
    }),
  }),
});

export const RemoveContactsFromListInput = builder.inputType('RemoveContactsFromListInput', {
  description: 'The input of `removeContactsFromList`.',
  fields: (t) => ({
    listId: t.id({ required: true, description: 'The list to remove the contacts from.' }),
    contactIds: t.idList({ required: true, description: `At most ${IDS_MAX}. Contacts not in the list are ignored.` }),
  }),
});

export const ListPayload = nodePayload('ListPayload', {
  description: 'The result of a mutation of a list or of its contacts.',
  field: 'list',
  type: List,
  model: 'contactList',
  fieldDescription: 'The list as written; null when the mutation failed.',
});

builder.mutationFields((t) => ({
  createList: t.field({
    type: ListPayload,
    ...requires('Create:List'),
    description: 'Creates a contact list, empty, with its tags. Needs Create:List.',
    args: { input: t.arg({ type: CreateListInput, required: true, description: 'The list to create.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { name, description, tagIds } = v.valid({
          name: v.name(['input', 'name'], input.name),
          description: v.description(['input', 'description'], input.description ?? null),
          tagIds: input.tagIds ? await v.ids('Tag', ['input', 'tagIds'], input.tagIds) : [],
        });
        const organizationId = ctx.viewer.organizationId;
        const list = await tx.contactList.create({ data: { organizationId, name, description } });
        await tx.listTag.createMany({ data: tagIds.map((tagId) => ({ organizationId, listId: list.id, tagId })) });
        return { id: list.id };
      }),
  }),

  updateList: t.field({
    type: ListPayload,
    ...requires('Update:List'),
    description:
      "Changes a list's name, description or tags: an omitted field is left unchanged; `tagIds`, when given, replaces the whole set. Needs Update:List.",
    args: {
      input: t.arg({
        type: UpdateListInput,
        required: true,
        description: 'The list to change and the fields to change.',
      }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id, name, description, tagIds } = v.valid({
          id: await v.id('List', ['input', 'id'], input.id, 'update'),
          name: input.name != null ? v.name(['input', 'name'], input.name) : undefined,
          description:
            input.description != null ? v.description(['input', 'description'], input.description) : undefined,
          tagIds: input.tagIds ? await v.ids('Tag', ['input', 'tagIds'], input.tagIds) : undefined,
        });
        await tx.contactList.update({
          where: { id },
          data: {
            ...(name !== undefined ? { name } : {}),
            ...(description !== undefined ? { description } : {}),
            updatedAt: new Date(),
          },
        });
        if (tagIds) await replaceLinks(tx.listTag, ctx.viewer.organizationId, { listId: id }, 'tagId', tagIds);
        return { id };
      }),
  }),

  deleteList: t.field({
    type: DeletePayload,
    ...requires('Delete:List'),
    description: 'Deletes the list; its contacts stay. Needs Delete:List.',
    args: { input: t.arg({ type: DeleteListInput, required: true, description: 'The list to delete.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id } = v.valid({ id: await v.id('List', ['input', 'id'], input.id, 'update') });
        await tx.contactList.deleteMany({ where: { id } });
        return { deletedId: input.id };
      }),
  }),

  addContactsToList: t.field({
    type: ListPayload,
    ...requires('Update:List'),
    description: 'Adds contacts to a list; contacts already in it stay as they are. Needs Update:List.',
    args: {
      input: t.arg({ type: AddContactsToListInput, required: true, description: 'The list and the contacts to add.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { listId, contactIds } = v.valid({
          listId: await v.id('List', ['input', 'listId'], input.listId),
          contactIds: await v.ids('Contact', ['input', 'contactIds'], input.contactIds),
        });
        await tx.contactListMembership.createMany({
          data: contactIds.map((contactId) => ({ organizationId: ctx.viewer.organizationId, listId, contactId })),
          skipDuplicates: true,
        });
        return { id: listId };
      }),
  }),

  removeContactsFromList: t.field({
    type: ListPayload,
    ...requires('Update:List'),
    description: 'Removes contacts from a list; the contacts themselves stay. Needs Update:List.',
    args: {
      input: t.arg({
        type: RemoveContactsFromListInput,
        required: true,
        description: 'The list and the contacts to remove.',
      }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { listId, contactIds } = v.valid({
          listId: await v.id('List', ['input', 'listId'], input.listId),
          // A contact that is not in the list is left alone; an id that is no contact of this
          // organization is NOT_FOUND, as everywhere else (see "Mutations" in the README).
          contactIds: await v.ids('Contact', ['input', 'contactIds'], input.contactIds),
        });
        await tx.contactListMembership.deleteMany({ where: { listId, contactId: { in: contactIds } } });
        return { id: listId };
      }),
  }),
}));
