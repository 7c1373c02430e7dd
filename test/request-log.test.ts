// One log line per request, with its id, path, status, duration and the operation's name.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, type TestClient } from './helpers/client.js';

let client: TestClient;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  client = await createTestClient({ log: pino({ level: 'info' }, sink) });
});

describe('the request log', () => {
  it('names the operation, even of a request refused before it runs', async () => {
    const response = await client.yoga.fetch('http://wagraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'log-test-1' },
      body: JSON.stringify({ query: 'query InboxPage { __typename }', operationName: 'InboxPage' }),
    });
    expect(response.status).toBe(401);
    await expect
      .poll(() => lines.find((line) => line.requestId === 'log-test-1'))
      .toMatchObject({
        msg: 'request',
        method: 'POST',
        path: '/graphql',
        operationName: 'InboxPage',
        status: 401,
      });
  });
});
