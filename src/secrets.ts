// Secrets at rest (a WhatsApp channel's access token, app secret and verify token): sealed
// with AES-256-GCM under SECRETS_KEY, never stored or shown in the clear.
//
// A sealed value is `v1.<key id>.<nonce>.<ciphertext>.<tag>` (base64url parts). The key id
// (derived from the key, not secret) says which key sealed it, so that after a rotation
// (SECRETS_KEY new, SECRETS_KEY_PREVIOUS old) values sealed under the old key still open and
// `npm run secrets:reseal` can find and re-seal them. The additional authenticated data
// binds a value to where it is stored (`context`, e.g. "WhatsAppChannel.appSecret:<id>"):
// a sealed value copied into another row or column does not open.
//
// Two subkeys are derived from SECRETS_KEY with HKDF-SHA256: one encrypts, the other keys
// the lookup digests (HMAC-SHA256) that find a row by a secret without decrypting every row.
import crypto from 'node:crypto';

export const SECRETS_KEY_BYTES = 32;
const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SecretError extends Error {
  override name = 'SecretError';
}

/**
 * A 32-byte key written as 64 hex digits or as base64 (standard or url-safe, padded or
 * not); undefined when `value` is neither.
 */
export function parseSecretsKey(value: string): Buffer | undefined {
  const text = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) {
    const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === SECRETS_KEY_BYTES) return key;
  }
  return undefined;
}

/** A new random key, as SECRETS_KEY takes it (base64). */
export function newSecretsKey(): string {
  return crypto.randomBytes(SECRETS_KEY_BYTES).toString('base64');
}

/**
 * What the API shows of a secret: the first 8 hex digits of its SHA-256, so that its owner
 * can tell which one is stored (`printf %s "$SECRET" | sha256sum | cut -c1-8`) while 32 bits
 * reveal nothing usable of a secret worth the name.
 */
export function fingerprint(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
}

interface Keyring {
  id: string;
  encryption: Buffer;
  digest: Buffer;
}

function subkey(key: Buffer, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), `wagraph ${purpose}`, 32));
}

function keyring(key: Buffer): Keyring {
  if (key.length !== SECRETS_KEY_BYTES) throw new SecretError(`A secrets key must be ${SECRETS_KEY_BYTES} bytes long`);
  return {
    id: subkey(key, 'key id').toString('hex').slice(0, 8),
    encryption: subkey(key, 'aes-256-gcm'),
    digest: subkey(key, 'lookup digest'),
  };
}

export class SecretBox {
  private readonly current: Keyring;
  private readonly previous: Keyring | undefined;

  /** `previous`: the key before the last rotation, for opening what it sealed (never for sealing). */
  constructor(current: Buffer, previous?: Buffer) {
    this.current = keyring(current);
    this.previous = previous ? keyring(previous) : undefined;
    if (this.previous?.id === this.current.id) this.previous = undefined;
  }

  /** The id of the key that seals (it appears in every value sealed now). */
  get keyId(): string {
    return this.current.id;
  }

  seal(plaintext: string, context: string): string {
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.current.encryption, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(this.current.id, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, nonce, ciphertext, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** The plaintext; a SecretError when the value is malformed, was sealed by an unknown key, or was altered. */
  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    const [version, keyId, nonce, ciphertext, tag] = parts;
    if (parts.length !== 5 || version !== VERSION || !keyId || !nonce || ciphertext === undefined || !tag) {
      throw new SecretError('Not a sealed secret');
    }
    const ring = this.keyringOf(keyId);
    if (!ring) throw new SecretError(`Sealed by an unknown key (${keyId}): set it as SECRETS_KEY_PREVIOUS`);
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', ring.encryption, Buffer.from(nonce, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(aad(keyId, context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretError(
        'The sealed secret does not open: altered, or stored somewhere else than where it was sealed',
      );
    }
  }

  /** Whether `sealed` was sealed by the current key (else `reseal` has work to do). */
  isCurrent(sealed: string): boolean {
    return sealed.split('.')[1] === this.current.id;
  }

  /** Opens under whichever key sealed it and seals again under the current one. */
  reseal(sealed: string, context: string): string {
    return this.isCurrent(sealed) ? sealed : this.seal(this.open(sealed, context), context);
  }

  /** The lookup digest of `value` under the current key (hex HMAC-SHA256), to store. */
  digest(value: string): string {
    return hmac(this.current.digest, value);
  }

  /** The digests `value` may be stored under: the current key's, and the previous key's while a rotation is under way. */
  digests(value: string): string[] {
    return this.previous ? [this.digest(value), hmac(this.previous.digest, value)] : [this.digest(value)];
  }

  private keyringOf(keyId: string): Keyring | undefined {
    if (keyId === this.current.id) return this.current;
    return keyId === this.previous?.id ? this.previous : undefined;
  }
}

function aad(keyId: string, context: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}.${context}`, 'utf8');
}

function hmac(key: Buffer, value: string): string {
  return crypto.createHmac('sha256', key).update(value, 'utf8').digest('hex');
}
