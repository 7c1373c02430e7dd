// Hostile battery, the process: wagraph under a process manager (SIGTERM to npm, a log
// reader that stalls), and the development key (who receives it, where it is written).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_KEY_FILE, keepDevelopmentKey } from '../src/db/development-key.js';
import { DEMO_OWNERS } from '../src/db/seed.js';
import { migrate } from '../src/db/migrate.js';
import { createWagraphYoga } from '../src/yoga.js';
import { createTestClient, silentLogger } from './helpers/client.js';
import { freshDatabase } from './helpers/database.js';
import { ROOT } from './helpers/process.js';

// Start-ups of a WebAssembly PostgreSQL, and a build, on a loaded machine: limits are for hangs.
const PROCESS_TEST = { timeout: 400_000 };

const temporary: string[] = [];
const children = new Set<ChildProcess>();
/** Server pids seen (from the data directory's lock file), to kill if a test left one behind. */
const serverPids = new Set<number>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const pid of serverPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
});

function temporaryDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-process-'));
  temporary.push(dir);
  return dir;
}

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

function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    SEED_DEMO_DATA: 'false',
    ...env,
  };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
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
    exitOf(child),
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
  await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, env: environment({}) });
  built = true;
}

describe('class 10: the process under a process manager', PROCESS_TEST, () => {
  // Both tests use one data directory: the second start skips creating the database.
  const dataDir = temporaryDir();

  it('SIGTERM to `npm start` drains and exits 0 within 10 s, also while nobody reads its output', async () => {
    const port = await freePort();
    // Standard output is a pipe that is never read, as when a log collector stalls.
    const child = spawn('npm', ['start'], {
      cwd: ROOT,
      env: environment({ DATA_DIR: dataDir, PORT: String(port) }),
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
      env: environment({ DATA_DIR: dataDir, PORT: String(port) }),
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
    // Its own database: the demo owner's ids are fixed.
    const db = await freshDatabase();
    await migrate(db);
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
  // test/server.test.ts, 'the embedded database'.
});
