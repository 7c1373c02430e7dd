// Structured JSON logs (pino). Request logs carry the request id that is also returned to
// the client in the `x-request-id` response header.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'wagraph' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never let a credential reach the logs, whatever a call site passes in.
    redact: ['req.headers.authorization', 'req.headers["x-access-token"]', '*.secret', '*.password'],
  });
}
