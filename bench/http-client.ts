// A small HTTP client for the scenarios that need more than autocannon gives: the status
// and body of every answer, a latency per request, a connection pool of their own (one
// tenant's connections never wait behind another's), and abandoning whatever is still in
// flight when a phase ends. To 127.0.0.1 only.
import http from 'node:http';

export interface Answer {
  /** HTTP status, or 'connection error' / 'timeout' / 'abandoned' when none arrived. */
  status: number | 'connection error' | 'timeout' | 'abandoned';
  ms: number;
  text: string;
}

export interface Client {
  post(path: string, body: string, headers?: Record<string, string>): Promise<Answer>;
  inFlight(): number;
  /** Abandons the requests in flight (they answer 'abandoned') and closes the connections. */
  close(): void;
}

export function httpClient(origin: string, options: { maxSockets: number; timeoutMs: number }): Client {
  const url = new URL(origin);
  if (url.hostname !== '127.0.0.1') throw new Error(`the scenarios only send to 127.0.0.1, not ${url.hostname}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets });
  const pending = new Set<http.ClientRequest>();
  let closed = false;
  return {
    post(path, body, headers = {}) {
      const started = performance.now();
      return new Promise((resolve) => {
        const done = (status: Answer['status'], text = '') => {
          pending.delete(request);
          resolve({
            status: closed && typeof status !== 'number' ? 'abandoned' : status,
            ms: performance.now() - started,
            text,
          });
        };
        const request = http.request(
          {
            host: url.hostname,
            port: url.port,
            path,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
            timeout: options.timeoutMs,
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => done(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
            response.on('error', () => done('connection error'));
          },
        );
        pending.add(request);
        request.on('timeout', () => {
          request.destroy();
          done('timeout');
        });
        request.on('error', () => done('connection error'));
        if (closed) request.destroy();
        else request.end(body);
      });
    },
    inFlight: () => pending.size,
    close() {
      closed = true;
      for (const request of pending) request.destroy();
      agent.destroy();
    },
  };
}

/** The p-th percentile (0–100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A GraphQL answer's error codes (`extensions.code`), or [] when it has none or is not JSON. */
export function errorCodes(text: string): string[] {
  try {
    const body = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
    return (body.errors ?? []).map((error) => error.extensions?.code ?? 'NO_CODE');
  } catch {
    return [];
  }
}
