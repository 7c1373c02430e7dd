// The validation rules of the API contract ("Validation that every client can rely on"),
// as a collector: a mutation checks every field, then fails once with every
// problem it found, each at its input path. A rule returns the value it checked (trimmed,
// normalized) or INVALID, having recorded why; `valid({ … })` then throws every problem
// at once or hands back the values with INVALID gone from their types.
import type { Prisma } from './generated/prisma/client.js';
import type { LockableType, RowLock, RowLocker } from './db/row-locks.js';
import { type UserErrorCode, type UserErrorShape, UserErrors } from './errors.js';
import { rawIdOf } from './global-id.js';

export type FieldPath = string[];

/** What a rule returns for a value it refused; the Validator has recorded the error. */
export const INVALID = Symbol('invalid');
export type Invalid = typeof INVALID;

/** `values` once they passed: INVALID taken out of each one's type (and of a list's items). */
export type Valid<Values> = {
  [Key in keyof Values]: Values[Key] extends readonly (infer Item)[]
    ? Exclude<Item, Invalid>[]
    : Exclude<Values[Key], Invalid>;
};

export const NAME_MAX = 255;
export const DESCRIPTION_MAX = 2_000;
export const MESSAGE_TEXT_MAX = 4_096;
export const ATTRIBUTES_MAX_BYTES = 64 * 1024;
/**
 * Levels of objects and arrays in one JSON value (`{"a": {"b": [1]}}` has 3). Deeper values
 * are refused before anything walks them recursively (JSON.stringify, the database driver).
 */
export const JSON_DEPTH_MAX = 32;
/** Ids in one list argument (listIds, tagIds, contactIds of one call). */
export const IDS_MAX = 1_000;

const E164 = /^\+\d{8,15}$/;

/**
 * A UTF-16 surrogate that is not half of a pair: not a character, and not encodable as
 * UTF-8, so the database cannot store it. (With the `u` flag a pair is one code point and
 * does not match.)
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Whether `value` is well-formed UTF-16, i.e. a sequence of Unicode characters. */
export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/**
 * The path of the first string or object key below the `roots` (each a value and its path)
 * that fails `test`, e.g. "filter.search" (a key's own object is its path); undefined when
 * all pass. Iterative: variables may nest deeply. The one walk over request variables, for
 * every rule about their strings (src/plugins/reject-nul.ts, well-formed-strings.ts).
 */
export function pathOfFailingString(roots: [unknown, string][], test: (value: string) => boolean): string | undefined {
  const pending = [...roots];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, path] = next;
    if (typeof item === 'string') {
      if (!test(item)) return path;
    } else if (Array.isArray(item)) {
      for (const [index, child] of item.entries()) pending.push([child, `${path}.${index}`]);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (!test(key)) return path;
        pending.push([child, `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

/**
 * Text that shows nothing: white space, control characters and the characters Unicode
 * says to display as nothing (zero-width spaces and joiners, the soft hyphen, the byte-order
 * mark, Hangul fillers …), plus the blank Braille pattern.
 */
const INVISIBLE = /^[\p{White_Space}\p{Cc}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

/**
 * The earliest and latest instants a timestamp column accepts as this gateway writes them
 * (ISO 8601 with a four-digit year; PostgreSQL has no year 0 and reads "+275760-…" as a
 * time zone).
 */
const INSTANT_MIN = Date.parse('0001-01-01T00:00:00.000Z');
const INSTANT_MAX = Date.parse('9999-12-31T23:59:59.999Z');

/** Whether a Date's time (ms since the epoch) is one PostgreSQL can store and compare. */
export function isStorableInstant(time: number): boolean {
  return time >= INSTANT_MIN && time <= INSTANT_MAX;
}

/** Characters as a person counts them (code points), not UTF-16 units. */
function characters(value: string): number {
  return [...value].length;
}

/** What is wrong with a JSON value, walked without recursion: too deep, or a malformed string. */
function jsonProblem(value: unknown): 'depth' | 'string' | undefined {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item === 'string') {
      if (!isWellFormed(item)) return 'string';
    } else if (item !== null && typeof item === 'object') {
      if (depth > JSON_DEPTH_MAX) return 'depth';
      if (Array.isArray(item)) {
        for (const child of item) pending.push([child, depth + 1]);
      } else {
        for (const [key, child] of Object.entries(item)) {
          if (!isWellFormed(key)) return 'string';
          pending.push([child, depth + 1]);
        }
      }
    }
  }
  return undefined;
}

const MALFORMED =
  'must be well-formed UTF-16: it holds an unpaired surrogate (a code unit between \\uD800 and \\uDFFF that is not half of a pair).';

export class Validator {
  readonly errors: UserErrorShape[] = [];

  /**
   * `rows`: finds and locks the rows that ids name (src/db/row-locks.ts), in the mutation's
   * transaction, so that what validation found is still there when the mutation writes.
   */
  constructor(private readonly rows: RowLocker) {}

  fail(field: FieldPath, message: string, code: UserErrorCode = 'INVALID'): Invalid {
    this.errors.push({ field, message, code });
    return INVALID;
  }

  /** Throws the collected errors, if any (the mutation's transaction rolls back). */
  check(): void {
    if (this.errors.length > 0) throw new UserErrors(this.errors);
  }

  /**
   * The checked `values` (each a rule's result), typed without INVALID: a rule returns
   * INVALID only after recording an error, so when none was recorded none is INVALID.
   * Otherwise throws every error collected so far, like `check()`.
   */
  valid<const Values extends Record<string, unknown>>(values: Values): Valid<Values> {
    this.check();
    return values as Valid<Values>;
  }

  /** Any text: well-formed (every string goes through here or through `attributes`). */
  private text(field: FieldPath, value: string, what: string): string | Invalid {
    return isWellFormed(value) ? value : this.fail(field, `${what} ${MALFORMED}`);
  }

  /** Text that must show something: not only white space or invisible characters. */
  private visibleText(field: FieldPath, value: string, what: string): string | Invalid {
    if (this.text(field, value, what) === INVALID) return INVALID;
    const trimmed = value.trim();
    return INVISIBLE.test(trimmed)
      ? this.fail(field, `${what} must not be blank (or only invisible characters).`)
      : trimmed;
  }

  /** A name or label: trimmed, 1–255 characters, something visible. */
  name(field: FieldPath, value: string, what = 'Name'): string | Invalid {
    const trimmed = this.visibleText(field, value, what);
    if (trimmed === INVALID) return INVALID;
    if (characters(trimmed) > NAME_MAX) return this.fail(field, `${what} must be at most ${NAME_MAX} characters long.`);
    return trimmed;
  }

  description(field: FieldPath, value: string | null): string | null | Invalid {
    if (value === null) return null;
    if (this.text(field, value, 'Description') === INVALID) return INVALID;
    const trimmed = value.trim();
    if (characters(trimmed) > DESCRIPTION_MAX) {
      return this.fail(field, `Description must be at most ${DESCRIPTION_MAX} characters long.`);
    }
    return trimmed === '' ? null : trimmed;
  }

  /** E.164 after removing spaces, dashes and brackets: "+1 (415) 555-0123" → "+14155550123". */
  phone(field: FieldPath, value: string): string | Invalid {
    const normalized = value.replace(/[\s\-()[\]]/g, '');
    if (!E164.test(normalized)) {
      return this.fail(field, 'Phone must be in E.164 format: "+" followed by 8 to 15 digits, e.g. +14155550123.');
    }
    return normalized;
  }

  /** A JSON object of at most 64 KiB serialized and JSON_DEPTH_MAX levels, its strings well-formed. */
  attributes(field: FieldPath, value: unknown): Prisma.InputJsonObject | Invalid {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return this.fail(field, 'Attributes must be a JSON object, e.g. {"city": "Lisbon"}.');
    }
    const problem = jsonProblem(value);
    if (problem === 'depth') {
      return this.fail(field, `Attributes must nest at most ${JSON_DEPTH_MAX} levels of objects and arrays.`);
    }
    if (problem === 'string') return this.fail(field, `Every key and string of attributes ${MALFORMED}`);
    if (Buffer.byteLength(JSON.stringify(value), 'utf8') > ATTRIBUTES_MAX_BYTES) {
      return this.fail(field, 'Attributes must be at most 64 KiB when serialized as JSON.', 'LIMIT_EXCEEDED');
    }
    return value as Prisma.InputJsonObject;
  }

  /** A WhatsApp text message: 1–4096 characters, something visible. */
  messageText(field: FieldPath, value: string): string | Invalid {
    if (this.visibleText(field, value, 'Text') === INVALID) return INVALID;
    if (characters(value) > MESSAGE_TEXT_MAX) {
      return this.fail(
        field,
        `Text must be at most ${MESSAGE_TEXT_MAX} characters long (WhatsApp's limit).`,
        'LIMIT_EXCEEDED',
      );
    }
    return value;
  }

  /** One of Meta's ids (a phone-number id, a WhatsApp Business Account id): 1–32 digits, spaces around trimmed. */
  metaId(field: FieldPath, value: string, what: string): string | Invalid {
    const trimmed = value.trim();
    return /^\d{1,32}$/.test(trimmed) ? trimmed : this.fail(field, `${what} must be 1 to 32 digits, as Meta shows it.`);
  }

  /** A phone number as Meta displays it ("+1 555-000-1111"): digits, spaces, "+", "-", ".", "(", ")"; at most 32 characters. */
  displayPhoneNumber(field: FieldPath, value: string): string | Invalid {
    const trimmed = value.trim();
    return /^\+?[\d\s().-]{1,31}$/.test(trimmed) && /\d/.test(trimmed)
      ? trimmed
      : this.fail(
          field,
          'Display phone number must be a phone number of at most 32 characters (digits, spaces, "+", "-", ".", brackets), e.g. "+1 555-000-1111".',
        );
  }

  /** A credential: `min`–`max` printable ASCII characters, no spaces (copied from Meta's dashboard as is). */
  secret(field: FieldPath, value: string, what: string, min: number, max: number): string | Invalid {
    if (!/^[\x21-\x7e]*$/.test(value)) {
      return this.fail(field, `${what} must be printable ASCII characters without spaces.`);
    }
    if (value.length < min || value.length > max) {
      return this.fail(field, `${what} must be ${min} to ${max} characters long.`);
    }
    return value;
  }

  /** At most `max` items in a list argument. */
  /** A whole number from `min` to `max`. */
  integer(field: FieldPath, value: number, min: number, max: number, what: string): number | Invalid {
    return Number.isSafeInteger(value) && value >= min && value <= max
      ? value
      : this.fail(field, `${what} must be a whole number from ${min} to ${max}.`);
  }

  count<T>(field: FieldPath, values: readonly T[], max: number, what: string): readonly T[] | Invalid {
    if (values.length > max) {
      return this.fail(field, `At most ${max} ${what} per call (got ${values.length}).`, 'LIMIT_EXCEEDED');
    }
    return values;
  }

  /**
   * Looks up which of `globalIds` are ids of `typename` that exist in the viewer's
   * organization: one query for all of them, which locks the rows it finds (`lock`) until
   * the mutation's transaction ends. A wrong type, another organization's id and a missing
   * row all look the same.
   */
  async lookUp(
    typename: LockableType,
    globalIds: Iterable<string>,
    lock: RowLock = 'share',
  ): Promise<Map<string, string>> {
    const raw = new Map<string, string>();
    for (const globalId of globalIds) {
      const id = rawIdOf(typename, globalId);
      if (id) raw.set(globalId, id);
    }
    const found = await this.rows(typename, [...new Set(raw.values())], lock);
    return new Map([...raw].filter(([, id]) => found.has(id)));
  }

  /** Resolves a list argument with a `lookUp` result: NOT_FOUND names each bad item's index. */
  resolved(found: Map<string, string>, typename: string, field: FieldPath, globalIds: readonly string[]): string[] {
    const ids: string[] = [];
    globalIds.forEach((globalId, index) => {
      const id = found.get(globalId);
      if (id) ids.push(id);
      else this.notFound([...field, String(index)], typename, globalId);
    });
    return [...new Set(ids)];
  }

  notFound(field: FieldPath, typename: string, globalId: string): Invalid {
    return this.fail(field, `No ${typename} with the id "${globalId}" exists.`, 'NOT_FOUND');
  }

  /** The raw id of one existing row of `typename` (locked: see lookUp), or a NOT_FOUND error at `field`. */
  async id(
    typename: LockableType,
    field: FieldPath,
    globalId: string,
    lock: RowLock = 'share',
  ): Promise<string | Invalid> {
    const id = (await this.lookUp(typename, [globalId], lock)).get(globalId);
    return id ?? this.notFound(field, typename, globalId);
  }

  /** The raw ids of a list argument of `typename` (duplicates dropped, rows locked), after a size check. */
  async ids(
    typename: LockableType,
    field: FieldPath,
    globalIds: readonly string[],
    lock: RowLock = 'share',
  ): Promise<string[]> {
    if (this.count(field, globalIds, IDS_MAX, 'ids') === INVALID) return [];
    return this.resolved(await this.lookUp(typename, globalIds, lock), typename, field, globalIds);
  }
}
