// Subscriptions over the other transports, on a real socket: GraphQL over WebSocket
// (graphql-ws on /graphql) and graphql-sse's single-connection mode (/graphql/stream). Both
// run each operation through the same pipeline as a POST to /graphql: an API key or a JWT
// in connectionParams, refused credentials, revocation, the per-connection limit, the
// operation limits, queries and mutations over the socket, the origin check, the payload bound.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { EventHub } from '../src/events/hub.js';
import { DEFAULT_LIMITS } from '../src/plugins/limits.js';
import { attachWebSocket, type WebSocketTransport } from '../src/transports/websocket.js';
import { createTestClient, globalId, silentLogger, type TestClient } from './helpers/client.js';
import { testDatabase } from './helpers/database.js';
import { createContact, createConversation, createMember, createOrganization } from './helpers/factories.js';
import { JWT_SECRET, memberClaims, signJwt } from './helpers/jwt.js';
import { ROOT } from './helpers/process.js';
import { connectionInit, sseClient, sseOperation, wsClient, wsOperation } from './helpers/websocket.js';

const PER_CONNECTION = 2;
const MAX_PAYLOAD = 65_536;

let client: TestClient;
let hub: EventHub;
let server: http.Server;
let webSockets: WebSocketTransport;
let base: string;
let wsUrl: string;

beforeAll(async () => {
  const db = await testDatabase();
  hub = new EventHub({ db, log: silentLogger, pollIntervalMs: 100 });
  client = await createTestClient(
    {
      eventHub: hub,
      jwt: loadConfig({ JWT_SECRET }).jwt,
      maxSubscriptionsPerConnection: PER_CONNECTION,
      corsOrigins: ['https://app.example'],
    },
    db,
  );
  server = http.createServer(client.yoga);
  webSockets = attachWebSocket(server, {
    yoga: client.yoga,
    log: silentLogger,
    maxSubscriptionsPerConnection: PER_CONNECTION,
    maxPayloadBytes: MAX_PAYLOAD,
    maxTokens: DEFAULT_LIMITS.maxTokens,
    corsOrigins: ['https://app.example'],
    corsLoopbackOrigins: false,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  wsUrl = `ws://127.0.0.1:${port}/graphql`;
});

afterAll(async () => {
  await webSockets.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await hub.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { message { text } userErrors { message } } }`;
const CHAT = `subscription($id: ID!, $after: String) { messageEvents(conversationId: $id, after: $after) { cursor kind message { text } } }`;
const ALL = `subscription { events { cursor kind } }`;

/**
 * A new organization's chat, and the cursor of its feed's last event so far: subscribing
 * `after` it receives what is sent next however long the subscription takes to start.
 */
async function chat() {
  const org = await createOrganization(client.db);
  const contact = await createContact(client.db, org.id);
  const conversation = await createConversation(client.db, org.id, { contactId: contact.id });
  const feed = await client.gql(`{ events(first: 100) { pageInfo { endCursor } } }`, {}, { as: org.owner });
  return {
    org,
    conversationId: globalId('Conversation', conversation.id),
    after: (feed.data as any).events.pageInfo.endCursor as string | null,
  };
}

async function send(key: string, conversationId: string, text: string) {
  const response = await client.gql(
    SEND,
    { input: { conversationId, text } },
    {
      as: null,
      headers: { authorization: `Bearer ${key}` },
    },
  );
  expect(response.errors).toBeUndefined();
}

describe('GraphQL over WebSocket (graphql-ws)', () => {
  it('delivers a sent message to a subscriber with an API key; queries and mutations work over the socket too', async () => {
    const { org, conversationId, after } = await chat();
    const socket = wsClient(wsUrl, bearer(org.owner.apiKey));
    try {
      const events = wsOperation(socket, CHAT, { id: conversationId, after });
      await send(org.owner.apiKey, conversationId, 'Hello over HTTP');
      const [event] = await events.take(1);
      expect(event?.data.messageEvents).toMatchObject({
        kind: 'MESSAGE_CREATED',
        message: { text: 'Hello over HTTP' },
      });

      const [viewer] = await wsOperation(socket, `{ viewer { member { name } } }`).take(1);
      expect(viewer?.data.viewer.member.name).toBe(org.owner.name);
      const [sent] = await wsOperation(socket, SEND, { input: { conversationId, text: 'Sent over the socket' } }).take(
        1,
      );
      expect(sent?.data.sendMessage).toMatchObject({ message: { text: 'Sent over the socket' }, userErrors: [] });
      const [echo] = await events.take(1);
      expect(echo?.data.messageEvents.message.text).toBe('Sent over the socket');
      events.close();
    } finally {
      await socket.dispose();
    }
  });

  it('accepts a JWT under a lower-case `authorization` key', async () => {
    const { org, conversationId, after } = await chat();
    const token = await signJwt(memberClaims(org.owner));
    const socket = wsClient(wsUrl, { authorization: `Bearer ${token}` });
    try {
      const events = wsOperation(socket, CHAT, { id: conversationId, after });
      await send(org.owner.apiKey, conversationId, 'For the JWT');
      const [event] = await events.take(1);
      expect(event?.data.messageEvents.message.text).toBe('For the JWT');
      events.close();
    } finally {
      await socket.dispose();
    }
  });

  it('closes the socket with 4403 and the reason for refused credentials', async () => {
    const missing = await connectionInit(wsUrl, {});
    expect(missing).toMatchObject({ ack: false, code: 4403 });
    expect(missing.reason).toMatch(/^Forbidden: .*(credential|Authorization|API key)/i);
    const wrong = await connectionInit(wsUrl, bearer(`wag_${'x'.repeat(40)}`));
    expect(wrong).toMatchObject({ ack: false, code: 4403 });
    expect(wrong.reason).toMatch(/^Forbidden: /);
    const badJwt = await connectionInit(wsUrl, { authorization: 'Bearer not.a.jwt' });
    expect(badJwt).toMatchObject({ ack: false, code: 4403 });
    const { org } = await chat();
    expect(await connectionInit(wsUrl, bearer(org.owner.apiKey))).toEqual({ ack: true });
  });

  it('ends a live subscription within seconds when its API key is revoked', async () => {
    const { org } = await chat();
    const agent = await createMember(client.db, org.id, { permissions: ['Get:Conversation', 'Get:Contact'] });
    const socket = wsClient(wsUrl, bearer(agent.apiKey));
    try {
      const events = wsOperation(socket, ALL);
      await sleep(300);
      const started = Date.now();
      await client.db.prisma.apiKey.updateMany({ where: { memberId: agent.id }, data: { revokedAt: new Date() } });
      const [ended] = await events.take(1, 6_000);
      expect(ended?.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await events.next(1_000)).toBeNull();
    } finally {
      await socket.dispose();
    }
  });

  it(`refuses a subscription past ${PER_CONNECTION} on one connection, and takes one again when another ends`, async () => {
    const { org } = await chat();
    const socket = wsClient(wsUrl, bearer(org.owner.apiKey));
    try {
      const open = [wsOperation(socket, ALL), wsOperation(socket, ALL)];
      await sleep(300);
      const [refused] = await wsOperation(socket, ALL).take(1);
      expect(refused?.errors?.[0]).toMatchObject({ extensions: { code: 'SUBSCRIPTION_LIMIT' } });
      expect(refused?.errors?.[0]?.message).toMatch(/MAX_SUBSCRIPTIONS_PER_CONNECTION/);
      // Queries are not counted.
      const [query] = await wsOperation(socket, `{ viewer { permissions } }`).take(1);
      expect(query?.errors).toBeUndefined();
      open[0]!.close();
      await sleep(500);
      const again = wsOperation(socket, ALL);
      await expect(again.next(500)).rejects.toThrow(/no subscription event/);
      again.close();
      open[1]!.close();
    } finally {
      await socket.dispose();
    }
  });

  it('applies the operation limits to a subscription document, and reports its syntax errors', async () => {
    const { org } = await chat();
    const socket = wsClient(wsUrl, bearer(org.owner.apiKey));
    try {
      let selection = 'id';
      for (let i = 0; i < 5; i++) selection = `conversation { messages(first: 1) { nodes { ${selection} } } }`;
      const deep = `subscription { messageEvents(conversationId: "x") { message { ${selection} } } }`;
      const [refused] = await wsOperation(socket, deep).take(1);
      expect(refused?.errors?.[0]).toMatchObject({ extensions: { code: 'OPERATION_LIMIT_EXCEEDED' } });
      const [syntax] = await wsOperation(socket, 'subscription {').take(1);
      expect(syntax?.errors?.[0]?.message).toMatch(/Syntax Error/);
    } finally {
      await socket.dispose();
    }
  });

  it('refuses the upgrade from a page of an origin CORS does not allow, and a message over the payload bound', async () => {
    const { org } = await chat();
    expect(await connectionInit(wsUrl, bearer(org.owner.apiKey), { origin: 'https://evil.example' })).toMatchObject({
      ack: false,
      status: 403,
    });
    expect(await connectionInit(wsUrl, bearer(org.owner.apiKey), { origin: 'https://app.example' })).toEqual({
      ack: true,
    });
    // The server's own pages (GraphiQL) are of its origin.
    expect(await connectionInit(wsUrl, bearer(org.owner.apiKey), { origin: base })).toEqual({ ack: true });
    const closed = await new Promise<number>((resolve) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
      socket.on('open', () => socket.send('x'.repeat(MAX_PAYLOAD + 1)));
      socket.on('error', () => {});
      socket.on('close', (code) => resolve(code));
    });
    expect(closed).toBe(1009);
    const other = await new Promise<number | undefined>((resolve) => {
      const socket = new WebSocket(`ws://${new URL(base).host}/elsewhere`);
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode));
      socket.on('error', () => resolve(undefined));
    });
    expect(other).toBe(404);
  });
});

describe('graphql-sse single-connection mode (/graphql/stream)', () => {
  it('delivers a sent message on the reserved stream, with the per-connection limit', async () => {
    const { org, conversationId, after } = await chat();
    const stream = sseClient(`${base}/graphql/stream`, bearer(org.owner.apiKey));
    try {
      const events = sseOperation(stream, CHAT, { id: conversationId, after });
      const other = sseOperation(stream, ALL);
      await sleep(500);
      const [refused] = await sseOperation(stream, ALL).take(1);
      expect(refused?.errors?.[0]).toMatchObject({ extensions: { code: 'SUBSCRIPTION_LIMIT' } });
      await send(org.owner.apiKey, conversationId, 'Over graphql-sse');
      const [event] = await events.take(1);
      expect(event?.data.messageEvents).toMatchObject({
        kind: 'MESSAGE_CREATED',
        message: { text: 'Over graphql-sse' },
      });
      events.close();
      other.close();
    } finally {
      stream.dispose();
    }
  });

  it('answers 401 to every request without a valid credential, as /graphql does', async () => {
    const reserve = await fetch(`${base}/graphql/stream`, { method: 'PUT' });
    expect(reserve.status).toBe(401);
    expect(await reserve.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    const distinct = await fetch(`${base}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer(`wag_${'y'.repeat(40)}`) },
      body: JSON.stringify({ query: ALL }),
    });
    expect(distinct.status).toBe(401);
  });
});

describe("GraphiQL's subscriptions", () => {
  it('go as GraphiQL sends them: GET with the query in the URL, Accept: text/event-stream, the pre-filled Authorization', async () => {
    const { org, conversationId, after } = await chat();
    const abort = new AbortController();
    const query = new URLSearchParams({
      query: 'subscription Live($after: String) { events(after: $after) { cursor kind } }',
      operationName: 'Live',
      variables: JSON.stringify({ after }),
    });
    const response = await fetch(`${base}/graphql?${query}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${org.owner.apiKey}` },
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    let received = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body!) received += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted
      }
    })();
    await send(org.owner.apiKey, conversationId, 'For GraphiQL');
    await expect.poll(() => received, { timeout: 5_000 }).toContain('"kind":"MESSAGE_CREATED"');
    abort.abort();
    await reading;
  });
});

describe("the README's subscription examples, as pasted", () => {
  const readme = fs.readFileSync(`${ROOT}/README.md`, 'utf8');
  const block = (language: string, containing: string) => {
    const found = [...readme.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))]
      .map((match) => match[1] ?? '')
      .find((text) => text.includes(containing));
    if (!found) throw new Error(`no ${language} block with ${containing} in the README`);
    return found;
  };

  /** Runs `command` until its output matches `pattern` (then stops it); resolves with the output. */
  const runUntil = (
    command: string,
    args: string[],
    options: { cwd: string; env?: NodeJS.ProcessEnv },
    pattern: RegExp,
  ) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
      let output = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no match for ${pattern} within 15 s:\n${output}`));
      }, 15_000);
      const check = () => {
        if (!pattern.test(output)) return;
        clearTimeout(timer);
        child.kill('SIGTERM');
        resolve(output);
      };
      child.stdout.on('data', (chunk) => {
        output += chunk;
        check();
      });
      child.stderr.on('data', (chunk) => (output += chunk));
    });

  /** Sends `text` every second until `done` settles: the process subscribes only once it has started. */
  const sendUntil = async (done: Promise<unknown>, key: string, conversationId: string, text: string) => {
    let settled = false;
    void done.finally(() => (settled = true)).catch(() => {});
    for (let i = 0; i < 15 && !settled; i++) {
      await send(key, conversationId, text);
      await sleep(1_000);
    }
  };

  it('the curl command streams events', async () => {
    const { org, conversationId } = await chat();
    const command = block('text', 'curl -N')
      .replace(/\\\n\s*/g, '')
      .trim()
      .replaceAll('http://localhost:4000', base);
    // Run where `data/graphiql-key` holds the key, as after `npm start`.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-readme-'));
    try {
      fs.mkdirSync(`${dir}/data`);
      fs.writeFileSync(`${dir}/data/graphiql-key`, org.owner.apiKey);
      const streamed = runUntil('bash', ['-c', command], { cwd: dir }, /Pasted from the README/);
      await sendUntil(streamed, org.owner.apiKey, conversationId, 'Pasted from the README');
      expect(await streamed).toMatch(
        /event: next\ndata: \{"data":\{"events":\{"cursor":"[^"]+","kind":"MESSAGE_CREATED","message":\{"text":"Pasted from the README"\}\}\}\}/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the graphql-ws snippet receives events and keeps their cursor', async () => {
    const { org, conversationId } = await chat();
    const snippet = block('js', "from 'graphql-ws'")
      .replace('ws://localhost:4000/graphql', wsUrl)
      // What the test watches: each event, as the loop receives it.
      .replace('after = data.conversationEvents.cursor;', '$& console.log(JSON.stringify(data));');
    const received = runUntil(
      process.execPath,
      ['--input-type=module', '-e', snippet],
      { cwd: ROOT, env: { WAGRAPH_KEY: org.owner.apiKey } },
      /From the snippet/,
    );
    await sendUntil(received, org.owner.apiKey, conversationId, 'From the snippet');
    expect(await received).toContain('"kind":"MESSAGE_CREATED","message":{');
  });
});
