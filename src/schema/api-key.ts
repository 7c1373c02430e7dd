// API keys: listed by their visible prefix, created with a secret shown exactly once,
// revoked for good. Only the secret's hash is stored (src/auth/api-keys.ts).
import { builder } from '../builder.js';
import { newApiKey } from '../auth/api-keys.js';
import { apiKeys as apiKeysSource } from '../loaders/sources.js';
import { resolveConnection } from './connections.js';
import { loadPayloadNode, type Payload, requires, runMutation, UserError } from './mutation.js';
import { OrganizationMember } from './organization.js';

export const ApiKey = builder.prismaNode('ApiKey', {
  authScopes: { permission: 'Get:ApiKey' },
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to tell keys apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Updated at most once a minute.' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    member: t.relation('member', { type: OrganizationMember, description: 'The member the key acts as.' }),
  }),
});

export const ApiKeyConnection = builder.connectionObject({ type: ApiKey, name: 'ApiKeyConnection' }, { name: 'ApiKeyEdge' });

export const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({ name: t.string({ required: true, description: 'What the key is for; 1–255 characters.' }) }),
});

export const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

export const ApiKeyPayload = builder.objectRef<Payload & { apiKeyId?: string }>('ApiKeyPayload').implement({
  fields: (t) => ({
    apiKey: t.field({
      type: ApiKey,
      nullable: true,
      resolve: (payload, _args, ctx, info) => loadPayloadNode(ctx, info, 'apiKey', payload.apiKeyId),
    }),
    userErrors: t.field({ type: [UserError], resolve: (payload) => payload.userErrors }),
  }),
});

export const CreateApiKeyPayload = builder
  .objectRef<Payload & { apiKeyId?: string; secret?: string }>('CreateApiKeyPayload')
  .implement({
    fields: (t) => ({
      apiKey: t.field({
        type: ApiKey,
        nullable: true,
        resolve: (payload, _args, ctx, info) => loadPayloadNode(ctx, info, 'apiKey', payload.apiKeyId),
      }),
      secret: t.string({
        nullable: true,
        description: 'The key itself: shown only in this response, never again. Send it as `Authorization: Bearer <secret>`.',
        resolve: (payload) => payload.secret ?? null,
      }),
      userErrors: t.field({ type: [UserError], resolve: (payload) => payload.userErrors }),
    }),
  });

builder.queryFields((t) => ({
  apiKeys: t.connection(
    {
      type: ApiKey,
      authScopes: { permission: 'Get:ApiKey' },
      description: 'The organization’s API keys, revoked ones included, oldest first.',
      resolve: (_root, args, ctx, info) => resolveConnection(ctx, info, { source: apiKeysSource, model: 'apiKey', args }),
    },
    ApiKeyConnection,
  ),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    ...requires('Regenerate:ApiKey'),
    description: 'Creates a key that acts as the viewer.',
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const name = v.name(['input', 'name'], input.name);
        v.check();
        const key = newApiKey();
        const created = await tx.apiKey.create({
          data: {
            organizationId: ctx.viewer.organizationId,
            memberId: ctx.viewer.memberId,
            name: name!,
            prefix: key.prefix,
            keyHash: key.keyHash,
          },
        });
        return { apiKeyId: created.id, secret: key.secret };
      }),
  }),

  revokeApiKey: t.field({
    type: ApiKeyPayload,
    ...requires('Regenerate:ApiKey'),
    description: 'Revokes a key: it stops working on the next request. Revoking a revoked key changes nothing.',
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const id = await v.id('ApiKey', ['input', 'id'], input.id, 'update');
        v.check();
        await tx.apiKey.updateMany({ where: { id: id!, revokedAt: null }, data: { revokedAt: new Date() } });
        return { apiKeyId: id! };
      }),
  }),
}));
