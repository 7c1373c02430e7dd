// Campaigns: bulk WhatsApp sends to lists.
import { builder } from '../builder.js';
import type { CampaignStatus as CampaignStatusValue } from '../generated/prisma/enums.js';
import { organizationCampaigns } from '../loaders/sources.js';
import { describedEnum } from './common.js';
import { resolveConnection } from './connections.js';

export const CampaignStatus = describedEnum<CampaignStatusValue>('CampaignStatus', 'Where a campaign is in its life.', {
  DRAFT: 'Being prepared; nothing is sent.',
  SCHEDULED: 'Set to start sending at a later time.',
  RUNNING: 'Sending to its lists.',
  PAUSED: 'Stopped for now; it can resume.',
  FINISHED: 'Sent to every contact of its lists.',
  CANCELLED: 'Stopped for good before it finished.',
});

export const Campaign = builder.prismaNode('Campaign', {
  authScopes: { permission: 'Get:Campaign' },
  description: 'A bulk WhatsApp send to the contacts of one or more lists. Reading it needs Get:Campaign.',
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The campaign’s name.' }),
    description: t.exposeString('description', {
      nullable: true,
      description: 'What the campaign is for; null when not given.',
    }),
    status: t.expose('status', { type: CampaignStatus, description: 'Where the campaign is in its life.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the campaign was created.' }),
  }),
});

export const CampaignConnection = builder.connectionObject(
  {
    type: Campaign,
    name: 'CampaignConnection',
    description: 'A page of campaigns, with the cursors to page through the rest and, on request, their total count.',
  },
  { name: 'CampaignEdge', description: 'A campaign in a page, with its cursor.' },
);

builder.queryFields((t) => ({
  campaigns: t.connection(
    {
      type: Campaign,
      authScopes: { permission: 'Get:Campaign' },
      description: 'The organization’s campaigns, oldest first. Needs Get:Campaign.',
      args: { status: t.arg({ type: [CampaignStatus], description: 'Campaigns with any of these statuses.' }) },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: organizationCampaigns,
          model: 'campaign',
          args,
          filter: args.status ? { status: args.status } : null,
        }),
    },
    CampaignConnection,
  ),
}));
