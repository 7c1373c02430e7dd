// Writing contacts: create (one or up to 1,000 at once), update, delete.
import { randomUUID } from 'node:crypto';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { insertContacts, type NewContact } from '../db/contact-insert.js';
import type { TenantTransaction } from '../db/tenant.js';
import { transactionSql } from '../db/tenant-sql.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { ListPageCost } from '../plugins/page-cost.js';
import { rawIdOf } from '../global-id.js';
import { type FieldPath, IDS_MAX, INVALID, type Invalid, JSON_DEPTH_MAX, type Validator } from '../validation.js';
import { Contact, ContactStatus } from './contact.js';
import {
  DeleteManyPayload,
  DeletePayload,
  idInput,
  loadPayloadNodes,
  nodePayload,
  payloadType,
  replaceLinks,
  requires,
  runMutation,
} from './mutation.js';

/** Contacts per createContacts call: all or nothing, so one transaction must hold them. */
export const CONTACT_BATCH_MAX = 1_000;

const contactFields = {
  status: { type: ContactStatus, description: 'Default ACTIVE.' },
  attributes: {
    description: `A JSON object of at most 64 KiB, nested at most ${JSON_DEPTH_MAX} levels deep. Given on update, it replaces the whole object.`,
  },
  listIds: { description: 'The lists the contact is in. Given on update, it replaces the whole set.' },
  tagIds: { description: 'The contact’s tags. Given on update, it replaces the whole set.' },
};

export const CreateContactInput = builder.inputType('CreateContactInput', {
  description: 'A contact to create: the input of `createContact`, and each item of `createContacts`.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Trimmed; 1–255 characters.' }),
    phone: t.string({ required: true, description: 'E.164; spaces, dashes and brackets are removed first.' }),
    status: t.field(contactFields.status),
    attributes: t.field({ type: 'JSON', ...contactFields.attributes }),
    listIds: t.idList(contactFields.listIds),
    tagIds: t.idList(contactFields.tagIds),
  }),
});

export const UpdateContactInput = builder.inputType('UpdateContactInput', {
  description:
    'The input of `updateContact`. Every field but `id` is optional: an omitted (or null) field is left unchanged.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The contact to change.' }),
    name: t.string({ description: 'The new name. Trimmed; 1–255 characters.' }),
    phone: t.string({
      description: 'The new phone number, E.164; spaces, dashes and brackets are removed first. Must not be taken.',
    }),
    status: t.field({ type: ContactStatus, description: 'The new status.' }),
    attributes: t.field({ type: 'JSON', ...contactFields.attributes }),
    listIds: t.idList(contactFields.listIds),
    tagIds: t.idList(contactFields.tagIds),
  }),
});

export const DeleteContactInput = idInput('DeleteContactInput', {
  description: 'The input of `deleteContact`.',
  id: 'The contact to delete.',
});

export const CreateContactsInput = builder.inputType('CreateContactsInput', {
  description: 'The input of `createContacts`.',
  fields: (t) => ({
    contacts: t.field({
      type: [CreateContactInput],
      required: true,
      description: `At most ${CONTACT_BATCH_MAX}; all are created or none.`,
    }),
  }),
});

export const DeleteContactsInput = builder.inputType('DeleteContactsInput', {
  description: 'The input of `deleteContacts`.',
  fields: (t) => ({
    ids: t.idList({ required: true, description: `At most ${IDS_MAX}; all are deleted or none.` }),
  }),
});

export const ContactPayload = nodePayload('ContactPayload', {
  description: 'The result of `createContact` and `updateContact`.',
  field: 'contact',
  type: Contact,
  model: 'contact',
  fieldDescription: 'The contact as written; null when the mutation failed.',
});

export const ContactsPayload = payloadType<{ contactIds: string[] }>('ContactsPayload', {
  description: 'The result of `createContacts`.',
  fields: (t) => ({
    contacts: t.field({
      type: [Contact],
      // Nullable, and checked here rather than on each contact: a member may hold
      // BulkImport:Contacts without Get:Contact, and the contacts it created must not turn
      // the whole answer into null (it would retry and find its phones TAKEN). It reads
      // null with a FORBIDDEN error, next to empty userErrors: the import happened.
      nullable: true,
      authScopes: { permission: 'Get:Contact' },
      description:
        'The created contacts, in the order given (empty when nothing was created; null, with a FORBIDDEN error, without Get:Contact).',
      // Priced like a page of as many contacts as the input holds (src/plugins/page-cost.ts).
      extensions: {
        pageCost: {
          max: CONTACT_BATCH_MAX,
          items: (args) => {
            const contacts = (args['input'] as { contacts?: unknown } | null | undefined)?.contacts;
            return Array.isArray(contacts) ? contacts.length : undefined;
          },
        } satisfies ListPageCost,
      },
      resolve: (payload, _args, ctx, info) => loadPayloadNodes(ctx, info, 'contact', payload.contactIds ?? []),
    }),
  }),
});

type ContactInput = typeof CreateContactInput.$inferInput;

/** The scalar fields of one contact input, validated; INVALID if any is invalid. */
function validContact(v: Validator, path: FieldPath, input: ContactInput): NewContact | Invalid {
  const name = v.name([...path, 'name'], input.name);
  const phone = v.phone([...path, 'phone'], input.phone);
  const attributes = input.attributes == null ? undefined : v.attributes([...path, 'attributes'], input.attributes);
  if (name === INVALID || phone === INVALID || attributes === INVALID) return INVALID;
  return {
    name,
    phone,
    ...(input.status ? { status: input.status } : {}),
    ...(attributes ? { attributes } : {}),
  };
}

/** Replaces a contact's lists and tags with the given sets (undefined: leave as is). */
async function setContactLinks(
  tx: TenantTransaction,
  organizationId: string,
  contactId: string,
  links: { listIds?: string[] | undefined; tagIds?: string[] | undefined },
) {
  if (links.listIds) {
    await replaceLinks(tx.contactListMembership, organizationId, { contactId }, 'listId', links.listIds);
  }
  if (links.tagIds) await replaceLinks(tx.contactTag, organizationId, { contactId }, 'tagId', links.tagIds);
}

/** Where each phone of a batch first appears, and each later row that repeats one. */
export interface PhoneDuplicates {
  /** Each phone, at the index of the first row that has it (in the order of the rows). */
  first: Map<string, number>;
  /** Rows (`index`) whose phone an earlier row (`earlier`) already has. */
  repeats: { index: number; earlier: number }[];
}

/** Finds the phones given more than once in a batch (rows that failed validation are INVALID and skipped). */
export function duplicatePhones(phones: readonly (string | Invalid)[]): PhoneDuplicates {
  const first = new Map<string, number>();
  const repeats: PhoneDuplicates['repeats'] = [];
  phones.forEach((phone, index) => {
    if (phone === INVALID) return;
    const earlier = first.get(phone);
    if (earlier === undefined) first.set(phone, index);
    else repeats.push({ index, earlier });
  });
  return { first, repeats };
}

interface ContactLinks {
  listIds: string[];
  tagIds: string[];
}

/**
 * The raw list and tag ids of each contact input (one lookup per kind of id for the whole
 * batch), each bad id recorded as NOT_FOUND at its index and each over-long set as LIMIT_EXCEEDED.
 */
async function resolveContactLinks(
  v: Validator,
  inputs: readonly ContactInput[],
  rowPath: (index: number) => FieldPath,
): Promise<ContactLinks[]> {
  const lists = await v.lookUp(
    'List',
    inputs.flatMap((input) => input.listIds ?? []),
  );
  const tags = await v.lookUp(
    'Tag',
    inputs.flatMap((input) => input.tagIds ?? []),
  );
  const links = inputs.map((input, index) => ({
    listIds: input.listIds ? v.resolved(lists, 'List', [...rowPath(index), 'listIds'], input.listIds) : [],
    tagIds: input.tagIds ? v.resolved(tags, 'Tag', [...rowPath(index), 'tagIds'], input.tagIds) : [],
  }));
  inputs.forEach((input, index) => {
    if (input.listIds) v.count([...rowPath(index), 'listIds'], input.listIds, IDS_MAX, 'lists');
    if (input.tagIds) v.count([...rowPath(index), 'tagIds'], input.tagIds, IDS_MAX, 'tags');
  });
  return links;
}

/** The phones among `phones` that contacts of the organization already have. */
async function existingPhones(tx: TenantTransaction, phones: Iterable<string>): Promise<Set<string>> {
  const taken = await tx.contact.findMany({ where: { phone: { in: [...phones] } }, select: { phone: true } });
  return new Set(taken.map(({ phone }) => phone));
}

/** Links new contacts to their lists and tags. */
async function linkNewContacts(
  tx: TenantTransaction,
  organizationId: string,
  contacts: readonly ({ id: string } & ContactLinks)[],
) {
  await tx.contactListMembership.createMany({
    data: contacts.flatMap(({ id, listIds }) => listIds.map((listId) => ({ organizationId, contactId: id, listId }))),
  });
  await tx.contactTag.createMany({
    data: contacts.flatMap(({ id, tagIds }) => tagIds.map((tagId) => ({ organizationId, contactId: id, tagId }))),
  });
}

/**
 * Creates contacts with their lists and tags, all or none; `rowPath(i)` is where row i's
 * input sits. Phones must be unique within the batch and in the organization: the batch is
 * checked here, the organization by the unique index during the insert itself (ON CONFLICT
 * DO NOTHING, no lookup beforehand: a row not inserted is a phone taken).
 */
async function createContacts(
  ctx: Context,
  tx: TenantTransaction,
  v: Validator,
  inputs: readonly ContactInput[],
  rowPath: (index: number) => FieldPath,
): Promise<string[]> {
  const checkedRows = inputs.map((input, index) => validContact(v, rowPath(index), input));
  const firstRowOf = checkBatchPhones(v, checkedRows, rowPath);
  const links = await resolveContactLinks(v, inputs, rowPath);
  if (v.errors.length > 0) {
    // Failing anyway: report the phones already taken in the organization too.
    const taken = await existingPhones(tx, firstRowOf.keys());
    reportTakenPhones(v, firstRowOf, rowPath, (phone) => taken.has(phone));
  }
  const { rows } = v.valid({ rows: checkedRows });

  const organizationId = ctx.viewer.organizationId;
  const contacts = links.map((link) => ({ id: randomUUID(), ...link }));
  const inserted = await insertContacts(
    transactionSql(tx, organizationId),
    contacts.map(({ id }) => id),
    rows,
  );
  if (inserted.length < rows.length) {
    const insertedPhones = new Set(inserted.map((row) => row.phone));
    reportTakenPhones(v, firstRowOf, rowPath, (phone) => !insertedPhones.has(phone));
    v.check();
  }
  await linkNewContacts(tx, organizationId, contacts);
  return contacts.map(({ id }) => id);
}

/** Records TAKEN at each row that repeats an earlier row's phone; returns each phone's first row. */
function checkBatchPhones(
  v: Validator,
  rows: readonly (NewContact | Invalid)[],
  rowPath: (index: number) => FieldPath,
): Map<string, number> {
  const { first, repeats } = duplicatePhones(rows.map((row) => (row === INVALID ? INVALID : row.phone)));
  for (const { index, earlier } of repeats) {
    v.fail([...rowPath(index), 'phone'], `This phone number is also given at index ${earlier}.`, 'TAKEN');
  }
  return first;
}

/** Records TAKEN at the first row of each phone that another contact of the organization has. */
function reportTakenPhones(
  v: Validator,
  firstRowOf: Map<string, number>,
  rowPath: (index: number) => FieldPath,
  taken: (phone: string) => boolean,
) {
  for (const [phone, index] of firstRowOf) {
    if (taken(phone)) v.fail([...rowPath(index), 'phone'], 'A contact with this phone number already exists.', 'TAKEN');
  }
}

builder.mutationFields((t) => ({
  createContact: t.field({
    type: ContactPayload,
    ...requires('Create:Contact'),
    description:
      'Creates a contact, with its lists and tags. Its phone must not be taken in the organization (TAKEN). Needs Create:Contact.',
    args: { input: t.arg({ type: CreateContactInput, required: true, description: 'The contact to create.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const [id] = await createContacts(ctx, tx, v, [input], () => ['input']);
        return { id };
      }),
  }),

  createContacts: t.field({
    type: ContactsPayload,
    ...requires('BulkImport:Contacts'),
    description:
      'Creates up to 1,000 contacts in one transaction: all of them, or none with a user error for every problem found. Priced by the operation cost limit as a page of as many contacts as were sent. Needs BulkImport:Contacts.',
    args: { input: t.arg({ type: CreateContactsInput, required: true, description: 'The contacts to create.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(
        ctx,
        async (tx, v) => {
          // An over-long batch is refused before any of its rows is looked at.
          v.valid({ contacts: v.count(['input', 'contacts'], input.contacts, CONTACT_BATCH_MAX, 'contacts') });
          return {
            contactIds: await createContacts(ctx, tx, v, input.contacts, (index) => [
              'input',
              'contacts',
              String(index),
            ]),
          };
        },
        // A phone taken by a concurrent request after our check: we cannot tell which row.
        () => ['input', 'contacts'],
      ),
  }),

  updateContact: t.field({
    type: ContactPayload,
    ...requires('Update:Contact'),
    description:
      'Changes a contact: an omitted field is left unchanged; `listIds`, `tagIds` and `attributes`, when given, replace the whole set or object. Needs Update:Contact.',
    args: {
      input: t.arg({
        type: UpdateContactInput,
        required: true,
        description: 'The contact to change and the fields to change.',
      }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id, name, phone, attributes, listIds, tagIds } = v.valid({
          id: await v.id('Contact', ['input', 'id'], input.id, 'update'),
          name: input.name != null ? v.name(['input', 'name'], input.name) : undefined,
          phone: input.phone != null ? v.phone(['input', 'phone'], input.phone) : undefined,
          attributes: input.attributes != null ? v.attributes(['input', 'attributes'], input.attributes) : undefined,
          listIds: input.listIds ? await v.ids('List', ['input', 'listIds'], input.listIds) : undefined,
          tagIds: input.tagIds ? await v.ids('Tag', ['input', 'tagIds'], input.tagIds) : undefined,
        });
        const data: Prisma.ContactUpdateInput = {
          ...(name !== undefined ? { name } : {}),
          ...(phone !== undefined ? { phone } : {}),
          ...(input.status != null ? { status: input.status } : {}),
          ...(attributes !== undefined ? { attributes } : {}),
          // Touch updatedAt also when only the lists or tags change.
          updatedAt: new Date(),
        };
        await tx.contact.update({ where: { id }, data });
        await setContactLinks(tx, ctx.viewer.organizationId, id, { listIds, tagIds });
        return { id };
      }),
  }),

  deleteContact: t.field({
    type: DeletePayload,
    ...requires('Delete:Contact'),
    description: 'Deletes the contact with its conversations and messages. Needs Delete:Contact.',
    args: { input: t.arg({ type: DeleteContactInput, required: true, description: 'The contact to delete.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id } = v.valid({ id: await v.id('Contact', ['input', 'id'], input.id, 'update') });
        await tx.contact.deleteMany({ where: { id } });
        return { deletedId: input.id };
      }),
  }),

  deleteContacts: t.field({
    type: DeleteManyPayload,
    ...requires('Delete:Contact'),
    description:
      'Deletes the contacts with their conversations and messages; all or none. At most 1,000. Needs Delete:Contact.',
    args: { input: t.arg({ type: DeleteContactsInput, required: true, description: 'The contacts to delete.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { ids } = v.valid({ ids: await v.ids('Contact', ['input', 'ids'], input.ids, 'update') });
        await tx.contact.deleteMany({ where: { id: { in: ids } } });
        return { deletedIds: [...new Set(input.ids.filter((globalId) => rawIdOf('Contact', globalId)))] };
      }),
  }),
}));
