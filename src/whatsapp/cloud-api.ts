// Calls to Meta's WhatsApp Cloud API (WHATSAPP_API_URL). Media so far: an inbound file is
// fetched in two steps, `GET {base}/{media-id}` (JSON with a short-lived URL, the MIME type
// and the size) and then a GET of that URL, both with the channel's access token as Bearer
// (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media). The bytes are
// handed on as a stream, counted against a cap, never held in memory whole.
//
// Failures are CloudApiErrors whose message is safe to show a client: never the token, never
// Meta's URL; Meta's own error message goes only to the log (`metaMessage`).

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
