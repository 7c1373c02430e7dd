// Meta's side of the webhook: deliveries in the WhatsApp Cloud API's documented JSON shapes,
// signed as Meta signs them (`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the
// app secret>`). One module, used by the tests, the local simulator (src/whatsapp/simulator.ts)
// and the benchmark, so that every fake of Meta speaks the same protocol.
// https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
// https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
import { createHash, randomBytes } from 'node:crypto';
import { signatureHeader } from './deliveries.js';

export interface ChannelIdentity {
  phoneNumberId: string;
  businessAccountId: string;
  displayPhoneNumber?: string;
}

/** A `wamid.` id as Meta writes them (base64 of an opaque value). */
export function wamid(): string {
  return `wamid.${randomBytes(24).toString('base64')}`;
}

/** A media id as the Cloud API gives them (digits), for `GET /<media id>`. */
export function mediaId(): string {
  return String(BigInt(`0x${randomBytes(7).toString('hex')}`) + 1_000_000_000_000_000n);
}

const seconds = (at: Date) => String(Math.floor(at.getTime() / 1000));

/** One change of `field: "messages"` for a channel: `value` gets the channel's metadata. */
export function messagesChange(channel: ChannelIdentity, value: Record<string, unknown>) {
  return {
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: {
        display_phone_number: (channel.displayPhoneNumber ?? '+1 555-000-1111').replace(/\D/g, ''),
        phone_number_id: channel.phoneNumberId,
      },
      ...value,
    },
  };
}

/** What every inbound message has: who wrote it (digits, no `+`), its id, when, and what it quotes. */
export interface InboundOptions {
  from: string;
  /** The sender's WhatsApp profile name (default Ana). */
  name?: string;
  id?: string;
  at?: Date;
  /** The wamid of the message this one replies to (`context.id`). */
  replyTo?: string;
}

/**
 * An inbound message of any type, as the value of a messages change: `content` is the
 * type's own object (`{ text: { body } }`, `{ image: { … } }`, `{ location: { … } }`, …).
 */
export function inboundMessageValue(options: InboundOptions, type: string, content: Record<string, unknown>) {
  return {
    contacts: [{ profile: { name: options.name ?? 'Ana' }, wa_id: options.from }],
    messages: [
      {
        from: options.from,
        id: options.id ?? wamid(),
        timestamp: seconds(options.at ?? new Date()),
        type,
        ...content,
        ...(options.replyTo ? { context: { from: options.from, id: options.replyTo } } : {}),
      },
    ],
  };
}

/** An inbound text message. */
export function textMessageValue(options: InboundOptions & { body: string }) {
  return inboundMessageValue(options, 'text', { text: { body: options.body } });
}

export type MediaType = 'image' | 'audio' | 'video' | 'document' | 'sticker';

/** A media object as Meta sends it: the file is fetched later from the Cloud API by its `id`. */
export interface MediaOptions {
  mimeType: string;
  id?: string;
  /** Default: the SHA-256 of a random value (Meta's is the file's). */
  sha256?: string;
  caption?: string;
  /** Documents only. */
  filename?: string;
}

/** An inbound image, audio, video, document or sticker. */
export function mediaMessageValue(options: InboundOptions, type: MediaType, media: MediaOptions) {
  return inboundMessageValue(options, type, {
    [type]: {
      id: media.id ?? mediaId(),
      mime_type: media.mimeType,
      sha256: media.sha256 ?? createHash('sha256').update(randomBytes(16)).digest('base64'),
      ...(media.caption !== undefined ? { caption: media.caption } : {}),
      ...(media.filename !== undefined ? { filename: media.filename } : {}),
      ...(type === 'audio' ? { voice: media.mimeType.startsWith('audio/ogg') } : {}),
    },
  });
}

/** An inbound location (a pin, or a place with a name and address). */
export function locationMessageValue(
  options: InboundOptions,
  location: { latitude: number; longitude: number; name?: string; address?: string },
) {
  return inboundMessageValue(options, 'location', { location });
}

/** Inbound shared contact cards (Meta's `contacts` message type). */
export function contactsMessageValue(
  options: InboundOptions,
  cards: { formattedName: string; firstName?: string; phone: string }[],
) {
  return inboundMessageValue(options, 'contacts', {
    contacts: cards.map((card) => ({
      name: { formatted_name: card.formattedName, ...(card.firstName ? { first_name: card.firstName } : {}) },
      phones: [{ phone: card.phone, type: 'CELL', wa_id: card.phone.replace(/\D/g, '') }],
    })),
  });
}

/** The user tapped a reply button (`button_reply`) or chose a list row (`list_reply`) of our interactive message. */
export function interactiveReplyValue(
  options: InboundOptions & { replyTo: string },
  reply: { kind: 'button_reply' | 'list_reply'; id: string; title: string; description?: string },
) {
  const { kind, ...chosen } = reply;
  return inboundMessageValue(options, 'interactive', { interactive: { type: kind, [kind]: chosen } });
}

/** The user tapped a quick-reply button of our template (`type: "button"`). */
export function buttonReplyValue(
  options: InboundOptions & { replyTo: string },
  button: { text: string; payload: string },
) {
  return inboundMessageValue(options, 'button', { button });
}

/** A reaction to a message (`emoji` empty: the reaction was removed). */
export function reactionValue(options: InboundOptions, reaction: { messageId: string; emoji: string }) {
  return inboundMessageValue(options, 'reaction', {
    reaction: { message_id: reaction.messageId, emoji: reaction.emoji },
  });
}

/** An error as Meta reports it in a `failed` status (and in `errors[]` of unsupported messages). */
export interface MetaError {
  code: number;
  title: string;
  message?: string;
  details?: string;
}

/** A status of one of our outbound messages, as the value of a messages change. */
export function statusValue(options: {
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  recipient: string;
  at?: Date;
  errors?: MetaError[];
  /** What the send carried as `biz_opaque_callback_data`; Meta echoes it in each status. */
  callbackData?: string;
}) {
  return {
    statuses: [
      {
        id: options.id,
        status: options.status,
        timestamp: seconds(options.at ?? new Date()),
        recipient_id: options.recipient,
        ...(options.callbackData === undefined ? {} : { biz_opaque_callback_data: options.callbackData }),
        ...(options.errors
          ? {
              errors: options.errors.map(({ code, title, message, details }) => ({
                code,
                title,
                message: message ?? title,
                ...(details ? { error_data: { details } } : {}),
              })),
            }
          : {}),
      },
    ],
  };
}

/** The envelope: one entry per business account, with its changes. */
export function envelope(entries: { businessAccountId: string; changes: unknown[] }[]) {
  return {
    object: 'whatsapp_business_account',
    entry: entries.map(({ businessAccountId, changes }) => ({ id: businessAccountId, changes })),
  };
}

/** A delivery of `values` (each one change) for one channel. */
export function deliveryFor(channel: ChannelIdentity, ...values: Record<string, unknown>[]) {
  return envelope([
    { businessAccountId: channel.businessAccountId, changes: values.map((value) => messagesChange(channel, value)) },
  ]);
}

export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
}

/** `X-Hub-Signature-256` for these bytes: `sha256=<hex HMAC-SHA256 keyed with the app secret>`. */
export function signDelivery(body: Uint8Array | string, appSecret: string): string {
  return signatureHeader(body, appSecret);
}

/** The body as bytes to send and Meta's headers, signed with `appSecret` (null: no signature header). */
export function signed(payload: unknown, appSecret: string | null): SignedDelivery {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      ...(appSecret === null ? {} : { 'x-hub-signature-256': signDelivery(body, appSecret) }),
    },
  };
}

/** POSTs a delivery to the webhook through a fetch function (`yoga.fetch`, or `fetch` with a base URL). */
export function postDelivery(
  fetcher: (url: string, init: RequestInit) => Promise<Response> | Response,
  delivery: SignedDelivery,
  base = 'http://wagraph.test',
): Promise<Response> {
  return Promise.resolve(
    fetcher(`${base}/webhooks/whatsapp`, { method: 'POST', headers: delivery.headers, body: delivery.body }),
  );
}
