// Seeded random numbers: the same seed gives the same sequence, so generated demo data
// (src/db/seed.ts) and generated test input (test/helpers/fuzz.ts) can be reproduced.
import { itemAt } from './array.js';

/** mulberry32: small, fast, and good enough for demo data. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => itemAt(items, Math.floor(next() * items.length));
  const chance = (probability: number) => next() < probability;
  const sample = <T>(items: readonly T[], count: number): T[] => {
    const pool = [...items];
    const chosen: T[] = [];
    while (chosen.length < count && pool.length > 0) chosen.push(...pool.splice(Math.floor(next() * pool.length), 1));
    return chosen;
  };
  const uuid = () => {
    const digits = Array.from({ length: 32 }, () => Math.floor(next() * 16));
    // Version 4, variant 10xx (RFC 9562).
    digits[12] = 4;
    digits[16] = (itemAt(digits, 16) & 0x3) | 0x8;
    const hex = digits.map((digit) => digit.toString(16));
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  };
  return { next, int, pick, chance, sample, uuid };
}
export type SeededRandom = ReturnType<typeof seededRandom>;
