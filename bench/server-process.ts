// Starting and stopping a server under test as its own process: output to a log file in
// bench/out (read back when it fails), a readiness probe, SIGTERM then SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { OUT_DIR } from './paths.js';

export interface ServerProcess {
  pid: number;
  /** http://127.0.0.1:<port> */
  origin: string;
  logFile: string;
  /** SIGTERM, and SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: drops whatever the server was still doing. */
  kill(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  port: number;
  /** Resolves true once the server answers as it should. */
  ready(origin: string): Promise<boolean>;
  startTimeoutMs?: number;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const logFile = path.join(OUT_DIR, `${spec.name}.log`);
  // Appended to: a server restarted between two runs keeps the log of the first one.
  const log = fs.openSync(logFile, 'a');
  fs.writeSync(log, `\n=== ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const origin = `http://127.0.0.1:${spec.port}`;
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  };
  const deadline = Date.now() + (spec.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${spec.name} exited during start-up (code ${child.exitCode ?? child.signalCode}):\n${tail(logFile)}`,
      );
    }
    if (await spec.ready(origin).catch(() => false)) {
      const kill = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await exited(child);
      };
      return { pid: child.pid!, origin, logFile, stop, kill };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop(1_000);
  throw new Error(`${spec.name} was not ready after ${(spec.startTimeoutMs ?? 60_000) / 1000} s:\n${tail(logFile)}`);
}
