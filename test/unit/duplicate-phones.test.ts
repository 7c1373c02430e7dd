// Duplicate detection of a createContacts batch on its own (duplicatePhones in
// src/schema/contact-mutations.ts): which row first has each phone, which rows repeat one.
import { describe, expect, it } from 'vitest';
import { duplicatePhones } from '../../src/schema/contact-mutations.js';
import { INVALID } from '../../src/validation.js';

describe('duplicatePhones', () => {
  it('finds nothing to report in a batch of distinct phones', () => {
    const { first, repeats } = duplicatePhones(['+14155550100', '+14155550101']);
    expect([...first]).toEqual([
      ['+14155550100', 0],
      ['+14155550101', 1],
    ]);
    expect(repeats).toEqual([]);
  });

  it('names every later row that repeats a phone, with the index of the first row that has it', () => {
    const { first, repeats } = duplicatePhones(['+111111111', '+222222222', '+111111111', '+222222222', '+111111111']);
    expect([...first]).toEqual([
      ['+111111111', 0],
      ['+222222222', 1],
    ]);
    expect(repeats).toEqual([
      { index: 2, earlier: 0 },
      { index: 3, earlier: 1 },
      { index: 4, earlier: 0 },
    ]);
  });

  it('skips rows that failed validation, so a phone first given after one keeps its own index', () => {
    const { first, repeats } = duplicatePhones([INVALID, '+333333333', INVALID, '+333333333']);
    expect([...first]).toEqual([['+333333333', 1]]);
    expect(repeats).toEqual([{ index: 3, earlier: 1 }]);
  });

  it('answers an empty batch with nothing', () => {
    expect(duplicatePhones([])).toEqual({ first: new Map(), repeats: [] });
  });
});
