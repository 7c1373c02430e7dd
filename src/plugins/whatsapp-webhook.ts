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
//
// POST is a delivery (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#event-notifications):
// its JSON is stored (src/whatsapp/deliveries.ts) before it is acknowledged with 200, in one
// statement after one channel lookup. The answers, and whether Meta retries (it retries
// anything but a 2xx, with backoff, for up to 7 days):
//   415 not `application/json` (UTF-8)
//   401 a missing or malformed X-Hub-Signature-256 (before the body is read), or a wrong one
//       (nothing stored; a warning now and then)
//   413 a body over WEBHOOK_MAX_BODY_BYTES   400 a body that is not JSON (or not UTF-8)
//   503 the database (or the secrets key) failed: Meta retries
//   200 stored: RECEIVED for each channel named, UNROUTED/REJECTED for what none takes, or a
//       replay of a body already stored (not stored again)
import type { Plugin } from 'graphql-yoga';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { refilled } from '../rate-limit/token-bucket.js';
import { type SecretBox, SecretError } from '../secrets.js';
import { isVerifyTokenOfConnectedChannel } from '../whatsapp/channels.js';
import {
  type ChannelLookup,
  cachedChannelLookup,
  DEFAULT_WEBHOOK_MAX_BODY_BYTES,
  parseSignature,
  receiveDelivery,
  storeDelivery,
} from '../whatsapp/deliveries.js';

export const WHATSAPP_WEBHOOK_PATH = '/webhooks/whatsapp';

/** Meta's challenges are numbers of about ten digits; this leaves room and nothing more. */
export const CHALLENGE_MAX = 256;
const CHALLENGE = new RegExp(`^[A-Za-z0-9._~-]{1,${CHALLENGE_MAX}}$`);
/** Longer than any verify token a channel accepts (src/schema/whatsapp-channel-mutations.ts): not looked up. */
const VERIFY_TOKEN_LOOKUP_MAX = 1_024;

export interface WhatsAppWebhookOptions {
  db: Database;
  log: Logger;
  /** Unset: no channel can be verified (every token is refused), and no delivery (every signature is refused). */
  secrets: SecretBox | undefined;
  /** The largest delivery body read (WEBHOOK_MAX_BODY_BYTES); larger is 413. Default DEFAULT_WEBHOOK_MAX_BODY_BYTES. */
  maxBodyBytes?: number | undefined;
  /** Deliveries no channel's signature vouches for that are stored per minute. Default UNVERIFIED_STORED_PER_MINUTE. */
  unverifiedStoredPerMinute?: number | undefined;
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

/**
 * A warning now and then: the first at once, then at most one per interval, with how many
 * occurrences (`countField`) there were since the last one and the fields of the latest.
 */
function occasionalWarning(
  log: Logger,
  message: string,
  countField = 'refused',
): (fields?: Record<string, unknown>) => void {
  let lastLogged = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return (fields = {}) => {
    unlogged += 1;
    const now = Date.now();
    if (now - lastLogged < REFUSAL_LOG_INTERVAL_MS) return;
    log.warn({ ...fields, [countField]: unlogged }, message);
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

/**
 * Deliveries that no channel's signature vouches for (unknown phone-number ids, unknown
 * shapes) are stored at most this often: anyone can send them.
 */
export const UNVERIFIED_STORED_PER_MINUTE = 60;

function unverifiedBudget(perMinute: number): () => boolean {
  const budget = { perMinute, burst: perMinute };
  let bucket: { tokens: number; at: number } | undefined;
  return () => {
    const now = Date.now();
    const tokens = refilled(bucket, now, budget);
    bucket = { tokens: tokens >= 1 ? tokens - 1 : tokens, at: now };
    return tokens >= 1;
  };
}

/** The body, unless it is longer than `max` bytes (null). */
async function readBounded(request: Request, max: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > max) return null;
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, length);
}

/** `application/json`, with no charset or UTF-8's. */
function isJsonContentType(header: string | null): boolean {
  if (header === null) return false;
  const [type, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  return (
    type === 'application/json' &&
    parameters.every((parameter) => !parameter.startsWith('charset=') || /^charset="?utf-8"?$/.test(parameter))
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

interface DeliveryHandling {
  refused: (fields?: Record<string, unknown>) => void;
  unassigned: (fields?: Record<string, unknown>) => void;
  unstored: (fields?: Record<string, unknown>) => void;
  mayStoreUnverified: () => boolean;
  /** Undefined without a secrets key. */
  channels: ChannelLookup | undefined;
}

export async function receiveWebhookDelivery(
  request: Request,
  options: WhatsAppWebhookOptions,
  handling: DeliveryHandling,
): Promise<Response> {
  const { db, log } = options;
  if (!isJsonContentType(request.headers.get('content-type'))) {
    return text(415, 'Expected Content-Type: application/json (UTF-8).\n');
  }
  // Before the body is read: an unsigned request costs nothing more.
  const signature = parseSignature(request.headers.get('x-hub-signature-256'));
  if (signature === null || handling.channels === undefined) {
    handling.refused({ signature: signature === null ? 'missing or malformed' : 'no secrets key' });
    return text(401, 'Expected X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the app secret>.\n');
  }
  const max = options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES;
  let raw: Uint8Array | null;
  try {
    raw = await readBounded(request, max);
  } catch {
    return text(400, 'The body could not be read.\n');
  }
  if (raw === null) return text(413, `The body is over ${max} bytes.\n`, { connection: 'close' });
  let body: string;
  let payload: unknown;
  try {
    body = utf8.decode(raw);
    payload = JSON.parse(body);
  } catch {
    return text(400, 'The body is not JSON (UTF-8).\n');
  }
  try {
    const receipt = await receiveDelivery(handling.channels, { raw, text: body, payload, signature });
    if (receipt.outcome === 'refused') {
      handling.refused({ signature: 'wrong' });
      return text(401, 'X-Hub-Signature-256 does not match the body under the app secret of every channel it names.\n');
    }
    const unassigned = receipt.rows.filter((row) => row.organizationId === null);
    if (!receipt.verified && !handling.mayStoreUnverified()) {
      // Acknowledged all the same: Meta stops retrying, a flood fills nothing.
      handling.unstored({ status: unassigned[0]?.status, reason: unassigned[0]?.reason });
      return text(200, 'Received.\n');
    }
    const stored = await storeDelivery(db, receipt.rows);
    for (const row of unassigned) handling.unassigned({ status: row.status, reason: row.reason });
    if (stored.length < receipt.rows.length) {
      log.debug({ replayed: receipt.rows.length - stored.length }, 'WhatsApp webhook delivery replayed');
    }
    return text(200, 'Received.\n');
  } catch (error) {
    // Not acknowledged: Meta delivers it again later.
    if (error instanceof SecretError) {
      log.error(
        { err: error },
        'WhatsApp webhook delivery not stored: a channel’s app secret opens with no configured key',
      );
    } else {
      log.error({ err: error }, 'WhatsApp webhook delivery not stored');
    }
    return text(503, 'Not stored; deliver it again later.\n', { 'retry-after': '10' });
  }
}

export function useWhatsAppWebhook(options: WhatsAppWebhookOptions): Plugin {
  const refused = occasionalWarning(
    options.log,
    'WhatsApp webhook verification refused: the verify token is no connected channel’s',
  );
  const handling: DeliveryHandling = {
    refused: occasionalWarning(options.log, 'WhatsApp webhook delivery refused: missing or wrong X-Hub-Signature-256'),
    unassigned: occasionalWarning(
      options.log,
      'WhatsApp webhook delivery stored without a channel (UNROUTED or REJECTED): see its reason',
      'stored',
    ),
    unstored: occasionalWarning(
      options.log,
      'WhatsApp webhook delivery acknowledged but not stored: too many a minute that no channel’s signature vouches for',
      'unstored',
    ),
    mayStoreUnverified: unverifiedBudget(options.unverifiedStoredPerMinute ?? UNVERIFIED_STORED_PER_MINUTE),
    channels: options.secrets && cachedChannelLookup(options.db.prisma, options.secrets),
  };
  return {
    async onRequest({ url, request, endResponse }) {
      if (url.pathname !== WHATSAPP_WEBHOOK_PATH) return;
      if (request.method === 'GET') {
        endResponse(await verifySubscription(url, options, () => refused()));
        return;
      }
      if (request.method === 'POST') {
        endResponse(await receiveWebhookDelivery(request, options, handling));
        return;
      }
      endResponse(
        text(405, 'Only GET (subscription verification) and POST (deliveries) are served here.\n', {
          allow: 'GET, POST',
        }),
      );
    },
  };
}
