// What the counts the inbox and the contact table show cost on the benchmark dataset:
// `numberOfContacts` of a page of 100 lists and of the lists of the contact table's 50
// contacts, and `totalMessages` / `numberOfUnreadMessages` of the inbox's page of 50 conversations. Each is timed (sequential requests on an idle
// server, p50) next to the same page without the count, which isolates what the count adds;
// statements and rows read per request come from the wire proxy and pg_stat as in the table,
// and the SQL the count added (statements the page without it does not send) is kept.
// wagraph runs as in the table (rate limit off), in the large organization.
import type { Fixture } from './fixture.js';
import { httpClient, percentile } from './http-client.js';
import { openTableReads } from './table-reads.js';
import { startTarget } from './targets.js';
import { startWireCounter } from './wire-counter.js';

const INBOX_PAGE =
  'conversations(first: 50, filter: { status: [ACTIVE] }, orderBy: { field: LAST_MESSAGE_AT, direction: DESC })';
/** The contact table's page (the table's `contacts` operation): its contacts are in about 11 lists each, large ones included. */
const CONTACT_PAGE = 'contacts(first: 50, filter: { search: "mendes" })';

const BASELINES = {
  lists: '{ lists(first: 100) { nodes { id } } }',
  inbox: `{ ${INBOX_PAGE} { nodes { id } } }`,
  contactTable: `{ ${CONTACT_PAGE} { nodes { id lists { nodes { id } } } } }`,
};

interface CountQuery {
  name: string;
  /** The page without the count, timed alongside. */
  baseline: keyof typeof BASELINES;
  query: string;
}

export const COUNT_QUERIES: CountQuery[] = [
  { name: 'numberOfContacts', baseline: 'lists', query: '{ lists(first: 100) { nodes { id numberOfContacts } } }' },
  { name: 'totalMessages', baseline: 'inbox', query: `{ ${INBOX_PAGE} { nodes { id totalMessages } } }` },
  {
    name: 'numberOfContacts (contact table)',
    baseline: 'contactTable',
    query: `{ ${CONTACT_PAGE} { nodes { id lists { nodes { id numberOfContacts } } } } }`,
  },
  {
    name: 'numberOfUnreadMessages',
    baseline: 'inbox',
    query: `{ ${INBOX_PAGE} { nodes { id numberOfUnreadMessages } } }`,
  },
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
    const answer = await client.post('/graphql', JSON.stringify({ query }), {
      authorization: `Bearer ${fixture.apiKey}`,
    });
    const body = answer.status === 200 ? (JSON.parse(answer.text) as { errors?: { message: string }[] }) : undefined;
    if (!body || body.errors?.length) throw new Error(`HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
    return answer.ms;
  };
  /** The SQL of one request (the first: a later one may reuse statements prepared earlier). */
  const firstSql = async (query: string) => {
    proxy.startRecording();
    await send(query).catch((error: unknown) => {
      proxy.stopRecording();
      throw error;
    });
    return proxy.stopRecording();
  };
  /** Rows read per request, over 3. */
  const rowsRead = async (query: string) => {
    const before = await reads.flushAndRead();
    for (let i = 0; i < 3; i++) await send(query);
    return ((await reads.flushAndRead()) - before) / 3;
  };
  const costs: CountCost[] = [];
  try {
    const baselineSql = new Map<string, Set<string>>();
    const baselineRows = new Map<string, number>();
    const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();
    for (const [name, query] of Object.entries(BASELINES)) {
      baselineSql.set(name, new Set((await firstSql(query)).map(normalise)));
      baselineRows.set(name, await rowsRead(query));
    }
    for (const count of COUNT_QUERIES) {
      const baseline = BASELINES[count.baseline];
      try {
        const sql = await firstSql(count.query);
        await send(count.query);
        await send(baseline);
        // Interleaved, so that both see the same machine (other work on it comes and goes).
        const times: number[] = [];
        const baselineTimes: number[] = [];
        let statements = 0;
        for (let i = 0; i < runs; i++) {
          const before = proxy.statements();
          times.push(await send(count.query));
          statements += proxy.statements() - before;
          baselineTimes.push(await send(baseline));
        }
        const rows = await rowsRead(count.query);
        costs.push({
          name: count.name,
          query: count.query,
          p50Ms: percentile(times, 50),
          baselineP50Ms: percentile(baselineTimes, 50),
          runs,
          statementsPerRequest: statements / runs,
          rowsReadPerRequest: rows,
          baselineRowsReadPerRequest: baselineRows.get(count.baseline)!,
          countSql: sql.map(normalise).filter((statement) => !baselineSql.get(count.baseline)!.has(statement)),
        });
        const cost = costs.at(-1)!;
        log(
          `${count.name}: p50 ${cost.p50Ms.toFixed(1)} ms (page alone ${cost.baselineP50Ms.toFixed(1)} ms), ` +
            `${Math.round(cost.rowsReadPerRequest)} rows read (page alone ${Math.round(cost.baselineRowsReadPerRequest)})`,
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
