// The raw-SQL floor as a minimal HTTP server (node:http + pg, a pool of 10 like wagraph's
// default): POST /inbox, /contacts, /nodes, /chat with the operation's variables as JSON,
// one statement each (./queries.ts), the JSON built by PostgreSQL passed through as text.
// It goes over HTTP like the GraphQL servers, so the floor includes the same client,
// sockets and JSON, and nothing else: no GraphQL parsing, validation or planning. The API
// key is compared in memory, as in the PostGraphile peer.
import http from 'node:http';
import pg from 'pg';
import { CHAT, CONTACT_TABLE, INBOX, NODE_TYPES, NODES, type NodeType } from './queries.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`raw-sql: ${name} is required\n`);
    process.exit(1);
  }
  return value;
}

const organizationId = required('ORGANIZATION_ID');
const apiKey = required('BENCH_API_KEY');
// jit=off: the contact table's single statement is estimated above jit_optimize_above_cost
// (it counts ~1M memberships), and compiling it took about a second for a query that runs
// in half of one. A hand-tuned service would turn it off; the other targets keep the
// server's defaults, since their statements are theirs to tune.
const pool = new pg.Pool({
  connectionString: required('DATABASE_URL'),
  max: Number(process.env.DB_POOL_SIZE ?? 10),
  options: '-c jit=off',
});
pool.on('error', () => {});

/** `%term%` with LIKE's wildcards in the term matched literally, as wagraph does. */
function containing(term: string): string {
  return `%${term.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

async function one(sql: string, params: unknown[]): Promise<string> {
  const { rows } = await pool.query<{ data: string }>(`SELECT data::text AS data FROM (${sql}) q`, params);
  return rows[0]!.data;
}

type Handler = (variables: Record<string, unknown>) => Promise<string>;

const handlers: Record<string, Handler> = {
  '/inbox': () => one(INBOX, [organizationId]),
  '/contacts': (variables) => {
    const search = String(variables.search ?? '');
    const phoneTerm = search.replace(/[\s().-]/g, '');
    return one(CONTACT_TABLE, [organizationId, containing(search), phoneTerm ? containing(phoneTerm) : null]);
  },
  '/nodes': async (variables) => {
    const ids = variables.ids as { type: NodeType; id: string }[];
    const types = Object.keys(NODE_TYPES) as NodeType[];
    const { rows } = await pool.query<{ type: NodeType; id: string; node: unknown }>(NODES, [
      organizationId,
      ...types.map((type) => ids.filter((id) => id.type === type).map(({ id }) => id)),
    ]);
    const found = new Map(rows.map((row) => [`${row.type}:${row.id}`, row.node]));
    return JSON.stringify({ nodes: ids.map(({ type, id }) => found.get(`${type}:${id}`) ?? null) });
  },
  '/chat': (variables) => one(CHAT, [organizationId, String(variables.contactId)]),
};

const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/healthz') {
    response.writeHead(200).end('ok');
    return;
  }
  const handler = handlers[request.url ?? ''];
  if (request.method !== 'POST' || !handler) {
    response.writeHead(404).end();
    return;
  }
  if (request.headers.authorization !== `Bearer ${apiKey}`) {
    response.writeHead(401).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const variables = chunks.length
      ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
      : {};
    handler(variables).then(
      (data) => response.writeHead(200, { 'content-type': 'application/json' }).end(`{"data":${data}}`),
      (error: Error) =>
        response
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errors: [{ message: error.message }] })),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 5679), '127.0.0.1');

const shutdown = () => {
  server.close();
  void pool.end().finally(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
