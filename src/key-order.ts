import type { Value } from './values.js';

/**
 * Compares two strings by Unicode code point — the order UTF-8 bytes sort in, which is what connectors
 * deliver text keys in. JavaScript's `<` compares UTF-16 units instead, and the two disagree only when one
 * side is a surrogate (U+D800–DFFF, half of a character above U+FFFF) and the other is U+E000–FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) return fixup(x) - fixup(y);
    return x - y;
  }
  return a.length - b.length;
}

/** Moves surrogates above U+E000–FFFF, so UTF-16 units compare in code point order. */
const fixup = (unit: number): number => (unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);

/** Key values in the contract's order: NULL, then numbers by value, then text by code point. */
export function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const numA = typeof a === 'number' || typeof a === 'bigint';
  const numB = typeof b === 'number' || typeof b === 'bigint';
  if (numA && numB) return a < b ? -1 : a > b ? 1 : 0;
  if (numA !== numB) return numA ? -1 : 1;
  return compareCodePoints(String(a), String(b));
}

export function compareKeys(a: readonly Value[], b: readonly Value[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i] ?? null, b[i] ?? null);
    if (c !== 0) return c;
  }
  return 0;
}
