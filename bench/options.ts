// Command-line options of `npm run bench -- …`.
import { parseArgs } from 'node:util';
import { OPERATION_NAMES, type OperationName, TARGETS, type TargetName } from './operations.js';

export const USAGE = `npm run bench -- [options]

  --scale <n>          dataset scale (default 1); the database is reseeded when it holds another scale
  --reseed             regenerate the dataset even if it is there
  --duration <s>       seconds per load run (default 10)
  --concurrency <list> connections per run, comma-separated (default 1,16,64)
  --only <list>        operations (${OPERATION_NAMES.join(', ')})
                       and/or targets (${TARGETS.join(', ')}), comma-separated
  --warmup <s>         seconds of warm-up load per operation before its runs (default 2)
  --batch <n>          sequential requests over which statements and rows are counted (default 10)
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
  operations: OperationName[];
  targets: TargetName[];
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
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const only = values.only?.split(',').map((name) => name.trim()).filter(Boolean) ?? [];
  for (const name of only) {
    if (!(OPERATION_NAMES as readonly string[]).includes(name) && !(TARGETS as readonly string[]).includes(name)) {
      throw new Error(`--only: unknown operation or target "${name}"`);
    }
  }
  const operations = OPERATION_NAMES.filter((name) => only.includes(name));
  const targets = TARGETS.filter((name) => only.includes(name));
  if (values.profile !== undefined && !(OPERATION_NAMES as readonly string[]).includes(values.profile)) {
    throw new Error(`--profile: unknown operation "${values.profile}" (one of ${OPERATION_NAMES.join(', ')})`);
  }
  const concurrency = values.concurrency.split(',').map((value) => Math.round(positive('concurrency', value)));
  const options: BenchOptions = {
    scale: positive('scale', values.scale),
    reseed: values.reseed,
    durationSeconds: positive('duration', values.duration),
    concurrency,
    operations: operations.length ? operations : [...OPERATION_NAMES],
    targets: targets.length ? targets : [...TARGETS],
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
    values.concurrency === '1,16,64';
  return options;
}
