// `GET /media/{messageId}`: the file of an inbound image, audio, video, document or sticker,
// fetched from the WhatsApp Cloud API with its channel's access token and streamed to the
// client (src/whatsapp/cloud-api.ts). `messageId` is the message's global id, as
// `Message.media.url` gives it. Authenticated like /graphql (the same code: an API key or a
// JWT in Authorization, the same throttle of refused credentials and the same rate limit),
// it needs Get:Conversation, the permission that reading messages needs. The token and
// Meta's URLs never reach the client. Answers, with a JSON body `{ "error": { "code",
// "message" } }` for every refusal:
//   200 the bytes, with Meta's Content-Type, and Content-Length when the download declared it
//   401 no credential or an invalid one   403 without Get:Conversation   429 rate limited
//   404 no such message in the caller's organization (another organization's reads the
//       same), or not a media message     405 not GET
//   502 the Cloud API refused or failed (CLOUD_API_ERROR), the conversation has no channel or
//       its channel no access token (NO_ACCESS_TOKEN), or the file is over MEDIA_MAX_BYTES by Meta's size (MEDIA_TOO_LARGE)
//   504 the Cloud API did not answer within the timeout (CLOUD_API_TIMEOUT)
// A file that turns out larger than MEDIA_MAX_BYTES while it streams (Meta's size was
// wrong) has had its 200 sent already: the stream is cut, and the client sees an
// incomplete body, never a truncated file passed off as whole.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AuthenticatedMember } from '../auth/authenticate.js';
import { forbiddenMessage } from '../auth/permissions.js';
import type { Database } from '../db/client.js';
import { tenantClient } from '../db/tenant.js';
import { rawIdOf } from '../global-id.js';
import type { Logger } from '../logger.js';
import type { RateLimiter } from '../rate-limit/index.js';
import { type SecretBox, SecretError } from '../secrets.js';
import { secretContext } from '../whatsapp/channels.js';
import {
  CloudApiError,
  DEFAULT_MEDIA_MAX_BYTES,
  DEFAULT_MEDIA_TIMEOUT_MS,
  downloadMedia,
} from '../whatsapp/cloud-api.js';
import { MEDIA_PATH_PREFIX, mediaOf } from '../whatsapp/media.js';
import type { RequestAuthenticator } from './authentication.js';
import { takeRateBudget } from './rate-limit.js';
import { requestIdOf } from './request-log.js';

export interface MediaOptions {
  db: Database;
  log: Logger;
  authenticate: RequestAuthenticator;
  rateLimiter?: RateLimiter | undefined;
  /** Opens the channels' access tokens; unset: no file can be fetched (NO_ACCESS_TOKEN). */
  secrets: SecretBox | undefined;
  /** WHATSAPP_API_URL. */
  apiUrl: string;
  /** MEDIA_MAX_BYTES. Default DEFAULT_MEDIA_MAX_BYTES. */
  maxBytes?: number | undefined;
  /** Default DEFAULT_MEDIA_TIMEOUT_MS. */
  timeoutMs?: number | undefined;
}

function refusal(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return Response.json(
    { error: { code, message } },
    { status, headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers } },
  );
}

/** A refusal of the authentication or rate-limit code (a GraphQLError with its HTTP answer) as a response. */
function refusalOf(error: GraphQLError): Response {
  const http = error.extensions.http as { status?: number; headers?: Record<string, string> } | undefined;
  return refusal(http?.status ?? 401, String(error.extensions.code ?? 'UNAUTHENTICATED'), error.message, http?.headers);
}

const notFound = () =>
  refusal(404, 'NOT_FOUND', 'No media message with this id in your organization (the id is a Message’s global id).');

/** Types a browser may render in place; anything else is served as an attachment. */
const INLINE = /^(image\/(png|jpeg|gif|webp)|audio\/[\w.+-]+|video\/[\w.+-]+)$/i;

/** `attachment; filename*=UTF-8''…` (RFC 6266), with a plain fallback for old clients. */
function disposition(mimeType: string, fileName: string | null): string {
  const inline = INLINE.test(mimeType.split(';')[0]?.trim() ?? '');
  if (!fileName) return inline ? 'inline' : 'attachment';
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export async function serveMedia(
  request: Request,
  serverContext: unknown,
  globalId: string,
  options: MediaOptions,
): Promise<Response> {
  let viewer: AuthenticatedMember;
  try {
    viewer = await options.authenticate(request, serverContext);
    if (options.rateLimiter) await takeRateBudget(options.rateLimiter, viewer);
  } catch (error) {
    if (error instanceof GraphQLError) return refusalOf(error);
    throw error;
  }
  if (!viewer.permissions.has('Get:Conversation')) {
    return refusal(403, 'FORBIDDEN', forbiddenMessage(['Get:Conversation']));
  }
  const id = rawIdOf('Message', globalId);
  if (id === undefined) return notFound();
  const message = await tenantClient(options.db.prisma, viewer.organizationId).message.findUnique({
    where: { id },
    select: {
      messageType: true,
      messageData: true,
      conversation: { select: { channel: { select: { id: true, organizationId: true, accessTokenSealed: true } } } },
    },
  });
  const media = message && mediaOf(message.messageType, message.messageData);
  if (!message || !media?.id) return notFound();
  const channel = message.conversation.channel;
  let accessToken: string | undefined;
  try {
    if (channel?.organizationId === viewer.organizationId && channel.accessTokenSealed && options.secrets) {
      accessToken = options.secrets.open(channel.accessTokenSealed, secretContext(channel.id, 'accessToken'));
    }
  } catch (error) {
    if (!(error instanceof SecretError)) throw error;
    options.log.error(
      { err: error, channelId: channel?.id },
      'media: the channel’s access token opens with no configured key',
    );
  }
  if (accessToken === undefined) {
    return refusal(
      502,
      'NO_ACCESS_TOKEN',
      'The message’s conversation has no WhatsApp channel with a usable access token to fetch its media with.',
    );
  }
  try {
    const download = await downloadMedia({
      apiUrl: options.apiUrl,
      accessToken,
      mediaId: media.id,
      maxBytes: options.maxBytes ?? DEFAULT_MEDIA_MAX_BYTES,
      timeoutMs: options.timeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS,
      signal: request.signal,
      cutOff: (error) => {
        options.log.warn(
          { requestId: requestIdOf(request), failure: error.failure, ...error.details },
          'media: the download was cut off after its start',
        );
        // Node's response, when the request came through a socket (not under yoga.fetch).
        const response = (serverContext as { res?: { destroy(): void } } | undefined)?.res;
        response?.destroy();
        return response !== undefined;
      },
    });
    const mimeType = download.mimeType ?? media.mimeType ?? 'application/octet-stream';
    return new Response(download.body, {
      status: 200,
      headers: {
        'content-type': mimeType,
        ...(download.length === undefined ? {} : { 'content-length': String(download.length) }),
        'content-disposition': disposition(mimeType, media.fileName),
        // A contact chose these bytes: never run as a page of the gateway's origin.
        'content-security-policy': "sandbox; default-src 'none'",
        'x-content-type-options': 'nosniff',
        'cache-control': 'private, no-store',
      },
    });
  } catch (error) {
    if (!(error instanceof CloudApiError)) throw error;
    options.log.warn(
      { requestId: requestIdOf(request), failure: error.failure, ...error.details },
      'media: the WhatsApp Cloud API failed',
    );
    if (error.failure === 'timeout') return refusal(504, 'CLOUD_API_TIMEOUT', error.message);
    return refusal(502, error.failure === 'too-large' ? 'MEDIA_TOO_LARGE' : 'CLOUD_API_ERROR', error.message);
  }
}

export function useMedia(options: MediaOptions): Plugin {
  return {
    async onRequest({ url, request, serverContext, endResponse }) {
      if (!url.pathname.startsWith(MEDIA_PATH_PREFIX)) return;
      if (request.method !== 'GET') {
        endResponse(refusal(405, 'METHOD_NOT_ALLOWED', 'Only GET is served here.', { allow: 'GET' }));
        return;
      }
      let globalId: string;
      try {
        globalId = decodeURIComponent(url.pathname.slice(MEDIA_PATH_PREFIX.length));
      } catch {
        endResponse(notFound());
        return;
      }
      try {
        endResponse(await serveMedia(request, serverContext, globalId, options));
      } catch (error) {
        // The database failed, most likely: logged with the request id, never shown.
        options.log.error({ err: error, requestId: requestIdOf(request) }, 'media: unexpected error');
        endResponse(refusal(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error: retry later.'));
      }
    },
  };
}
