import { describe, expect, it } from 'vitest';
import { VerdictTable } from '../src/cleaning/verdict-table.js';

// The email rule's per-domain cache: the usual verdict kept by hash, any other with its text.

type Verdict = { readonly correction: string | null };
const USUAL: Verdict = { correction: null };
const fix = (to: string): Verdict => ({ correction: to });

describe('VerdictTable', () => {
  it.each([
    ['acme.com', USUAL],
    ['gmial.com', fix('gmail.com')],
    ['', USUAL],
    ['bücher.de', USUAL],
    ['xn--bcher-kva.de', fix('example.org')],
    ['a', USUAL],
    ['a'.repeat(300), fix('long')],
    ['\u{1F600}.example', USUAL],
  ])('gives back what it was told of %j', (text, verdict) => {
    const table = new VerdictTable<Verdict>(USUAL, 100);
    expect(table.get(text)).toBeUndefined();
    table.set(text, verdict);
    expect(table.get(text)).toBe(verdict);
  });

  it('gives a verdict other than the usual one only to its own text', () => {
    const table = new VerdictTable<Verdict>(USUAL, 100);
    table.set('gmial.com', fix('gmail.com'));
    for (const other of ['gmail.com', 'gmial.co', 'GMIAL.COM', 'gmial.com ', 'mial.com'])
      expect(table.get(other)).toBeUndefined();
  });

  it('keeps every entry while it grows, through collisions of the probe', () => {
    // Eight slots to start: the table doubles many times, and texts share a first slot all along.
    const table = new VerdictTable<Verdict>(USUAL, 100_000, 8);
    const texts = Array.from({ length: 20_000 }, (_, i) => `company-${i}.example`);
    const verdicts = texts.map((_t, i) => (i % 7 === 0 ? fix(`fixed-${i}`) : USUAL));
    texts.forEach((t, i) => table.set(t, verdicts[i] ?? USUAL));
    expect(table.size).toBe(20_000);
    texts.forEach((t, i) => expect(table.get(t)).toBe(verdicts[i]));
    expect(table.get('company-20000.example')).toBeUndefined();
  });

  it('starts over at its limit', () => {
    const table = new VerdictTable<Verdict>(USUAL, 3);
    for (const t of ['a.com', 'b.com', 'c.com']) table.set(t, USUAL);
    expect(table.size).toBe(3);
    table.set('d.com', fix('x'));
    expect(table.size).toBe(1);
    expect(table.get('a.com')).toBeUndefined();
    expect(table.get('d.com')).toEqual(fix('x'));
  });

  it('told again of a text, keeps the newer verdict', () => {
    const table = new VerdictTable<Verdict>(USUAL, 100);
    table.set('acme.com', fix('acme.org'));
    table.set('acme.com', USUAL);
    expect(table.get('acme.com')).toBe(USUAL);
    expect(table.size).toBe(1);
  });
});
