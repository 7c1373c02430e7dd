// Calls to Meta's WhatsApp Cloud API (WHATSAPP_API_URL), with the channel's access token as
// Bearer. Media: an inbound file is fetched in two steps, `GET {base}/{media-id}` (JSON with a
// short-lived URL, the MIME type and the size) and then a GET of that URL
// (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media); the bytes are
// handed on as a stream, counted against a cap, never held in memory whole. Sends:
// `POST {base}/{phone-number-id}/messages` (sendTextMessage below).
//
// Failures are CloudApiErrors whose message is safe to show a client: never the token, never
// Meta's URL; Meta's own error message goes only to the log (`metaMessage`).
import type { SecretBox } from '../secrets.js';
import type { SendLimiter } from './send-limits.js';

/** What a background job needs to call the Cloud API for a channel. */
export interface CloudApiAccess {
  /** WHATSAPP_API_URL, without a trailing slash. */
  url: string;
  /** Opens the channels' sealed access tokens; undefined: none opens (no channel can send). */
  secrets: SecretBox | undefined;
  /** How long a send may take (WHATSAPP_SEND_TIMEOUT_MS; default SEND_TIMEOUT_MS). */
  sendTimeoutMs?: number;
  /** Attempts at a send that fails retryably before the message is FAILED (WHATSAPP_SEND_MAX_ATTEMPTS). */
  sendMaxAttempts?: number;
  /** The first retry's delay (default SEND_RETRY_BASE_MS; tests shorten it). */
  sendRetryBaseMs?: number;
  /** WhatsApp's rate limits, kept before each send (default: this process's buckets, the default limits). */
  sendLimiter?: SendLimiter;
}

/** WhatsApp's largest file (a document, 100 MB): every genuine media file fits under it. */
export const DEFAULT_MEDIA_MAX_BYTES = 100 * 1024 * 1024;

/**
 * How long the Cloud API may take to answer the lookup and to start the download, and how
 * long the download may then go without a byte, before the request is given up.
 */
export const DEFAULT_MEDIA_TIMEOUT_MS = 15_000;

/** The lookup's JSON is a few hundred bytes; more is not Meta. */
const LOOKUP_MAX_BYTES = 64 * 1024;

export type CloudApiFailure =
  /** No answer in time. */
  | 'timeout'
  /** The Cloud API answered an error (e.g. 190: the access token is invalid or expired). */
  | 'refused'
  /** No connection, or an answer that is not the documented one. */
  | 'unreachable'
  /** The file is larger than the cap. */
  | 'too-large';

export class CloudApiError extends Error {
  override name = 'CloudApiError';
  constructor(
    readonly failure: CloudApiFailure,
    message: string,
    readonly details: { status?: number; code?: number; metaMessage?: string } = {},
  ) {
    super(message);
  }
}

export interface MediaDownload {
  mimeType: string | null;
  /** The file's length when the download declared it. */
  length: number | undefined;
  /** The bytes; errors (and aborts the download) past the cap or after a silence of the timeout. */
  body: ReadableStream<Uint8Array>;
}

export interface MediaRequest {
  /** WHATSAPP_API_URL, without a trailing slash. */
  apiUrl: string;
  accessToken: string;
  mediaId: string;
  maxBytes?: number;
  timeoutMs?: number;
  /** The client went away: the download stops. */
  signal?: AbortSignal | undefined;
  /**
   * Called when the stream must end short (over the cap, or the download failed after its
   * start): true when it cut the client's connection itself, and the stream then just ends;
   * otherwise (no connection to cut) the stream errors.
   */
  cutOff?: (error: CloudApiError) => boolean;
  fetch?: typeof fetch;
}

/** Meta's Graph API error body: `{ "error": { "message", "type", "code", "error_subcode", "fbtrace_id" } }`. */
async function graphError(response: Response): Promise<{ code?: number; message?: string }> {
  try {
    const text = await response.text();
    const body = JSON.parse(text.slice(0, LOOKUP_MAX_BYTES)) as { error?: { code?: unknown; message?: unknown } };
    return {
      ...(typeof body.error?.code === 'number' ? { code: body.error.code } : {}),
      ...(typeof body.error?.message === 'string' ? { message: body.error.message } : {}),
    };
  } catch {
    return {};
  }
}

function refused(step: string, response: Response, error: { code?: number; message?: string }): CloudApiError {
  const meaning = error.code === 190 ? ' (190: the channel’s access token is invalid or has expired)' : '';
  const code = error.code === undefined ? '' : `, error code ${error.code}`;
  return new CloudApiError(
    'refused',
    `The WhatsApp Cloud API refused the media ${step} (HTTP ${response.status}${code})${meaning}.`,
    { status: response.status, ...(error.code === undefined ? {} : { code: error.code }), metaMessage: error.message },
  );
}

const timedOut = () => new CloudApiError('timeout', 'The WhatsApp Cloud API did not answer in time.');

/**
 * Looks a media id up and starts its download. Throws a CloudApiError before any byte is
 * handed on: refused, unreachable, timed out, or larger than `maxBytes` by Meta's
 * `file_size` or the download's Content-Length.
 */
export async function downloadMedia(request: MediaRequest): Promise<MediaDownload> {
  const maxBytes = request.maxBytes ?? DEFAULT_MEDIA_MAX_BYTES;
  const timeoutMs = request.timeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS;
  const send = request.fetch ?? fetch;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      expired = true;
      controller.abort();
    }, timeoutMs);
  };
  const onClientGone = () => controller.abort();
  request.signal?.addEventListener('abort', onClientGone, { once: true });
  const finish = () => {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onClientGone);
  };
  const headers = { authorization: `Bearer ${request.accessToken}` };
  const failed = (error: unknown): CloudApiError => {
    if (error instanceof CloudApiError) return error;
    if (expired) return timedOut();
    return new CloudApiError('unreachable', 'The WhatsApp Cloud API could not be reached.', {
      metaMessage: error instanceof Error ? error.message : String(error),
    });
  };

  arm();
  let download: Response;
  try {
    const lookup = await send(`${request.apiUrl}/${encodeURIComponent(request.mediaId)}`, {
      headers,
      signal: controller.signal,
      redirect: 'error',
    });
    if (!lookup.ok) throw refused('lookup', lookup, await graphError(lookup));
    let found: { url?: unknown; mime_type?: unknown; file_size?: unknown };
    try {
      const text = await lookup.text();
      if (text.length > LOOKUP_MAX_BYTES) throw new Error('too long');
      found = JSON.parse(text) as typeof found;
    } catch {
      if (expired) throw timedOut();
      throw new CloudApiError(
        'unreachable',
        'The WhatsApp Cloud API answered the media lookup with something else than JSON.',
      );
    }
    if (typeof found.url !== 'string' || !/^https?:\/\//.test(found.url)) {
      throw new CloudApiError('unreachable', 'The WhatsApp Cloud API’s media lookup named no download URL.');
    }
    const fileSize = typeof found.file_size === 'number' ? found.file_size : Number(found.file_size ?? Number.NaN);
    if (fileSize > maxBytes) {
      throw new CloudApiError(
        'too-large',
        `The file is ${fileSize} bytes, over the ${maxBytes} bytes served (MEDIA_MAX_BYTES).`,
      );
    }
    download = await send(found.url, { headers, signal: controller.signal });
    if (!download.ok || !download.body) throw refused('download', download, await graphError(download));
    const declared = Number(download.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      await download.body.cancel().catch(() => {});
      throw new CloudApiError(
        'too-large',
        `The file is ${declared} bytes, over the ${maxBytes} bytes served (MEDIA_MAX_BYTES).`,
      );
    }
    // Until the client pulls, the silence timeout does not run (a slow reader is not Meta's silence).
    clearTimeout(timer);
    return {
      mimeType: typeof found.mime_type === 'string' ? found.mime_type : download.headers.get('content-type'),
      length: Number.isSafeInteger(declared) ? declared : undefined,
      body: bounded(download.body, maxBytes, {
        arm,
        disarm: () => clearTimeout(timer),
        finish,
        failure: (error) =>
          expired
            ? timedOut()
            : new CloudApiError('unreachable', 'The download from the WhatsApp Cloud API broke off.', {
                metaMessage: error instanceof Error ? error.message : String(error),
              }),
        cutOff: request.cutOff ?? (() => false),
      }),
    };
  } catch (error) {
    finish();
    controller.abort();
    throw failed(error);
  }
}

/**
 * The download's bytes, counted: past `maxBytes`, or when the download fails, the stream is
 * cut off (see MediaRequest.cutOff) and the download cancelled. Each read re-arms the
 * silence timeout.
 */
function bounded(
  source: ReadableStream<Uint8Array>,
  maxBytes: number,
  hooks: {
    arm: () => void;
    disarm: () => void;
    finish: () => void;
    failure: (error: unknown) => CloudApiError;
    cutOff: (error: CloudApiError) => boolean;
  },
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let total = 0;
  const stop = (controller: ReadableStreamDefaultController<Uint8Array>, error: CloudApiError) => {
    hooks.finish();
    void reader.cancel().catch(() => {});
    // Erroring a response body that is being written to a socket leaves the socket open and
    // the error unhandled: the connection is cut first, and the stream then simply ends.
    if (hooks.cutOff(error)) controller.close();
    else controller.error(error);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      hooks.arm();
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        stop(controller, hooks.failure(error));
        return;
      } finally {
        hooks.disarm();
      }
      if (chunk.done) {
        hooks.finish();
        controller.close();
        return;
      }
      total += chunk.value.byteLength;
      if (total > maxBytes) {
        stop(
          controller,
          new CloudApiError('too-large', `The file is over the ${maxBytes} bytes served (MEDIA_MAX_BYTES).`),
        );
        return;
      }
      controller.enqueue(chunk.value);
    },
    async cancel() {
      hooks.finish();
      await reader.cancel().catch(() => {});
    },
  });
}

/**
 * What each send carries as Meta's `biz_opaque_callback_data`, which Meta echoes in the
 * message's status webhooks: our message's id, so that a status can name a message whose
 * send's answer never arrived (src/whatsapp/outbound.ts).
 */
export const CALLBACK_PREFIX = 'wagraph:message:';

export function callbackDataOf(messageId: string): string {
  return `${CALLBACK_PREFIX}${messageId}`;
}

/** Our message id from a status's `biz_opaque_callback_data`, when it is one of ours. */
export function messageIdFromCallbackData(data: unknown): string | null {
  if (typeof data !== 'string' || !data.startsWith(CALLBACK_PREFIX)) return null;
  const id = data.slice(CALLBACK_PREFIX.length);
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id) ? id : null;
}

/** How long a send may take before its outcome is unknown (see SendOutcome). */
export const SEND_TIMEOUT_MS = 15_000;

/**
 * Attempts at a send before a retryable failure makes the message FAILED: with the delays of
 * src/whatsapp/outbound.ts (3 s doubling up to 10 min), about 25 minutes.
 */
export const SEND_MAX_ATTEMPTS = 10;

/** The delay before the first retry of a send; each next one doubles it, up to SEND_RETRY_MAX_MS. */
export const SEND_RETRY_BASE_MS = 3_000;
export const SEND_RETRY_MAX_MS = 10 * 60_000;

/**
 * Meta's error codes that mean "not now" rather than "not this message": throughput (130429,
 * 80007, 4), the pair rate to one recipient (131056), and Meta's own trouble (1, 2, 131000,
 * 131016, 133004). Every other code is permanent for the message.
 * https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
export const RETRYABLE_ERROR_CODES: ReadonlySet<number> = new Set([
  1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004,
]);

export interface TextSend {
  apiUrl: string;
  accessToken: string;
  phoneNumberId: string;
  /** E.164, with its `+`. */
  to: string;
  text: string;
  /** The wamid of the message this one replies to (`context.message_id`). */
  replyTo: string | null;
  /** Echoed by Meta in this message's status webhooks (`biz_opaque_callback_data`), at most 512 characters. */
  callbackData: string;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  fetch?: typeof fetch;
}

/** Meta's error as Message.error shows it. */
export interface SendError {
  code: number | null;
  title: string;
  details: string | null;
}

/**
 * What a send came to: accepted (with the wamid), or refused. `retry`: the same request may
 * succeed later (network, 5xx, 429, a throttling code). `unknown`: the request may have
 * reached Meta (no answer in time, the connection broke after it was written, an answer we
 * cannot read): Meta may have accepted it, and only its status webhooks can tell.
 */
export type SendOutcome =
  | { ok: true; wamid: string }
  | { ok: false; retry: boolean; unknown: boolean; status: number | null; error: SendError };

/** `(#131047) Re-engagement message` → `Re-engagement message`. */
const withoutCodePrefix = (message: string) => message.replace(/^\(#\d+\)\s*/, '');

/** Connection errors after which the request certainly never reached the Cloud API. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

const causeCode = (error: unknown): string | undefined =>
  (error as { cause?: { code?: unknown } }).cause?.code?.toString();

/** Sends one text message; never throws (every failure is an outcome). */
export async function sendTextMessage(request: TextSend): Promise<SendOutcome> {
  const send = request.fetch ?? fetch;
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, request.timeoutMs ?? SEND_TIMEOUT_MS);
  const onStop = () => controller.abort();
  request.signal?.addEventListener('abort', onStop, { once: true });
  const body = {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: request.to,
    type: 'text',
    text: { preview_url: false, body: request.text },
    biz_opaque_callback_data: request.callbackData,
    ...(request.replyTo ? { context: { message_id: request.replyTo } } : {}),
  };
  const unknown = (title: string, status: number | null = null): SendOutcome => ({
    ok: false,
    retry: true,
    unknown: true,
    status,
    error: { code: null, title, details: null },
  });
  try {
    let response: Response;
    try {
      response = await send(`${request.apiUrl}/${encodeURIComponent(request.phoneNumberId)}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${request.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
        redirect: 'error',
      });
    } catch (error) {
      if (expired) return unknown('The WhatsApp Cloud API did not answer in time.');
      const code = causeCode(error);
      if (code && NEVER_SENT.has(code)) {
        return {
          ok: false,
          retry: true,
          unknown: false,
          status: null,
          error: { code: null, title: 'The WhatsApp Cloud API could not be reached.', details: null },
        };
      }
      return unknown('The connection to the WhatsApp Cloud API broke before its answer.');
    }
    let text: string;
    try {
      text = await response.text();
    } catch {
      return unknown(
        expired ? 'The WhatsApp Cloud API did not answer in time.' : 'The WhatsApp Cloud API’s answer broke off.',
        response.status,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.slice(0, LOOKUP_MAX_BYTES));
    } catch {
      parsed = undefined;
    }
    if (response.ok) {
      const wamid = (parsed as { messages?: { id?: unknown }[] } | undefined)?.messages?.[0]?.id;
      if (typeof wamid === 'string' && /^[\x21-\x7e]{1,512}$/.test(wamid)) return { ok: true, wamid };
      return unknown('The WhatsApp Cloud API accepted the message without naming its id.', response.status);
    }
    const error = (parsed as { error?: Record<string, unknown> } | undefined)?.error;
    const code = typeof error?.code === 'number' && Number.isSafeInteger(error.code) ? error.code : null;
    const errorData = error?.error_data as { details?: unknown } | undefined;
    const title =
      (typeof error?.error_user_title === 'string' && error.error_user_title) ||
      (typeof error?.message === 'string' && withoutCodePrefix(error.message)) ||
      `The WhatsApp Cloud API answered HTTP ${response.status}.`;
    const retry =
      response.status === 429 || response.status >= 500 || (code !== null && RETRYABLE_ERROR_CODES.has(code));
    return {
      ok: false,
      retry,
      // A 5xx does not say whether Meta went on to send it.
      unknown: response.status >= 500 && code === null,
      status: response.status,
      error: {
        code,
        title: title.slice(0, 1_000),
        details: typeof errorData?.details === 'string' ? errorData.details.slice(0, 4_000) : null,
      },
    };
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onStop);
  }
}
