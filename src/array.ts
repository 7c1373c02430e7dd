// Reading an array at an index the code knows to be in range (tsconfig's
// noUncheckedIndexedAccess types every `items[i]` as possibly undefined).

/** `items[index]`, for an index known to be in range: a wrong one fails here, not later as undefined. */
export function itemAt<T>(items: readonly T[], index: number): T {
  if (index < 0 || index >= items.length) throw new RangeError(`No item at index ${index} of ${items.length}`);
  return items[index] as T;
}
