// Messages of a conversation, in both directions, of every WhatsApp message type.
import { builder } from '../builder.js';
import type * as Enums from '../generated/prisma/enums.js';
import type { MessageCriteria } from '../loaders/sources.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { type MediaObject, mediaOf, mediaPath } from '../whatsapp/media.js';
import { describedEnum } from './common.js';
import { Conversation } from './conversation.js';
import { OrganizationMember } from './organization.js';

export const MessageDirection = describedEnum<Enums.MessageDirection>('MessageDirection', 'Who sent a message.', {
  INBOUND: 'From the contact to the organization.',
  OUTBOUND: 'From the organization to the contact.',
});
export const MessageStatus = describedEnum<Enums.MessageStatus>(
  'MessageStatus',
  'How far a message got, as WhatsApp reports it.',
  {
    PENDING:
      'Recorded by `sendMessage` and waiting to be handed to WhatsApp by a background job (an outbound message starts here); it becomes SENT, or FAILED with `error`.',
    SENT: 'Handed to WhatsApp, which accepted it (its `whatsAppMessageId` is set then, except for a conversation without a channel, whose messages are only recorded).',
    DELIVERED: 'Reached the recipient’s phone.',
    READ: 'Read by the recipient; an inbound message becomes READ when the organization reads it (`markConversationRead`).',
    FAILED: 'WhatsApp refused the message or could not send it.',
    UNDELIVERED: 'Sent, but it never reached the recipient’s phone.',
  },
);
export const MessageType = describedEnum<Enums.MessageType>(
  'MessageType',
  'The kind of WhatsApp message, which decides the shape of `messageData`.',
  {
    TEXT: 'Plain text (`text` holds it).',
    IMAGE: 'An image, with an optional caption.',
    VIDEO: 'A video, with an optional caption.',
    AUDIO: 'An audio clip or voice note.',
    DOCUMENT: 'A file, such as a PDF.',
    STICKER: 'A sticker.',
    LOCATION: 'A point on the map.',
    CONTACTS: 'One or more contact cards.',
    REACTION: 'An emoji reaction to another message.',
    ADDRESS: 'A postal address.',
    INTERACTIVE: 'Buttons or a list to choose from, or the choice made.',
    TEMPLATE: 'A message from a template approved by WhatsApp, the only kind a business may send first.',
    BUTTON: 'The contact pressed a quick-reply button of a template message.',
    ORDER: 'An order of products from the business’s catalog.',
    SYSTEM:
      'A notice from WhatsApp, such as the contact changing their number, or the contact opening a chat for the first time.',
    UNSUPPORTED: 'A kind WhatsApp did not describe or wagraph does not know yet; `messageData` holds it as received.',
  },
);

/** Media types whose object may carry a caption. */
const CAPTIONED: Readonly<Partial<Record<Enums.MessageType, string>>> = {
  IMAGE: 'image',
  VIDEO: 'video',
  DOCUMENT: 'document',
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The text of a message's data: `{ "text": "…" }` (written by sendMessage) or Meta's
 * `{ "text": { "body": "…" } }`, or the caption of Meta's media object.
 */
export function textOf(messageType: Enums.MessageType, data: unknown): string | null {
  if (!isObject(data)) return null;
  if (messageType === 'TEXT') {
    if (typeof data.text === 'string') return data.text;
    return isObject(data.text) && typeof data.text.body === 'string' ? data.text.body : null;
  }
  const key = CAPTIONED[messageType];
  const media = key === undefined ? undefined : data[key];
  return isObject(media) && typeof media.caption === 'string' ? media.caption : null;
}

const MessageError = builder
  .objectRef<{ code: number | null; title: string | null; details: string | null }>('MessageError')
  .implement({
    description: 'Why WhatsApp failed a message, as its `failed` status said.',
    fields: (t) => ({
      code: t.exposeInt('code', { nullable: true, description: 'WhatsApp’s error code, e.g. 131047.' }),
      title: t.exposeString('title', { nullable: true, description: 'WhatsApp’s short description of the error.' }),
      details: t.exposeString('details', {
        nullable: true,
        description: 'WhatsApp’s longer explanation (`error_data.details`), when it sent one.',
      }),
    }),
  });

const MessageMedia = builder.objectRef<MediaObject & { messageId: string }>('MessageMedia').implement({
  description:
    'The file of an image, audio, video, document or sticker message, as WhatsApp described it. The bytes are at `url`.',
  fields: (t) => ({
    mimeType: t.exposeString('mimeType', {
      nullable: true,
      description: 'The file’s MIME type as WhatsApp gave it, e.g. `image/jpeg` or `audio/ogg; codecs=opus`.',
    }),
    sha256: t.exposeString('sha256', {
      nullable: true,
      description: 'The SHA-256 of the file as WhatsApp gave it (to check a download against).',
    }),
    fileName: t.exposeString('fileName', {
      nullable: true,
      description: 'The file name the sender gave (documents only); null otherwise.',
    }),
    caption: t.exposeString('caption', {
      nullable: true,
      description: 'The caption the sender wrote (images, videos and documents); null when there is none.',
    }),
    url: t.string({
      description:
        'Where the gateway serves the file: `/media/{id}`, `id` being this message’s global id, a path relative to the ' +
        'GraphQL endpoint’s origin. GET it with the same Authorization header as /graphql (it needs ' +
        'Get:Conversation); the gateway fetches the file from WhatsApp with the channel’s access token and streams it, ' +
        'up to MEDIA_MAX_BYTES (100 MiB by default).',
      resolve: (media) => mediaPath(media.messageId),
    }),
  }),
});

export const Message = builder.prismaNode('Message', {
  // Messages are part of conversations: WapiKit has no permission of their own for them.
  authScopes: { permission: 'Get:Conversation' },
  description: 'One WhatsApp message of a conversation, in either direction. Reading it needs Get:Conversation.',
  id: { field: 'id' },
  fields: (t) => ({
    conversation: t.relation('conversation', {
      type: Conversation,
      description: 'The conversation the message is in.',
    }),
    direction: t.expose('direction', {
      type: MessageDirection,
      description: 'INBOUND (from the contact) or OUTBOUND.',
    }),
    status: t.expose('status', { type: MessageStatus, description: 'How far the message got.' }),
    messageType: t.expose('messageType', {
      type: MessageType,
      description: 'The kind of message, which decides the shape of `messageData`.',
    }),
    messageData: t.expose('messageData', { type: 'JSON', description: 'The WhatsApp payload of the message.' }),
    text: t.string({
      nullable: true,
      description: 'The text of a TEXT message, or the caption of an image, video or document; null otherwise.',
      resolve: (message) => textOf(message.messageType, message.messageData),
    }),
    media: t.field({
      type: MessageMedia,
      nullable: true,
      description: 'The file of an IMAGE, AUDIO, VIDEO, DOCUMENT or STICKER message; null for every other type.',
      resolve: (message) => {
        const media = mediaOf(message.messageType, message.messageData);
        return media && { ...media, messageId: encodeGlobalID('Message', message.id) };
      },
    }),
    deliveredAt: t.expose('deliveredAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When WhatsApp reported the message delivered to the recipient’s phone; null until then.',
    }),
    readAt: t.expose('readAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When WhatsApp reported the message read by the recipient; null until then.',
    }),
    error: t.field({
      type: MessageError,
      nullable: true,
      description: 'Why WhatsApp could not send or deliver the message (status FAILED); null otherwise.',
      resolve: (message) =>
        message.errorCode === null && message.errorTitle === null
          ? null
          : { code: message.errorCode, title: message.errorTitle, details: message.errorDetails },
    }),
    whatsAppMessageId: t.exposeString('whatsAppMessageId', {
      nullable: true,
      description:
        'WhatsApp’s own id of the message (`wamid.…`); null for an outbound message until WhatsApp accepted it, and for one of a conversation without a channel (only recorded).',
    }),
  }),
});

// Relations and connections are declared apart from the scalar fields, so that the types
// of nodes that refer to each other do not depend on one another.
builder.prismaObjectFields(Message, (t) => ({
  replyTo: t.relation('replyTo', { type: Message, nullable: true, description: 'The message this one answers.' }),
  sentBy: t.relation('sentBy', {
    type: OrganizationMember,
    nullable: true,
    description:
      'The member who sent it through the API (`sendMessage`); null for inbound messages, for messages sent before ' +
      'this was recorded, and once that member is removed. Needs Get:OrganizationMember.',
  }),
  createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the message was sent or received.' }),
}));

export const MessageConnection = builder.connectionObject(
  {
    type: Message,
    name: 'MessageConnection',
    description: 'A page of messages, with the cursors to page through the rest and, on request, their total count.',
  },
  { name: 'MessageEdge', description: 'A message in a page, with its cursor.' },
);

export const MessageFilter = builder.inputType('MessageFilter', {
  description: 'Conditions on messages: a message matches when it meets every condition given.',
  fields: (t) => ({
    direction: t.field({ type: MessageDirection, description: 'Messages in this direction.' }),
    status: t.field({ type: [MessageStatus], description: 'Messages with any of these statuses.' }),
    messageType: t.field({ type: [MessageType], description: 'Messages of any of these types.' }),
  }),
});

export function messageCriteria(filter: typeof MessageFilter.$inferInput | null | undefined): MessageCriteria | null {
  if (!filter) return null;
  return {
    ...(filter.direction ? { direction: filter.direction } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.messageType ? { messageType: filter.messageType } : {}),
  };
}
