// The process as users run it: configuration errors, the embedded database's first start,
// restarts, the development key, slow clients on a real socket, graceful shutdown (also under
// `npm start` and `npm run serve`, as a process manager runs them), and several instances on
// one PostgreSQL database. Every test that needs a server process is here: a start-up takes
// seconds (a WebAssembly PostgreSQL, a first seed), so one data directory is carried from step
// to step, and one server serves every step that can share it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEMO_CHANNEL_FILE,
  DEVELOPMENT_KEY_FILE,
  keepDevelopmentKey,
  SECRETS_KEY_FILE,
} from '../src/db/development-key.js';
import { loadMigrations } from '../src/db/migrate.js';
import { DEMO_OWNERS } from '../src/db/seed.js';
import { createWagraphYoga } from '../src/yoga.js';
import { createTestClient, silentLogger } from './helpers/client.js';
import { testDatabase, testDatabaseTarget } from './helpers/database.js';
import { post, ROOT, runServer, startServer, type ServerProcess } from './helpers/process.js';
import { wsClient, wsOperation } from './helpers/websocket.js';

const DEMO_KEY = 'demo-key-for-server-tests-1-local-only';
const MIGRATIONS = loadMigrations().map((migration) => migration.name);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const FIRST_CONTACTS = `{ contacts(first: 5) { totalCount nodes { id name phone } } }`;

// Process start-ups take seconds (a WebAssembly PostgreSQL, a first seed, a build); on a loaded
// machine much more. Time limits here are for hangs, not for speed.
const PROCESS_TEST = { timeout: 400_000 };

const temporary: string[] = [];
const running: ServerProcess[] = [];
/** Processes started through npm (its server is a grandchild), and the server pids they left in their lock file. */
const children = new Set<ChildProcess>();
const serverPids = new Set<number>();
function temporaryDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-server-'));
  temporary.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(running.map((server) => server.stop('SIGKILL')));
  for (const child of children) child.kill('SIGKILL');
  for (const pid of serverPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until /healthz answers (without reading the process's output). */
async function healthy(port: number, child: ChildProcess, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('no answer on /healthz');
}

function supervisedEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    SEED_DEMO_DATA: 'false',
    ...env,
  };
}

function exitOfChild(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** SIGTERM to the top process; what a supervisor (docker stop, systemd) then observes. */
async function terminate(child: ChildProcess, port: number, dataDir: string) {
  const serverPid = Number(fs.readFileSync(path.join(dataDir, 'wagraph.lock'), 'utf8'));
  serverPids.add(serverPid);
  const signalled = Date.now();
  child.kill('SIGTERM');
  const exit = await Promise.race([
    exitOfChild(child),
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000)),
  ]);
  const seconds = (Date.now() - signalled) / 1_000;
  // Give an orphan no excuse of being slow to die.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { exit, seconds, serverAlive: alive(serverPid), portTaken: await listening(port) };
}

let built = false;
async function ensureBuilt(): Promise<void> {
  if (built) return;
  await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, env: supervisedEnvironment({}) });
  built = true;
}

async function exitOf(env: Record<string, string>) {
  const { output, exited } = runServer(env);
  const code = await exited;
  return { code, lines: output().trim().split('\n') };
}

describe('configuration errors', PROCESS_TEST, () => {
  // Each rule's message is checked on loadConfig in test/config.test.ts; here, that the process
  // turns a bad setting, and a database it cannot reach, into one line and exit code 1.
  it.each([
    [{ PORT: 'eighty' }, /^wagraph: Invalid PORT="eighty": must be a number$/],
    [
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/wagraph' },
      /^wagraph: Cannot connect to PostgreSQL at 127\.0\.0\.1:1\/wagraph \(DATABASE_URL\): .*ECONNREFUSED/,
    ],
    [
      { JWT_SECRET: 'not-long-enough' },
      /^wagraph: Invalid JWT_SECRET \(value not shown\): must be at least 32 characters long$/,
    ],
    [{ NODE_ENV: 'production' }, /^wagraph: Missing SECRETS_KEY: production needs a key/],
  ])('%o → one clear line and exit code 1', { concurrent: true }, async (env, message) => {
    const { code, lines } = await exitOf(env);
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('an unwritable DATA_DIR → one clear line and exit code 1', async () => {
    const file = path.join(temporaryDir(), 'a-file');
    fs.writeFileSync(file, '');
    const { code, lines } = await exitOf({ DATA_DIR: path.join(file, 'data') });
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^wagraph: DATA_DIR .*a-file\/data is not a writable directory: ENOTDIR/);
  });
});

// One data directory's life, in the order a developer meets it, then under a process manager.
// A start-up of the embedded database takes seconds, so each step reuses the server (or the
// data directory) the step before it left.
const dataDir = temporaryDir();
const REQUEST_TIMEOUT_MS = 4_000;

describe('the embedded database', PROCESS_TEST, () => {
  const keyFile = path.join(dataDir, DEVELOPMENT_KEY_FILE);
  let key: string;
  let firstData: unknown;
  let server: ServerProcess;

  it('a first start migrates, seeds, keeps a development key (0600) and logs no secret at any level', async () => {
    const first = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'trace' });
    running.push(first);
    expect(first.output()).toContain(`"applied":${JSON.stringify(MIGRATIONS)}`);
    expect(first.output()).toContain('"msg":"demo data seeded"');
    await first.waitForOutput(/^wagraph: GraphiQL at http:\/\/127\.0\.0\.1:\d+\/graphql/m);
    key = fs.readFileSync(keyFile, 'utf8').trim();
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    // Nothing that looks like a key, the kept one or the second organization's, in the output.
    expect(first.output()).not.toMatch(/wag_[\w-]{8,}/);

    // The development secrets key and the demo channel's secrets, kept beside it (0600); Meta's
    // verification of the callback URL answers with the demo verify token, over a real socket.
    for (const file of [SECRETS_KEY_FILE, DEMO_CHANNEL_FILE]) {
      expect(fs.statSync(path.join(dataDir, file)).mode & 0o777).toBe(0o600);
    }
    const demo = JSON.parse(fs.readFileSync(path.join(dataDir, DEMO_CHANNEL_FILE), 'utf8'));
    const verification = await fetch(
      `${first.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${demo.verifyToken}&hub.challenge=4242`,
    );
    expect(verification.status).toBe(200);
    expect(await verification.text()).toBe('4242');
    for (const secret of [demo.accessToken, demo.appSecret, demo.verifyToken]) {
      expect(first.output()).not.toContain(secret);
    }

    // GraphiQL opened from this machine is signed in with the kept key.
    const page = await (await fetch(`${first.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(page).toContain(`Bearer ${key}`);
    const response = await post(first.url, key, FIRST_CONTACTS);
    expect(response.status).toBe(200);
    expect(response.body.data.contacts.totalCount).toBe(200);
    expect(response.body.data.contacts.nodes).toHaveLength(5);
    firstData = response.body.data;
    expect(await first.stop()).toBe(0);
  });

  it('a restart keeps the data and the key, seeds nothing, and accepts a DEMO_API_KEY without printing it', async () => {
    // With few execution slots and short request timeouts, for the slow clients' step.
    server = await startServer({
      DATA_DIR: dataDir,
      DEMO_API_KEY: DEMO_KEY,
      MAX_CONCURRENT_REQUESTS: '2',
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
    running.push(server);
    expect(server.output()).toContain('"applied":[],"msg":"database schema up to date"');
    expect(server.output()).not.toContain('demo data seeded');
    expect(server.output()).not.toContain(DEMO_KEY);
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(key);
    expect((await post(server.url, key, FIRST_CONTACTS)).body.data).toEqual(firstData);
    // The demo channel's secrets are the same at every start.
    const demo = JSON.parse(fs.readFileSync(path.join(dataDir, DEMO_CHANNEL_FILE), 'utf8'));
    const verification = await fetch(
      `${server.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${demo.verifyToken}&hub.challenge=1`,
    );
    expect(verification.status).toBe(200);
    expect((await post(server.url, DEMO_KEY, FIRST_CONTACTS)).body.data).toEqual(firstData);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('refuses a second process on the same data directory with a clear message', async () => {
    const { code, lines } = await exitOf({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(lines.at(-1)).toMatch(
      /^wagraph: The embedded database in .* is in use by another wagraph process \(pid \d+\)/,
    );
    expect((await post(server.url, 'x'.repeat(40), '{ viewer { permissions } }')).status).toBe(401);
  });

  // Class 2 of the hostile battery: slow clients hold no execution slot, on a real socket.
  it('50 anonymous connections trickling a body leave another tenant at its normal latency, and are cut with 408', async () => {
    const query = `{ viewer { organization { name } } }`;
    const timed = async () => {
      const started = performance.now();
      const response = await Promise.race([
        post(server.url, DEMO_KEY, query),
        sleep(10_000).then(() => ({ status: 0, body: {} })),
      ]);
      return { status: response.status, ms: performance.now() - started };
    };
    await timed(); // warm-up
    const idle = [await timed(), await timed(), await timed()];
    expect(idle.every((answer) => answer.status === 200)).toBe(true);

    // Each connection sends its headers, announces a 1,000-byte body, then sends one byte a second.
    const slow = Array.from({ length: 50 }, () => {
      const socket = net.connect(server.port, '127.0.0.1');
      const opened = performance.now();
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => (received += chunk));
      socket.on('error', () => {});
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
      );
      const trickle = setInterval(() => socket.write(' '), 1_000);
      const closed = new Promise<{ afterMs: number; received: string }>((resolve) =>
        socket.on('close', () => {
          clearInterval(trickle);
          resolve({ afterMs: performance.now() - opened, received });
        }),
      );
      return { socket, trickle, closed };
    });
    try {
      await sleep(500); // every slow request has reached the server's handler
      const busy = [await timed(), await timed(), await timed()];
      const median = (answers: { ms: number }[]) => answers.map((answer) => answer.ms).sort((a, b) => a - b)[1]!;
      console.info(
        `slow clients: another tenant's query took ${median(idle).toFixed(0)} ms idle, ${median(busy).toFixed(0)} ms with 50 slow connections open`,
      );
      expect(busy.every((answer) => answer.status === 200)).toBe(true);
      // Generous: on the original code this query waited behind the slow connections until they timed out (5 minutes).
      expect(median(busy)).toBeLessThan(Math.max(2_000, 4 * median(idle)));

      const cut = await Promise.race([
        Promise.all(slow.map((connection) => connection.closed)),
        sleep(REQUEST_TIMEOUT_MS + 6_000).then(() => 'not closed' as const),
      ]);
      expect(cut).not.toBe('not closed');
      for (const { afterMs, received } of cut as { afterMs: number; received: string }[]) {
        expect(received).toMatch(/^(HTTP\/1\.1 408 |$)/);
        expect(afterMs).toBeGreaterThan(REQUEST_TIMEOUT_MS - 500);
        expect(afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
      }
      // The server is still serving.
      expect((await timed()).status).toBe(200);
    } finally {
      for (const { socket, trickle } of slow) {
        clearInterval(trickle);
        socket.destroy();
      }
    }
  });

  it('subscriptions over SSE and WebSocket outlive REQUEST_TIMEOUT_MS and hold no execution slot; SIGTERM ends them at once', async () => {
    const conversations = await post(server.url, DEMO_KEY, `{ conversations(first: 1) { nodes { id status } } }`);
    const conversation = conversations.body.data.conversations.nodes[0] as { id: string; status: string };
    const conversationId = conversation.id;
    // The demo's seeded conversations are past WhatsApp's 24-hour window (no free-form send):
    // a change of status is the event here.
    const newStatus = conversation.status === 'CLOSED' ? 'RESOLVED' : 'CLOSED';
    const CHAT = `subscription($id: ID!) { events(filter: { conversationId: $id }) { kind ... on ConversationEvent { conversation { status } } } }`;
    // One SSE stream and two subscriptions on one WebSocket: more than MAX_CONCURRENT_REQUESTS (2).
    const sse = new AbortController();
    const stream = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${DEMO_KEY}` },
      body: JSON.stringify({ query: CHAT, variables: { id: conversationId } }),
      signal: sse.signal,
    });
    expect(stream.status).toBe(200);
    let received = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of stream.body!) received += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted
      }
    })();
    const socket = wsClient(`${server.url.replace('http', 'ws')}/graphql`, { Authorization: `Bearer ${DEMO_KEY}` });
    let closedWith: number | undefined;
    socket.on('closed', (event) => (closedWith = (event as { code: number }).code));
    const live = [wsOperation(socket, CHAT, { id: conversationId }), wsOperation(socket, CHAT, { id: conversationId })];
    try {
      await sleep(500);
      // A query still gets a slot at once.
      const started = Date.now();
      expect((await post(server.url, DEMO_KEY, `{ viewer { permissions } }`)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
      // Past the request and headers timeouts, the streams and the socket are still open and delivering.
      await sleep(REQUEST_TIMEOUT_MS + 1_500);
      const changed = await post(
        server.url,
        DEMO_KEY,
        `mutation($input: UpdateConversationInput!) { updateConversation(input: $input) { userErrors { message } } }`,
        { input: { id: conversationId, status: newStatus } },
      );
      expect(changed.body.errors).toBeUndefined();
      expect(changed.body.data.updateConversation.userErrors).toEqual([]);
      for (const operation of live) {
        const [event] = await operation.take(1);
        expect(event?.data.events).toEqual({
          kind: 'CONVERSATION_STATUS_CHANGED',
          conversation: { status: newStatus },
        });
      }
      await expect.poll(() => received, { timeout: 5_000 }).toContain('CONVERSATION_STATUS_CHANGED');

      const signalled = Date.now();
      expect(await server.stop('SIGTERM')).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(5_000);
      expect(closedWith).toBe(1001);
      await reading;
      expect(received).toContain('SHUTTING_DOWN');
    } finally {
      sse.abort();
      await socket.dispose();
    }
    // The next steps need a server again.
    server = await startServer({
      DATA_DIR: dataDir,
      DEMO_API_KEY: DEMO_KEY,
      MAX_CONCURRENT_REQUESTS: '2',
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
    running.push(server);
  });

  it('on SIGTERM during a stream of writes: every acknowledged write is kept, exit 0 within 10 s', async () => {
    const acknowledged: string[] = [];
    let sent = 0;
    let stop = false;
    // Four writers, each sending createTag one after another until the server goes away.
    const writer = async (lane: number) => {
      for (let i = 0; !stop && i < 500; i++) {
        const label = `shutdown-${lane}-${i}`;
        sent++;
        try {
          const response = await post(
            server.url,
            DEMO_KEY,
            `mutation($l: String!) { createTag(input: { label: $l }) { tag { label } userErrors { message } } }`,
            { l: label },
          );
          if (response.body.data?.createTag?.tag?.label === label) acknowledged.push(label);
        } catch {
          stop = true; // connection refused or reset: the server is gone
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await expect.poll(() => acknowledged.length, { timeout: 20_000 }).toBeGreaterThan(20);
    const signalled = Date.now();
    const code = await server.stop('SIGTERM');
    const exitedAfter = Date.now() - signalled;
    stop = true;
    await Promise.all(writers);
    expect(code).toBe(0);
    expect(exitedAfter).toBeLessThan(10_000);
    expect(server.output()).toContain('shutting down');

    // Reopen the data directory: every write the server acknowledged is there.
    const { openDatabase } = await import('../src/db/client.js');
    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const stored = new Set(
        (await db.prisma.tag.findMany({ where: { label: { startsWith: 'shutdown-' } } })).map((tag) => tag.label),
      );
      expect(acknowledged.filter((label) => !stored.has(label))).toEqual([]);
      expect(stored.size).toBeGreaterThanOrEqual(acknowledged.length);
      expect(stored.size).toBeLessThanOrEqual(sent);
    } finally {
      await db.close();
    }
  });
});

describe('class 10: the process under a process manager', PROCESS_TEST, () => {
  // On the data directory of the steps above, stopped by now.
  it('SIGTERM to `npm start` drains and exits 0 within 10 s, also while nobody reads its output', async () => {
    const port = await freePort();
    // Standard output is a pipe that is never read, as when a log collector stalls.
    const child = spawn('npm', ['start'], {
      cwd: ROOT,
      env: supervisedEnvironment({ DATA_DIR: dataDir, PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let errors = '';
    child.stderr!.on('data', (chunk) => (errors += chunk));
    await healthy(port, child);
    built = true;

    // Each request logs one line of ~8 KB (its path): 500 of them are far more than the pipe
    // and the log buffer hold.
    const long = `/${'x'.repeat(8_000)}`;
    for (let round = 0; round < 50; round++) {
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () => fetch(`http://127.0.0.1:${port}${long}`).then((response) => response.status)),
      );
      expect(statuses.every((status) => status === 404)).toBe(true);
    }
    // Requests are still answered, promptly, with the output blocked.
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { permissions } }' }),
    });
    expect(response.status).toBe(401);
    expect(Date.now() - started).toBeLessThan(5_000);

    const { exit, seconds, serverAlive, portTaken } = await terminate(child, port, dataDir);
    expect({ exit, serverAlive, portTaken }, errors).toEqual({
      exit: { code: 0, signal: null },
      serverAlive: false,
      portTaken: false,
    });
    expect(seconds).toBeLessThan(10);
  });

  it('SIGTERM to `npm run serve` drains and exits 0 within 10 s, leaving no server behind', async () => {
    await ensureBuilt();
    const port = await freePort();
    const child = spawn('npm', ['run', 'serve'], {
      cwd: ROOT,
      env: supervisedEnvironment({ DATA_DIR: dataDir, PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await healthy(port, child);

    const { exit, seconds, serverAlive, portTaken } = await terminate(child, port, dataDir);
    expect({ exit, serverAlive, portTaken }, output).toEqual({
      exit: { code: 0, signal: null },
      serverAlive: false,
      portTaken: false,
    });
    expect(seconds).toBeLessThan(10);
    expect(output).toContain('"msg":"stopped"');
  });
});

describe('class 11: the development key', PROCESS_TEST, () => {
  const KEY = 'wag_development-key-for-graphiql-tests';
  const page = (body: string) => body.includes(`Bearer ${KEY}`);

  it('GraphiQL is pre-filled with the key only for a client connected from this machine', async () => {
    const client = await createTestClient({ graphiql: true, graphiqlApiKey: KEY, log: silentLogger });
    const open = (serverContext?: object, headers: Record<string, string> = {}) =>
      Promise.resolve(
        client.yoga.fetch(
          'http://wagraph.test/graphql',
          { headers: { accept: 'text/html', ...headers } },
          serverContext as never,
        ),
      ).then((response) => response.text());
    const from = (remoteAddress: string) => ({ req: { socket: { remoteAddress } } });

    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])
      expect(page(await open(from(address))), address).toBe(true);
    for (const address of ['10.0.0.7', '192.168.1.20', '203.0.113.9', '::ffff:10.0.0.7', '2001:db8::1', 'fe80::1']) {
      const body = await open(from(address));
      expect(body, address).toContain('GraphiQL');
      expect(body, address).not.toContain(KEY);
    }
    // A header anyone can send does not make a client local.
    expect(page(await open(from('203.0.113.9'), { 'x-forwarded-for': '127.0.0.1', forwarded: 'for=127.0.0.1' }))).toBe(
      false,
    );
    // No socket at all (yoga.fetch): not local either.
    expect(page(await open())).toBe(false);

    // Over a real socket on the loopback interface.
    const server = http.createServer(client.yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
      expect(page(await response.text())).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is kept in DATA_DIR (0600) and works at every start; a revoked one is replaced', async () => {
    // The demo owner's ids are fixed: no other test of the run creates that organization.
    const db = await testDatabase();
    const yoga = createWagraphYoga({ db, log: silentLogger, graphiql: false });
    const [owner] = DEMO_OWNERS;
    await db.prisma.organization.create({ data: { id: owner.organizationId, name: 'Acme (development key test)' } });
    await db.prisma.organizationMember.create({
      data: {
        id: owner.memberId,
        organizationId: owner.organizationId,
        name: 'Olivia Owner',
        email: 'owner@acme-dev-key.example',
        accessLevel: 'OWNER',
      },
    });
    const dataDir = temporaryDir();
    const file = path.join(dataDir, DEVELOPMENT_KEY_FILE);
    const viewer = async (key: string) => {
      const response = await yoga.fetch('http://wagraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: '{ viewer { member { email } } }' }),
      });
      return (await response.json()) as unknown;
    };
    const works = { data: { viewer: { member: { email: 'owner@acme-dev-key.example' } } } };

    const first = await keepDevelopmentKey(db, dataDir);
    expect(first).toMatch(/^wag_/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(await viewer(first!)).toEqual(works);
    expect(await keepDevelopmentKey(db, dataDir)).toBe(first);

    await db.prisma.apiKey.updateMany({ where: { memberId: owner.memberId }, data: { revokedAt: new Date() } });
    const replaced = await keepDevelopmentKey(db, dataDir);
    expect(replaced).not.toBe(first);
    expect(await viewer(replaced!)).toEqual(works);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(replaced);
  });
  // A first start that seeds, logs no secret and hands the kept key to a local GraphiQL:
  // 'the embedded database' above.
});

// Needs a PostgreSQL server: registered in the PostgreSQL pass of the suite (.ci/run sets
// TEST_DATABASE_URL). The embedded database's counterpart is the data-directory lock above.
const postgres = testDatabaseTarget();
if (postgres.kind === 'postgres')
  describe('PostgreSQL through DATABASE_URL', PROCESS_TEST, () => {
    it('two instances started at once on an empty database both become ready; each migration is applied once', async () => {
      const target = postgres;
      const name = `wagraph_concurrent_${process.pid}`;
      const admin = new pg.Client({ connectionString: target.url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(target.url);
      url.pathname = `/${name}`;
      try {
        // One DATA_DIR for both, as on one machine: they agree on one development secrets key.
        const sharedDataDir = temporaryDir();
        const servers = await Promise.all(
          [1, 2].map(() =>
            startServer({ DATABASE_URL: url.toString(), DEMO_API_KEY: DEMO_KEY, DATA_DIR: sharedDataDir }),
          ),
        );
        running.push(...servers);
        for (const server of servers) {
          expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
          const response = await post(server.url, DEMO_KEY, FIRST_CONTACTS);
          expect(response.body.data.contacts.totalCount).toBe(200);
        }
        const check = new pg.Client({ connectionString: url.toString() });
        await check.connect();
        const migrations = await check.query('SELECT name FROM "_wagraph_migrations"');
        const organizations = await check.query('SELECT count(*)::int AS n FROM "Organization"');
        await check.end();
        expect(migrations.rows.map((row) => row.name).sort()).toEqual(MIGRATIONS);
        expect(organizations.rows[0].n).toBe(2);
        expect(servers.filter((server) => server.output().includes('demo data seeded'))).toHaveLength(1);
        // The demo channel's secrets, as both computed them, open what is stored.
        const demo = JSON.parse(fs.readFileSync(path.join(sharedDataDir, DEMO_CHANNEL_FILE), 'utf8'));
        for (const server of servers) {
          const verification = await fetch(
            `${server.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${demo.verifyToken}&hub.challenge=7`,
          );
          expect(verification.status).toBe(200);
        }
        expect(await Promise.all(servers.map((server) => server.stop()))).toEqual([0, 0]);
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    });
  });
