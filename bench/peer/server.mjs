// PostGraphile 5, the benchmark's peer: the Amber preset over wagraph's tables as Prisma
// created them, served by grafserv's node adaptor, in production mode (no GraphiQL, no
// watch, no explain). Started by bench/run.ts with this package's Node 22.
//
// Tenant scoping (see ../peer-access.ts): it connects as a role subject to row level
// security, and every request runs in a transaction that sets `bench.organization_id`
// (pgSettings), so it sees the one organization the API key belongs to. The key is
// checked against BENCH_API_KEY in memory (wagraph looks its keys up in the database:
// one statement per request that the peer does not pay).
import { createServer } from 'node:http';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

function required(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`peer: ${name} is required\n`);
    process.exit(1);
  }
  return value;
}

const databaseUrl = required('DATABASE_URL');
const organizationId = required('ORGANIZATION_ID');
const apiKey = required('BENCH_API_KEY');
const port = Number(process.env.PORT ?? 5678);
// Same pool size as wagraph's DB_POOL_SIZE default and the raw-SQL floor.
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.DB_POOL_SIZE ?? 10) });
pool.on('error', () => {});

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      pool,
      schemas: ['public', 'bench_peer'],
      pgSettings(requestContext) {
        const authorization = requestContext.node?.req?.headers?.authorization ?? '';
        // A wrong key sees nothing (no organization: every policy is false).
        return authorization === `Bearer ${apiKey}` ? { 'bench.organization_id': organizationId } : {};
      },
    }),
  ],
  grafserv: { port, host: '127.0.0.1', graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: { explain: false },
  // wagraph's composite foreign keys (organizationId, xId) have no index that starts with
  // both columns (the indexes start with xId), so PostGraphile's default of hiding
  // relations, conditions and orderings on unindexed columns would hide every backward
  // relation. PostgreSQL uses the xId indexes for them all the same.
  disablePlugins: ['PgIndexBehaviorsPlugin'],
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.keepAliveTimeout = 65_000;
serv.addTo(server).catch((error) => {
  process.stderr.write(`peer: ${error?.stack ?? error}\n`);
  process.exit(1);
});
// Build the schema (introspection) before accepting traffic, so that the first request
// is not the one that pays for it.
await pgl.getSchema();
server.listen(port, '127.0.0.1', () => process.stdout.write(`peer listening on http://127.0.0.1:${port}/graphql\n`));

const shutdown = async () => {
  server.close();
  await pgl.release();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
