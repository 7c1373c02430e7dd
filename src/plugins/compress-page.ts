// GraphiQL's page is 9 MB of inline script: sent as brotli (about 2 MB) or gzip (about 2.4 MB)
// when the browser accepts it. Only HTML responses are compressed, never a request body:
// decompressing request bodies (as @whatwg-node/server's useContentEncoding does) would let a
// small gzip body expand far past MAX_BODY_BYTES. The page differs only by its pre-filled
// headers, so each variant is compressed once and kept (a few of them, 2 MB each).
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Plugin } from 'graphql-yoga';

type Encoding = 'br' | 'gzip';

// zlib's buffers are never shared memory: typed as what a Response body takes.
type Bytes = Uint8Array<ArrayBuffer>;
const brotli = promisify(zlib.brotliCompress) as (body: Buffer, options: zlib.BrotliOptions) => Promise<Bytes>;
const gzip = promisify(zlib.gzip) as (body: Buffer, options: zlib.ZlibOptions) => Promise<Bytes>;

/** Compressed variants kept; each page variant (with or without a pre-filled key) is one. */
const MAX_CACHED = 8;

/** The client's preferred encoding among ours (brotli first), or undefined. */
export function acceptedEncoding(acceptEncoding: string | null): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    accepted.set(name, q ? Number(q.slice(2)) || 0 : 1);
  }
  const weight = (encoding: Encoding) => accepted.get(encoding) ?? accepted.get('*') ?? 0;
  if (weight('br') > 0 && weight('br') >= weight('gzip')) return 'br';
  if (weight('gzip') > 0) return 'gzip';
  return undefined;
}

function compress(body: Buffer, encoding: Encoding): Promise<Bytes> {
  return encoding === 'br'
    ? brotli(body, {
        // Quality 5 compresses the page in about 0.2 s to within 2% of quality 6, 20% smaller than gzip.
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length },
      })
    : gzip(body, { level: 6 });
}

export function useCompressedPages(): Plugin {
  const cache = new Map<string, Promise<Bytes>>();
  return {
    async onResponse({ request, response, setResponse, fetchAPI }) {
      if (request.method !== 'GET' || response.status !== 200) return;
      if (!response.headers.get('content-type')?.startsWith('text/html')) return;
      if (response.headers.has('content-encoding')) return;
      const encoding = acceptedEncoding(request.headers.get('accept-encoding'));
      const headers = new fetchAPI.Headers(response.headers);
      headers.append('vary', 'Accept-Encoding');
      if (!encoding) {
        setResponse(new fetchAPI.Response(response.body, { status: response.status, headers }));
        return;
      }
      const page = Buffer.from(await response.arrayBuffer());
      const key = `${encoding}:${createHash('sha256').update(page).digest('hex')}`;
      let compressed = cache.get(key);
      if (!compressed) {
        compressed = compress(page, encoding);
        if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
        cache.set(key, compressed);
        compressed.catch(() => cache.delete(key));
      }
      headers.set('content-encoding', encoding);
      headers.delete('content-length');
      setResponse(new fetchAPI.Response(await compressed, { status: response.status, headers }));
    },
  };
}
