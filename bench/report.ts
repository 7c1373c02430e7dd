// The results as Markdown: the table, the ratios, and how everything was measured, so
// that bench/RESULTS.md is complete every time it is regenerated.
import { renderFanout } from './fanout.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CountCostsResult } from './count-costs.js';
import { renderDelivery } from './delivery.js';
import type { LoadResult } from './load.js';
import type { NoisyResult, PhaseStats } from './noisy-neighbour.js';
import { OPERATIONS, type OperationName, type TargetName } from './operations.js';
import { BENCH_DIR } from './paths.js';
import type { OperationResult, RunResults } from './results.js';
import { WEBHOOK_TARGETS, type WebhookResult, type WebhookStep } from './webhook-ingestion.js';

/** The hand-written analysis (bench/ANALYSIS.md), part of every RESULTS.md. */
function analysis(): string {
  const file = path.join(BENCH_DIR, 'ANALYSIS.md');
  return fs.existsSync(file) ? `${fs.readFileSync(file, 'utf8').trim()}\n\n` : '';
}

function number(value: number | undefined, digits = 0): string {
  return value === undefined || Number.isNaN(value)
    ? '–'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The load run at `connections` of a measured operation. */
function run(result: OperationResult | undefined, connections: number): LoadResult | undefined {
  return result && !result.error ? result.runs.find((r) => r.connections === connections) : undefined;
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`;
}

function find(results: RunResults, target: TargetName, operation: OperationName): OperationResult | undefined {
  return results.results.find((r) => r.target === target && r.operation === operation);
}

function mainTable(results: RunResults): string {
  const header = [
    'operation',
    'target',
    'SQL stmts / req',
    'rows read / req',
    ...results.concurrency.flatMap((c) => [`c=${c} req/s`, `c=${c} p50 ms`, `c=${c} p99 ms`]),
    'peak RSS MB',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const operation of OPERATIONS) {
    for (const result of results.results.filter((r) => r.operation === operation.name)) {
      if (result.error) {
        lines.push(
          `| ${operation.name} | ${result.target} | **not measured:** ${result.error.replaceAll('|', '\\|').replaceAll('\n', ' ')} |`,
        );
        continue;
      }
      const cells = results.concurrency.flatMap((c) => {
        if (result.skipped?.connections.includes(c)) return ['skipped†', '–', '–'];
        const r = run(result, c);
        if (r && r.requests === 0) return [`0 (none completed${r.errors ? `, ${r.errors} errors` : ''})`, '–', '–'];
        const errors = r && r.errors > 0 ? ` (${r.errors} errors)` : '';
        return [`${number(r?.requestsPerSecond, 1)}${errors}`, number(r?.p50Ms, 1), number(r?.p99Ms, 1)];
      });
      lines.push(
        `| ${operation.name} | ${result.target} | ${number(result.statementsPerRequest, 1)} | ${number(result.rowsReadPerRequest)} | ${cells.join(' | ')} | ${number(result.peakRssMb)} |`,
      );
    }
  }
  return lines.join('\n');
}

function ratioTable(results: RunResults): string {
  const header = [
    'operation',
    ...results.concurrency.map((c) => `wagraph / PostGraphile req/s, c=${c}`),
    'wagraph / raw SQL p50, c=1',
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| --- |${header
      .slice(1)
      .map(() => ' ---: ')
      .join('|')}|`,
  ];
  for (const operation of OPERATIONS.filter((o) => o.name !== 'createContacts')) {
    const wagraph = find(results, 'wagraph', operation.name);
    const peer = find(results, 'postgraphile', operation.name);
    const raw = find(results, 'raw-sql', operation.name);
    const throughput = results.concurrency.map((c) =>
      ratio(run(wagraph, c)?.requestsPerSecond, run(peer, c)?.requestsPerSecond),
    );
    const latency = ratio(run(wagraph, 1)?.p50Ms, run(raw, 1)?.p50Ms);
    lines.push(`| ${operation.name} | ${throughput.join(' | ')} | ${latency} |`);
  }
  return lines.join('\n');
}

function agreement(results: RunResults): string {
  const lines = results.results.filter((r) => r.agreement).map((r) => `- ${r.operation}, ${r.target}: ${r.agreement}`);
  return lines.length ? lines.join('\n') : '- (fewer than two targets answered any operation)';
}

function statuses(counts: Record<string, number> | undefined): string {
  const entries = Object.entries(counts ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([status, n]) => `${status}: ${number(n)}`).join(', ') : '–';
}

/** Answers that are not a clear refusal: a 5xx, a 200 carrying a masked error, or no answer at all. */
function unclear(counts: Record<string, number>): number {
  return Object.entries(counts)
    .filter(
      ([status]) =>
        /^5/.test(status) ||
        status === 'connection error' ||
        status === 'timeout' ||
        /^200 .*(INTERNAL_SERVER_ERROR|NO_CODE)/.test(status),
    )
    .reduce((sum, [, n]) => sum + n, 0);
}

function phase(stats: PhaseStats): string {
  const failures = Object.values(stats.failures).reduce((a, b) => a + b, 0);
  const late = stats.ok - stats.okInPhase;
  return `${number(stats.ok)} answered${late ? ` (${number(late)} of them after the phase ended)` : ''}${failures ? `, ${number(failures)} failed (${statuses(stats.failures)})` : ''}`;
}

function renderNoisy(noisy: NoisyResult): string {
  const ratio = noisy.noisy.p50Ms / noisy.idle.p50Ms;
  const pass = (ok: boolean) => (ok ? 'met' : '**not met**');
  const allA: Record<string, number> = {};
  for (const counts of Object.values(noisy.aStatuses))
    for (const [status, n] of Object.entries(counts ?? {})) allA[status] = (allA[status] ?? 0) + n;
  const attackRows = noisy.kinds.map((kind) => {
    const shape = noisy.attacks.find((attack) => attack.kind === kind);
    const what =
      kind === 'slow-clients'
        ? `${noisy.slowClients?.concurrent ?? '–'} anonymous connections, each sending its body one byte every 2 s`
        : kind === 'concurrency'
          ? `the kinds above sent without waiting for answers, up to ${noisy.aPace.maxInFlight} in flight`
          : (shape?.description ?? '–');
    const refused = shape?.refused.length
      ? ` Refused while probing: ${shape.refused.length} larger size${shape.refused.length > 1 ? 's' : ''}, the smallest of them ${shape.refused.at(-1)}.`
      : '';
    const idle =
      shape?.idleLatencyMs !== undefined ? `${number(shape.idleLatencyMs)} ms / ${number(shape.idleCpuMs)} ms` : '–';
    const answers =
      kind === 'slow-clients'
        ? noisy.slowClients
          ? `${number(noisy.slowClients.opened)} opened, ${number(noisy.slowClients.cutByServer)} cut by the server (after ${number(noisy.slowClients.cutAfterMedianMs / 1000, 1)} s median, ${number(noisy.slowClients.cutAfterMaxMs / 1000, 1)} s max); statuses sent: ${statuses(noisy.slowClients.statuses)}`
          : '–'
        : kind === 'concurrency'
          ? 'counted with the kinds above'
          : statuses(noisy.aStatuses[kind]);
    return `| ${kind} | ${what.replaceAll('|', '\\|')}${refused.replaceAll('|', '\\|')} | ${idle} | ${answers} |`;
  });
  const settings = Object.entries(noisy.settings)
    .map(([name, value]) => `${name} ${typeof value === 'number' ? number(value) : value}`)
    .join(', ');
  return `#### Noisy neighbour

wagraph with the defaults of \`npm run serve\` (rate limit and concurrency limit on). Organization B
(${noisy.organizations.b}) reads its inbox (the table's \`inbox\` operation) on 4 connections at up to
${number(noisy.bPerSecond, 1)} requests/s in all (under its own rate budget; each request on a fixed schedule, its latency
counted from its scheduled time, so a connection stuck behind a slow answer does not hide the requests it could
not send), ${number(noisy.idle.seconds)} s on the idle server,
then ${number(noisy.noisy.seconds)} s while organization A (${noisy.organizations.a}, the large one) sends what
the table below lists at its full rate budget (${number(noisy.aPace.perSecond, 1)} requests/s after a burst of
${number(noisy.aPace.burst)}), and anonymous slow clients hold connections.

| | B p50 ms | B p99 ms | B max ms | B requests |
| --- | ---: | ---: | ---: | --- |
| idle | ${number(noisy.idle.p50Ms)} | ${number(noisy.idle.p99Ms)} | ${number(noisy.idle.maxMs)} | ${phase(noisy.idle)} |
| under A's noise | ${number(noisy.noisy.p50Ms)} | ${number(noisy.noisy.p99Ms)} | ${number(noisy.noisy.maxMs)} | ${phase(noisy.noisy)} |

- **B p50 idle ${number(noisy.idle.p50Ms)} ms, under noise ${number(noisy.noisy.p50Ms)} ms: ratio ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '– (no answer under noise)'}** (target ≤ 2×: ${pass(ratio <= 2)}).
- **Peak RSS ${number(noisy.peakRssMb)} MB** (VmHWM over the whole scenario; highest sample during the noise ${number(noisy.noisePeakRssMb)} MB; target < 300 MB: ${pass(noisy.peakRssMb < 300)}).
- **A's answers:** ${statuses(allA)}. Not a clear refusal (5xx, a 200 with a masked error, a timeout or a
  connection error): ${number(unclear(allA))}. "abandoned": still in flight when the noise stopped.
- **The server after the noise:** ${noisy.aliveAfter ? noisy.afterNoise : `**${noisy.afterNoise}**`}.
- **The machine:** 1-minute load average ${number(noisy.loadAverage[0], 1)} when B's idle run started, ${number(noisy.loadAverage[1], 1)} when the noise
  ended (${os.availableParallelism()} cores; above that, other work competed for the CPU and B's latencies move with it).

| A sends | sized as (the largest size the server did not refuse with a 4xx while probing) | idle latency / server CPU per request | A's answers during the noise |
| --- | --- | ---: | --- |
${attackRows.join('\n')}

Settings the attacks were sized from (the server's defaults): ${settings}.
`;
}

function renderCountCosts(counts: CountCostsResult): string {
  const rows = counts.costs.map((cost) =>
    cost.error
      ? `| ${cost.name} | **not measured:** ${cost.error.replaceAll('|', '\\|').replaceAll('\n', ' ')} |`
      : `| ${cost.name} | \`${cost.query}\` | ${number(cost.p50Ms, 1)} | ${number(cost.baselineP50Ms, 1)} | ${number(cost.rowsReadPerRequest)} | ${number(cost.baselineRowsReadPerRequest)} | ${number(cost.statementsPerRequest, 1)} |`,
  );
  const sql = counts.costs
    .filter((cost) => !cost.error)
    .map(
      (cost) =>
        `${cost.name}:\n\n\`\`\`sql\n${cost.countSql.length ? cost.countSql.join(';\n\n') : '-- (no statement of its own: the count came with the page)'}\n\`\`\`\n`,
    )
    .join('\n');
  return `#### Count costs

wagraph (rate limit off, as in the table), the large organization, sequential requests on an idle
server: p50 over ${counts.runs} requests after a warm-up, through the statement-counting proxy; "page
alone" is the same page without the count. Rows read as in the table.

| count | query | p50 ms | page alone p50 ms | rows read / req | page alone rows read / req | SQL stmts / req |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

The statements each count adds to its page:

${sql}`;
}

/**
 * A step meets the rate target: offered at ≥ 500 events/s, it acknowledged every event (so it
 * acknowledged 500 a second: the measured rate, over the time to the last answer, cannot exceed
 * the offered one and comes out a hair under it), with ack p99 ≤ 100 ms and lag p99 ≤ 2 s.
 */
function stepMeets(step: WebhookStep): boolean {
  return (
    step.targetPerSecond >= WEBHOOK_TARGETS.ackedPerSecond &&
    step.ackedEvents === step.events &&
    step.ackP99Ms <= WEBHOOK_TARGETS.ackP99Ms &&
    step.lag.seen === step.lag.samples &&
    step.lag.p99Ms <= WEBHOOK_TARGETS.lagP99Ms
  );
}

export function renderWebhookIngestion(result: WebhookResult | { error: string } | undefined): string {
  if (!result) return '';
  if ('error' in result) return `## Webhook ingestion\n\n**Not measured:** ${result.error}\n\n`;
  const pass = (ok: boolean) => (ok ? 'met' : '**not met**');
  const mix = Object.entries(result.mix)
    .map(([kind, share]) => `${kind} ${share}%`)
    .join(', ');
  const rows = result.steps.map((step) => {
    const failures = Object.keys(step.failures).length ? ` (${statuses(step.failures)})` : '';
    const lagSeen = step.lag.seen === step.lag.samples ? '' : ` (${step.lag.samples - step.lag.seen} never seen)`;
    return `| ${number(step.targetPerSecond)} | ${number(step.posts)} | ${number(step.events)} | ${number(step.ackedPerSecond)}${failures} | ${number(step.ackP50Ms)} | ${number(step.ackP99Ms)} | ${number(step.ackMaxMs)} | ${number(step.lag.p50Ms)} | ${number(step.lag.p99Ms)}${lagSeen} | ${number(step.lag.seen)} | ${number(step.deliveryLag.p50Ms)} / ${number(step.deliveryLag.p99Ms)} | ${Number.isNaN(step.drainSeconds) ? (result.workers === 'off' ? '–' : 'not within 300 s') : number(step.drainSeconds, 1)} | ${number(step.processedPerSecond)} | ${number(step.peakRssMb)} | ${number(step.loadAverage[0], 1)} → ${number(step.loadAverage[1], 1)} | ${stepMeets(step) ? 'yes' : 'no'} |`;
  });
  const meeting = result.steps.filter(stepMeets);
  const best = meeting.at(-1);
  const c = result.check;
  const lost = c
    ? `- **Lost events: ${number(c.lost)}** (target ${WEBHOOK_TARGETS.lost}: ${pass(c.lost === WEBHOOK_TARGETS.lost)}), checked in the database once the queue drained:
  ${number(c.newMessages)} new messages sent (duplicates and replays not counted), ${number(c.missing)} missing, ${number(c.duplicated)} stored twice,
  ${number(c.unexpected)} inbound rows that were never sent; ${number(c.statuses.applied)} of the ${number(c.statuses.messages)} outbound messages
  that got statuses show the last one sent; ${number(c.repliesLinked.linked)} of ${number(c.repliesLinked.expected)} replies linked to the quoted message.
  Deliveries: ${statuses(c.deliveries)} (${number(c.deliveriesWithProblems)} with problems); jobs left ${number(c.jobsLeft)}, parked ${number(c.failedJobs)}.`
    : '- **Lost events:** not checked (WORKERS=off: nothing was processed).';
  return `## Webhook ingestion${result.workers === 'off' ? ' (WORKERS=off: the ack path alone)' : ''}

One wagraph process as deployed (build output, \`NODE_ENV=production\`, pool of 10, ${
    result.workers === 'off'
      ? '**WORKERS=off**: it stores and acknowledges, and processes nothing'
      : `background jobs
in-process, WORKER_CONCURRENCY ${result.workerConcurrency}`
  }) on a database of its own (\`${result.database}\`,
created for the run and dropped after it, on the same PostgreSQL). An organization with a channel
connected through \`connectWhatsAppChannel\`, ${number(result.knownContacts)} contacts with a conversation each and
${number(result.outboundMessages)} outbound messages (SENT). At each rate, signed deliveries in Meta's shapes
(\`src/whatsapp/meta-payloads.ts\`) are POSTed to \`/webhooks/whatsapp\` on 127.0.0.1 on a fixed schedule for
${number(result.steps[0]?.seconds ?? Number.NaN)} s (up to 64 connections, not waiting for answers), then the queue is left to drain before the next rate.
Events: ${mix}; ${result.eventsPerPost} events per POST, and ${number(result.replayedPosts * 100)}% of the POSTs a byte-identical replay
of a recent one (counted in the events sent).

| events/s sent | POSTs | events | acked events/s | ack p50 ms | ack p99 ms | ack max ms | lag p50 ms | lag p99 ms | lag samples | all deliveries' lag p50 / p99 ms | drained after s | processed events/s | peak RSS MB | load average | meets the rate target |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

- **Acked events/s**: events in POSTs answered 200, over the time from the step's start to its last
  answer. **Ack latency**: from the POST's scheduled time to its answer (a POST the client sent late
  counts as late). **Lag**: about ${result.samplesPerSecond} new messages a second (each the first message of a new
  contact) are looked up through \`/graphql\` with an API key (\`contacts(filter: { search: <phone> })\` →
  conversation → messages), the outstanding ones oldest first, up to 12 per request, every ${result.pollIntervalMs} ms; lag = the
  answer that first showed the message − the ack of its POST (so it includes up to one polling period).
  **All deliveries' lag**: every delivery of the step, \`processedAt − receivedAt\` of its row (stored →
  all its events processed). **Processed events/s**: events over the time from the step's start until
  no delivery or job was left.
- **Target ≥ ${WEBHOOK_TARGETS.ackedPerSecond} acknowledged events/s with ack p99 ≤ ${WEBHOOK_TARGETS.ackP99Ms} ms and lag p99 ≤ ${number(WEBHOOK_TARGETS.lagP99Ms / 1000)} s:** ${pass(meeting.some((step) => step.targetPerSecond >= WEBHOOK_TARGETS.ackedPerSecond))}${best ? ` (highest rate meeting all three: ${number(best.targetPerSecond)} events/s)` : ' (no rate met all three)'}.
${lost}
- **Peak RSS of the gateway: ${number(result.peakRssMb)} MB** (VmHWM over the scenario).
- **Load average**: the machine's 1-minute load average when the step started → when its queue had drained
  (${os.availableParallelism()} cores, shared by the gateway, PostgreSQL and the load generator; above that, other work competed for the CPU).

`;
}

/**
 * The figures measured on main before the hardening (bench/HARDENING-BEFORE.md, written by
 * hand from scenario runs on that code), kept in every RESULTS.md next to the current ones.
 */
function hardeningBefore(): string {
  const file = path.join(BENCH_DIR, 'HARDENING-BEFORE.md');
  return fs.existsSync(file) ? `${fs.readFileSync(file, 'utf8').trim()}\n` : '';
}

/** The hand-written summary of the hardening (bench/HARDENING.md), kept in every RESULTS.md. */
function hardeningSummary(): string {
  const file = path.join(BENCH_DIR, 'HARDENING.md');
  if (!fs.existsSync(file)) return '';
  const withoutHeaderComment = fs.readFileSync(file, 'utf8').replace(/^<!--[\s\S]*?-->\n/, '');
  return `${withoutHeaderComment.trim()}\n\n`;
}

/**
 * The scenarios' section: the hand-written summary, this run's figures when they ran, then the
 * figures from before the hardening.
 */
export function renderHardening(results: RunResults): string {
  const before = hardeningBefore();
  if (!results.noisyNeighbour && !results.countCosts && !before) return '';
  const part = <T extends object>(
    value: T | { error: string } | undefined,
    render: (value: T) => string,
    title: string,
  ) => (!value ? '' : 'error' in value ? `#### ${title}\n\n**Not measured:** ${value.error}\n` : render(value));
  const current =
    results.noisyNeighbour || results.countCosts
      ? `### This run (${results.machine.commit})

${part(results.noisyNeighbour, renderNoisy, 'Noisy neighbour')}
${part(results.countCosts, renderCountCosts, 'Count costs')}
`
      : '';
  return `## Hardening: noisy neighbour and count costs

${hardeningSummary()}${current}${before}
`;
}

/** The delivery scenario's section, when it ran. */
export function renderDeliverySection(results: Pick<RunResults, 'delivery'>): string {
  if (!results.delivery) return '';
  const body =
    'error' in results.delivery ? `**Not measured:** ${results.delivery.error}\n` : renderDelivery(results.delivery);
  return `## Delivery: WhatsApp's rate limits\n\n${body.replace(/^#### Delivery\n\n/, '')}\n`;
}

export function renderReport(results: RunResults): string {
  if (!results.results.length) {
    const m = results.machine;
    return `# Benchmark scenarios

Generated by \`${results.command}\` (bench/run.ts) on ${results.startedAt}; ${number(results.totalSeconds / 60, 1)} minutes.

- **Commit:** ${m.commit}
- **Machine:** ${m.cpu}, ${m.cores} cores, ${number(m.memoryGb, 1)} GB RAM; Node ${m.node}; ${m.postgres}; 1-minute load
  average ${number(m.loadAverage[0], 1)} when the run started, ${number(m.loadAverage[1], 1)} when it ended.
- **Dataset:** ${Object.keys(results.rows).length ? `scale ${results.scale}` : 'not used'}.

${renderWebhookIngestion(results.webhookIngestion)}${results.noisyNeighbour || results.countCosts ? renderHardening(results) : ''}${renderFanout(results.fanout)}${renderDeliverySection(results)}`;
  }
  const m = results.machine;
  const rows = Object.entries(results.rows)
    .map(([table, n]) => `${table} ${number(n)}`)
    .join(', ');
  const peaks = Object.entries(results.serverPeakMb)
    .map(([target, mb]) => `${target} ${number(mb)} MB`)
    .join(', ');
  return `# Benchmark results

Generated by \`${results.command}\` (bench/run.ts) on ${results.startedAt}; the whole run took ${number(results.totalSeconds / 60, 1)} minutes.

- **Commit:** ${m.commit}
- **Machine:** ${m.cpu}, ${m.cores} cores, ${number(m.memoryGb, 1)} GB RAM, ${m.os}; Node ${m.node} (PostGraphile: Node ${m.peerNode}); ${m.postgres}.
  Server under test, PostgreSQL and the load generator share these cores; 1-minute load average
  ${number(m.loadAverage[0], 1)} when the run started, ${number(m.loadAverage[1], 1)} when it ended (above ${m.cores}, other work competed for the CPU).
- **Dataset:** \`npm run bench:seed\` at scale ${results.scale} (${number(results.seedSeconds, 1)} s to generate): ${rows}.
  The benchmark acts as the owner of the largest organization (1 of 5).
- **Load:** autocannon, ${results.durationSeconds} s per run at ${results.concurrency.join(', ')} connections (each sends its next
  request when the previous answer arrives), to 127.0.0.1 only, after a few seconds of sequential warm-up requests.

## Results

${mainTable(results)}

Peak resident memory (VmHWM) of each server over its whole load phase: ${peaks || '–'}.

† Not run: at the previous concurrency the median request took more than half a run (or none
completed), so no request could complete within ${results.durationSeconds} s at a higher one.
"none completed": no response arrived within the run.

## Ratios

${ratioTable(results)}

Above 1× in the throughput columns: wagraph serves more requests per second than PostGraphile.
The last column is how many times the floor's median latency wagraph takes on an idle server.

## Do the targets return the same data?

Each response is checked (no errors, non-empty pages) and reduced to a canonical summary
(phones, labels, counts, message times and texts, in order) that is compared with the first
target that answered the operation:

${agreement(results)}

${renderHardening(results)}${renderFanout(results.fanout)}${renderWebhookIngestion(results.webhookIngestion)}${renderDeliverySection(results)}${analysis()}## How this is measured

- **Targets.** *wagraph* runs as deployed: \`npm run build\`, then \`node dist/src/server.js\`
  with \`NODE_ENV=production\`, \`SEED_DEMO_DATA=false\`, \`DB_POOL_SIZE=10\`, default log level
  (one JSON line per request, written to a file). *PostGraphile* 5.1 (\`bench/peer\`, Amber preset,
  grafserv node adaptor, Node 22 from the npm package \`node\`, pool of 10) answers equivalent
  queries over the same tables. *Raw SQL* is the floor: a minimal \`node:http\` server
  (\`bench/raw-sql\`) that runs one hand-written statement per operation with \`pg\` (pool of 10),
  PostgreSQL building the JSON, so it pays for HTTP and the database and nothing else; its
  sessions turn JIT compilation off (its one-statement contact table is estimated above the JIT
  thresholds and spent ~1 s compiling a 0.5 s query). wagraph and PostGraphile run with the
  server's defaults.
- **Tenant scoping.** wagraph scopes by the API key's organization (one statement per request to
  look the key up). PostGraphile connects as a role subject to row level security with a policy
  \`"organizationId" = current_setting('bench.organization_id')\` on every table, set per request
  through \`pgSettings\` (which wraps each request in BEGIN / set_config / COMMIT); its API key is
  compared in memory. The floor filters its top-level rows by organization, compares its key in memory.
- **Equivalent queries.** PostGraphile has no \`nodes(ids:)\`: it gets 50 aliased \`node(id:)\` fields.
  It has no substring search: \`bench_peer.search_contacts(term)\`, a custom query function
  (inlined by PostgreSQL) with wagraph's semantics and order. Its nested connections get
  \`first: 20\`, wagraph's default page size. It cannot express "status is not READ" in a
  \`condition\`, so its unread count is the DELIVERED inbound messages, which is the same set on
  this dataset. \`createContacts\` is wagraph-only (the peer is read-only).
- **SQL statements per request** are counted on the wire: each server first runs behind a small
  TCP proxy (\`bench/wire-counter.ts\`) that parses PostgreSQL's frontend protocol and counts
  Simple Query ('Q') and Execute ('E') messages over ${results.batch} sequential requests after a warm-up
  (fewer for an operation whose first request took more than 0.4 s, 1 above 3 s), divided by their number.
  Transaction control (BEGIN/COMMIT) and set_config count as statements. The SQL of each operation's
  first request is written to \`bench/out/sql/<target>-<operation>.sql\`.
- **Rows read per request**: the change of Σ \`seq_tup_read\` (\`pg_stat_user_tables\`) + Σ \`idx_tup_read\`
  (\`pg_stat_user_indexes\`) over wagraph's tables across a second batch of the same size, divided by it:
  rows sequential scans returned plus entries index, index-only and bitmap scans read. An idle
  backend may hold back its counters for up to 10 s (PostgreSQL 15), an exiting one publishes
  them at once: so before each reading the server's idle connections are terminated (its pool
  reconnects). The counts follow the plans PostgreSQL picks, which can change when statistics
  are re-sampled (e.g. after the createContacts clean-up).
- **Throughput and latency** come from separate processes started without the proxy (the
  counting phase and the load phase each start the server afresh). req/s is completed requests
  over the run; p50/p99 are autocannon's latency percentiles. A non-2xx answer or a body with
  GraphQL \`errors\` counts as an error and is shown next to req/s. When a run ends, the requests
  still in flight are abandoned; the next run starts once the server process and the database
  have both been quiet for 0.5 s, or, if that takes longer than 1.5 × the run's p99 (2 to 15 s),
  after killing the server, cancelling its leftover queries and starting it again.
- **Peak RSS**: VmRSS of the server process sampled every 250 ms during the operation's runs;
  VmHWM (the kernel's peak) over the whole phase is given below the table.
- **createContacts** sends 1,000 contacts per request with phones \`+7…\` unique per request;
  they are deleted (and the table vacuumed) after the runs so that repeated runs see the same data.
- Short runs (${results.durationSeconds} s) keep the whole table under 15 minutes. On 2 cores shared with the load
  generator and PostgreSQL, numbers move between runs, much more when the load average above says
  that other work was running; statements and rows read do not. autocannon's latencies are whole
  milliseconds, so ratios to the floor's 1 ms are coarse. For steadier numbers use \`--duration 30\`;
  for memory over time, \`--soak\` (5 minutes at 64 connections, RSS every 5 s).
`;
}
