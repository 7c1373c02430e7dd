// The benchmark's command line for the webhook-ingestion scenario (bench/options.ts): naming it
// alone skips the table and the other scenarios (so no dataset is needed), its flags are read,
// and bad values are refused with a message naming the flag.
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../bench/options.js';
import { DEFAULT_WEBHOOK_RATES, webhookDatabaseUrl } from '../../bench/webhook-ingestion.js';

describe('npm run bench -- --only webhook-ingestion', () => {
  it('runs the scenario alone, with the default rates', () => {
    const options = parseOptions(['--only', 'webhook-ingestion']);
    if (options === 'help') throw new Error('unexpected help');
    expect(options.operations).toEqual([]);
    expect(options.scenarios).toEqual(['webhook-ingestion']);
    expect(options.webhook).toEqual({
      rates: DEFAULT_WEBHOOK_RATES,
      stepSeconds: 10,
      workers: 'in-process',
      cpuProfile: false,
    });
    expect(options.complete).toBe(false);
  });

  it('is part of the complete run', () => {
    const options = parseOptions([]);
    if (options === 'help') throw new Error('unexpected help');
    expect(options.scenarios).toContain('webhook-ingestion');
    expect(options.complete).toBe(true);
  });

  it('reads its flags', () => {
    const options = parseOptions([
      '--only',
      'webhook-ingestion',
      '--webhook-rates',
      '50, 200',
      '--webhook-step-seconds',
      '3',
      '--webhook-workers',
      'off',
      '--webhook-cpu-profile',
    ]);
    if (options === 'help') throw new Error('unexpected help');
    expect(options.webhook).toEqual({ rates: [50, 200], stepSeconds: 3, workers: 'off', cpuProfile: true });
  });

  it.each([
    [['--webhook-rates', '100,0'], /--webhook-rates must be a positive number/],
    [['--webhook-step-seconds', 'x'], /--webhook-step-seconds must be a positive number/],
    [['--webhook-workers', 'elsewhere'], /--webhook-workers: in-process or off/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseOptions(['--only', 'webhook-ingestion', ...argv])).toThrow(message);
  });

  it('uses a database of its own beside the bench database', () => {
    expect(webhookDatabaseUrl('postgres://postgres@127.0.0.1:5432/wagraph_bench')).toBe(
      'postgres://postgres@127.0.0.1:5432/wagraph_bench_webhooks',
    );
  });
});
