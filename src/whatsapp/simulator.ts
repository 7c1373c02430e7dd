// The local WhatsApp simulator (`npm run simulate`): plays a few WhatsApp users and Meta at once,
// sending signed webhook deliveries to a running gateway for the demo channel, so that a
// developer without a Meta app or a phone number sees traffic arrive. It sends a bounded,
// paced sequence (texts, media, a reply, a reaction, interactive replies, a duplicate delivery,
// an out-of-order pair of statuses), prints one line per delivery with the HTTP answer, and
// stops. It calls nothing but the webhook URL it is given, and only on this machine unless
// told otherwise.
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { DEMO_CHANNEL, DEMO_CHANNEL_FILE } from '../db/development-key.js';
import {
  buttonReplyValue,
  type ChannelIdentity,
  contactsMessageValue,
  deliveryFor,
  type InboundOptions,
  interactiveReplyValue,
  locationMessageValue,
  mediaMessageValue,
  reactionValue,
  type SignedDelivery,
  signed,
  statusValue,
  textMessageValue,
  wamid,
} from './meta-payloads.js';
import { FakeCloudApi, SEND_ERRORS } from './fake-cloud-api.js';
import { sampleMedia, sampleMediaOptions } from './sample-media.js';
import { pause } from '../pause.js';

/** A bad flag, an unreadable demo channel, a refused URL: a message for the person running it. */
export class SimulatorError extends Error {}

export const DEFAULT_SIMULATED_DELIVERIES = 20;
export const MAX_SIMULATED_DELIVERIES = 10_000;

/** The channel the simulator delivers for, and the app secret it signs with. */
export interface SimulatedChannel extends ChannelIdentity {
  appSecret: string;
  /** What the simulated Cloud API accepts as Bearer (the demo channel's access token). */
  accessToken?: string;
}

/**
 * The demo channel as the gateway keeps it in DATA_DIR (src/db/development-key.ts writes it at
 * every development start): its phone-number id and app secret.
 */
export function readDemoChannel(dataDir: string): SimulatedChannel {
  const file = path.join(path.resolve(dataDir), DEMO_CHANNEL_FILE);
  let kept: unknown;
  try {
    kept = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SimulatorError(
      `Cannot read the demo channel from ${file} (${(error as Error).message}). Start the gateway once in development ` +
        '(`npm start`, with the same DATA_DIR) to create it, or pass --phone-number-id and --app-secret.',
    );
  }
  const { phoneNumberId, appSecret, accessToken } = (kept ?? {}) as Record<string, unknown>;
  if (typeof phoneNumberId !== 'string' || typeof appSecret !== 'string') {
    throw new SimulatorError(`${file} does not hold a phoneNumberId and an appSecret`);
  }
  return {
    phoneNumberId,
    appSecret,
    ...(typeof accessToken === 'string' ? { accessToken } : {}),
    businessAccountId: DEMO_CHANNEL.businessAccountId,
    displayPhoneNumber: DEMO_CHANNEL.displayPhoneNumber,
  };
}

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.']);

/** Whether a URL's host is this machine (localhost, 127.0.0.0/8, ::1), judged without any DNS lookup. */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(host) || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

/** The webhook URL, checked: http(s), and on this machine unless `allowRemote`. */
export function webhookUrl(text: string, allowRemote = false): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SimulatorError(`Not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SimulatorError(`${url.protocol} is not http: or https: (${text})`);
  }
  if (!allowRemote && !isLoopbackUrl(url)) {
    throw new SimulatorError(
      `Refusing ${url.origin}: the simulator sends only to this machine (localhost, 127.0.0.1, ::1) unless given --allow-remote`,
    );
  }
  return url;
}

/** One delivery of the sequence: what it stands for, and the signed bytes to POST. */
export interface SimulatedDelivery {
  label: string;
  delivery: SignedDelivery;
}

const USERS = [
  { name: 'Ana Souza', from: '5511999990001' },
  { name: 'Bruno Lima', from: '5521988880002' },
  { name: 'Chen Wei', from: '8613800000003' },
] as const;

const CHATTER = [
  'Hi! Is my order on its way?',
  'Do you deliver on Sundays?',
  'Thanks, that was quick 🙏',
  'Can I change the delivery address?',
  'What time do you open tomorrow?',
  'Perfect, see you then.',
];

/**
 * The sequence of `count` deliveries for a channel, timestamps from `start`, one `stepMs`
 * apart. The first ones show every kind of event once (the order in `README.md`); after them,
 * the users go on chatting, with a photo now and then. Built ahead, so that the duplicate is
 * the very same bytes, as Meta's retries are.
 */
export function simulatedDeliveries(
  channel: SimulatedChannel,
  count: number,
  options: { start?: Date; stepMs?: number } = {},
): SimulatedDelivery[] {
  const start = (options.start ?? new Date()).getTime();
  const stepMs = options.stepMs ?? 1000;
  const out: SimulatedDelivery[] = [];
  const at = () => new Date(start + out.length * stepMs);
  const as = (user: (typeof USERS)[number], extra: Partial<InboundOptions> = {}): InboundOptions & { id: string } => ({
    from: user.from,
    name: user.name,
    id: wamid(),
    at: at(),
    ...extra,
  });
  const add = (label: string, value: Record<string, unknown>) => {
    if (out.length < count) out.push({ label, delivery: signed(deliveryFor(channel, value), channel.appSecret) });
  };
  const [ana, bruno, chen] = USERS;
  const media = sampleMedia();
  const answering = (user: (typeof USERS)[number]) => ({ ...as(user), replyTo: wamid() });
  const chatter = (index: number) => CHATTER[index % CHATTER.length] ?? '';

  const first = as(ana);
  add(`${ana.name}: text "${chatter(0)}"`, textMessageValue({ ...first, body: chatter(0) }));
  const photo = as(bruno);
  add(
    `${bruno.name}: image with a caption`,
    mediaMessageValue(photo, 'image', { ...sampleMediaOptions(media.photo), caption: 'The box arrived like this' }),
  );
  add(
    `${ana.name}: text replying to her first message`,
    textMessageValue({ ...as(ana, { replyTo: first.id }), body: 'Order #4521, by the way' }),
  );
  add(
    `${chen.name}: location`,
    locationMessageValue(as(chen), {
      latitude: 31.2304,
      longitude: 121.4737,
      name: 'People’s Square',
      address: 'Huangpu, Shanghai',
    }),
  );
  add(`${bruno.name}: reaction 👍 to his image`, reactionValue(as(bruno), { messageId: photo.id, emoji: '👍' }));
  // Meta delivers at least once: the first delivery again, byte for byte.
  const original = out[0];
  if (original && out.length < count) {
    out.push({
      label: `duplicate of delivery 1 (${ana.name}'s first text, the same bytes)`,
      delivery: original.delivery,
    });
  }
  add(`${chen.name}: audio clip`, mediaMessageValue(as(chen), 'audio', sampleMediaOptions(media.voiceNote)));
  add(
    `${ana.name}: document`,
    mediaMessageValue(as(ana), 'document', { ...sampleMediaOptions(media.invoice), caption: 'My invoice' }),
  );
  // Statuses of one of our outbound messages, arriving out of order: read before delivered.
  const outbound = wamid();
  const readAt = new Date(start + (out.length + 1) * stepMs);
  add(
    `status read of outbound ${outbound.slice(0, 16)}… (before its delivered)`,
    statusValue({ id: outbound, status: 'read', recipient: ana.from, at: readAt }),
  );
  add(
    `status delivered of outbound ${outbound.slice(0, 16)}… (after its read)`,
    statusValue({ id: outbound, status: 'delivered', recipient: ana.from, at: new Date(readAt.getTime() - stepMs) }),
  );
  add(
    `${bruno.name}: interactive button reply`,
    interactiveReplyValue(answering(bruno), {
      kind: 'button_reply',
      id: 'confirm-delivery',
      title: 'Yes, confirm',
    }),
  );
  add(
    `${chen.name}: interactive list reply`,
    interactiveReplyValue(answering(chen), {
      kind: 'list_reply',
      id: 'slot-morning',
      title: 'Morning',
      description: '8:00–12:00',
    }),
  );
  add(
    `${ana.name}: template quick-reply button`,
    buttonReplyValue(answering(ana), { text: 'Track my order', payload: 'TRACK_ORDER' }),
  );
  add(
    `${bruno.name}: contact card`,
    contactsMessageValue(as(bruno), [
      { formattedName: 'Carla Mendes', firstName: 'Carla', phone: '+55 21 97777-0004' },
    ]),
  );
  add(
    `${chen.name}: video`,
    mediaMessageValue(as(chen), 'video', { ...sampleMediaOptions(media.video), caption: 'Unboxing' }),
  );
  add(`${ana.name}: sticker`, mediaMessageValue(as(ana), 'sticker', sampleMediaOptions(media.sticker)));
  const failed = wamid();
  add(
    `status failed of outbound ${failed.slice(0, 16)}… (131047: outside the 24-hour window)`,
    statusValue({
      id: failed,
      status: 'failed',
      recipient: chen.from,
      at: at(),
      errors: [
        {
          code: 131047,
          title: 'Re-engagement message',
          details: 'More than 24 hours have passed since the recipient last replied to the sender number.',
        },
      ],
    }),
  );
  for (let index = 0; out.length < count; index += 1) {
    const user = USERS[index % USERS.length] ?? ana;
    if (index % 5 === 4) {
      add(`${user.name}: image`, mediaMessageValue(as(user), 'image', sampleMediaOptions(media.photo)));
    } else {
      const body = chatter(index);
      add(`${user.name}: text "${body}"`, textMessageValue({ ...as(user), body }));
    }
  }
  return out;
}

/**
 * The Cloud API side of the simulation: a fake (src/whatsapp/fake-cloud-api.ts) on a random
 * loopback port that accepts the channel's access token and holds the files of the
 * simulator's media messages, so that the gateway, pointed at it, serves them on /media.
 */
export async function startSimulatedCloudApi(channel: SimulatedChannel): Promise<FakeCloudApi> {
  const fake = await FakeCloudApi.start({ accessTokens: channel.accessToken ? [channel.accessToken] : [] });
  for (const sample of Object.values(sampleMedia())) {
    fake.addMedia({ bytes: sample.bytes, mimeType: sample.mimeType }, sample.id);
  }
  return fake;
}

/** A sent text containing this gets a `failed` status (131026) after `sent`, to show a failure. */
export const SIMULATED_FAILURE_MARK = '#fail';

/**
 * The simulated Cloud API answers the gateway's sends on the demo channel with Meta's statuses,
 * posted to the gateway's webhook a second or so apart: sent, delivered, read (a text with
 * SIMULATED_FAILURE_MARK: sent, then failed with 131026), so that a message sent from
 * GraphiQL turns from PENDING to READ.
 */
export function playSimulatedStatuses(fake: FakeCloudApi, channel: SimulatedChannel, webhook: string): void {
  const url = webhookUrl(webhook);
  const { status: _status, type: _type, ...undeliverable } = SEND_ERRORS.undeliverable;
  fake.playStatuses({
    post: (delivery) =>
      fetch(url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      }).then((response) => response.body?.cancel()),
    channel: (phoneNumberId) => (phoneNumberId === channel.phoneNumberId ? channel : undefined),
    stepMs: 1_500,
    script: (sent) =>
      sent.text.includes(SIMULATED_FAILURE_MARK)
        ? ['sent', { failed: { ...undeliverable, title: 'Message undeliverable' } }]
        : ['sent', 'delivered', 'read'],
  });
}

/** What one delivery got: the HTTP status, or the network error that prevented an answer. */
export interface SimulatedResult {
  label: string;
  status: number | null;
  error?: string;
  ms: number;
}

export interface SimulateOptions {
  channel: SimulatedChannel;
  /** The webhook's URL, e.g. http://127.0.0.1:4000/webhooks/whatsapp. */
  url: string;
  allowRemote?: boolean;
  count?: number;
  /** The pause between two deliveries: a fixed time, or a random one in [min, max]. */
  intervalMs?: number | [number, number];
  /** How long one POST may take. */
  timeoutMs?: number;
  /** Stops between deliveries (Ctrl-C). */
  signal?: AbortSignal;
  print?: (line: string) => void;
  fetch?: typeof fetch;
}

const causeOf = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
};

/**
 * Sends the sequence, one delivery at a time, pausing between them; stops after the last, when
 * `signal` aborts, or at the first delivery that gets no HTTP answer (the gateway is not there).
 */
export async function simulate(options: SimulateOptions): Promise<SimulatedResult[]> {
  const url = webhookUrl(options.url, options.allowRemote);
  const count = options.count ?? DEFAULT_SIMULATED_DELIVERIES;
  if (!Number.isInteger(count) || count < 1 || count > MAX_SIMULATED_DELIVERIES) {
    throw new SimulatorError(`The count must be a whole number from 1 to ${MAX_SIMULATED_DELIVERIES}`);
  }
  const [min, max] = Array.isArray(options.intervalMs)
    ? options.intervalMs
    : [options.intervalMs ?? 750, options.intervalMs ?? 750];
  const print = options.print ?? (() => {});
  const send = options.fetch ?? fetch;
  const deliveries = simulatedDeliveries(options.channel, count, { stepMs: Math.max(1, Math.round((min + max) / 2)) });
  const results: SimulatedResult[] = [];
  const width = String(count).length;
  for (const [index, { label, delivery }] of deliveries.entries()) {
    if (options.signal?.aborted) break;
    if (index > 0) await pause(min + Math.random() * (max - min), options.signal);
    if (options.signal?.aborted) break;
    const started = performance.now();
    const prefix = `[${String(index + 1).padStart(width)}/${count}] ${label}`;
    try {
      const response = await send(url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      const answer = (await response.text()).trim().slice(0, 120);
      const ms = Math.round(performance.now() - started);
      results.push({ label, status: response.status, ms });
      print(`${prefix} → ${response.status}${answer ? ` ${answer}` : ''} (${ms} ms)`);
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      const reason = causeOf(error);
      results.push({ label, status: null, error: reason, ms });
      print(`${prefix} → no answer from ${url.origin} (${reason}); is the gateway running?`);
      break;
    }
  }
  return results;
}
