// Failed authentication, throttled per client address: each refused credential takes a
// token from its address's bucket (AUTH_FAILURES_PER_MINUTE, refilling at that rate), and
// an address with no token left is refused with 429 before its credential is even looked
// up. So a flood of made-up keys costs one lookup per token, not one per request.
//
// Lookups still in flight count against the bucket once the address has failed at all:
// otherwise a flood sent all at once would pass the check before its first failure is
// counted. A clean address is never held back, however many requests it has in flight.
//
// The buckets are kept in this process, also when REDIS_URL is set: the check runs on
// every request before authentication, and a Redis round trip there would slow every
// request down to save a few lookups. Behind several instances, an address gets the
// allowance at each of them.
import { type Bucket, type Budget, refilled } from './token-bucket.js';

interface AddressState extends Bucket {
  /** Authentications from this address now in progress. */
  pending: number;
}

export type Admission =
  | { allowed: true /** Call once with whether the credential was refused. */; settle(failed: boolean): void }
  | { allowed: false; retryAfterMs: number };

/** Addresses remembered at most; beyond, the least recently seen are forgotten. */
const MAX_ADDRESSES = 100_000;

export class AuthFailureThrottle {
  private readonly addresses = new Map<string, AddressState>();
  private readonly budget: Budget;

  constructor(
    perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.budget = { perMinute, burst: perMinute };
  }

  admit(address: string): Admission {
    const now = this.now();
    const known = this.addresses.get(address);
    const state: AddressState = { tokens: refilled(known, now, this.budget), at: now, pending: known?.pending ?? 0 };
    if (state.tokens < this.budget.burst && state.tokens - state.pending < 1) {
      const missing = 1 - (state.tokens - state.pending);
      this.remember(address, state);
      return { allowed: false, retryAfterMs: Math.ceil(missing / (this.budget.perMinute / 60_000)) };
    }
    state.pending += 1;
    this.remember(address, state);
    let settled = false;
    return {
      allowed: true,
      settle: (failed) => {
        if (settled) return;
        settled = true;
        const current = this.addresses.get(address);
        if (!current) return;
        const at = this.now();
        current.tokens = refilled(current, at, this.budget) - (failed ? 1 : 0);
        current.at = at;
        current.pending = Math.max(0, current.pending - 1);
        // A full bucket with nothing pending is the same as none.
        if (current.pending === 0 && current.tokens >= this.budget.burst) this.addresses.delete(address);
      },
    };
  }

  private remember(address: string, state: AddressState): void {
    // Re-inserted, so that the map's order is least recently seen first.
    this.addresses.delete(address);
    this.addresses.set(address, state);
    if (this.addresses.size > MAX_ADDRESSES) {
      const oldest = this.addresses.keys().next().value;
      if (oldest !== undefined) this.addresses.delete(oldest);
    }
  }
}
