// WhatsApp channels: the business phone numbers an organization has connected through Meta's
// WhatsApp Cloud API. Their secrets (access token, app secret, webhook verify token) are
// stored sealed (src/secrets.ts) and never readable here: the API says whether each is set
// and shows a fingerprint.
import { builder } from '../builder.js';
import type { WhatsAppChannelStatus as WhatsAppChannelStatusValue } from '../generated/prisma/enums.js';
import { organizationChannels } from '../loaders/sources.js';
import { describedEnum } from './common.js';
import { resolveConnection } from './connections.js';
import { Conversation } from './conversation.js';

export const WhatsAppChannelStatus = describedEnum<WhatsAppChannelStatusValue>(
  'WhatsAppChannelStatus',
  'Whether a WhatsApp channel takes part in messaging.',
  {
    CONNECTED: 'Its webhook deliveries are accepted and its conversations go on.',
    DISCONNECTED:
      'Disconnected by the organization: the webhook refuses its verification and ignores its deliveries; its conversations stay readable.',
  },
);

interface SecretShape {
  fingerprint: string | null;
}

export const WhatsAppChannelSecret = builder.objectRef<SecretShape>('WhatsAppChannelSecret').implement({
  description:
    'What the API shows of a channel’s secret: never the secret itself, only whether it is set and a fingerprint to tell which one is stored.',
  fields: (t) => ({
    isSet: t.boolean({
      description: 'Whether the secret is stored.',
      resolve: (secret) => secret.fingerprint !== null,
    }),
    fingerprint: t.exposeString('fingerprint', {
      nullable: true,
      description:
        'The first 8 hex digits of the secret’s SHA-256 (`printf %s "$SECRET" | sha256sum | cut -c1-8`); null when it is not set.',
    }),
  }),
});

export const WhatsAppChannel = builder.prismaNode('WhatsAppChannel', {
  authScopes: { permission: 'Get:WhatsAppChannel' },
  description:
    'A business phone number connected through Meta’s WhatsApp Cloud API; its conversations take place on it. Reading it needs Get:WhatsAppChannel.',
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'A name for people to tell channels apart, 1–255 characters.' }),
    phoneNumberId: t.exposeString('phoneNumberId', {
      description:
        'Meta’s id of the phone number (digits), which webhook deliveries name; one channel per phone number across all organizations.',
    }),
    businessAccountId: t.exposeString('businessAccountId', {
      description: 'The id of the WhatsApp Business Account (WABA) the number belongs to (digits).',
    }),
    displayPhoneNumber: t.exposeString('displayPhoneNumber', {
      description: 'The phone number as people see it, e.g. "+1 555-000-1111".',
    }),
    messagesPerSecond: t.exposeInt('messagesPerSecond', {
      nullable: true,
      description:
        'The sends per second the workers allow this phone number (WhatsApp’s throughput limit); null: the gateway’s default, WHATSAPP_MESSAGES_PER_SECOND (80 unless configured).',
    }),
    status: t.expose('status', {
      type: WhatsAppChannelStatus,
      description: 'Whether the channel takes part in messaging.',
    }),
    accessToken: t.field({
      type: WhatsAppChannelSecret,
      description: 'The Cloud API access token (for sending and for media): whether it is set, and its fingerprint.',
      resolve: (channel) => ({ fingerprint: channel.accessTokenFingerprint }),
    }),
    appSecret: t.field({
      type: WhatsAppChannelSecret,
      description: 'The Meta app’s secret, which signs webhook deliveries: whether it is set, and its fingerprint.',
      resolve: (channel) => ({ fingerprint: channel.appSecretFingerprint }),
    }),
    verifyToken: t.field({
      type: WhatsAppChannelSecret,
      description: 'The webhook verify token entered in Meta’s app dashboard: whether it is set, and its fingerprint.',
      resolve: (channel) => ({ fingerprint: channel.verifyTokenFingerprint }),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the channel was first connected.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the channel was last changed.' }),
  }),
});

export const WhatsAppChannelConnection = builder.connectionObject(
  {
    type: WhatsAppChannel,
    name: 'WhatsAppChannelConnection',
    description:
      'A page of WhatsApp channels, with the cursors to page through the rest and, on request, their total count.',
  },
  { name: 'WhatsAppChannelEdge', description: 'A WhatsApp channel in a page, with its cursor.' },
);

builder.prismaObjectFields(Conversation, (t) => ({
  channel: t.relation('channel', {
    type: WhatsAppChannel,
    nullable: true,
    description:
      'The WhatsApp channel (business phone number) the conversation takes place on; null for a conversation from before channels existed. Needs Get:WhatsAppChannel.',
  }),
}));

builder.queryFields((t) => ({
  channels: t.connection(
    {
      type: WhatsAppChannel,
      authScopes: { permission: 'Get:WhatsAppChannel' },
      description: 'The organization’s WhatsApp channels, oldest first. Needs Get:WhatsAppChannel.',
      args: {
        status: t.arg({ type: [WhatsAppChannelStatus], description: 'Channels with any of these statuses.' }),
      },
      resolve: (_root, args, ctx, info) =>
        resolveConnection(ctx, info, {
          source: organizationChannels,
          model: 'whatsAppChannel',
          args,
          filter: args.status ? { status: args.status } : null,
        }),
    },
    WhatsAppChannelConnection,
  ),
}));
