// The sealing of secrets at rest (src/secrets.ts): AES-256-GCM under SECRETS_KEY, bound to
// where a value is stored, and readable across a key rotation.
import { describe, expect, it } from 'vitest';
import { fingerprint, newSecretsKey, parseSecretsKey, SecretBox, SecretError } from '../../src/secrets.js';

const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);
const CONTEXT = 'WhatsAppChannel.appSecret:7f1c';

/** `sealed` with one base64url part replaced by the same bytes with one bit flipped. */
function flipped(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0]! ^= 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('SecretBox', () => {
  it('opens what it sealed; the sealed value holds neither the secret nor the key, and differs every time', () => {
    const box = new SecretBox(KEY_A);
    const secret = 'EAAG-an-access-token-ünïcode';
    const sealed = box.seal(secret, CONTEXT);
    expect(box.open(sealed, CONTEXT)).toBe(secret);
    expect(sealed).toMatch(new RegExp(`^v1\\.${box.keyId}\\.[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(Buffer.from(secret).toString('base64url'));
    expect(sealed).not.toContain(KEY_A.toString('base64url'));
    expect(box.seal(secret, CONTEXT)).not.toBe(sealed);
    expect(box.open(box.seal('', CONTEXT), CONTEXT)).toBe('');
  });

  it('refuses an altered nonce, ciphertext or tag, another context, another key and garbage', () => {
    const box = new SecretBox(KEY_A);
    const sealed = box.seal('app-secret', CONTEXT);
    for (const part of [2, 3, 4]) expect(() => box.open(flipped(sealed, part), CONTEXT)).toThrow(SecretError);
    // Copied into another row or column, it does not open.
    expect(() => box.open(sealed, 'WhatsAppChannel.appSecret:other')).toThrow(SecretError);
    expect(() => box.open(sealed, 'WhatsAppChannel.accessToken:7f1c')).toThrow(SecretError);
    expect(() => new SecretBox(KEY_B).open(sealed, CONTEXT)).toThrow(/unknown key/);
    // A forged key id does not help: the key id is authenticated too.
    const [, , ...rest] = sealed.split('.');
    const other = new SecretBox(KEY_B);
    expect(() => other.open(['v1', other.keyId, ...rest].join('.'), CONTEXT)).toThrow(SecretError);
    for (const garbage of ['', 'plain text', 'v2.a.b.c.d', 'v1.x.y', `${sealed}.extra`]) {
      expect(() => box.open(garbage, CONTEXT)).toThrow(SecretError);
    }
  });

  it('rotates: the previous key opens what it sealed, the current one seals, and reseal moves values over', () => {
    const before = new SecretBox(KEY_A);
    const old = before.seal('verify-token-0001', CONTEXT);
    const during = new SecretBox(KEY_B, KEY_A);
    expect(during.keyId).not.toBe(before.keyId);
    expect(during.open(old, CONTEXT)).toBe('verify-token-0001');
    expect(during.isCurrent(old)).toBe(false);
    const resealed = during.reseal(old, CONTEXT);
    expect(during.isCurrent(resealed)).toBe(true);
    expect(during.reseal(resealed, CONTEXT)).toBe(resealed);
    // Once the previous key is gone, only the re-sealed value opens.
    const after = new SecretBox(KEY_B);
    expect(after.open(resealed, CONTEXT)).toBe('verify-token-0001');
    expect(() => after.open(old, CONTEXT)).toThrow(/unknown key/);
  });

  it('digests for lookup under the current key, and under the previous one during a rotation', () => {
    const a = new SecretBox(KEY_A);
    const digest = a.digest('verify-token-0001');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(a.digest('verify-token-0001')).toBe(digest);
    expect(a.digest('verify-token-0002')).not.toBe(digest);
    expect(a.digests('verify-token-0001')).toEqual([digest]);
    const rotated = new SecretBox(KEY_B, KEY_A);
    expect(rotated.digests('verify-token-0001')).toEqual([rotated.digest('verify-token-0001'), digest]);
    expect(rotated.digest('verify-token-0001')).not.toBe(digest);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(SecretError);
  });
});

describe('keys and fingerprints', () => {
  it('reads a key as 64 hex digits or base64 (standard or url-safe), and nothing else', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, index) => index * 7 + 250));
    expect(parseSecretsKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretsKey(key.toString('hex').toUpperCase())).toEqual(key);
    expect(parseSecretsKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretsKey(key.toString('base64url'))).toEqual(key);
    expect(parseSecretsKey(` ${key.toString('base64')}\n`)).toEqual(key);
    for (const bad of [
      '',
      'short',
      key.toString('hex').slice(2),
      Buffer.alloc(31).toString('base64'),
      'x'.repeat(64),
    ]) {
      expect(parseSecretsKey(bad)).toBeUndefined();
    }
    expect(parseSecretsKey(newSecretsKey())).toHaveLength(32);
    expect(newSecretsKey()).not.toBe(newSecretsKey());
  });

  it('fingerprints a secret as the first 8 hex digits of its SHA-256', () => {
    // printf %s 'abc' | sha256sum
    expect(fingerprint('abc')).toBe('ba7816bf');
    expect(fingerprint('abd')).not.toBe('ba7816bf');
  });
});
