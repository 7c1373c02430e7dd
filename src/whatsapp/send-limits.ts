// The rate limits WhatsApp imposes on sends, kept by the workers before each send
// (src/whatsapp/outbound.ts) so that Meta never has to refuse one:
// - throughput: messages per second per business phone number (the channel's
//   `messagesPerSecond`, else WHATSAPP_MESSAGES_PER_SECOND, 80 by default: Meta's standard);
// - the pair rate: to one recipient from one phone number, about one message every 6 s
//   (WHATSAPP_PAIR_INTERVAL_MS), after a short burst (WHATSAPP_PAIR_BURST, 3).
// A send takes a token from both buckets or from neither (src/rate-limit/token-bucket.ts, or
// the same arithmetic in Redis when REDIS_URL is set, so that every worker process draws
// from one budget). Redis unreachable (or slower than 2 s): each process keeps the limits in
// its own buckets meanwhile, rather than letting sends through unlimited (which the API's
// limiter does): with several processes Meta may then answer 130429, which is retried.
//
// Why the throughput bucket refills at 96 % of the limit and holds 2 % of it (at least 1):
// a token bucket lets through its burst plus a second's refill within one second, and a
// request reaches Meta some milliseconds after its token was taken, not always the same
// number; Meta counts when it arrives. Refilling a little under the limit, with a burst of a
// few tokens, keeps every one-second window at Meta under the limit with room for that
// jitter, while a steady stream still runs within 5 % of it.
import type { Logger } from '../logger.js';
import {
  type BucketRequest,
  type Budget,
  MemoryRateLimiter,
  RedisRateLimiter,
  type TokenBuckets,
} from '../rate-limit/index.js';

/** Meta's standard throughput of a business phone number. */
export const DEFAULT_MESSAGES_PER_SECOND = 80;
/** The most a channel may be set to: Meta's highest throughput tier. */
export const MAX_MESSAGES_PER_SECOND = 1_000;
/** One message to a recipient about every 6 s (Meta's pair rate limit). */
export const DEFAULT_PAIR_INTERVAL_MS = 6_000;
/** Messages to one recipient that may go at once before the interval applies. */
export const DEFAULT_PAIR_BURST = 3;

/** The share of the throughput limit the bucket refills at (see the header). */
const THROUGHPUT_REFILL = 0.96;
/** The share of the throughput limit the bucket holds (at least one send). */
const THROUGHPUT_BURST = 0.02;

export interface SendLimitSettings {
  /** A channel without a limit of its own gets this one. */
  messagesPerSecond: number;
  pairIntervalMs: number;
  pairBurst: number;
}

export const DEFAULT_SEND_LIMITS: SendLimitSettings = {
  messagesPerSecond: DEFAULT_MESSAGES_PER_SECOND,
  pairIntervalMs: DEFAULT_PAIR_INTERVAL_MS,
  pairBurst: DEFAULT_PAIR_BURST,
};

/** One send: from which phone number, to whom, and that channel's own limit (null: the default). */
export interface SendSlot {
  phoneNumberId: string;
  to: string;
  messagesPerSecond: number | null;
}

export type SendPermit =
  /** `waitMs`: the token is reserved, due in this long: sleep, then send. */
  | { allowed: true; waitMs: number }
  /** `limit`: which one refused; `retryAfterMs`: when it will have a token again. */
  | { allowed: false; limit: 'throughput' | 'pair'; retryAfterMs: number };

/** The throughput bucket of a limit of `perSecond` (see the header). */
export function throughputBudget(perSecond: number): Budget {
  return {
    perMinute: perSecond * 60 * THROUGHPUT_REFILL,
    burst: Math.max(1, Math.floor(perSecond * THROUGHPUT_BURST)),
  };
}

export class SendLimiter {
  constructor(
    private readonly buckets: TokenBuckets,
    readonly settings: SendLimitSettings = DEFAULT_SEND_LIMITS,
  ) {}

  private requests(slot: SendSlot): [BucketRequest, BucketRequest] {
    return [
      {
        key: `whatsapp:throughput:${slot.phoneNumberId}`,
        budget: throughputBudget(slot.messagesPerSecond ?? this.settings.messagesPerSecond),
      },
      {
        key: `whatsapp:pair:${slot.phoneNumberId}:${slot.to}`,
        budget: { perMinute: 60_000 / this.settings.pairIntervalMs, burst: this.settings.pairBurst },
      },
    ];
  }

  /**
   * Takes a token for one send from both buckets, or from neither. `reserveMs`: when the
   * tokens are due within this long, they are taken ahead (reserved) and the permit says how
   * long to sleep before sending; the throughput bucket then sets the pace, however late the
   * sleepers' timers fire.
   */
  async take(slot: SendSlot, reserveMs = 0): Promise<SendPermit> {
    const decision = await this.buckets.takeFrom(this.requests(slot), reserveMs);
    if (decision.allowed) return { allowed: true, waitMs: decision.retryAfterMs };
    return {
      allowed: false,
      limit: decision.refusedBy === 1 ? 'pair' : 'throughput',
      retryAfterMs: Math.max(1, decision.retryAfterMs),
    };
  }

  /**
   * Meta answered a throttling error (130429 throughput, 131056 pair rate): the bucket it
   * names is emptied for every worker, so that the other conversations on the channel (or
   * the recipient's next send) wait for it to refill instead of running into Meta again.
   */
  async throttled(slot: SendSlot, limit: 'throughput' | 'pair'): Promise<void> {
    const [throughput, pair] = this.requests(slot);
    await this.buckets.drain([limit === 'pair' ? pair : throughput]);
  }

  close(): Promise<void> {
    return this.buckets.close();
  }
}

/** The send limiter: in this process, or shared through Redis when `redisUrl` is set. */
export async function createSendLimiter(
  settings: SendLimitSettings,
  options: { redisUrl: string | undefined; log: Logger; keyPrefix?: string },
): Promise<SendLimiter> {
  if (!options.redisUrl) return new SendLimiter(new MemoryRateLimiter(), settings);
  const redis = await RedisRateLimiter.connect({
    // take()'s budgets, unused here: every send names its own (takeFrom).
    perMinute: 60,
    burst: 1,
    url: options.redisUrl,
    log: options.log,
    keyPrefix: options.keyPrefix ?? 'wagraph:send-limit:',
    // A send waits for its token anyway: a slow answer is better than this process's guess.
    commandTimeoutMs: 2_000,
    fallback: new MemoryRateLimiter(),
  });
  return new SendLimiter(redis, settings);
}
