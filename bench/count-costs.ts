// What the counts the inbox and the contact table show cost on the benchmark dataset:
// `numberOfContacts` of a page of 100 lists, and `totalMessages` / `numberOfUnreadMessages`
// of the inbox's page of 50 conversations. Each is timed (sequential requests on an idle
// server, p50) next to the same page without the count, which isolates what the count adds;
// statements and rows read per request come from the wire proxy and pg_stat as in the table,
// and the SQL the count added (statements the page without it does not send) is kept.
// wagraph runs as in the table (rate limit off), in the large organization.
import { type Fixture } from './fixture.js';
import { httpClient, percentile } from './http-client.js';
import { openTableReads } from './table-reads.js';
import { startTarget } from './targets.js';
import { startWireCounter } from './wire-counter.js';

interface CountQuery {
  name: string;
  /** The page without the count, timed alongside. */
  baseline: string;
  query: string;
}

const INBOX_PAGE = 'conversations(first: 50, filter: { status: [ACTIVE] }, orderBy: { field: LAST_MESSAGE_AT, direction: DESC })';

const BASELINES = {
  lists: '{ lists(first: 100) { nodes { id } } }',
  inbox: `{ ${INBOX_PAGE} { nodes { id } } }`,
};

export const COUNT_QUERIES: CountQuery[] = [
  { name: 'numberOfContacts', baseline: 'lists', query: '{ lists(first: 100) { nodes { id numberOfContacts } } }' },
  { name: 'totalMessages', baseline: 'inbox', query: `{ ${INBOX_PAGE} { nodes { id totalMessages } } }` },
  { name: 'numberOfUnreadMessages', baseline: 'inbox', query: `{ ${INBOX_PAGE} { nodes { id numberOfUnreadMessages } } }` },
];

export interface CountCost {
  name: string;
  query: string;
  /** p50 of the request with the count, and of the same page without it (ms). */
  p50Ms: number;
  baselineP50Ms: number;
  runs: number;
  statementsPerRequest: number;
  rowsReadPerRequest: number;
  baselineRowsReadPerRequest: number;
  /** The statements the count added to the page's. */
  countSql: string[];
  error?: string;
}

export interface CountCostsResult {
  startedAt: string;
  runs: number;
  costs: CountCost[];
}

function log(message: string): void {
  process.stdout.write(`[bench] count-costs: ${message}\n`);
}

export async function runCountCosts(url: string, fixture: Fixture, runs: number): Promise<CountCostsResult> {
  const startedAt = new Date().toISOString();
  const proxy = await startWireCounter(url);
  const reads = await openTableReads(url);
  const server = await startTarget('wagraph', { databaseUrl: proxy.url, fixture, label: 'count-costs' });
  const client = httpClient(server.origin, { maxSockets: 1, timeoutMs: 60_000 });
  const send = async (query: string) => {
    const answer = await client.post('/graphql', JSON.stringify({ query }), { authorization: `Bearer ${fixture.apiKey}` });
    const body = answer.status === 200 ? (JSON.parse(answer.text) as { errors?: { message: string }[] }) : undefined;
    if (!body || body.errors?.length) throw new Error(`HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
    return answer.ms;
  };
  /** The SQL of a first request, p50 over `runs` after a warm-up, then rows read per request over 3. */
  const measure = async (query: string) => {
    // The first request's SQL (a later one may run statements prepared earlier), then warm-up.
    proxy.startRecording();
    await send(query).catch((error: unknown) => {
      proxy.stopRecording();
      throw error;
    });
    const sql = proxy.stopRecording();
    await send(query);
    const times: number[] = [];
    const statementsBefore = proxy.statements();
    for (let i = 0; i < runs; i++) times.push(await send(query));
    const statementsPerRequest = (proxy.statements() - statementsBefore) / runs;
    const before = await reads.flushAndRead();
    for (let i = 0; i < 3; i++) await send(query);
    const rowsRead = ((await reads.flushAndRead()) - before) / 3;
    return { p50Ms: percentile(times, 50), statementsPerRequest, sql, rowsRead };
  };
  const costs: CountCost[] = [];
  try {
    const baselines = new Map<string, Awaited<ReturnType<typeof measure>>>();
    for (const [name, query] of Object.entries(BASELINES)) baselines.set(name, await measure(query));
    for (const count of COUNT_QUERIES) {
      try {
        const measured = await measure(count.query);
        const baseline = baselines.get(count.baseline)!;
        const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();
        const baselineSql = new Set(baseline.sql.map(normalise));
        costs.push({
          name: count.name,
          query: count.query,
          p50Ms: measured.p50Ms,
          baselineP50Ms: baseline.p50Ms,
          runs,
          statementsPerRequest: measured.statementsPerRequest,
          rowsReadPerRequest: measured.rowsRead,
          baselineRowsReadPerRequest: baseline.rowsRead,
          countSql: measured.sql.map(normalise).filter((sql) => !baselineSql.has(sql)),
        });
        log(
          `${count.name}: p50 ${measured.p50Ms.toFixed(1)} ms (page alone ${baseline.p50Ms.toFixed(1)} ms), ` +
            `${Math.round(measured.rowsRead)} rows read (page alone ${Math.round(baseline.rowsRead)})`,
        );
      } catch (error) {
        costs.push({
          name: count.name,
          query: count.query,
          p50Ms: NaN,
          baselineP50Ms: NaN,
          runs,
          statementsPerRequest: NaN,
          rowsReadPerRequest: NaN,
          baselineRowsReadPerRequest: NaN,
          countSql: [],
          error: error instanceof Error ? error.message : String(error),
        });
        log(`${count.name}: NOT MEASURED: ${costs.at(-1)!.error}`);
      }
    }
  } finally {
    client.close();
    await server.stop();
    await reads.close();
    await proxy.close();
  }
  return { startedAt, runs, costs };
}
