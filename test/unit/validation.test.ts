// The Validator's rules on their own (src/validation.ts): each returns the value it checked
// or INVALID with its error recorded, and `valid` fails once with every error, in order.
// Rules that look rows up (id, ids) are proven on a database by the mutation tests.
import { describe, expect, it } from 'vitest';
import { UserErrors } from '../../src/errors.js';
import { INVALID, Validator } from '../../src/validation.js';

/** A Validator for the rules that read no rows: looking one up is a mistake of the test. */
function validator(): Validator {
  return new Validator(async () => {
    throw new Error('this test looks no rows up');
  });
}

describe('Validator', () => {
  it('hands back the checked values (trimmed, normalized) when every rule passed', () => {
    const v = validator();
    const values = v.valid({
      name: v.name(['input', 'name'], '  Ana Costa '),
      phone: v.phone(['input', 'phone'], '+1 (415) 555-0123'),
      description: v.description(['input', 'description'], '   '),
      omitted: undefined,
    });
    expect(values).toEqual({ name: 'Ana Costa', phone: '+14155550123', description: null, omitted: undefined });
    expect(v.errors).toEqual([]);
  });

  it('answers INVALID for a refused value and records why, at its path', () => {
    const v = validator();
    expect(v.name(['input', 'name'], '\u200b ')).toBe(INVALID);
    expect(v.errors).toEqual([
      {
        field: ['input', 'name'],
        message: 'Name must not be blank (or only invisible characters).',
        code: 'INVALID',
      },
    ]);
  });

  it('throws every problem at once from valid(), in the order the rules ran', () => {
    const v = validator();
    let thrown: unknown;
    try {
      v.valid({
        name: v.name(['input', 'name'], ''),
        phone: v.phone(['input', 'phone'], '12'),
        text: v.messageText(['input', 'text'], 'x'.repeat(4_097)),
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UserErrors);
    expect((thrown as UserErrors).errors.map(({ field, code }) => ({ field, code }))).toEqual([
      { field: ['input', 'name'], code: 'INVALID' },
      { field: ['input', 'phone'], code: 'INVALID' },
      { field: ['input', 'text'], code: 'LIMIT_EXCEEDED' },
    ]);
  });

  it('fails valid() on an error recorded earlier, even when the values given to it passed', () => {
    const v = validator();
    v.count(['input', 'ids'], ['a', 'b', 'c'], 2, 'ids');
    expect(() => v.valid({ name: v.name(['input', 'name'], 'Fine') })).toThrow(UserErrors);
  });
});
