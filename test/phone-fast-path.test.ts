import type { CountryCode } from 'libphonenumber-js/max';
import { Metadata } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { alternatives, decidedBySix, endsFree, nanpPatterns, nanpShape, nanpValid } from '../src/cleaning/nanp.js';
import { formatPhone } from '../src/cleaning/phone.js';
import '../src/mapping/compile.js';
import { findStep } from '../src/mapping/steps.js';

const metadata = new Metadata();
const NANP = (
  metadata as unknown as { getCountryCodesForCallingCode(code: string): CountryCode[] }
).getCountryCodesForCallingCode('1');

describe('NANP fast path', () => {
  it('rests on a property of the installed metadata: NANP validity patterns end in four or more free digits, the few others start with digits of their own', () => {
    expect(NANP).toContain('US');
    expect(NANP.length).toBeGreaterThan(20);
    const patterns = nanpPatterns();
    expect(patterns.length).toBeGreaterThan(100);
    // `…\d{6}` or `…\d{4,5}`: the verdict of a 10-digit number is decided by its first six digits. A pattern
    // that is not so (Barbados 246 52…) names its area code literally, and numbers starting so are each parsed.
    const undecided = patterns.filter((p) => !endsFree(p.alternative));
    expect(undecided.length).toBeLessThan(10);
    for (const { country, alternative } of undecided) {
      const prefix = /^\d*/.exec(alternative)?.[0] ?? '';
      expect({ country, alternative, literal: prefix.length >= 3 }).toEqual({ country, alternative, literal: true });
      expect(decidedBySix(`${prefix}0000000000`.slice(0, 10))).toBe(false);
    }
    expect(decidedBySix('4155552671')).toBe(true);
    for (const country of NANP) {
      metadata.selectNumberingPlan(country);
      const plan = metadata.numberingPlan as unknown as { leadingDigits(): string | undefined };
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

  it('takes a number for valid exactly when libphonenumber-js does, in every area code and for every default', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let valid = 0;
    let compared = 0;
    for (let area = 200; area <= 999; area++)
      for (let i = 0; i < 12; i++) {
        // Exchanges of every kind, the reserved ones (555, N11) and those Barbados and Jamaica single out among them.
        const exchange = i < 2 ? [555, 211, 521, 606, 911][random(5)] : 200 + random(800);
        const national = `${area}${exchange}${String(random(10000)).padStart(4, '0')}`;
        for (const country of [undefined, 'US', 'CA', 'JM', 'BS'] as (CountryCode | undefined)[]) {
          const text = country ? national : `+1${national}`;
          const theirs = parsePhoneNumberFromString(text, country ? { defaultCountry: country } : undefined);
          const expected = theirs?.isValid() === true;
          expect({ text, country, valid: nanpValid(national, country) }).toEqual({ text, country, valid: expected });
          if (expected) valid += 1;
          compared += 1;
        }
      }
    // Enough of both verdicts for the comparison to mean something.
    expect(valid).toBeGreaterThan(compared / 5);
    expect(compared - valid).toBeGreaterThan(compared / 5);
  });

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
        const a = String(i % 2 ? 200 + random(800) : [212, 264, 416, 787, 876, 809, 246][random(7)]);
        const b = String(i % 3 ? 200 + random(800) : [555, 234, 876, 521, 522, 606][random(6)]);
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
