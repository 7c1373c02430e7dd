// A fake of Meta's WhatsApp Cloud API on 127.0.0.1 (a random port), speaking its documented
// protocol: what tests point WHATSAPP_API_URL at, and what `npm start` runs in development
// for the simulated demo channel, so that nothing ever calls Meta. Media so far:
//   GET /v21.0/{media-id}                    → { messaging_product, url, mime_type, sha256, file_size, id }
//   GET /whatsapp_business/attachments/?mid= → the bytes (Meta's short-lived download URL)
// both with `Authorization: Bearer <access token>`, answering Graph API errors
// (`{ "error": { "message", "type", "code", "error_subcode", "fbtrace_id" } }`) as Meta does:
// 190 for a missing or unknown token, 100 for an unknown media id. Outbound sends
// (POST /{phone-number-id}/messages) belong here too.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mediaId as newMediaId } from './meta-payloads.js';

/** The Graph API version in the fake's base URL (that of DEFAULT_WHATSAPP_API_URL). */
export const FAKE_API_VERSION = 'v21.0';

/** `GET /v21.0/{media-id}`: a media lookup. */
const LOOKUP = new RegExp(`^/${FAKE_API_VERSION.replace('.', '\\.')}/\\d+$`);

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
}

/** Meta's answer to a missing, malformed or expired access token. */
export const INVALID_TOKEN: GraphError = {
  status: 401,
  code: 190,
  type: 'OAuthException',
  message: 'Invalid OAuth access token - Cannot parse access token',
};

export interface FakeCloudApiOptions {
  /** Access tokens accepted as Bearer (more can be added with `acceptToken`). */
  accessTokens?: readonly string[];
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

  private constructor(
    private readonly server: http.Server,
    /** The base URL to use as WHATSAPP_API_URL, e.g. http://127.0.0.1:40123/v21.0. */
    readonly url: string,
    tokens: readonly string[],
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
    fake = new FakeCloudApi(server, `http://127.0.0.1:${port}/${FAKE_API_VERSION}`, options.accessTokens ?? []);
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

  /** Stops listening; requests left hanging are cut. */
  async close(): Promise<void> {
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
        fbtrace_id: randomBytes(8).toString('base64url'),
      },
    }),
  );
}
