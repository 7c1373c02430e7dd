// What every mutation shares: the UserError type, the transaction that makes a mutation
// all-or-nothing, the payload types (payloadType, nodePayload: `userErrors` and what the
// mutation wrote, read back through the loaders, so a payload can select as deep as any
// query, batched the same way), the `{ id: ID! }` input (idInput) and the replacement of a
// link set (replaceLinks). A mutation then reads:
//
//   resolve: (_root, { input }, ctx) =>
//     runMutation(ctx, async (tx, v) => {
//       const { id, label } = v.valid({
//         id: await v.id('Tag', ['input', 'id'], input.id, 'update'),
//         label: v.name(['input', 'label'], input.label, 'Label'),
//       });
//       await tx.tag.update({ where: { id }, data: { label } });
//       return { id };
//     }),
import type { FieldMap, ObjectFieldBuilder, ObjectRef } from '@pothos/core';
import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import { builder } from '../builder.js';
import { forbiddenMessage, type Permission } from '../auth/permissions.js';
import type { Context } from '../context.js';
import { rowLocker } from '../db/row-locks.js';
import type { TenantTransaction } from '../db/tenant.js';
import { transactionSql } from '../db/tenant-sql.js';
import { isTransientConflict, type UserErrorShape, userErrorFromDatabase, UserErrors } from '../errors.js';
import type { ModelKey, ModelRows } from '../loaders/nodes.js';
import { Validator } from '../validation.js';
import { describedEnum } from './common.js';

export const UserErrorCode = describedEnum<UserErrorShape['code']>(
  'UserErrorCode',
  'What kind of problem a user error is, for a client to act on without reading the message.',
  {
    INVALID:
      'The value at `field` breaks a rule of the input (empty, too long, malformed, an id of the wrong type); the message says which.',
    NOT_FOUND: 'No object with the id at `field` exists in the organization (or it was deleted meanwhile).',
    TAKEN: 'The value at `field` must be unique in the organization and another object already has it.',
    FORBIDDEN: 'The viewer lacks the permission the mutation (or this part of it) needs; the message names it.',
    LIMIT_EXCEEDED:
      'The value at `field` is over a maximum (1,000 ids, 4,096 characters of text, 64 KiB of attributes), or the viewer would hold more active API keys than allowed.',
    OUTSIDE_SERVICE_WINDOW:
      'The conversation is outside WhatsApp’s 24-hour customer-service window (`Conversation.serviceWindowExpiresAt` has passed, or the contact never wrote): a free-form message cannot be sent, only an approved template.',
  },
);

export const UserError = builder.objectRef<UserErrorShape>('UserError').implement({
  description: 'An expected failure of a mutation: invalid input, a missing or taken value, a missing permission.',
  fields: (t) => ({
    field: t.exposeStringList('field', {
      nullable: true,
      description:
        'The path to the input field at fault, e.g. ["input", "contacts", "3", "phone"]; null when the error concerns the whole mutation (a missing permission, a limit on the viewer).',
    }),
    message: t.exposeString('message', {
      description: 'What is wrong and how to fix it, in English, for a person to read.',
    }),
    code: t.expose('code', { type: UserErrorCode, description: 'The kind of problem, for a program to act on.' }),
  }),
});

export interface Payload {
  userErrors: UserErrorShape[];
}

/**
 * The permission a mutation needs, as field options: without it the mutation does not run
 * and its payload carries a FORBIDDEN user error instead (queries get a GraphQL error).
 */
export function requires(permission: Permission) {
  return {
    authScopes: { permission },
    unauthorizedResolver: (): Payload => ({
      userErrors: [{ field: null, message: forbiddenMessage([permission]), code: 'FORBIDDEN' }],
    }),
  };
}

/** How long one mutation may hold its transaction (a 1,000-row import fits easily). */
const TRANSACTION_TIMEOUT_MS = 20_000;

/**
 * Attempts at a mutation whose transaction a concurrent one aborted (a deadlock, a
 * serialization failure): the database undid all of it, so running it again is safe.
 */
const TRANSACTION_ATTEMPTS = 4;

/** A short random pause before the next attempt, longer each time, so that the two sides of a deadlock do not meet again. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
}

/**
 * Runs a mutation in one transaction. `work` validates with the Validator (whose
 * `valid({ … })` throws every error found at once) and writes through `tx`, the tenant-scoped
 * transaction client; anything it throws rolls everything back. The Validator locks the
 * rows it finds by id (src/db/row-locks.ts), so a concurrent delete makes the mutation
 * answer NOT_FOUND rather than fail in the middle of its writes; a transaction that the
 * database aborts to break a deadlock is run again, up to TRANSACTION_ATTEMPTS times. A
 * user error or a database error a client can cause (a unique value taken concurrently)
 * becomes the payload's userErrors; anything else propagates and is masked.
 */
export async function runMutation<Result extends object>(
  ctx: Context,
  work: (tx: TenantTransaction, validator: Validator) => Promise<Result>,
  fieldOf?: (column: string) => string[],
): Promise<(Result & Payload) | Payload> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await ctx.db.$transaction(
        (tx) => work(tx, new Validator(rowLocker(transactionSql(tx, ctx.viewer.organizationId)))),
        {
          timeout: TRANSACTION_TIMEOUT_MS,
          maxWait: TRANSACTION_TIMEOUT_MS,
        },
      );
      // What the request loaded before the write is stale now.
      ctx.loaders.clear();
      // Its events are committed: subscribers on every instance may read them.
      ctx.subscriptions.hub.committed(ctx.viewer.organizationId);
      return { ...result, userErrors: [] };
    } catch (error) {
      if (error instanceof UserErrors) return { userErrors: error.errors };
      const userError = userErrorFromDatabase(error, fieldOf);
      if (userError) return { userErrors: [userError] };
      if (attempt < TRANSACTION_ATTEMPTS && isTransientConflict(error)) {
        ctx.log.warn(
          { attempt },
          'mutation aborted by a concurrent transaction (deadlock or serialization failure); retrying',
        );
        await backoff(attempt);
        continue;
      }
      throw error;
    }
  }
}

/** A payload field's row, loaded with what the query selects under the field. */
export async function loadPayloadNode<M extends ModelKey>(
  ctx: Context,
  info: GraphQLResolveInfo,
  model: M,
  id: string | null | undefined,
): Promise<ModelRows[M] | null> {
  if (!id) return null;
  const [row] = await ctx.loaders.nodes.load(model, [id], queryFromInfo({ context: ctx, info }));
  return row ?? null;
}

export async function loadPayloadNodes<M extends ModelKey>(
  ctx: Context,
  info: GraphQLResolveInfo,
  model: M,
  ids: readonly string[],
): Promise<ModelRows[M][]> {
  const rows = await ctx.loaders.nodes.load(model, ids, queryFromInfo({ context: ctx, info }));
  return rows.filter((row): row is ModelRows[M] => row !== null);
}

/** The builder's schema types, as Pothos' field builders are typed with them. */
type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** What a mutation's payload holds: its user errors, and the rest only when it succeeded. */
type PayloadOf<Data> = Payload & Partial<Data>;

/**
 * A mutation payload type `name`: the fields `fields` builds (on the mutation's result,
 * `Data`, which is absent when the mutation failed) and `userErrors: [UserError!]!`.
 */
export function payloadType<Data extends object>(
  name: string,
  options: { description: string; fields: (t: ObjectFieldBuilder<Types, PayloadOf<Data>>) => FieldMap },
) {
  return builder.objectRef<PayloadOf<Data>>(name).implement({
    description: options.description,
    fields: (t) => ({
      ...options.fields(t),
      userErrors: t.field({
        type: [UserError],
        description: 'Why the mutation changed nothing; empty when it succeeded.',
        resolve: (payload) => payload.userErrors,
      }),
    }),
  });
}

/**
 * The payload of a mutation that writes one object: `<field>: <Type>` (null when it
 * failed), read back through the loaders, and `userErrors`. The mutation returns the
 * object's raw id as `id`, and whatever `fields` adds (`Extra`).
 */
export function nodePayload<M extends ModelKey, Extra extends object = object>(
  name: string,
  options: {
    /** The payload type's description. */
    description: string;
    field: string;
    type: ObjectRef<Types, ModelRows[M]>;
    model: M;
    /** The description of the object's field. */
    fieldDescription: string;
    fields?: (t: ObjectFieldBuilder<Types, PayloadOf<{ id: string } & Extra>>) => FieldMap;
  },
) {
  return payloadType<{ id: string } & Extra>(name, {
    description: options.description,
    fields: (t) => ({
      [options.field]: t.field({
        // Seen as a plain object type: Pothos cannot follow ModelRows[M] while M is generic.
        type: options.type as ObjectRef<Types, { id: string }>,
        nullable: true,
        description: options.fieldDescription,
        resolve: (payload, _args, ctx, info): Promise<{ id: string } | null> =>
          loadPayloadNode(ctx, info, options.model, payload.id),
      }),
      ...options.fields?.(t),
    }),
  });
}

/** A mutation input that names one object: `input <name> { id: ID! }` (`id` describes the field). */
export function idInput(name: string, descriptions: { description: string; id: string }) {
  return builder.inputType(name, {
    description: descriptions.description,
    fields: (t) => ({ id: t.id({ required: true, description: descriptions.id }) }),
  });
}

/** A link table's operations that replaceLinks uses: those of a Prisma delegate such as `tx.contactTag`. */
interface LinkTable<Owner extends string, Link extends string> {
  deleteMany(args: { where: Record<Owner, string> & Record<Link, { notIn: string[] }> }): Promise<unknown>;
  createMany(args: {
    data: (Record<Owner | Link, string> & { organizationId: string })[];
    skipDuplicates: boolean;
  }): Promise<unknown>;
}

/**
 * Makes `ids` the whole set of links of one row (`owner`, e.g. `{ contactId }`) in a
 * link table (e.g. `tx.contactTag` with `link` 'tagId'): drops the others, adds the
 * missing ones, leaves those already there (and their creation time) alone.
 */
export async function replaceLinks<Owner extends string, Link extends string>(
  table: LinkTable<NoInfer<Owner>, NoInfer<Link>>,
  organizationId: string,
  owner: Record<Owner, string>,
  link: Link,
  ids: readonly string[],
): Promise<void> {
  const linkTo = <Value>(value: Value) => ({ [link]: value }) as Record<Link, Value>;
  await table.deleteMany({ where: { ...owner, ...linkTo({ notIn: [...ids] }) } });
  await table.createMany({
    data: ids.map((id) => ({ organizationId, ...owner, ...linkTo(id) })),
    skipDuplicates: true,
  });
}

export const DeletePayload = payloadType<{ deletedId: string }>('DeletePayload', {
  description: 'The result of a mutation that deletes one object.',
  fields: (t) => ({
    deletedId: t.id({
      nullable: true,
      description: 'The global id of the deleted object; null when the mutation failed (see userErrors).',
      resolve: (payload) => payload.deletedId ?? null,
    }),
  }),
});

export const DeleteManyPayload = payloadType<{ deletedIds: string[] }>('DeleteManyPayload', {
  description: 'The result of a mutation that deletes several objects, all or none.',
  fields: (t) => ({
    deletedIds: t.idList({
      description: 'The global ids of the deleted objects (empty when nothing was deleted).',
      resolve: (payload) => payload.deletedIds ?? [],
    }),
  }),
});
