// wagraph as a separate process (src/server.ts through tsx), for what only a process can
// show: start-up, configuration errors, restarts, signals.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything the process printed so far. */
  output(): string;
  /**
   * Waits until the output matches `pattern` (stdout and stderr arrive through separate pipes,
   * so a line printed just after the "listening" log may not be here yet when it is).
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends a signal and waits for the exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** The base environment: nothing inherited that could change what the server does. */
function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'development',
    // The simulator's deliveries would change the data these tests compare across restarts.
    SIMULATOR: 'off',
    PORT: '0',
    HOST: '127.0.0.1',
    ...env,
  };
}

// A server whose test timed out before it listened is in no test's hands: without this it
// would outlive the test run and slow down everything after it. Called after each test file
// (test/helpers/setup.ts): with `isolate: false` a module-level hook would only be registered
// for the first file of a worker that imports this module.
const children = new Set<ChildProcess>();
export function killStartedServers(): void {
  for (const child of children) child.kill('SIGKILL');
}

export function runServer(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  return runScript('src/server.ts', env);
}

/** A TypeScript entry point of this repository (relative to its root) as a process, through tsx, with `args`. */
export function runScript(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: environment(env) });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Starts a server and resolves once it listens (or rejects with what it printed). */
export async function startServer(env: Record<string, string>, timeoutMs = 150_000): Promise<ServerProcess> {
  const { child, output, exited } = runServer(env);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    const check = () => {
      const match = /"port":(\d+),"host":"[^"]*","msg":"wagraph listening/.exec(output());
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output()}`));
    });
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output,
    exited,
    async waitForOutput(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output())) {
        if (Date.now() > deadline) throw new Error(`no output matching ${pattern} in ${timeoutMs} ms:\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function post(url: string, apiKey: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}
