// Structured JSON logs (pino). Request logs carry the request id that is also returned to
// the client in the `x-request-id` response header.
import { pino, type Logger } from 'pino';
import sonicBoom from 'sonic-boom';

export type { Logger };

// A CommonJS module: its class is a property of the default export.
const { SonicBoom } = sonicBoom;

/**
 * How many bytes of log lines are held in memory while standard output is not being read
 * (a stalled log collector, a pipe nobody drains); past it, new lines are dropped and counted.
 */
export const LOG_BUFFER_BYTES = 2 * 1024 * 1024;

/**
 * Standard output as a log destination that never blocks the process. Node puts a pipe or
 * socket on standard output in non-blocking mode once `process.stdout` is touched, so a write
 * into a full pipe fails with EAGAIN instead of waiting: SonicBoom writes asynchronously,
 * retries later, and keeps at most `maxBytes` waiting. Pino's own destination would buffer
 * without bound, and on exit flush synchronously, retrying EAGAIN for ever: a server whose
 * output was no longer read never stopped.
 */
export class LogSink {
  private readonly stream: InstanceType<typeof SonicBoom>;
  /** Bytes accepted and not yet written. */
  private pending = 0;
  /** Lines dropped since the last report. */
  private dropped = 0;
  private broken = false;
  private exiting = false;
  /** Called once lines flow again after some were dropped. */
  onRecovered: ((dropped: number) => void) | undefined;

  constructor(fd: number = process.stdout.fd, maxBytes = LOG_BUFFER_BYTES) {
    this.stream = new SonicBoom({
      fd,
      sync: false,
      minLength: 0,
      maxLength: maxBytes,
      // While the process runs, a full pipe is retried (every 100 ms, off the event loop);
      // during the last synchronous flush at exit, it is given up.
      retryEAGAIN: () => !this.exiting,
    });
    this.stream.on('drop', () => this.dropped++);
    this.stream.on('write', (bytes: number) => {
      this.pending = Math.max(0, this.pending - bytes);
      if (this.dropped > 0 && this.onRecovered) {
        const dropped = this.dropped;
        this.dropped = 0;
        this.onRecovered(dropped);
      }
    });
    // EPIPE (the reader is gone) and the like: logging stops, the process does not.
    this.stream.on('error', () => {
      this.broken = true;
    });
  }

  write(line: string): boolean {
    if (this.broken) return true;
    const droppedBefore = this.dropped;
    this.stream.write(line);
    if (this.dropped === droppedBefore) this.pending += Buffer.byteLength(line);
    return true;
  }

  /** Waits at most `timeoutMs` for what is buffered to be written; whatever is left is dropped. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.broken || this.pending === 0) return;
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.pending === 0) done();
      };
      const done = () => {
        clearTimeout(timer);
        this.stream.off('write', check);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.stream.on('write', check);
    });
  }

  /**
   * One last synchronous attempt to write what is buffered, for `process.on('exit')`: it
   * writes what the pipe takes now and gives up on the rest, never waiting.
   */
  flushAtExit(): void {
    this.exiting = true;
    if (this.broken || this.pending === 0) return;
    try {
      this.stream.flushSync();
    } catch {
      // The pipe is full or gone: the rest is lost, the exit is not delayed.
    }
  }
}

export function createLogger(level: string, sink: LogSink = new LogSink()): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'wagraph' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Never let a credential reach the logs, whatever a call site passes in.
      redact: ['req.headers.authorization', 'req.headers["x-access-token"]', '*.secret', '*.password', '*.apiKey'],
    },
    sink,
  );
  sink.onRecovered = (dropped) =>
    logger.warn({ droppedLines: dropped }, 'log lines dropped: standard output was not being read');
  return logger;
}
