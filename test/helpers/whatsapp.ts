// Meta's side of the webhook, for tests (and the simulator and processing that follow): builds
// deliveries in the WhatsApp Cloud API's documented shape (a text message, a status) and signs
// them as Meta does, `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app
// secret>`.
import { randomBytes } from 'node:crypto';
import { signatureHeader } from '../../src/whatsapp/deliveries.js';

export interface ChannelIdentity {
  phoneNumberId: string;
  businessAccountId: string;
  displayPhoneNumber?: string;
}

/** A `wamid.` id as Meta writes them (base64 of an opaque value). */
export function wamid(): string {
  return `wamid.${randomBytes(24).toString('base64')}`;
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

/** An inbound text message from `from` (digits, no `+`), as the value of a messages change. */
export function textMessageValue(options: {
  from: string;
  name?: string;
  body: string;
  id?: string;
  at?: Date;
  replyTo?: string;
}) {
  return {
    contacts: [{ profile: { name: options.name ?? 'Ana' }, wa_id: options.from }],
    messages: [
      {
        from: options.from,
        id: options.id ?? wamid(),
        timestamp: seconds(options.at ?? new Date()),
        type: 'text',
        text: { body: options.body },
        ...(options.replyTo ? { context: { from: options.from, id: options.replyTo } } : {}),
      },
    ],
  };
}

/** A status of one of our outbound messages, as the value of a messages change. */
export function statusValue(options: {
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  recipient: string;
  at?: Date;
  errors?: { code: number; title: string; details?: string }[];
}) {
  return {
    statuses: [
      {
        id: options.id,
        status: options.status,
        timestamp: seconds(options.at ?? new Date()),
        recipient_id: options.recipient,
        ...(options.errors
          ? {
              errors: options.errors.map(({ code, title, details }) => ({
                code,
                title,
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

/** The body as bytes to send and Meta's headers, signed with `appSecret` (null: no signature header). */
export function signed(payload: unknown, appSecret: string | null): SignedDelivery {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      ...(appSecret === null ? {} : { 'x-hub-signature-256': signatureHeader(body, appSecret) }),
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
