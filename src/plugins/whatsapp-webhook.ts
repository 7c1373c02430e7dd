// The WhatsApp Cloud API webhook, `/webhooks/whatsapp`: one URL for every organization, beside
// the GraphQL endpoint and without its API-key authentication (Meta presents no credential of
// ours; a channel's verify token, and for deliveries its app secret, prove the caller).
//
// GET is Meta's verification of the callback URL, when it is configured in the app dashboard
// (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests):
// `hub.mode=subscribe&hub.verify_token=<token>&hub.challenge=<random>` is answered 200 with the
// challenge as the plain-text body when the token is a CONNECTED channel's, else 403. A request
// without those parameters is 400. The challenge is echoed only when it is short and made of
// URL-safe characters, as text/plain with nosniff: never a page a browser would render.
import type { Plugin } from 'graphql-yoga';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../secrets.js';
import { isVerifyTokenOfConnectedChannel } from '../whatsapp/channels.js';

export const WHATSAPP_WEBHOOK_PATH = '/webhooks/whatsapp';

/** Meta's challenges are numbers of about ten digits; this leaves room and nothing more. */
export const CHALLENGE_MAX = 256;
const CHALLENGE = new RegExp(`^[A-Za-z0-9._~-]{1,${CHALLENGE_MAX}}$`);
/** Longer than any verify token a channel accepts (src/schema/whatsapp-channel-mutations.ts): not looked up. */
const VERIFY_TOKEN_LOOKUP_MAX = 1_024;

export interface WhatsAppWebhookOptions {
  db: Database;
  log: Logger;
  /** Unset: no channel can be verified (every token is refused). */
  secrets: SecretBox | undefined;
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      ...headers,
    },
  });
}

export async function verifySubscription(url: URL, options: WhatsAppWebhookOptions): Promise<Response> {
  const mode = url.searchParams.get('hub.mode');
  const token = url.searchParams.get('hub.verify_token');
  const challenge = url.searchParams.get('hub.challenge');
  if (mode === null || token === null || challenge === null) {
    return text(400, 'Expected hub.mode=subscribe, hub.verify_token and hub.challenge.\n');
  }
  if (mode !== 'subscribe') return text(400, 'hub.mode must be "subscribe".\n');
  if (!CHALLENGE.test(challenge)) {
    return text(400, `hub.challenge must be 1-${CHALLENGE_MAX} letters, digits or "._~-".\n`);
  }
  const matches =
    options.secrets !== undefined &&
    token.length > 0 &&
    token.length <= VERIFY_TOKEN_LOOKUP_MAX &&
    (await isVerifyTokenOfConnectedChannel(options.db.prisma, options.secrets, token));
  if (!matches) {
    options.log.warn('WhatsApp webhook verification refused: the verify token is no connected channel’s');
    return text(403, 'The verify token is not that of a connected WhatsApp channel.\n');
  }
  return text(200, challenge);
}

export function useWhatsAppWebhook(options: WhatsAppWebhookOptions): Plugin {
  return {
    async onRequest({ url, request, endResponse }) {
      if (url.pathname !== WHATSAPP_WEBHOOK_PATH) return;
      if (request.method === 'GET') {
        endResponse(await verifySubscription(url, options));
        return;
      }
      endResponse(text(405, 'Only GET (subscription verification) is served here.\n', { allow: 'GET' }));
    },
  };
}
