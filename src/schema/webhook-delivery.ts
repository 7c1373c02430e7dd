// What the WhatsApp webhook stored for the organization (src/whatsapp/deliveries.ts): counts
// for operators, who see from them whether Meta's deliveries arrive and are processed.
// Deliveries that no channel took (UNROUTED, REJECTED as a whole) belong to no organization
// and are not counted here: the server's log reports them.
import { builder } from '../builder.js';
import { Organization } from './organization.js';

interface DeliveryCounts {
  received: number;
  processed: number;
  rejected: number;
  lastReceivedAt: Date | null;
}

export const WebhookDeliveryCounts = builder.objectRef<DeliveryCounts>('WebhookDeliveryCounts').implement({
  description:
    'The WhatsApp webhook deliveries stored for the organization, by state. A delivery is one POST from Meta (or its share for one of the organization’s channels); a replayed one is counted once.',
  fields: (t) => ({
    received: t.exposeInt('received', {
      description: 'Stored and acknowledged, not processed yet.',
    }),
    processed: t.exposeInt('processed', { description: 'Processed into contacts, conversations and messages.' }),
    rejected: t.exposeInt('rejected', {
      description: 'Stored but not processed, for a reason recorded with the delivery.',
    }),
    lastReceivedAt: t.expose('lastReceivedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the latest delivery was received; null when none ever was.',
    }),
  }),
});

builder.prismaObjectFields(Organization, (t) => ({
  webhookDeliveries: t.field({
    type: WebhookDeliveryCounts,
    nullable: true,
    authScopes: { permission: 'Get:Organization' },
    description:
      'Counts of the WhatsApp webhook deliveries stored for the organization’s channels. Needs Get:Organization (null, with a FORBIDDEN error, without it).',
    resolve: async (_organization, _args, ctx) => {
      const groups = await ctx.db.webhookDelivery.groupBy({
        by: ['status'],
        _count: { _all: true },
        _max: { receivedAt: true },
      });
      const count = (status: string) => groups.find((group) => group.status === status)?._count._all ?? 0;
      const latest = groups
        .map((group) => group._max.receivedAt)
        .filter((at): at is Date => at !== null)
        .sort((a, b) => b.getTime() - a.getTime());
      return {
        received: count('RECEIVED'),
        processed: count('PROCESSED'),
        rejected: count('REJECTED') + count('UNROUTED'),
        lastReceivedAt: latest[0] ?? null,
      };
    },
  }),
}));
