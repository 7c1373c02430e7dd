// Delivery of outbound messages to WhatsApp. sendMessage records the message and hands it
// to the transport inside the same transaction: if the transport throws, nothing is
// recorded. The default transport only records (nothing leaves the gateway); a WhatsApp
// Cloud API transport implements the same interface.
export interface OutboundMessage {
  organizationId: string;
  conversationId: string;
  messageId: string;
  /** The contact's phone number, E.164. */
  to: string;
  text: string;
  /** WhatsApp's id of the message this one replies to, when it has one. */
  replyToWhatsAppMessageId: string | null;
}

export interface OutboundTransport {
  /** Delivers the message; returns WhatsApp's id for it when the provider assigns one. */
  send(message: OutboundMessage): Promise<{ whatsAppMessageId: string | null }>;
}

export const recordOnlyTransport: OutboundTransport = {
  send: async () => ({ whatsAppMessageId: null }),
};
