// Command-line options of `npm run bench -- …`.
import { parseArgs } from 'node:util';
import { FANOUT_DEFAULTS, type FanoutOptions } from './fanout.js';
import { NOISE_KINDS, type NoiseKind } from './noisy-neighbour.js';
import { OPERATION_NAMES, type OperationName, TARGETS, type TargetName } from './operations.js';
import { DEFAULT_WEBHOOK_RATES, DEFAULT_WEBHOOK_STEP_SECONDS } from './webhook-ingestion.js';

/** Runs of their own, after the table (see ./noisy-neighbour.ts, ./count-costs.ts, ./fanout.ts, ./webhook-ingestion.ts and ./delivery.ts). */
export const SCENARIOS = ['noisy-neighbour', 'count-costs', 'fanout', 'webhook-ingestion', 'delivery'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const USAGE = `npm run bench -- [options]

  --scale <n>          dataset scale (default 1); the database is reseeded when it holds another scale
  --reseed             regenerate the dataset even if it is there
  --duration <s>       seconds per load run (default 10)
  --concurrency <list> connections per run, comma-separated (default 1,16,64)
  --only <list>        operations (${OPERATION_NAMES.join(', ')}),
                       targets (${TARGETS.join(', ')}),
                       and/or scenarios (${SCENARIOS.join(', ')}), comma-separated;
                       naming only scenarios skips the table, naming no scenario skips them
  --noise-seconds <s>  noisy-neighbour: seconds of noise (default 25), after 10 s idle
  --noise-kinds <list> noisy-neighbour: what A sends (default all: ${NOISE_KINDS.join(', ')})
  --fanout-subscribers <n>  fanout: SSE subscribers (default ${FANOUT_DEFAULTS.subscribers})
  --fanout-rate <n>    fanout: writes per second (default ${FANOUT_DEFAULTS.rate}; each makes about 2 feed events)
  --fanout-seconds <s> fanout: seconds of writes (default ${FANOUT_DEFAULTS.seconds})
  --webhook-rates <list>
                       webhook-ingestion: events/s of each step (default ${DEFAULT_WEBHOOK_RATES.join(',')})
  --webhook-step-seconds <s>
                       webhook-ingestion: seconds of each step (default ${DEFAULT_WEBHOOK_STEP_SECONDS})
  --webhook-workers <in-process|off>
                       webhook-ingestion: off starts the gateway with WORKERS=off, so that it only
                       acknowledges (the ack path alone; no lag, no check of lost events)
  --webhook-cpu-profile
                       webhook-ingestion: the gateway under node --cpu-prof; prints the top self time
  --warmup <s>         seconds of warm-up load per operation before its runs (default 2)
  --batch <n>          sequential requests over which statements and rows are counted,
                       and over which count-costs takes its p50 (default 10)
  --skip-build         do not run npm run build first
  --soak               instead of the table: wagraph, one operation (default inbox),
                       --soak-minutes (default 5) at concurrency 64, RSS every 5 s
  --profile <op>       instead of the table: wagraph under node --cpu-prof for one operation
                       at concurrency 16 for --duration; the profile goes to bench/out/
  --help
`;

export interface BenchOptions {
  scale: number;
  reseed: boolean;
  durationSeconds: number;
  concurrency: number[];
  /** Empty: no table (only scenarios were named). */
  operations: OperationName[];
  targets: TargetName[];
  scenarios: ScenarioName[];
  noise: { seconds: number; idleSeconds: number; kinds: NoiseKind[] };
  fanout: FanoutOptions;
  webhook: { rates: number[]; stepSeconds: number; workers: 'in-process' | 'off'; cpuProfile: boolean };
  warmupSeconds: number;
  batch: number;
  build: boolean;
  soak: { minutes: number } | undefined;
  profile: OperationName | undefined;
  /** Every operation, target, and default setting: the run that regenerates bench/RESULTS.md. */
  complete: boolean;
}

function positive(name: string, value: string): number {
  const number = Number(value);
  if (!(number > 0)) throw new Error(`--${name} must be a positive number, got ${value}`);
  return number;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string', default: '1' },
      reseed: { type: 'boolean', default: false },
      duration: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '1,16,64' },
      only: { type: 'string' },
      warmup: { type: 'string', default: '2' },
      batch: { type: 'string', default: '10' },
      'skip-build': { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      'soak-minutes': { type: 'string', default: '5' },
      'noise-seconds': { type: 'string', default: '25' },
      'noise-kinds': { type: 'string' },
      'fanout-subscribers': { type: 'string', default: String(FANOUT_DEFAULTS.subscribers) },
      'fanout-rate': { type: 'string', default: String(FANOUT_DEFAULTS.rate) },
      'fanout-seconds': { type: 'string', default: String(FANOUT_DEFAULTS.seconds) },
      'webhook-rates': { type: 'string', default: DEFAULT_WEBHOOK_RATES.join(',') },
      'webhook-step-seconds': { type: 'string', default: String(DEFAULT_WEBHOOK_STEP_SECONDS) },
      'webhook-workers': { type: 'string', default: 'in-process' },
      'webhook-cpu-profile': { type: 'boolean', default: false },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const only =
    values.only
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean) ?? [];
  for (const name of only) {
    if (![...OPERATION_NAMES, ...TARGETS, ...SCENARIOS].includes(name as never)) {
      throw new Error(`--only: unknown operation, target or scenario "${name}"`);
    }
  }
  const operations = OPERATION_NAMES.filter((name) => only.includes(name));
  const targets = TARGETS.filter((name) => only.includes(name));
  const scenarios = SCENARIOS.filter((name) => only.includes(name));
  const tableNamed = operations.length > 0 || targets.length > 0;
  const kinds = values['noise-kinds']
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean) ?? [...NOISE_KINDS];
  for (const kind of kinds) {
    if (!(NOISE_KINDS as readonly string[]).includes(kind))
      throw new Error(`--noise-kinds: unknown kind "${kind}" (${NOISE_KINDS.join(', ')})`);
  }
  if (values.profile !== undefined && !(OPERATION_NAMES as readonly string[]).includes(values.profile)) {
    throw new Error(`--profile: unknown operation "${values.profile}" (one of ${OPERATION_NAMES.join(', ')})`);
  }
  if (values['webhook-workers'] !== 'in-process' && values['webhook-workers'] !== 'off') {
    throw new Error(`--webhook-workers: in-process or off, got ${values['webhook-workers']}`);
  }
  const concurrency = values.concurrency.split(',').map((value) => Math.round(positive('concurrency', value)));
  const options: BenchOptions = {
    scale: positive('scale', values.scale),
    reseed: values.reseed,
    durationSeconds: positive('duration', values.duration),
    concurrency,
    operations: operations.length ? operations : scenarios.length && !tableNamed ? [] : [...OPERATION_NAMES],
    targets: targets.length ? targets : [...TARGETS],
    scenarios: only.length === 0 ? [...SCENARIOS] : scenarios,
    noise: {
      seconds: positive('noise-seconds', values['noise-seconds']),
      idleSeconds: 10,
      kinds: kinds as NoiseKind[],
    },
    fanout: {
      subscribers: Math.round(positive('fanout-subscribers', values['fanout-subscribers'])),
      rate: positive('fanout-rate', values['fanout-rate']),
      seconds: positive('fanout-seconds', values['fanout-seconds']),
    },
    webhook: {
      rates: values['webhook-rates'].split(',').map((value) => Math.round(positive('webhook-rates', value))),
      stepSeconds: positive('webhook-step-seconds', values['webhook-step-seconds']),
      workers: values['webhook-workers'] as 'in-process' | 'off',
      cpuProfile: values['webhook-cpu-profile'],
    },
    warmupSeconds: Number(values.warmup),
    batch: Math.round(positive('batch', values.batch)),
    build: !values['skip-build'],
    soak: values.soak ? { minutes: positive('soak-minutes', values['soak-minutes']) } : undefined,
    profile: values.profile as OperationName | undefined,
    complete: false,
  };
  options.complete =
    only.length === 0 &&
    !options.soak &&
    !options.profile &&
    options.scale === 1 &&
    options.durationSeconds === 10 &&
    values.concurrency === '1,16,64' &&
    values['noise-seconds'] === '25' &&
    values['noise-kinds'] === undefined &&
    values['fanout-subscribers'] === String(FANOUT_DEFAULTS.subscribers) &&
    values['fanout-rate'] === String(FANOUT_DEFAULTS.rate) &&
    values['fanout-seconds'] === String(FANOUT_DEFAULTS.seconds) &&
    values['webhook-rates'] === DEFAULT_WEBHOOK_RATES.join(',') &&
    values['webhook-step-seconds'] === String(DEFAULT_WEBHOOK_STEP_SECONDS) &&
    values['webhook-workers'] === 'in-process' &&
    !values['webhook-cpu-profile'];
  return options;
}
