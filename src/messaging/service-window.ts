// WhatsApp's customer-service window: a business may send free-form messages to a contact
// for 24 hours after the contact's last message to it; outside the window only an approved
// template may start the conversation again (Meta answers error 131047 otherwise).
// https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows

export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** When the window closes: 24 h after the last inbound message; null when the contact never wrote. */
export function serviceWindowExpiresAt(lastInboundMessageAt: Date | null): Date | null {
  return lastInboundMessageAt === null ? null : new Date(lastInboundMessageAt.getTime() + SERVICE_WINDOW_MS);
}

/** Whether a free-form message may be sent at `now`. */
export function isInServiceWindow(lastInboundMessageAt: Date | null, now: Date): boolean {
  const expiresAt = serviceWindowExpiresAt(lastInboundMessageAt);
  return expiresAt !== null && now < expiresAt;
}
