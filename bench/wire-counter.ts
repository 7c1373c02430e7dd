// Counts SQL statements on the wire: a TCP proxy between a server under test and
// PostgreSQL that reads the frontend protocol and counts Simple Query ('Q') and
// extended-protocol Execute ('E') messages. It sees every statement whatever sends it
// (Prisma, PostGraphile, pg), including BEGIN/COMMIT and set_config, so the three
// targets are counted the same way. A 'Q' holding several statements counts once (none
// of the targets sends such scripts per request).
// While `recording`, it also keeps the SQL text of Query and Parse messages, so that the
// runner can write down what one request of each operation sent.
// https://www.postgresql.org/docs/15/protocol-message-formats.html
import net from 'node:net';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Incremental parser of one connection's client → server byte stream. */
class FrontendStream {
  /** Until the StartupMessage, messages have no type byte (SSLRequest may come first). */
  private startup = true;
  private header = Buffer.alloc(0);
  /** Bytes of the current message body still to come. */
  private remaining = 0;
  /** The body being kept (a Query or Parse while recording), or undefined when skipped. */
  private body: Buffer[] | undefined;
  private type = '';

  constructor(
    private readonly onMessage: (type: string) => void,
    private readonly keepBody: (type: string) => boolean,
    private readonly onBody: (type: string, body: Buffer) => void,
  ) {}

  feed(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        this.body?.push(chunk.subarray(offset, offset + take));
        this.remaining -= take;
        offset += take;
        if (this.remaining === 0) this.endMessage();
        continue;
      }
      const headerLength = this.startup ? 8 : 5;
      const take = Math.min(headerLength - this.header.length, chunk.length - offset);
      this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.header.length < headerLength) return;
      if (this.startup) {
        const length = this.header.readInt32BE(0);
        const code = this.header.readInt32BE(4);
        this.type = '';
        this.remaining = length - 8;
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.startup = false;
      } else {
        this.type = String.fromCharCode(this.header[0]!);
        this.onMessage(this.type);
        this.remaining = this.header.readInt32BE(1) - 4;
        this.body = this.keepBody(this.type) ? [] : undefined;
      }
      this.header = Buffer.alloc(0);
      if (this.remaining === 0) this.endMessage();
    }
  }

  private endMessage(): void {
    if (this.body) this.onBody(this.type, Buffer.concat(this.body));
    this.body = undefined;
  }
}

/** The SQL of a Query ('Q': the text) or Parse ('P': statement name, then the text) message. */
function sqlOf(type: string, body: Buffer): string {
  const start = type === 'P' ? body.indexOf(0) + 1 : 0;
  const end = body.indexOf(0, start);
  return body.toString('utf8', start, end < 0 ? body.length : end);
}

export interface WireCounter {
  /** postgres://… URL that goes through the proxy instead of `upstreamUrl`. */
  url: string;
  /** Statements (Q + E messages) since the proxy started. */
  statements(): number;
  /** Keeps the SQL sent from now until `stopRecording`, which returns it. */
  startRecording(): void;
  stopRecording(): string[];
  close(): Promise<void>;
}

export async function startWireCounter(upstreamUrl: string): Promise<WireCounter> {
  const upstream = new URL(upstreamUrl);
  let statements = 0;
  let recorded: string[] | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const database = net.connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client).add(database);
    const stream = new FrontendStream(
      (type) => {
        if (type === 'Q' || type === 'E') statements++;
      },
      (type) => recorded !== undefined && (type === 'Q' || type === 'P'),
      (type, body) => recorded?.push(sqlOf(type, body)),
    );
    client.on('data', (chunk: Buffer) => stream.feed(chunk));
    client.pipe(database);
    database.pipe(client);
    const close = () => {
      client.destroy();
      database.destroy();
      sockets.delete(client);
      sockets.delete(database);
    };
    client.on('error', close).on('close', close);
    database.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxied = new URL(upstreamUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(port);
  return {
    url: proxied.toString(),
    statements: () => statements,
    startRecording: () => {
      recorded = [];
    },
    stopRecording: () => {
      const sql = recorded ?? [];
      recorded = undefined;
      return sql;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
