import examples from 'libphonenumber-js/examples.mobile.json';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { legacyCustomerLines } from '../bench/legacy-customers.js';
import { phoneCorpus } from '../bench/phone-corpus.js';
import { formatPhone } from '../src/cleaning/phone.js';

// The phone rule on libphonenumber's own example numbers, one per region, in the renderings people type
// (bench/phone-corpus.ts prints the shares): what the rule gets right stays right, and no number with a digit
// dropped or added passes as valid.
describe("the phone rule on libphonenumber's example numbers", () => {
  const { results, broken } = phoneCorpus();
  it.each(results.map((r) => [r.rendering, r] as const))('%s', (_rendering, r) => {
    expect(r.cases).toBeGreaterThan(200);
    // Two regions (Ascension, Tristan da Cunha) have no ISO 3166 code, so a national number there has no
    // country to be read in; every other miss would be a regression.
    expect(r.cases - r.right).toBeLessThanOrEqual(2);
  });
  it('never passes a number with a digit dropped or added as valid', () => {
    expect(broken.cases).toBeGreaterThan(400);
    expect(broken.passed).toBe(0);
  });
});

// The rule takes an invalid number's reason from the parse it made (lengthProblem) where libphonenumber-js's
// validatePhoneNumberLength parses the text again: the reasons must be the same, on numbers of every region,
// whole, cut short and made too long, written in every rendering and read under several default countries.
describe('the reason of an invalid number, without a second parse', () => {
  it('is what validatePhoneNumberLength gives, in every region', () => {
    let compared = 0;
    const reasons = new Set<string>();
    for (const [region, nsn] of Object.entries(examples as Record<string, string>)) {
      const parsed = parsePhoneNumberFromString(nsn, region as CountryCode);
      if (!parsed) continue;
      const national = parsed.formatNational();
      const texts = [
        parsed.formatInternational(),
        national,
        national.replace(/\s+/g, '-'),
        `+${parsed.countryCallingCode}${nsn.slice(0, -2)}`,
        `+${parsed.countryCallingCode}${nsn}123`,
        `${national} 4`,
        national.slice(0, -3),
        `(${nsn.slice(0, 3)}) ${nsn.slice(3)}99`,
      ];
      for (const text of texts)
        for (const country of [region, 'US', 'GB', 'DE', undefined] as (CountryCode | undefined)[]) {
          const once = formatPhone(text, country, 'e164');
          const twice = formatPhone(text, country, 'e164', 'invalid', true);
          expect({ text, country, once }).toEqual({ text, country, once: twice });
          for (const issue of once.issues ?? []) reasons.add(issue.code);
          compared += 1;
        }
    }
    expect(compared).toBeGreaterThan(9000);
    // Each reason the second parse could give came up, so the comparison covered them.
    expect([...reasons]).toEqual(expect.arrayContaining(['too_short', 'too_long', 'invalid_phone']));
  });
});

describe('the reason of an invalid number, on phones as legacy CRMs hold them', () => {
  it('is what validatePhoneNumberLength gives, read as US or British numbers', () => {
    let invalid = 0;
    let compared = 0;
    for (const line of legacyCustomerLines(6000, 5)) {
      const text = line.trimEnd().split('\t')[3] ?? '\\N';
      if (text === '\\N') continue;
      for (const country of ['US', 'GB'] as CountryCode[]) {
        const once = formatPhone(text, country, 'e164');
        expect({ text, country, once }).toEqual({
          text,
          country,
          once: formatPhone(text, country, 'e164', 'invalid', true),
        });
        if (once.issues?.some((i) => i.kind === 'invalid')) invalid += 1;
        compared += 1;
      }
    }
    expect(invalid).toBeGreaterThan(compared / 10);
  });
});
