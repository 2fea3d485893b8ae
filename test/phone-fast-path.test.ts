import type { CountryCode } from 'libphonenumber-js';
import { Metadata } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { nanpShape } from '../src/cleaning/nanp.js';
import { formatPhone } from '../src/cleaning/phone.js';
import '../src/mapping/compile.js';
import { findStep } from '../src/mapping/steps.js';

const metadata = new Metadata();
const NANP = (
  metadata as unknown as { getCountryCodesForCallingCode(code: string): CountryCode[] }
).getCountryCodesForCallingCode('1');

/** The top-level alternatives of a regular expression's source. */
function alternatives(pattern: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i += 1;
    else if (c === '(' || c === '[') depth += 1;
    else if (c === ')' || c === ']') depth -= 1;
    else if (c === '|' && depth === 0) {
      parts.push(pattern.slice(start, i));
      start = i + 1;
    }
  }
  return [...parts, pattern.slice(start)];
}

const strings = (x: unknown): string[] => (typeof x === 'string' ? [x] : Array.isArray(x) ? x.flatMap(strings) : []);

describe('NANP fast path', () => {
  it('rests on a property of the installed metadata: every NANP validity pattern ends in four or more free digits', () => {
    expect(NANP).toContain('US');
    expect(NANP.length).toBeGreaterThan(20);
    for (const country of NANP) {
      metadata.selectNumberingPlan(country);
      const plan = metadata.numberingPlan as unknown as {
        nationalNumberPattern(): string;
        types(): unknown;
        leadingDigits(): string | undefined;
      };
      const patterns = [plan.nationalNumberPattern(), ...strings(plan.types())].filter((p) => p !== '');
      for (const pattern of patterns) {
        for (const alternative of alternatives(pattern)) {
          // `…\d{6}` or `…\d{4,5}`: the verdict of a 10-digit number is decided by its first six digits.
          const free = /\\d\{(\d+)(?:,\d+)?\}$/.exec(alternative);
          expect({ country, alternative, free: Number(free?.[1] ?? 0) >= 4 }).toEqual({
            country,
            alternative,
            free: true,
          });
        }
      }
      // Leading digits that pick the country are plain prefixes of at most six digits (8001|8[024]9).
      for (const prefix of alternatives(String(plan.leadingDigits() ?? ''))) {
        const positions = prefix.match(/\d|\[[\d-]+\]/g) ?? [];
        expect({ country, prefix, plain: positions.join('') === prefix && positions.length <= 6 }).toEqual({
          country,
          prefix,
          plain: true,
        });
      }
    }
  });

  it.each([
    ['(415) 555-2671', '4155552671', ''],
    ['(415)555-2671', '4155552671', ''],
    ['415.555.2671', '4155552671', ''],
    ['4155552671', '4155552671', ''],
    [' +1 415 555 2671 ', '4155552671', '+1'],
    ['1-415-555-2671', '4155552671', '1'],
    ['+1(415)555-2671', '4155552671', '+1'],
  ])('recognises %j', (text, national, prefix) => {
    expect(nanpShape(text)).toEqual({ national, prefix });
  });

  it.each([
    '415-555-2671 x12',
    '+44 20 7946 0958',
    '555-0100',
    '(041) 555-2671',
    '415-055-2671',
    'tel 415 555 2671',
    '415--555-2671',
    '+2 415 555 2671',
  ])('leaves %j to libphonenumber-js', (text) => expect(nanpShape(text)).toBeUndefined());

  it('agrees with libphonenumber-js on random numbers in every shape and NANP default country', () => {
    const shapes = [
      (a: string, b: string, c: string) => `(${a}) ${b}-${c}`,
      (a: string, b: string, c: string) => `${a}.${b}.${c}`,
      (a: string, b: string, c: string) => `${a}${b}${c}`,
      (a: string, b: string, c: string) => `+1 ${a} ${b} ${c}`,
      (a: string, b: string, c: string) => `1-${a}-${b}-${c}`,
      (a: string, b: string, c: string) => `+1${a}${b}${c}`,
    ];
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const definition = findStep('phone');
    if (!definition) throw new Error('no phone rule');
    for (const country of ['US', 'CA', 'PR', 'JM', 'AI'] as CountryCode[]) {
      const run = definition.create({ country });
      for (let i = 0; i < 4000; i++) {
        // Area codes and exchanges from a small set as well, so cached verdicts are reused and checked.
        const a = String(i % 2 ? 200 + random(800) : [212, 264, 416, 787, 876, 809][random(6)]);
        const b = String(i % 3 ? 200 + random(800) : [555, 234, 876][random(3)]);
        const c = String(random(10000)).padStart(4, '0');
        const text = shapes[random(shapes.length)](a, b, c);
        const fast = run(text);
        const slow = formatPhone(text, country, 'e164');
        expect({ text, country, value: fast.value, issues: fast.issues }).toEqual({
          text,
          country,
          value: slow.value,
          issues: slow.issues,
        });
      }
    }
  });
});
