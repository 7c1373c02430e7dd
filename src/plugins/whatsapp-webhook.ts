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

/** Refusals are logged at most this often (with how many there were), so a flood cannot fill the log. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** A warning now and then for refused verifications: the first at once, then one per interval with the count. */
function refusalLog(log: Logger): () => void {
  let lastLogged = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return () => {
    unlogged += 1;
    const now = Date.now();
    if (now - lastLogged < REFUSAL_LOG_INTERVAL_MS) return;
    log.warn(
      { refused: unlogged },
      'WhatsApp webhook verification refused: the verify token is no connected channel’s',
    );
    lastLogged = now;
    unlogged = 0;
  };
}

export async function verifySubscription(
  url: URL,
  options: WhatsAppWebhookOptions,
  refused: () => void = () => {},
): Promise<Response> {
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
    refused();
    return text(403, 'The verify token is not that of a connected WhatsApp channel.\n');
  }
  return text(200, challenge);
}

export function useWhatsAppWebhook(options: WhatsAppWebhookOptions): Plugin {
  const refused = refusalLog(options.log);
  return {
    async onRequest({ url, request, endResponse }) {
      if (url.pathname !== WHATSAPP_WEBHOOK_PATH) return;
      if (request.method === 'GET') {
        endResponse(await verifySubscription(url, options, refused));
        return;
      }
      endResponse(text(405, 'Only GET (subscription verification) is served here.\n', { allow: 'GET' }));
    },
  };
}
