// Delivery of outbound messages to WhatsApp. sendMessage only records a message (PENDING) and
// enqueues its delivery in the same transaction; the delivery job (src/whatsapp/outbound.ts)
// hands it to a transport outside any transaction and records what came of it. A
// conversation on a channel delivers through the WhatsApp Cloud API
// (src/whatsapp/cloud-api.ts); a conversation without a channel (data from before channels)
// through the record-only transport: nothing leaves, and the message becomes SENT without a
// WhatsApp id.
import type { SendOutcome } from '../whatsapp/cloud-api.js';

export interface OutboundMessage {
  /** Our id of the message (echoed back by Meta's status webhooks). */
  messageId: string;
  /** The contact's phone number, E.164. */
  to: string;
  text: string;
  /** WhatsApp's id of the message this one replies to, when it has one. */
  replyToWhatsAppMessageId: string | null;
}

/** A delivery: the wamid WhatsApp gave it (null when the transport assigns none), or why it failed. */
export type DeliveryOutcome = { ok: true; wamid: string | null } | Extract<SendOutcome, { ok: false }>;

export interface OutboundTransport {
  /** Delivers the message; never throws (a failure is an outcome). */
  send(message: OutboundMessage, signal?: AbortSignal): Promise<DeliveryOutcome>;
}

export const recordOnlyTransport: OutboundTransport = {
  send: async () => ({ ok: true, wamid: null }),
};
