// GraphiQL's page (9 MB) travels compressed when the browser accepts it; request bodies are
// never decompressed, and API responses are left as they are.
import http from 'node:http';
import type net from 'node:net';
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { acceptedEncoding } from '../src/plugins/compress-page.js';
import { createTestClient, silentLogger, type TestClient } from './helpers/client.js';

const KEY = 'wag_development-key-for-compression-tests';

describe('GraphiQL page compression', () => {
  let client: TestClient;
  let plain: string;
  beforeAll(async () => {
    client = await createTestClient({ graphiql: true, graphiqlApiKey: KEY, log: silentLogger });
    const response = await client.request({ method: 'GET', headers: { accept: 'text/html' } });
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(response.headers.get('vary')).toMatch(/accept-encoding/i);
    plain = await response.text();
    expect(plain).toContain('<title>wagraph</title>');
  });

  it.each([
    ['br', 'br', zlib.brotliDecompressSync],
    ['gzip, deflate, br, zstd', 'br', zlib.brotliDecompressSync],
    ['gzip, deflate', 'gzip', zlib.gunzipSync],
    ['br;q=0.5, gzip', 'gzip', zlib.gunzipSync],
  ])(
    'Accept-Encoding: %s → Content-Encoding: %s, at most a third of the size, decoding to the page',
    async (accept, encoding, decode) => {
      const response = await client.request({
        method: 'GET',
        headers: { accept: 'text/html', 'accept-encoding': accept },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-encoding')).toBe(encoding);
      expect(response.headers.get('vary')).toMatch(/accept-encoding/i);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.length).toBeLessThan(plain.length / 3);
      expect(decode(body).toString('utf8')).toBe(plain);
    },
  );

  it('an encoding we do not offer, or refused ones, get the page uncompressed', async () => {
    for (const accept of ['identity', 'deflate', 'br;q=0, gzip;q=0']) {
      const response = await client.request({
        method: 'GET',
        headers: { accept: 'text/html', 'accept-encoding': accept },
      });
      expect(response.headers.get('content-encoding'), accept).toBeNull();
      expect(await response.text(), accept).toBe(plain);
    }
  });

  it('each variant of the page is compressed separately (the pre-filled key only for loopback clients)', async () => {
    const open = async (remoteAddress: string) => {
      const response = await client.yoga.fetch(
        'http://wagraph.test/graphql',
        { headers: { accept: 'text/html', 'accept-encoding': 'gzip' } },
        { req: { socket: { remoteAddress } } } as never,
      );
      expect(response.headers.get('content-encoding')).toBe('gzip');
      return zlib.gunzipSync(Buffer.from(await response.arrayBuffer())).toString('utf8');
    };
    // Twice each, so that the second answer of each comes from the cache of compressed pages.
    for (let round = 0; round < 2; round++) {
      expect(await open('127.0.0.1')).toContain(`Bearer ${KEY}`);
      expect(await open('203.0.113.9')).not.toContain(KEY);
    }
  });

  it('over a socket: the compressed bytes go on the wire with their Content-Encoding', async () => {
    const server = http.createServer(client.yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      // node:http does not decompress: what arrives is what was sent.
      const { headers, body } = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>(
        (resolve, reject) => {
          http
            .get(
              { port, host: '127.0.0.1', path: '/graphql', headers: { accept: 'text/html', 'accept-encoding': 'br' } },
              (response) => {
                const chunks: Buffer[] = [];
                response.on('data', (chunk: Buffer) => chunks.push(chunk));
                response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
              },
            )
            .on('error', reject);
        },
      );
      expect(headers['content-encoding']).toBe('br');
      expect(body.length).toBeLessThan(plain.length / 3);
      expect(zlib.brotliDecompressSync(body).toString('utf8')).toContain(`Bearer ${KEY}`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('GraphQL responses and request bodies are not touched', async () => {
    const response = await client.request({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip, br' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.headers.get('content-encoding')).toBeNull();
    // A gzip body is not inflated: Yoga cannot read it as JSON.
    const gzipped = await client.request({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: zlib.gzipSync(JSON.stringify({ query: '{ __typename }' })),
    });
    // (Inflated, it would reach authentication and answer 401.)
    expect(gzipped.status).toBe(400);
  });
});

describe('acceptedEncoding', () => {
  it.each([
    [null, undefined],
    ['', undefined],
    ['br', 'br'],
    ['gzip', 'gzip'],
    ['GZIP, BR', 'br'],
    ['gzip;q=1, br;q=0.8', 'gzip'],
    ['*', 'br'],
    ['*;q=0, gzip', 'gzip'],
    ['br;q=0', undefined],
    ['identity', undefined],
  ])('%o → %o', (header, expected) => {
    expect(acceptedEncoding(header)).toBe(expected);
  });
});
