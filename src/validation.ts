// The validation rules of the contract (../shared/API.md, "Validation that every client
// can rely on"), as a collector: a mutation checks every field, then fails once with every
// problem it found, each at its input path.
import type { Prisma } from './generated/prisma/client.js';
import { type UserError, type UserErrorCode, UserErrors } from './errors.js';
import { rawIdOf } from './schema/global-id.js';

export type FieldPath = string[];

export const NAME_MAX = 255;
export const DESCRIPTION_MAX = 2_000;
export const MESSAGE_TEXT_MAX = 4_096;
export const ATTRIBUTES_MAX_BYTES = 64 * 1024;
/** Ids in one list argument (listIds, tagIds, contactIds of one call). */
export const IDS_MAX = 1_000;

const E164 = /^\+\d{8,15}$/;

/** Characters as a person counts them (code points), not UTF-16 units. */
function characters(value: string): number {
  return [...value].length;
}

interface Lookup {
  findMany(args: { where: { id: { in: string[] } }; select: { id: true } }): Promise<{ id: string }[]>;
}

export class Validator {
  readonly errors: UserError[] = [];

  fail(field: FieldPath, message: string, code: UserErrorCode = 'INVALID'): undefined {
    this.errors.push({ field, message, code });
    return undefined;
  }

  /** Throws the collected errors, if any (the mutation's transaction rolls back). */
  check(): void {
    if (this.errors.length > 0) throw new UserErrors(this.errors);
  }

  /** A name or label: trimmed, 1–255 characters. */
  name(field: FieldPath, value: string, what = 'Name'): string | undefined {
    const trimmed = value.trim();
    if (trimmed === '') return this.fail(field, `${what} must not be blank.`);
    if (characters(trimmed) > NAME_MAX) return this.fail(field, `${what} must be at most ${NAME_MAX} characters long.`);
    return trimmed;
  }

  description(field: FieldPath, value: string | null): string | null | undefined {
    if (value === null) return null;
    const trimmed = value.trim();
    if (characters(trimmed) > DESCRIPTION_MAX) {
      return this.fail(field, `Description must be at most ${DESCRIPTION_MAX} characters long.`);
    }
    return trimmed === '' ? null : trimmed;
  }

  /** E.164 after removing spaces, dashes and brackets: "+1 (415) 555-0123" → "+14155550123". */
  phone(field: FieldPath, value: string): string | undefined {
    const normalized = value.replace(/[\s\-()[\]]/g, '');
    if (!E164.test(normalized)) {
      return this.fail(field, 'Phone must be in E.164 format: "+" followed by 8 to 15 digits, e.g. +14155550123.');
    }
    return normalized;
  }

  /** A JSON object of at most 64 KiB, serialized. */
  attributes(field: FieldPath, value: unknown): Prisma.InputJsonObject | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return this.fail(field, 'Attributes must be a JSON object, e.g. {"city": "Lisbon"}.');
    }
    if (Buffer.byteLength(JSON.stringify(value), 'utf8') > ATTRIBUTES_MAX_BYTES) {
      return this.fail(field, 'Attributes must be at most 64 KiB when serialized as JSON.', 'LIMIT_EXCEEDED');
    }
    return value as Prisma.InputJsonObject;
  }

  /** A WhatsApp text message: 1–4096 characters, not only whitespace. */
  messageText(field: FieldPath, value: string): string | undefined {
    if (value.trim() === '') return this.fail(field, 'Text must not be blank.');
    if (characters(value) > MESSAGE_TEXT_MAX) {
      return this.fail(field, `Text must be at most ${MESSAGE_TEXT_MAX} characters long (WhatsApp's limit).`, 'LIMIT_EXCEEDED');
    }
    return value;
  }

  /** At most `max` items in a list argument. */
  count<T>(field: FieldPath, values: readonly T[], max: number, what: string): readonly T[] | undefined {
    if (values.length > max) {
      return this.fail(field, `At most ${max} ${what} per call (got ${values.length}).`, 'LIMIT_EXCEEDED');
    }
    return values;
  }

  /**
   * Looks up which of `globalIds` are ids of `typename` that exist in the viewer's
   * organization (through the tenant-scoped client): one query for all of them.
   * A wrong type, another organization's id and a missing row all look the same.
   */
  async lookUp(lookup: Lookup, typename: string, globalIds: Iterable<string>): Promise<Map<string, string>> {
    const raw = new Map<string, string>();
    for (const globalId of globalIds) {
      const id = rawIdOf(typename, globalId);
      if (id) raw.set(globalId, id);
    }
    const ids = [...new Set(raw.values())];
    const found = new Set(
      ids.length > 0 ? (await lookup.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((row) => row.id) : [],
    );
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

  notFound(field: FieldPath, typename: string, globalId: string): undefined {
    return this.fail(field, `No ${typename} with the id "${globalId}" exists.`, 'NOT_FOUND');
  }

  /** The raw id of one existing row of `typename`, or a NOT_FOUND error at `field`. */
  async id(lookup: Lookup, typename: string, field: FieldPath, globalId: string): Promise<string | undefined> {
    const id = (await this.lookUp(lookup, typename, [globalId])).get(globalId);
    return id ?? this.notFound(field, typename, globalId);
  }

  /** The raw ids of a list argument of `typename` (duplicates dropped), after a size check. */
  async ids(lookup: Lookup, typename: string, field: FieldPath, globalIds: readonly string[]): Promise<string[]> {
    if (!this.count(field, globalIds, IDS_MAX, 'ids')) return [];
    return this.resolved(await this.lookUp(lookup, typename, globalIds), typename, field, globalIds);
  }
}
