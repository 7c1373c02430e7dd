// `npm run simulate [-- flags]`: the local WhatsApp simulator (src/whatsapp/simulator.ts) against
// a running gateway. It signs with the demo channel's app secret, read from DATA_DIR (the
// gateway writes it at every development start), unless --phone-number-id and --app-secret are
// given. Exits 1 when a delivery was not answered 200.
import { parseArgs } from 'node:util';
import {
  DEFAULT_SIMULATED_DELIVERIES,
  readDemoChannel,
  type SimulatedChannel,
  SimulatorError,
  simulate,
} from '../src/whatsapp/simulator.js';

const USAGE = `Usage: npm run simulate -- [options]

Sends signed WhatsApp webhook deliveries (texts, media, a reply, a reaction, a duplicate, statuses
out of order) for the demo channel to a running gateway, one every 0.5-1 s, then stops.

  --url <url>                the webhook (default http://127.0.0.1:$PORT/webhooks/whatsapp, PORT=4000)
  --count <n>                how many deliveries (default ${DEFAULT_SIMULATED_DELIVERIES}, at most 10000)
  --interval-ms <ms>         a fixed pause between deliveries instead of 500-1000 ms
  --data-dir <dir>           where the demo channel's secrets are (default $DATA_DIR, or ./data)
  --phone-number-id <id>     deliver for another channel (with --app-secret)
  --app-secret <secret>      that channel's app secret
  --business-account-id <id> that channel's WhatsApp Business Account id
  --allow-remote             allow a URL that is not this machine
  --help`;

function fail(message: string): never {
  process.stderr.write(`simulate: ${message}\n`);
  process.exit(2);
}

let flags: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      url: { type: 'string' },
      count: { type: 'string' },
      'interval-ms': { type: 'string' },
      'data-dir': { type: 'string' },
      'phone-number-id': { type: 'string' },
      'app-secret': { type: 'string' },
      'business-account-id': { type: 'string' },
      'allow-remote': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
}
try {
  flags = parse();
} catch (error) {
  fail(`${(error as Error).message}\n\n${USAGE}`);
}
if (flags.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const wholeNumber = (name: string, text: string | undefined, fallback: number) => {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) fail(`--${name} must be a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
};

const controller = new AbortController();
process.once('SIGINT', () => {
  process.stderr.write('\nsimulate: stopping (Ctrl-C)\n');
  controller.abort();
});

try {
  let channel: SimulatedChannel;
  if (flags['phone-number-id'] !== undefined || flags['app-secret'] !== undefined) {
    if (!flags['phone-number-id'] || !flags['app-secret']) fail('--phone-number-id and --app-secret go together');
    channel = {
      phoneNumberId: flags['phone-number-id'],
      appSecret: flags['app-secret'],
      businessAccountId: flags['business-account-id'] ?? '200000000000001',
    };
  } else {
    channel = readDemoChannel(flags['data-dir'] ?? process.env.DATA_DIR ?? './data');
  }
  const port = process.env.PORT ?? '4000';
  const url = flags.url ?? `http://127.0.0.1:${port}/webhooks/whatsapp`;
  const fixed = flags['interval-ms'];
  const results = await simulate({
    channel,
    url,
    allowRemote: flags['allow-remote'],
    count: wholeNumber('count', flags.count, DEFAULT_SIMULATED_DELIVERIES),
    intervalMs: fixed === undefined ? [500, 1000] : wholeNumber('interval-ms', fixed, 0),
    signal: controller.signal,
    print: (line) => process.stdout.write(`${line}\n`),
  });
  const accepted = results.filter((result) => result.status === 200).length;
  process.stdout.write(
    `simulate: ${results.length} deliveries sent to ${url} for phone-number id ${channel.phoneNumberId}, ${accepted} answered 200\n`,
  );
  if (accepted !== results.length) process.exitCode = 1;
} catch (error) {
  if (error instanceof SimulatorError) fail(error.message);
  throw error;
}
