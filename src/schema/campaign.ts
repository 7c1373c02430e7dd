// Campaigns: bulk WhatsApp sends to lists.
import { builder } from '../builder.js';
import { CampaignStatus as CampaignStatusValues } from '../generated/prisma/enums.js';
import { campaigns as campaignsSource } from '../loaders/sources.js';
import { resolveConnection } from './connections.js';

export const CampaignStatus = builder.enumType(CampaignStatusValues, { name: 'CampaignStatus' });

export const Campaign = builder.prismaNode('Campaign', {
  authScopes: { permission: 'Get:Campaign' },
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    status: t.expose('status', { type: CampaignStatus }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const CampaignConnection = builder.connectionObject(
  { type: Campaign, name: 'CampaignConnection' },
  { name: 'CampaignEdge' },
);

builder.queryFields((t) => ({
  campaigns: t.connection(
    {
      type: Campaign,
      authScopes: { permission: 'Get:Campaign' },
      args: { status: t.arg({ type: [CampaignStatus], description: 'Campaigns with any of these statuses.' }) },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: campaignsSource,
          model: 'campaign',
          args,
          filter: args.status ? { status: args.status } : null,
        }),
    },
    CampaignConnection,
  ),
}));
