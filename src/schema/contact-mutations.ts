// Writing contacts: create (one or up to 1,000 at once), update, delete.
import { randomUUID } from 'node:crypto';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { TenantTransaction } from '../db/tenant.js';
import { type ContactStatus as ContactStatusValue, Prisma } from '../generated/prisma/client.js';
import type { ListPageCost } from '../plugins/page-cost.js';
import { type FieldPath, IDS_MAX, JSON_DEPTH_MAX, type Validator } from '../validation.js';
import { Contact, ContactStatus } from './contact.js';
import { rawIdOf } from './global-id.js';
import {
  DeleteManyPayload,
  DeletePayload,
  loadPayloadNode,
  loadPayloadNodes,
  type Payload,
  requires,
  runMutation,
  UserError,
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

export const DeleteContactInput = builder.inputType('DeleteContactInput', {
  description: 'The input of `deleteContact`.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The contact to delete.' }) }),
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

export const ContactPayload = builder.objectRef<Payload & { contactId?: string }>('ContactPayload').implement({
  description: 'The result of `createContact` and `updateContact`.',
  fields: (t) => ({
    contact: t.field({
      type: Contact,
      nullable: true,
      description: 'The contact as written; null when the mutation failed (see userErrors).',
      resolve: (payload, _args, ctx, info) => loadPayloadNode(ctx, info, 'contact', payload.contactId),
    }),
    userErrors: t.field({
      type: [UserError],
      description: 'Why the mutation did nothing; empty when it succeeded.',
      resolve: (payload) => payload.userErrors,
    }),
  }),
});

export const ContactsPayload = builder.objectRef<Payload & { contactIds?: string[] }>('ContactsPayload').implement({
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
    userErrors: t.field({
      type: [UserError],
      description: 'Why the mutation did nothing; empty when it succeeded.',
      resolve: (payload) => payload.userErrors,
    }),
  }),
});

type ContactInput = typeof CreateContactInput.$inferInput;

interface ContactRow {
  name: string;
  phone: string;
  status?: ContactStatusValue;
  attributes?: Prisma.InputJsonObject;
}

/** The scalar fields of one contact input, validated; undefined if any is invalid. */
function validContact(v: Validator, path: FieldPath, input: ContactInput): ContactRow | undefined {
  const name = v.name([...path, 'name'], input.name);
  const phone = v.phone([...path, 'phone'], input.phone);
  const attributes = input.attributes == null ? undefined : v.attributes([...path, 'attributes'], input.attributes);
  if (name === undefined || phone === undefined || (input.attributes != null && attributes === undefined))
    return undefined;
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
    await tx.contactListMembership.deleteMany({ where: { contactId, listId: { notIn: links.listIds } } });
    await tx.contactListMembership.createMany({
      data: links.listIds.map((listId) => ({ organizationId, contactId, listId })),
      skipDuplicates: true,
    });
  }
  if (links.tagIds) {
    await tx.contactTag.deleteMany({ where: { contactId, tagId: { notIn: links.tagIds } } });
    await tx.contactTag.createMany({
      data: links.tagIds.map((tagId) => ({ organizationId, contactId, tagId })),
      skipDuplicates: true,
    });
  }
}

/**
 * Inserts `rows` with `ids` into the organization, skipping those whose phone is taken;
 * returns the phones inserted. One hand-written statement over arrays (unnest) rather than
 * Prisma's createManyAndReturn: Prisma's query compiler (WebAssembly) grows its memory to the
 * largest statement it has compiled and never gives it back, and a 1,000-row insert added
 * 50 MB to the process for good (10 MB this way), which under load put a gateway at its
 * 300 MB budget (bench/ANALYSIS.md). Still one statement for any number of rows.
 */
async function insertContacts(
  tx: TenantTransaction,
  organizationId: string,
  ids: readonly string[],
  rows: readonly ContactRow[],
): Promise<{ phone: string }[]> {
  return tx.$queryRaw<{ phone: string }[]>(Prisma.sql`
    INSERT INTO "Contact" ("id", "organizationId", "name", "phone", "status", "attributes")
    SELECT r."id", ${organizationId}::uuid, r."name", r."phone",
      -- An omitted status or attributes takes the column default (prisma/schema.prisma).
      COALESCE(r."status"::"ContactStatus", 'ACTIVE'), COALESCE(r."attributes"::jsonb, '{}')
    FROM unnest(
      ${ids}::uuid[],
      ${rows.map((row) => row.name)}::text[],
      ${rows.map((row) => row.phone)}::text[],
      ${rows.map((row) => row.status ?? null)}::text[],
      ${rows.map((row) => (row.attributes === undefined ? null : JSON.stringify(row.attributes)))}::text[]
    ) AS r("id", "name", "phone", "status", "attributes")
    ON CONFLICT DO NOTHING
    RETURNING "phone"`);
}

/** Creates contacts with their lists and tags; `rowPath(i)` is where row i's input sits. */
async function createContacts(
  ctx: Context,
  tx: TenantTransaction,
  v: Validator,
  inputs: readonly ContactInput[],
  rowPath: (index: number) => FieldPath,
) {
  const rows = inputs.map((input, index) => validContact(v, rowPath(index), input));

  // Phones must be unique within the batch …
  const firstIndex = new Map<string, number>();
  rows.forEach((row, index) => {
    if (!row) return;
    const earlier = firstIndex.get(row.phone);
    if (earlier === undefined) firstIndex.set(row.phone, index);
    else v.fail([...rowPath(index), 'phone'], `This phone number is also given at index ${earlier}.`, 'TAKEN');
  });
  const takenPhone = (phone: string) =>
    v.fail([...rowPath(firstIndex.get(phone)!), 'phone'], 'A contact with this phone number already exists.', 'TAKEN');

  // One lookup per kind of id for the whole batch.
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
  if (v.errors.length > 0) {
    // Failing anyway: report the phones already taken in the organization too.
    const taken = await tx.contact.findMany({
      where: { phone: { in: [...firstIndex.keys()] } },
      select: { phone: true },
    });
    for (const { phone } of taken) takenPhone(phone);
    v.check();
  }

  // … and in the organization. The unique index answers that during the insert itself
  // (ON CONFLICT DO NOTHING), with no lookup beforehand: a row not inserted is a phone taken.
  const organizationId = ctx.viewer.organizationId;
  const ids = rows.map(() => randomUUID());
  const inserted = await insertContacts(tx, organizationId, ids, rows as ContactRow[]);
  if (inserted.length < rows.length) {
    const insertedPhones = new Set(inserted.map((row) => row.phone));
    for (const phone of firstIndex.keys()) if (!insertedPhones.has(phone)) takenPhone(phone);
    v.check();
  }
  await tx.contactListMembership.createMany({
    data: links.flatMap((link, index) =>
      link.listIds.map((listId) => ({ organizationId, contactId: ids[index]!, listId })),
    ),
  });
  await tx.contactTag.createMany({
    data: links.flatMap((link, index) =>
      link.tagIds.map((tagId) => ({ organizationId, contactId: ids[index]!, tagId })),
    ),
  });
  return ids;
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
        const [contactId] = await createContacts(ctx, tx, v, [input], () => ['input']);
        return { contactId };
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
          if (!v.count(['input', 'contacts'], input.contacts, CONTACT_BATCH_MAX, 'contacts')) v.check();
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
        const id = await v.id('Contact', ['input', 'id'], input.id, 'update');
        const data: Prisma.ContactUpdateInput = {};
        if (input.name != null) data.name = v.name(['input', 'name'], input.name);
        if (input.phone != null) data.phone = v.phone(['input', 'phone'], input.phone);
        if (input.status != null) data.status = input.status;
        if (input.attributes != null) data.attributes = v.attributes(['input', 'attributes'], input.attributes);
        const listIds = input.listIds ? await v.ids('List', ['input', 'listIds'], input.listIds) : undefined;
        const tagIds = input.tagIds ? await v.ids('Tag', ['input', 'tagIds'], input.tagIds) : undefined;
        v.check();
        // Touch updatedAt also when only the lists or tags change.
        await tx.contact.update({ where: { id: id! }, data: { ...data, updatedAt: new Date() } });
        await setContactLinks(tx, ctx.viewer.organizationId, id!, { listIds, tagIds });
        return { contactId: id! };
      }),
  }),

  deleteContact: t.field({
    type: DeletePayload,
    ...requires('Delete:Contact'),
    description: 'Deletes the contact with its conversations and messages. Needs Delete:Contact.',
    args: { input: t.arg({ type: DeleteContactInput, required: true, description: 'The contact to delete.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const id = await v.id('Contact', ['input', 'id'], input.id, 'update');
        v.check();
        await tx.contact.deleteMany({ where: { id: id! } });
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
        const ids = await v.ids('Contact', ['input', 'ids'], input.ids, 'update');
        v.check();
        await tx.contact.deleteMany({ where: { id: { in: ids } } });
        return { deletedIds: [...new Set(input.ids.filter((globalId) => rawIdOf('Contact', globalId)))] };
      }),
  }),
}));
