// A fake of Meta's WhatsApp Cloud API on 127.0.0.1 (a random port), speaking its documented
// protocol: what tests point WHATSAPP_API_URL at, and what `npm start` runs in development
// for the simulated demo channel, so that nothing ever calls Meta.
//   GET  /v21.0/{media-id}                    → { messaging_product, url, mime_type, sha256, file_size, id }
//   GET  /whatsapp_business/attachments/?mid= → the bytes (Meta's short-lived download URL)
//   POST /v21.0/{phone-number-id}/messages    → { messaging_product, contacts, messages: [{ id: wamid }] }
// all with `Authorization: Bearer <access token>`, answering Graph API errors
// (`{ "error": { "message", "type", "code", "error_data", "fbtrace_id" } }`) as Meta does:
// 190 for a missing or unknown token, 100 for an unknown media id or an invalid parameter.
// A test scripts a recipient's next sends (`failNextSends`: a Graph error, or an answer that
// never comes); with `playStatuses`, each accepted send is followed by its status webhooks
// (sent → delivered → read, or a failure), signed and posted to the gateway as Meta would.
// With `limits`, it keeps WhatsApp's rate limits as Meta does, and answers a send over one
// with Meta's throttling error: more than `messagesPerSecond` sends from one phone number
// within any one second (130429), or a recipient's pair rate spent (131056; a token bucket
// like the workers', refilling every `pairIntervalMs` less PAIR_JITTER_MS, so that a send
// the workers allowed is not refused for arriving a few milliseconds early).
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Bucket, takeTokens } from '../rate-limit/token-bucket.js';
import {
  type ChannelIdentity,
  deliveryFor,
  type MetaError,
  mediaId as newMediaId,
  type SignedDelivery,
  signed,
  statusValue,
  wamid as newWamid,
} from './meta-payloads.js';

/** The Graph API version in the fake's base URL (that of DEFAULT_WHATSAPP_API_URL). */
export const FAKE_API_VERSION = 'v21.0';

/** `GET /v21.0/{media-id}`: a media lookup. */
const LOOKUP = new RegExp(`^/${FAKE_API_VERSION.replace('.', '\\.')}/\\d+$`);
/** `POST /v21.0/{phone-number-id}/messages`: a send. */
const SEND = new RegExp(`^/${FAKE_API_VERSION.replace('.', '\\.')}/(\\d+)/messages$`);

/** The body of a send, as far as the fake reads it. */
export interface SendBody {
  messaging_product?: unknown;
  to?: unknown;
  type?: unknown;
  text?: { body?: unknown; preview_url?: unknown };
  context?: { message_id?: unknown };
  biz_opaque_callback_data?: unknown;
  [field: string]: unknown;
}

/** A send the fake accepted. */
export interface FakeSentMessage {
  phoneNumberId: string;
  /** When its request arrived (Date.now()). */
  at: number;
  wamid: string;
  /** As sent: `to`, `type`, `text.body`, `context.message_id`, `biz_opaque_callback_data` … */
  body: SendBody;
  /** Its `text.body`. */
  text: string;
  /** Whether its answer was sent (false: a `hang` failure, the request was taken but never answered). */
  answered: boolean;
}

/**
 * What the fake does with a recipient's next send instead of accepting it: answer a Graph
 * error; `hang`: take the message (it counts as sent, its statuses are played) but never
 * answer, as when Meta's answer is lost; `drop`: cut the connection without taking it.
 */
export type SendFailure = GraphError | 'hang' | 'drop';

/** A status the fake plays back for an accepted send. */
export type PlayedStatus = 'sent' | 'delivered' | 'read' | { failed: MetaError };

/** Where and how accepted sends get their status webhooks. */
export interface StatusPlayback {
  /** Posts a signed delivery to the gateway's webhook. */
  post(delivery: SignedDelivery): Promise<unknown>;
  /** The channel (and its app secret, to sign with) of a phone-number id; undefined: no statuses. */
  channel(phoneNumberId: string): (ChannelIdentity & { appSecret: string }) | undefined;
  /** The pause before each status (default 300 ms). */
  stepMs?: number;
  /** The statuses of a send, in order (default sent, delivered, read). */
  script?(sent: FakeSentMessage): PlayedStatus[];
}

/** Meta's answer to a send with a missing or invalid parameter (code 100). */
export function invalidParameter(message: string): GraphError {
  return { status: 400, code: 100, type: 'OAuthException', message: `(#100) ${message}` };
}

export interface FakeMedia {
  bytes: Uint8Array;
  mimeType: string;
  /** What the lookup says as `file_size` (default: the real length), to test a cap against a lie. */
  reportedSize?: number;
  /** Send the download without Content-Length (chunked). Default: with it. */
  chunked?: boolean;
  /** Send only this many bytes of the download, then hang (a download that stalls). */
  stallAfter?: number;
}

export interface GraphError {
  status: number;
  code: number;
  type: string;
  message: string;
  subcode?: number;
  /** `error_data.details`, Meta's longer explanation. */
  details?: string;
}

/** Meta's answer to a missing, malformed or expired access token. */
export const INVALID_TOKEN: GraphError = {
  status: 401,
  code: 190,
  type: 'OAuthException',
  message: 'Invalid OAuth access token - Cannot parse access token',
};

/** WhatsApp's rate limits, as the fake keeps them (see the header). */
export interface FakeSendLimits {
  /** Sends from one phone number within any one second. */
  messagesPerSecond: number;
  /** One send to a recipient per this interval … */
  pairIntervalMs: number;
  /** … after this many at once. */
  pairBurst: number;
}

/** How early a recipient's next send may arrive and still be within its pair rate. */
const PAIR_JITTER_MS = 100;

export interface FakeCloudApiOptions {
  /** Access tokens accepted as Bearer (more can be added with `acceptToken`). */
  accessTokens?: readonly string[];
  /** Keep WhatsApp's rate limits (default: none). */
  limits?: FakeSendLimits;
}

export class FakeCloudApi {
  private readonly media = new Map<string, FakeMedia>();
  private readonly tokens: Set<string>;
  private readonly stalled = new Set<http.ServerResponse>();
  /** When set, every request is left without an answer (a Cloud API that hangs). */
  stall = false;
  /** When set, every media lookup answers this error. */
  failLookups: GraphError | undefined;
  /** The requests served, as `METHOD path` (what a test checks was or was not called). */
  readonly requests: string[] = [];
  /** The sends accepted, in order. */
  readonly sent: FakeSentMessage[] = [];
  private readonly sendFailures = new Map<string, SendFailure[]>();
  private playback: StatusPlayback | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Sends refused for a rate limit, by the limit. */
  readonly throttled = { throughput: 0, pair: 0 };
  /** Per phone number, when its latest sends (at most messagesPerSecond) arrived, oldest first. */
  private readonly recentSends = new Map<string, number[]>();
  private readonly pairBuckets = new Map<string, Bucket>();

  private constructor(
    private readonly server: http.Server,
    /** The base URL to use as WHATSAPP_API_URL, e.g. http://127.0.0.1:40123/v21.0. */
    readonly url: string,
    tokens: readonly string[],
    /** WhatsApp's rate limits kept (undefined: none); may be changed between tests. */
    public limits: FakeSendLimits | undefined,
  ) {
    this.tokens = new Set(tokens);
  }

  static async start(options: FakeCloudApiOptions = {}): Promise<FakeCloudApi> {
    let fake: FakeCloudApi | undefined;
    const server = http.createServer((request, response) => fake?.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    fake = new FakeCloudApi(
      server,
      `http://127.0.0.1:${port}/${FAKE_API_VERSION}`,
      options.accessTokens ?? [],
      options.limits,
    );
    return fake;
  }

  /** Requests left hanging (by `stall` or a media's `stallAfter`) whose connection is still open. */
  get hanging(): number {
    return this.stalled.size;
  }

  acceptToken(token: string): void {
    this.tokens.add(token);
  }

  /** Holds a file under a media id (a new one by default), as an upload or an inbound message would. */
  addMedia(media: FakeMedia, id: string = newMediaId()): string {
    this.media.set(id, media);
    return id;
  }

  /** The next sends to `to` (as the send names it, e.g. +14155550123) get these answers, one each, in order. */
  failNextSends(to: string, ...failures: SendFailure[]): void {
    this.sendFailures.set(to, [...(this.sendFailures.get(to) ?? []), ...failures]);
  }

  /** Accepted sends to `to`, in order. */
  sentTo(to: string): FakeSentMessage[] {
    return this.sent.filter((message) => message.body.to === to);
  }

  /** From now on, accepted sends get their status webhooks (see StatusPlayback). */
  playStatuses(playback: StatusPlayback | undefined): void {
    this.playback = playback;
  }

  private get origin(): string {
    return new URL(this.url).origin;
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', this.origin);
    this.requests.push(`${request.method} ${url.pathname}`);
    if (this.stall) {
      this.stalled.add(response);
      response.on('close', () => this.stalled.delete(response));
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (bearer === undefined || !this.tokens.has(bearer)) {
      graphError(response, INVALID_TOKEN);
    } else if (request.method === 'GET' && url.pathname === '/whatsapp_business/attachments/') {
      this.download(url.searchParams.get('mid') ?? '', response);
    } else if (request.method === 'POST' && SEND.test(url.pathname)) {
      this.send(url.pathname.match(SEND)?.[1] ?? '', request, response);
    } else if (request.method === 'GET' && LOOKUP.test(url.pathname)) {
      this.lookup(url.pathname.slice(`/${FAKE_API_VERSION}/`.length), response);
    } else {
      graphError(response, {
        status: 400,
        code: 100,
        type: 'GraphMethodException',
        message: `Unsupported ${request.method?.toLowerCase()} request.`,
      });
    }
  }

  private lookup(id: string, response: http.ServerResponse): void {
    const media = this.media.get(id);
    if (this.failLookups || !media) {
      graphError(response, this.failLookups ?? unknownObject(id));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        messaging_product: 'whatsapp',
        url: `${this.origin}/whatsapp_business/attachments/?mid=${id}&ext=${Date.now()}&hash=${randomBytes(8).toString('hex')}`,
        mime_type: media.mimeType,
        sha256: createHash('sha256').update(media.bytes).digest('hex'),
        file_size: media.reportedSize ?? media.bytes.byteLength,
        id,
      }),
    );
  }

  private download(id: string, response: http.ServerResponse): void {
    const media = this.media.get(id);
    if (!media) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('Not found');
      return;
    }
    response.writeHead(200, {
      'content-type': media.mimeType,
      ...(media.chunked ? {} : { 'content-length': String(media.bytes.byteLength) }),
    });
    if (media.stallAfter === undefined) {
      response.end(media.bytes);
      return;
    }
    response.write(media.bytes.subarray(0, media.stallAfter));
    this.stalled.add(response);
    response.on('close', () => this.stalled.delete(response));
  }

  /** Meta's throttling error when this send goes over a limit (counted in `throttled`), else null (counted as sent). */
  private overLimit(phoneNumberId: string, to: string, at: number): GraphError | null {
    const limits = this.limits;
    if (!limits) return null;
    const recent = this.recentSends.get(phoneNumberId) ?? [];
    this.recentSends.set(phoneNumberId, recent);
    while (recent.length > 0 && (recent[0] ?? 0) <= at - 1_000) recent.shift();
    if (recent.length >= limits.messagesPerSecond) {
      this.throttled.throughput += 1;
      return SEND_ERRORS.throughput;
    }
    const key = `${phoneNumberId}:${to}`;
    const interval = limits.pairIntervalMs - Math.min(PAIR_JITTER_MS, limits.pairIntervalMs / 10);
    const [pair] = takeTokens(
      [{ bucket: this.pairBuckets.get(key), budget: { perMinute: 60_000 / interval, burst: limits.pairBurst } }],
      at,
    );
    if (!pair?.decision.allowed) {
      this.throttled.pair += 1;
      return SEND_ERRORS.pairRate;
    }
    this.pairBuckets.set(key, pair.bucket);
    recent.push(at);
    return null;
  }

  private send(phoneNumberId: string, request: http.IncomingMessage, response: http.ServerResponse): void {
    const arrivedAt = Date.now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: SendBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SendBody;
      } catch {
        graphError(response, invalidParameter('The request body is not JSON.'));
        return;
      }
      const problem = sendProblem(body);
      if (problem) {
        graphError(response, invalidParameter(problem));
        return;
      }
      const to = String(body.to);
      const failure = this.sendFailures.get(to)?.shift();
      if (failure === 'drop') {
        response.socket?.destroy();
        return;
      }
      if (failure !== undefined && failure !== 'hang') {
        graphError(response, failure);
        return;
      }
      const throttled = this.overLimit(phoneNumberId, to, arrivedAt);
      if (throttled) {
        graphError(response, throttled);
        return;
      }
      const sent: FakeSentMessage = {
        phoneNumberId,
        at: arrivedAt,
        wamid: newWamid(),
        body,
        text: String(body.text?.body),
        answered: failure === undefined,
      };
      this.sent.push(sent);
      this.play(sent);
      if (failure === 'hang') {
        this.stalled.add(response);
        response.on('close', () => this.stalled.delete(response));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          messaging_product: 'whatsapp',
          contacts: [{ input: to, wa_id: to.replace(/\D/g, '') }],
          messages: [{ id: sent.wamid }],
        }),
      );
    });
  }

  /** Posts the send's statuses, one every stepMs, as Meta's webhook would. */
  private play(sent: FakeSentMessage): void {
    const playback = this.playback;
    const channel = playback?.channel(sent.phoneNumberId);
    if (!playback || !channel) return;
    const statuses = playback.script?.(sent) ?? ['sent', 'delivered', 'read'];
    const stepMs = playback.stepMs ?? 300;
    const recipient = String(sent.body.to).replace(/\D/g, '');
    const callbackData =
      typeof sent.body.biz_opaque_callback_data === 'string' ? sent.body.biz_opaque_callback_data : undefined;
    statuses.forEach((status, index) => {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          const value =
            typeof status === 'string'
              ? statusValue({ id: sent.wamid, status, recipient, ...(callbackData ? { callbackData } : {}) })
              : statusValue({
                  id: sent.wamid,
                  status: 'failed',
                  recipient,
                  errors: [status.failed],
                  ...(callbackData ? { callbackData } : {}),
                });
          // A gateway that is not there misses the status, as it would Meta's.
          playback.post(signed(deliveryFor(channel, value), channel.appSecret)).catch(() => {});
        },
        stepMs * (index + 1),
      );
      this.timers.add(timer);
    });
  }

  /** Stops listening; requests left hanging are cut. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const response of this.stalled) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function unknownObject(id: string): GraphError {
  return {
    status: 400,
    code: 100,
    subcode: 33,
    type: 'GraphMethodException',
    message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
  };
}

function graphError(response: http.ServerResponse, error: GraphError): void {
  response.writeHead(error.status, { 'content-type': 'application/json', 'www-authenticate': 'OAuth' });
  response.end(
    JSON.stringify({
      error: {
        message: error.message,
        type: error.type,
        code: error.code,
        ...(error.subcode === undefined ? {} : { error_subcode: error.subcode }),
        ...(error.details === undefined
          ? {}
          : { error_data: { messaging_product: 'whatsapp', details: error.details } }),
        fbtrace_id: randomBytes(8).toString('base64url'),
      },
    }),
  );
}

/** What Meta would refuse in a text send's body (code 100), or null. */
function sendProblem(body: SendBody): string | null {
  if (body.messaging_product !== 'whatsapp') return 'The parameter messaging_product is required.';
  if (typeof body.to !== 'string' || !/^\+?[1-9]\d{5,14}$/.test(body.to)) return 'Invalid parameter: to.';
  if (body.type !== 'text') return `Unsupported message type: ${String(body.type)}.`;
  const text = body.text?.body;
  if (typeof text !== 'string' || text.length === 0) return "The parameter text['body'] is required.";
  if ([...text].length > 4096) return "Param text['body'] must be at most 4096 characters long.";
  if (body.context !== undefined && typeof body.context?.message_id !== 'string') {
    return 'Invalid parameter: context.message_id.';
  }
  return null;
}

/** Meta's errors for a send, by name: what tests and the simulator script. */
export const SEND_ERRORS = {
  /** HTTP 429, 130429: the phone number's throughput is exceeded. Retryable. */
  throughput: {
    status: 429,
    code: 130429,
    type: 'OAuthException',
    message: '(#130429) Rate limit hit',
    details: 'Cloud API message throughput has been reached.',
  },
  /** 131056: too many messages to one recipient in a short time. Retryable. */
  pairRate: {
    status: 400,
    code: 131056,
    type: 'OAuthException',
    message: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
    details:
      'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
  },
  /** HTTP 500, 131000: something went wrong at Meta. Retryable. */
  internal: { status: 500, code: 131000, type: 'OAuthException', message: '(#131000) Something went wrong' },
  /** HTTP 503 without a code. Retryable. */
  unavailable: { status: 503, code: 2, type: 'OAuthException', message: 'Service temporarily unavailable' },
  /** 131047: more than 24 hours since the contact last wrote. Permanent. */
  reEngagement: {
    status: 400,
    code: 131047,
    type: 'OAuthException',
    message: '(#131047) Re-engagement message',
    details:
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  /** 131026: the recipient cannot receive it (not on WhatsApp, old version …). Permanent. */
  undeliverable: {
    status: 400,
    code: 131026,
    type: 'OAuthException',
    message: '(#131026) Message undeliverable',
    details: 'Unable to deliver message.',
  },
  /** 132001: the template does not exist (132xxx: template problems). Permanent. */
  templateMissing: {
    status: 404,
    code: 132001,
    type: 'OAuthException',
    message: '(#132001) Template name does not exist in the translation',
  },
  /** 190 / HTTP 401: the access token is invalid or expired. Permanent. */
  invalidToken: INVALID_TOKEN,
  /** 100: an invalid parameter. Permanent. */
  invalidParameter: invalidParameter('Invalid parameter'),
} satisfies Record<string, GraphError>;
