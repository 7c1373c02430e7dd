// Connecting, updating and disconnecting WhatsApp channels. The secrets given are sealed
// before they are written (src/whatsapp/channels.ts) and never returned. A phone-number id
// is unique across all organizations, since the one webhook URL routes deliveries by it: the
// database's unique index decides (src/errors.ts maps a violation to TAKEN, without saying
// whose channel has it).
import crypto from 'node:crypto';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { SecretBox } from '../secrets.js';
import type { FieldPath, Invalid, Validator } from '../validation.js';
import { sealChannelSecrets, sealNewChannelSecrets } from '../whatsapp/channels.js';
import { MAX_MESSAGES_PER_SECOND } from '../whatsapp/send-limits.js';
import { idInput, nodePayload, requires, runMutation } from './mutation.js';
import { WhatsAppChannel } from './whatsapp-channel.js';

const ACCESS_TOKEN = { min: 1, max: 4_096 };
const APP_SECRET = { min: 8, max: 256 };
/** A verify token is sent in the clear by Meta and compared here: long enough not to be guessed. */
const VERIFY_TOKEN = { min: 16, max: 256 };

export const ConnectWhatsAppChannelInput = builder.inputType('ConnectWhatsAppChannelInput', {
  description: 'The input of `connectWhatsAppChannel`: what Meta’s app dashboard shows of the number, and its secrets.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'A name for people to tell channels apart. Trimmed; 1–255 characters.',
    }),
    phoneNumberId: t.string({
      required: true,
      description: 'Meta’s phone-number id (digits, 1–32); not connected yet as a channel of any organization.',
    }),
    businessAccountId: t.string({
      required: true,
      description: 'The WhatsApp Business Account id (digits, 1–32).',
    }),
    displayPhoneNumber: t.string({
      required: true,
      description: 'The number as people see it, e.g. "+1 555-000-1111" (at most 32 characters).',
    }),
    accessToken: t.string({
      description:
        'The Cloud API access token (a system user’s token), for sending and for media; 1–4096 characters. Optional: receiving needs only the app secret and verify token.',
    }),
    appSecret: t.string({
      required: true,
      description: 'The Meta app’s secret, which signs webhook deliveries; 8–256 characters.',
    }),
    messagesPerSecond: t.int({
      description:
        'Sends per second the workers allow this phone number (Meta’s throughput tier for it), 1–1000; omitted or null: the gateway’s WHATSAPP_MESSAGES_PER_SECOND (80 by default).',
    }),
    verifyToken: t.string({
      required: true,
      description:
        'A token of your choosing, entered in Meta’s app dashboard beside the callback URL; 16–256 printable characters without spaces.',
    }),
  }),
});

export const UpdateWhatsAppChannelInput = builder.inputType('UpdateWhatsAppChannelInput', {
  description:
    'The input of `updateWhatsAppChannel`: an omitted field is unchanged, a secret given replaces the stored one. The phone-number id of a channel does not change.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The channel to update.' }),
    name: t.string({ description: 'Trimmed; 1–255 characters.' }),
    businessAccountId: t.string({ description: 'Digits, 1–32.' }),
    displayPhoneNumber: t.string({ description: 'At most 32 characters, e.g. "+1 555-000-1111".' }),
    accessToken: t.string({ description: 'A new access token; 1–4096 characters.' }),
    appSecret: t.string({ description: 'A new app secret; 8–256 characters.' }),
    verifyToken: t.string({ description: 'A new verify token; 16–256 printable characters without spaces.' }),
    messagesPerSecond: t.int({
      description:
        'A new throughput for the number: sends per second, 1–1000; null: back to the gateway’s WHATSAPP_MESSAGES_PER_SECOND; omitted: unchanged.',
    }),
  }),
});

export const DisconnectWhatsAppChannelInput = idInput('DisconnectWhatsAppChannelInput', {
  description: 'The input of `disconnectWhatsAppChannel`.',
  id: 'The channel to disconnect.',
});

export const WhatsAppChannelPayload = nodePayload('WhatsAppChannelPayload', {
  description: 'The result of `connectWhatsAppChannel`, `updateWhatsAppChannel` and `disconnectWhatsAppChannel`.',
  field: 'channel',
  type: WhatsAppChannel,
  model: 'whatsAppChannel',
  fieldDescription: 'The channel as written (its secrets only as fingerprints); null when the mutation failed.',
});

function secretBoxOf(ctx: Context): SecretBox {
  // Set by the server from SECRETS_KEY (or development's kept key): only a bare embedding lacks it.
  if (!ctx.secrets) throw new Error('No SECRETS_KEY: WhatsApp channels cannot be written');
  return ctx.secrets;
}

/** The checked secrets of an input (those given), ready to seal. */
function checkedSecrets(
  v: Validator,
  input: { accessToken?: string | null; appSecret?: string | null; verifyToken?: string | null },
): Record<'accessToken' | 'appSecret' | 'verifyToken', string | Invalid | undefined> {
  const field = (name: string): FieldPath => ['input', name];
  return {
    accessToken:
      input.accessToken != null
        ? v.secret(field('accessToken'), input.accessToken, 'Access token', ACCESS_TOKEN.min, ACCESS_TOKEN.max)
        : undefined,
    appSecret:
      input.appSecret != null
        ? v.secret(field('appSecret'), input.appSecret, 'App secret', APP_SECRET.min, APP_SECRET.max)
        : undefined,
    verifyToken:
      input.verifyToken != null
        ? v.secret(field('verifyToken'), input.verifyToken, 'Verify token', VERIFY_TOKEN.min, VERIFY_TOKEN.max)
        : undefined,
  };
}

/** A channel's throughput as given: a number checked, null (the default) or undefined (not given) as is. */
function checkedMessagesPerSecond(v: Validator, value: number | null | undefined): number | null | undefined | Invalid {
  if (value == null) return value;
  return v.integer(['input', 'messagesPerSecond'], value, 1, MAX_MESSAGES_PER_SECOND, 'Messages per second');
}

/** The secrets that were given. */
function defined(secrets: Record<'accessToken' | 'appSecret' | 'verifyToken', string | undefined>) {
  return Object.fromEntries(Object.entries(secrets).filter(([, value]) => value !== undefined)) as Partial<
    Record<'accessToken' | 'appSecret' | 'verifyToken', string>
  >;
}

builder.mutationFields((t) => ({
  connectWhatsAppChannel: t.field({
    type: WhatsAppChannelPayload,
    ...requires('Create:WhatsAppChannel'),
    description:
      'Connects a business phone number: after it, enter the callback URL (https://<host>/webhooks/whatsapp) and the verify token in Meta’s app dashboard. A phone-number id connected as a channel anywhere is TAKEN, except the organization’s own DISCONNECTED channel, which this connects again with the values given. Needs Create:WhatsAppChannel.',
    args: {
      input: t.arg({ type: ConnectWhatsAppChannelInput, required: true, description: 'The number and its secrets.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const box = secretBoxOf(ctx);
        const checked = v.valid({
          name: v.name(['input', 'name'], input.name, 'Name'),
          phoneNumberId: v.metaId(['input', 'phoneNumberId'], input.phoneNumberId, 'Phone-number id'),
          businessAccountId: v.metaId(['input', 'businessAccountId'], input.businessAccountId, 'Business account id'),
          displayPhoneNumber: v.displayPhoneNumber(['input', 'displayPhoneNumber'], input.displayPhoneNumber),
          messagesPerSecond: checkedMessagesPerSecond(v, input.messagesPerSecond) ?? null,
          ...checkedSecrets(v, input),
        });
        const { accessToken, appSecret, verifyToken, ...fields } = checked;
        const own = await tx.whatsAppChannel.findFirst({
          where: { phoneNumberId: fields.phoneNumberId },
          select: { id: true, status: true },
        });
        if (own?.status === 'CONNECTED') {
          v.fail(
            ['input', 'phoneNumberId'],
            'This phone-number id is already connected as a channel of this organization.',
            'TAKEN',
          );
          v.check();
        }
        if (own) {
          // Connecting a number again: the old secrets go, unless given again.
          await tx.whatsAppChannel.update({
            where: { id: own.id },
            data: {
              ...fields,
              status: 'CONNECTED',
              accessTokenSealed: null,
              accessTokenFingerprint: null,
              ...sealChannelSecrets(box, own.id, defined({ accessToken, appSecret, verifyToken })),
            },
          });
          return { id: own.id };
        }
        const id = crypto.randomUUID();
        // Required by the schema: always given.
        if (appSecret === undefined || verifyToken === undefined) throw new Error('appSecret and verifyToken missing');
        await tx.whatsAppChannel.create({
          data: {
            id,
            organizationId: ctx.viewer.organizationId,
            ...fields,
            ...sealNewChannelSecrets(box, id, { accessToken, appSecret, verifyToken }),
          },
        });
        return { id };
      }),
  }),

  updateWhatsAppChannel: t.field({
    type: WhatsAppChannelPayload,
    ...requires('Update:WhatsAppChannel'),
    description:
      'Changes a channel’s name, account, displayed number or secrets (e.g. a rotated access token); omitted fields are unchanged. Needs Update:WhatsAppChannel.',
    args: {
      input: t.arg({ type: UpdateWhatsAppChannelInput, required: true, description: 'The channel and what changes.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const box = secretBoxOf(ctx);
        const { id, accessToken, appSecret, verifyToken, ...fields } = v.valid({
          id: await v.id('WhatsAppChannel', ['input', 'id'], input.id, 'update'),
          name: input.name != null ? v.name(['input', 'name'], input.name, 'Name') : undefined,
          businessAccountId:
            input.businessAccountId != null
              ? v.metaId(['input', 'businessAccountId'], input.businessAccountId, 'Business account id')
              : undefined,
          displayPhoneNumber:
            input.displayPhoneNumber != null
              ? v.displayPhoneNumber(['input', 'displayPhoneNumber'], input.displayPhoneNumber)
              : undefined,
          messagesPerSecond: checkedMessagesPerSecond(v, input.messagesPerSecond),
          ...checkedSecrets(v, input),
        });
        await tx.whatsAppChannel.update({
          where: { id },
          data: { ...fields, ...sealChannelSecrets(box, id, defined({ accessToken, appSecret, verifyToken })) },
        });
        return { id };
      }),
  }),

  disconnectWhatsAppChannel: t.field({
    type: WhatsAppChannelPayload,
    ...requires('Delete:WhatsAppChannel'),
    description:
      'Disconnects a channel: the webhook refuses its verification and ignores its deliveries from then on. The channel and its conversations stay (readable, with status DISCONNECTED), and so does its phone-number id: `connectWhatsAppChannel` with it connects the channel again. Needs Delete:WhatsAppChannel.',
    args: {
      input: t.arg({ type: DisconnectWhatsAppChannelInput, required: true, description: 'The channel to disconnect.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, async (tx, v) => {
        const { id } = v.valid({ id: await v.id('WhatsAppChannel', ['input', 'id'], input.id, 'update') });
        await tx.whatsAppChannel.update({ where: { id }, data: { status: 'DISCONNECTED' } });
        return { id };
      }),
  }),
}));
