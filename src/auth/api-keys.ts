// API keys: random secrets shown once, stored as a SHA-256 hash plus a short prefix that
// lets authentication find the candidate rows without scanning; a shorter one still is
// what the API shows, so that people can tell keys apart. The secret has 192 bits of entropy, so a fast hash is the right tool here
// (a slow password hash would only slow every request down).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SECRET_PREFIX = 'wag_';
/** How much of a key is stored in clear, to look it up: far too little to use it. */
const LOOKUP_LENGTH = 12;
/**
 * How much of a key the API shows to whoever may list keys (`wag_` and 4 characters).
 * Shorter than the lookup prefix: a key chosen by the operator (DEMO_API_KEY, 32+
 * characters) must keep all but these few characters unknown to every other member.
 */
export const SHOWN_PREFIX_LENGTH = 8;

export interface NewApiKey {
  secret: string;
  prefix: string;
  keyHash: string;
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The stored lookup prefix of a key. */
export function apiKeyPrefix(secret: string): string {
  return secret.slice(0, LOOKUP_LENGTH);
}

/** What the API shows of a key, from its secret or its stored lookup prefix. */
export function shownPrefix(secretOrPrefix: string): string {
  return secretOrPrefix.slice(0, SHOWN_PREFIX_LENGTH);
}

/** A new key; `secret` may be given (DEMO_API_KEY) instead of generated. */
export function newApiKey(secret = SECRET_PREFIX + randomBytes(24).toString('base64url')): NewApiKey {
  return { secret, prefix: apiKeyPrefix(secret), keyHash: hashApiKey(secret) };
}

/** Compares a presented secret with a stored hash in constant time. */
export function apiKeyMatches(secret: string, keyHash: string): boolean {
  const presented = Buffer.from(hashApiKey(secret), 'hex');
  const stored = Buffer.from(keyHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
