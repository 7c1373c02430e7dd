// The first run, as a newcomer does it, checked end to end (run by .ci/run):
//
// 1. a fresh copy of the repository (its tracked and untracked, not ignored, files: what a
//    clone of the working tree would hold) in a temporary directory;
// 2. the README's quick start, command by command, in order, exactly as written: every
//    command of its `sh` blocks between "## Quick start" and the next section. `npm start`
//    runs in the background until its "GraphiQL at" line, and a later `npm start` first
//    stops the running one with SIGTERM (which must exit 0). The one substitution: the port.
//    The README says 4000; here PORT is a free port and `localhost:4000` in a command reads
//    `localhost:<that port>`;
// 3. after every start, GraphiQL in a real browser (Debian's chromium, headless, driven by
//    playwright-core): the page arrives compressed, pre-filled with a key; running its
//    default query shows the demo organization's data; a subscription in a new tab shows the
//    next simulated message;
// 4. one more plain `npm start` (a restart on the now existing database, with the key kept in
//    data/graphiql-key) that must not rebuild, then reload, run again, see data; SIGTERM;
// 5. a changed source, and `npm run build` compiles it.
//
// Bounded in time (FIRST_RUN_TIMEOUT_SECONDS, default 900); whatever it started is stopped and
// the temporary directory removed, also on failure. Screenshots go to FIRST_RUN_SCREENSHOTS
// when set. CHROMIUM (default /usr/bin/chromium) names the browser.
//
//   npx tsx scripts/first-run-check.ts
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { quickStartCommands } from './readme-commands.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.FIRST_RUN_SCREENSHOTS && path.resolve(process.env.FIRST_RUN_SCREENSHOTS);
const TIMEOUT_SECONDS = Number(process.env.FIRST_RUN_TIMEOUT_SECONDS ?? 900);
/** A start (build, database, seed) on a loaded machine; `npm ci` gets its own bound. */
const START_TIMEOUT_MS = 240_000;
const COMMAND_TIMEOUT_MS = 600_000;
const DEMO_ORGANIZATION = 'Acme Coffee Roasters';

function say(message: string): void {
  process.stdout.write(`first-run: ${message}\n`);
}

class CheckFailed extends Error {}
function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The repository's files as a clone of the working tree would hold them. */
function copyRepository(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file && fs.existsSync(path.join(ROOT, file)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(to, file));
  }
}

interface Server {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

class FirstRun {
  readonly dir: string;
  readonly clone: string;
  port = 0;
  server: Server | undefined;
  browser: BrowserContext | undefined;
  page: Page | undefined;
  starts = 0;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wagraph-first-run-'));
    this.clone = path.join(this.dir, 'wagraph');
  }

  get env(): NodeJS.ProcessEnv {
    // A newcomer's shell: none of this process's wagraph settings, development mode.
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env))
      if (!/^(DATABASE_URL|DATA_DIR|DEMO_API_KEY.*|NODE_ENV|TEST_.*|PORT|HOST|npm_.*)$/.test(name)) env[name] = value;
    return { ...env, PORT: String(this.port) };
  }

  localize(command: string): string {
    return command.replaceAll('localhost:4000', `localhost:${this.port}`);
  }

  async run(command: string): Promise<string> {
    say(`$ ${command}`);
    const child = spawn('bash', ['-c', this.localize(command)], {
      cwd: this.clone,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    check(code === 0, `\`${command}\` exited with ${code}:\n${stdout.slice(-2000)}\n${stderr.slice(-4000)}`);
    return stdout;
  }

  async start(command: string): Promise<void> {
    await this.stop();
    say(`$ ${command}   (in the background)`);
    // Its own process group, so that cleanup reaches npm's children even if npm is gone.
    const child = spawn('bash', ['-c', this.localize(command)], {
      cwd: this.clone,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    this.server = { child, exited, output: () => `${stdout.slice(-3000)}\n${stderr.slice(-3000)}` };
    const line = `wagraph: GraphiQL at http://localhost:${this.port}/graphql (signed in as the demo owner when opened from this machine)`;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CheckFailed(`no "${line}" within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.split('\n').includes(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => reject(new CheckFailed(`\`${command}\` exited with ${code} before listening`)));
    }).catch((error: unknown) => {
      throw new CheckFailed(`${(error as Error).message}\n${this.server?.output()}`);
    });
    this.starts++;
    say(`listening; printed: ${line}`);
  }

  /** SIGTERM to npm (as a process manager or Ctrl-C does): the server drains and exits 0. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.child.kill('SIGTERM');
    const code = await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 20_000, 'timeout'))]);
    if (code !== 0) this.kill(server);
    check(code === 0, `after SIGTERM the server exited with ${String(code)}:\n${server.output()}`);
    say('stopped with SIGTERM: exit code 0');
  }

  kill(server: Server): void {
    try {
      if (server.child.pid) process.kill(-server.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** Opens (or reloads) GraphiQL, runs its default query and checks the data it shows. */
  /** `npm start` in development plays WhatsApp users (SIMULATOR): their messages get processed. */
  async messagesFlow(): Promise<void> {
    const key = fs.readFileSync(path.join(this.clone, 'data', 'graphiql-key'), 'utf8').trim();
    const query = '{ viewer { organization { webhookDeliveries { processed } } } }';
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await fetch(`http://127.0.0.1:${this.port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query }),
      });
      const body = (await response.json()) as {
        data?: { viewer?: { organization?: { webhookDeliveries?: { processed?: number } } } };
      };
      const processed = body.data?.viewer?.organization?.webhookDeliveries?.processed ?? 0;
      if (processed > 0) {
        say(`messages flow: ${processed} simulated WhatsApp deliveries processed`);
        return;
      }
      check(Date.now() < deadline, 'no simulated WhatsApp delivery was processed within 60 s of `npm start`');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async graphiql(): Promise<void> {
    const url = `http://localhost:${this.port}/graphql`;
    if (!this.browser) {
      // A fresh profile in the temporary directory.
      this.browser = await chromium.launchPersistentContext(path.join(this.dir, 'chromium-profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        timeout: 60_000,
      });
      this.page = this.browser.pages()[0] ?? (await this.browser.newPage());
      this.page.setDefaultTimeout(90_000);
    }
    const page = this.page as Page;
    const reloading = page.url() === url;
    const loaded = page.url() === url ? await page.reload() : await page.goto(url);
    check(loaded?.status() === 200, `GraphiQL answered ${loaded?.status()}`);
    const encoding = await loaded.headerValue('content-encoding');
    check(encoding === 'br' || encoding === 'gzip', `GraphiQL's page arrived with Content-Encoding ${encoding}`);
    say(`GraphiQL ${reloading ? 'reloaded' : 'opened'} (page sent as ${encoding})`);

    const execute = page.locator('.graphiql-execute-button');
    await execute.waitFor();
    const answered = page.waitForResponse(
      (response) => response.request().method() === 'POST' && (response.request().postData() ?? '').includes('Inbox'),
    );
    await execute.click();
    const response = await answered;
    const body = (await response.json()) as {
      data?: { viewer?: { organization?: { name?: string } }; contacts?: { totalCount?: number } };
      errors?: unknown[];
    };
    check(
      response.status() === 200 && !body.errors && body.data?.viewer?.organization?.name === DEMO_ORGANIZATION,
      `GraphiQL's default query answered ${response.status()}: ${JSON.stringify(body).slice(0, 500)}`,
    );
    check((body.data?.contacts?.totalCount ?? 0) > 0, 'the default query found no contacts');
    // What the developer sees: the result pane shows the organization.
    await page.locator('.graphiql-response', { hasText: DEMO_ORGANIZATION }).waitFor();
    if (SCREENSHOTS) {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, `graphiql-start-${this.starts}.png`) });
    }
    say(`ran the default query: ${DEMO_ORGANIZATION}, ${body.data?.contacts?.totalCount} contacts`);
  }

  /**
   * A subscription in GraphiQL, in a tab of its own (the default query's stays as it is): it
   * goes over SSE with the pre-filled key, and the next change shows in the result pane — a
   * simulated message, or else the contact this check creates (the simulator's 30 messages
   * may all have arrived by the time a slow machine gets here).
   */
  async subscriptionInGraphiQL(): Promise<void> {
    // Typing into GraphiQL's editor right after opening a tab is not always taken (the editor
    // may not have focus yet): the query is checked before it runs, and the step tried twice.
    for (let attempt = 1; ; attempt += 1) {
      const seen = await this.subscribeOnce();
      if (seen === true) break;
      check(attempt < 2, `the subscription in GraphiQL showed no event within 30 s, twice (${seen})`);
      say(`no event in GraphiQL yet (${seen}); trying again in a new tab`);
    }
    say('a subscription in GraphiQL received a change as it happened');
  }

  /** One try: true when an event showed, else what the editor and the result pane held. */
  private async subscribeOnce(): Promise<true | string> {
    const page = this.page as Page;
    await page.locator('.graphiql-tab-add').click();
    const editor = page.locator('.graphiql-query-editor');
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText('subscription Live { events { cursor kind } }');
    const typed = Date.now() + 5_000;
    while (!/subscription\s+Live/.test((await editor.textContent()) ?? '')) {
      if (Date.now() > typed)
        return `the editor holds ${JSON.stringify(((await editor.textContent()) ?? '').slice(0, 80))}`;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // GraphiQL re-reads the document's operation names a moment after an edit: run before
    // that, and it asks for the previous query's operation ("Cannot infer operation Inbox").
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await page.locator('.graphiql-execute-button').click();
    const shown = page.locator('.graphiql-response', { hasText: /MESSAGE_CREATED|CONTACT_CREATED/ });
    const key = fs.readFileSync(path.join(this.clone, 'data', 'graphiql-key'), 'utf8').trim();
    const deadline = Date.now() + 30_000;
    for (let tick = 0; !(await shown.isVisible()); tick += 1) {
      if (Date.now() > deadline) {
        const pane = (await page.locator('.graphiql-response').last().textContent()) ?? '';
        await page.locator('.graphiql-execute-button').click();
        return `the result pane holds ${JSON.stringify(pane.slice(0, 200))}`;
      }
      // A change of our own, should the simulator's messages all have arrived already.
      if (tick % 6 === 5) {
        const response = await fetch(`http://127.0.0.1:${this.port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({
            query: 'mutation($input: CreateContactInput!) { createContact(input: $input) { userErrors { message } } }',
            variables: { input: { name: 'First-run check', phone: `+1555${String(Date.now()).slice(-7)}` } },
          }),
        });
        check(response.status === 200, `createContact answered ${response.status}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, 'graphiql-subscription.png') });
    // Stops the subscription (the button stops what runs).
    await page.locator('.graphiql-execute-button').click();
    return true;
  }

  async cleanup(): Promise<void> {
    await this.browser?.close().catch(() => {});
    if (this.server) {
      this.server.child.kill('SIGTERM');
      await Promise.race([this.server.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      this.kill(this.server);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function buildStamp(clone: string): number {
  return fs.statSync(path.join(clone, 'dist/src/server.js')).mtimeMs;
}

async function main(): Promise<void> {
  check(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`);
  const run = new FirstRun();
  const deadline = setTimeout(() => {
    say(`FAILED: not done within ${TIMEOUT_SECONDS} s`);
    void run.cleanup().finally(() => process.exit(1));
  }, TIMEOUT_SECONDS * 1000);
  try {
    run.port = await freePort();
    say(`a fresh copy of the repository in ${run.clone}, node ${process.version}, PORT=${run.port}`);
    copyRepository(run.clone);
    const commands = quickStartCommands(fs.readFileSync(path.join(run.clone, 'README.md'), 'utf8'));
    check(commands.length > 0, 'README.md has no "## Quick start" section with commands');
    check(commands.filter((command) => /\bnpm start$/.test(command)).length > 0, 'the quick start has no `npm start`');

    for (const command of commands) {
      if (/\bnpm start$/.test(command)) {
        await run.start(command);
        await run.graphiql();
        await run.messagesFlow();
        await run.subscriptionInGraphiQL();
      } else if (command.startsWith('curl ')) {
        check(run.server, `\`${command}\` comes before any \`npm start\``);
        const output = await run.run(command);
        const body = JSON.parse(output) as { data?: { contacts?: { totalCount?: number } }; errors?: unknown };
        check(!body.errors && (body.data?.contacts?.totalCount ?? 0) > 0, `\`${command}\` answered ${output}`);
        say(`answered data: ${output.slice(0, 120)}…`);
      } else {
        await run.run(command);
      }
    }

    // The restart of item 12: a plain `npm start` on the existing database, nothing rebuilt.
    const built = buildStamp(run.clone);
    await run.start('npm start');
    check(buildStamp(run.clone) === built, '`npm start` rebuilt an unchanged tree');
    say('restarted without rebuilding');
    await run.graphiql();
    await run.stop();

    // ... and a change is compiled.
    fs.appendFileSync(path.join(run.clone, 'src/server.ts'), '// first-run-check: a change\n');
    await run.run('npm run build');
    check(
      fs.readFileSync(path.join(run.clone, 'dist/src/server.js'), 'utf8').includes('first-run-check: a change'),
      '`npm run build` did not compile a changed source',
    );
    say('a changed source is compiled');
    say('PASSED');
  } catch (error) {
    say(`FAILED: ${error instanceof CheckFailed ? error.message : String((error as Error).stack ?? error)}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(deadline);
    await run.cleanup();
  }
}

await main();
