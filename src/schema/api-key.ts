// API keys: listed by their first characters, created with a secret shown exactly once,
// revoked for good. Only the secret's hash is stored (src/auth/api-keys.ts).
//
// A member manages its own keys (Regenerate:ApiKey), up to MAX_API_KEYS_PER_MEMBER active
// ones. Revoking another member's key takes an owner, or Revoke:ApiKey for the keys of
// members who are not owners: a permission granted in a role never reaches above it.
// Every creation and revocation is recorded in ApiKeyEvent (who, when, which key).
import { builder } from '../builder.js';
import { newApiKey, shownPrefix } from '../auth/api-keys.js';
import { forbiddenMessage } from '../auth/permissions.js';
import type { Context } from '../context.js';
import { rowLocker } from '../db/row-locks.js';
import type { TenantTransaction } from '../db/tenant.js';
import { transactionSql } from '../db/tenant-sql.js';
import { UserErrors } from '../errors.js';
import type { Invalid, Validator } from '../validation.js';
import { organizationApiKeys } from '../loaders/sources.js';
import { resolveConnection } from './connections.js';
import { idInput, nodePayload, type Payload, requires, runMutation } from './mutation.js';
import { OrganizationMember } from './organization.js';

export const ApiKey = builder.prismaNode('ApiKey', {
  authScopes: { permission: 'Get:ApiKey' },
  description:
    'A credential that acts as one member, sent as `Authorization: Bearer <secret>`. Only its first characters are ever shown after creation. Reading it needs Get:ApiKey.',
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'What the key is for, as its creator named it.' }),
    prefix: t.string({
      description: 'The first 8 characters of the key (`wag_` and four more), to tell keys apart.',
      select: { prefix: true },
      resolve: (key) => shownPrefix(key.prefix),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the key was created.' }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When a request last used the key (updated at most once a minute); null when never used.',
    }),
    revokedAt: t.expose('revokedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the key was revoked, after which it is refused; null while it works.',
    }),
    member: t.relation('member', { type: OrganizationMember, description: 'The member the key acts as.' }),
  }),
});

export const ApiKeyConnection = builder.connectionObject(
  {
    type: ApiKey,
    name: 'ApiKeyConnection',
    description: 'A page of API keys, with the cursors to page through the rest and, on request, their total count.',
  },
  { name: 'ApiKeyEdge', description: 'An API key in a page, with its cursor.' },
);

export const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  description: 'The input of `createApiKey`.',
  fields: (t) => ({ name: t.string({ required: true, description: 'What the key is for; 1–255 characters.' }) }),
});

export const RevokeApiKeyInput = idInput('RevokeApiKeyInput', {
  description: 'The input of `revokeApiKey`.',
  id: 'The API key to revoke.',
});

export const ApiKeyPayload = nodePayload('ApiKeyPayload', {
  description: 'The result of `revokeApiKey`.',
  field: 'apiKey',
  type: ApiKey,
  model: 'apiKey',
  fieldDescription: 'The API key as written; null when the mutation failed.',
});

export const CreateApiKeyPayload = nodePayload<'apiKey', { secret: string }>('CreateApiKeyPayload', {
  description: 'The result of `createApiKey`.',
  field: 'apiKey',
  type: ApiKey,
  model: 'apiKey',
  fieldDescription: 'The API key created; null when the mutation failed.',
  fields: (t) => ({
    secret: t.string({
      nullable: true,
      description:
        'The key itself: shown only in this response, never again. Send it as `Authorization: Bearer <secret>`.',
      resolve: (payload) => payload.secret ?? null,
    }),
  }),
});

builder.queryFields((t) => ({
  apiKeys: t.connection(
    {
      type: ApiKey,
      authScopes: { permission: 'Get:ApiKey' },
      description: 'The organization’s API keys, revoked ones included, oldest first. Needs Get:ApiKey.',
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, { source: organizationApiKeys, model: 'apiKey', args }),
    },
    ApiKeyConnection,
  ),
}));

/** Records who created or revoked a key, in the mutation's transaction. */
async function recordEvent(
  tx: TenantTransaction,
  ctx: Context,
  action: 'CREATED' | 'REVOKED',
  key: { id: string; prefix: string; memberId: string },
) {
  await tx.apiKeyEvent.create({
    data: {
      organizationId: ctx.viewer.organizationId,
      action,
      apiKeyId: key.id,
      keyPrefix: shownPrefix(key.prefix),
      keyMemberId: key.memberId,
      actorMemberId: ctx.viewer.memberId,
      actorApiKeyId: ctx.viewer.apiKeyId ?? null,
    },
  });
}

/** Whether the viewer may revoke a key of `owner` (the member the key acts as). */
function mayRevoke(ctx: Context, owner: { id: string; accessLevel: 'OWNER' | 'MEMBER' }): boolean {
  const { viewer } = ctx;
  if (owner.id === viewer.memberId) return viewer.permissions.has('Regenerate:ApiKey');
  if (viewer.accessLevel === 'OWNER') return true;
  return owner.accessLevel === 'MEMBER' && viewer.permissions.has('Revoke:ApiKey');
}

type KeyToRevoke = { id: string; prefix: string; memberId: string; member: Parameters<typeof mayRevoke>[1] };

/** `key` if the viewer may revoke it; otherwise why not, as the error at ["input", "id"]. */
function revocable(ctx: Context, v: Validator, key: KeyToRevoke, globalId: string): KeyToRevoke | Invalid {
  if (mayRevoke(ctx, key.member)) return key;
  const field = ['input', 'id'];
  const own = key.memberId === ctx.viewer.memberId;
  // To a member that cannot list keys, another member's key reads as a missing one.
  if (!own && !ctx.viewer.permissions.has('Get:ApiKey')) return v.notFound(field, 'ApiKey', globalId);
  if (own) return v.fail(field, forbiddenMessage(['Regenerate:ApiKey']), 'FORBIDDEN');
  if (key.member.accessLevel === 'OWNER')
    return v.fail(field, 'Only an owner can revoke an owner’s API key.', 'FORBIDDEN');
  return v.fail(
    field,
    `${forbiddenMessage(['Revoke:ApiKey'])} It is needed to revoke another member’s API key.`,
    'FORBIDDEN',
  );
}

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    ...requires('Regenerate:ApiKey'),
    description:
      'Creates an API key that acts as the viewer, and shows its secret once. A member holds at most MAX_API_KEYS_PER_MEMBER (default 10) active keys: beyond, LIMIT_EXCEEDED. Needs Regenerate:ApiKey.',
    args: { input: t.arg({ type: CreateApiKeyInput, required: true, description: 'The key to create.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { name } = v.valid({ name: v.name(['input', 'name'], input.name) });
        // The member's row, locked: two creations at once count one after the other.
        await rowLocker(transactionSql(tx, ctx.viewer.organizationId))(
          'OrganizationMember',
          [ctx.viewer.memberId],
          'update',
        );
        const active = await tx.apiKey.count({ where: { memberId: ctx.viewer.memberId, revokedAt: null } });
        if (active >= ctx.maxApiKeysPerMember) {
          throw new UserErrors([
            {
              field: null,
              message: `A member holds at most ${ctx.maxApiKeysPerMember} active API keys: revoke one you no longer use first.`,
              code: 'LIMIT_EXCEEDED',
            },
          ]);
        }
        const key = newApiKey();
        const created = await tx.apiKey.create({
          data: {
            organizationId: ctx.viewer.organizationId,
            memberId: ctx.viewer.memberId,
            name,
            prefix: key.prefix,
            keyHash: key.keyHash,
          },
        });
        await recordEvent(tx, ctx, 'CREATED', created);
        return { id: created.id, secret: key.secret };
      }),
  }),

  revokeApiKey: t.field({
    type: ApiKeyPayload,
    // Regenerate:ApiKey for one's own keys, Revoke:ApiKey for other members' (see mayRevoke).
    authScopes: (_root, _args, ctx) =>
      ctx.viewer.permissions.has('Regenerate:ApiKey') || ctx.viewer.permissions.has('Revoke:ApiKey'),
    unauthorizedResolver: (): Payload => ({
      userErrors: [
        { field: null, message: forbiddenMessage(['Regenerate:ApiKey', 'Revoke:ApiKey']), code: 'FORBIDDEN' },
      ],
    }),
    description:
      'Revokes a key: it stops working on the next request. Revoking a revoked key changes nothing. ' +
      'Your own keys need Regenerate:ApiKey; another member’s need Revoke:ApiKey, and an owner’s keys an owner.',
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true, description: 'The key to revoke.' }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id } = v.valid({ id: await v.id('ApiKey', ['input', 'id'], input.id, 'update') });
        const found = await tx.apiKey.findUnique({
          where: { id },
          select: { id: true, prefix: true, memberId: true, member: { select: { id: true, accessLevel: true } } },
        });
        const { key } = v.valid({
          // Gone since the lookup (its member was removed): as missing as it would have been before.
          key: found ? revocable(ctx, v, found, input.id) : v.notFound(['input', 'id'], 'ApiKey', input.id),
        });
        const revoked = await tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
        if (revoked.count > 0) await recordEvent(tx, ctx, 'REVOKED', key);
        return { id };
      }),
  }),
}));
