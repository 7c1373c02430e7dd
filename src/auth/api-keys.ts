// API keys: random secrets shown once, stored as a SHA-256 hash plus a short prefix that
// lets a person tell keys apart and lets authentication find the candidate rows without
// scanning. The secret has 192 bits of entropy, so a fast hash is the right tool here
// (a slow password hash would only slow every request down).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SECRET_PREFIX = 'wag_';
/** How much of a key is stored in clear: enough to recognise it, far too little to use it. */
const VISIBLE_LENGTH = 12;

export interface NewApiKey {
  secret: string;
  prefix: string;
  keyHash: string;
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function apiKeyPrefix(secret: string): string {
  return secret.slice(0, VISIBLE_LENGTH);
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
