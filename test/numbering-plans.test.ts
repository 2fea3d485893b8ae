import examples from 'libphonenumber-js/examples.mobile.json';
import { getCountries, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { readPlainNumber } from '../src/cleaning/numbering-plans.js';
import '../src/mapping/compile.js';
import { findStep } from '../src/mapping/steps.js';
import { expectAsLibphonenumber, type PhoneFormat } from './helpers/phones.js';
import { turnEventLoopAfterEachTest } from './helpers/event-loop.js';

// numbering-plans.ts re-traces libphonenumber-js's parse of a plain number with expressions compiled once. It
// must find what libphonenumber-js finds — calling code, national number, country, validity — wherever it
// answers at all, on numbers of every region in the renderings people type, cut, lengthened, with a digit
// changed, and read under defaults whose national prefixes work differently (a transform rule in AR and MX, a
// kept leading zero in IT, a trunk 8 in RU, a carrier code in BR and CO, shared calling codes in GB and US).
const DEFAULTS: (CountryCode | undefined)[] = [
  undefined,
  'US',
  'CA',
  'GB',
  'DE',
  'FR',
  'IT',
  'RU',
  'AR',
  'MX',
  'BR',
  'CO',
  'AU',
  'IN',
  'JP',
];

let seed = 11;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};

/** A region's example number written the ways legacy CRMs hold it, and broken the ways typing breaks it. */
function renderings(region: CountryCode, nsn: string): string[] {
  const parsed = parsePhoneNumberFromString(nsn, region);
  if (!parsed) return [];
  const cc = parsed.countryCallingCode;
  const national = parsed.formatNational();
  const changed = (text: string) => {
    const positions = [...text].flatMap((c, i) => (c >= '0' && c <= '9' ? [i] : []));
    const at = positions[random(positions.length)] ?? 0;
    return `${text.slice(0, at)}${random(10)}${text.slice(at + 1)}`;
  };
  return [
    parsed.number,
    parsed.formatInternational(),
    national,
    national.replace(/\s+/g, '-'),
    national.replace(/\s+/g, '.'),
    `+${cc} (0)${nsn}`,
    `${cc}${nsn}`,
    `${cc} ${nsn}`,
    `00${cc}${nsn}`,
    `011 ${cc} ${nsn}`,
    `0${nsn}`,
    `1${nsn}`,
    `8${nsn}`,
    `(${nsn.slice(0, 3)}) ${nsn.slice(3)}`,
    `+${cc}${nsn.slice(0, -2)}`,
    `+${cc}${nsn}12`,
    national.slice(0, -3),
    `${national} 4`,
    changed(parsed.formatInternational()),
    changed(national),
    changed(`+${cc}${nsn}`),
    ` ( +${cc} ${nsn} ) `,
  ];
}

/** Digits in random groups, with or without a plus: the shapes no example takes. */
function randomNumber(): string {
  const length = 3 + random(16);
  let text = random(3) === 0 ? '+' : '';
  for (let i = 0; i < length; i++) text += `${random(10)}${[' ', '', '', '-', '.'][random(5)]}`;
  return text.trim();
}

/**
 * The phone rule under each default gives each text the value and reason formatPhone (libphonenumber-js alone)
 * gives, in E.164, a format, or as the part `format` names.
 */
function expectRuleAsLibphonenumber(
  defaults: (CountryCode | undefined)[],
  texts: string[],
  format: PhoneFormat = 'e164',
) {
  for (const country of defaults) {
    const run = findStep('phone')?.create({ ...(country ? { country } : {}), format });
    if (!run) throw new Error('no phone rule');
    for (const text of texts) expectAsLibphonenumber(run, text, country, format);
  }
}

// Each test is CPU-bound for seconds: the runner's messages are read between them.
turnEventLoopAfterEachTest();

describe('plain numbers read with compiled numbering plans', () => {
  const texts = [
    ...Object.entries(examples as Record<string, string>).flatMap(([region, nsn]) =>
      renderings(region as CountryCode, nsn),
    ),
    ...Array.from({ length: 3000 }, randomNumber),
  ];

  it('find the number libphonenumber-js finds, and judge it the same', () => {
    let answered = 0;
    let valid = 0;
    let compared = 0;
    for (const text of texts)
      for (const country of DEFAULTS) {
        compared += 1;
        const ours = readPlainNumber(text, country);
        if (!ours) continue;
        answered += 1;
        const theirs = parsePhoneNumberFromString(text, country ? { defaultCountry: country } : undefined);
        const expected = theirs && {
          callingCode: theirs.countryCallingCode,
          national: theirs.nationalNumber,
          country: theirs.country,
          valid: theirs.isValid(),
        };
        const got = {
          callingCode: ours.callingCode,
          national: ours.national,
          country: ours.country,
          valid: ours.valid,
        };
        expect({ text, country, got }).toEqual({ text, country, got: expected });
        if (ours.valid) valid += 1;
      }
    // Most texts are answered here, and enough of them valid and invalid for the comparison to mean something.
    expect(compared).toBeGreaterThan(100_000);
    expect(answered).toBeGreaterThan(compared * 0.7);
    expect(valid).toBeGreaterThan(answered / 5);
    expect(answered - valid).toBeGreaterThan(answered / 5);
  });

  it('give the phone rule the value and reason libphonenumber-js alone gives', () => {
    expectRuleAsLibphonenumber(DEFAULTS, texts);
  });

  it.each(['international', 'national', 'country', 'calling_code', 'national_number', 'extension'] as const)(
    'give the phone rule the %s libphonenumber-js alone gives',
    (format) => expectRuleAsLibphonenumber([undefined, 'US', 'GB', 'DE', 'AR', 'BR', 'CO', 'MX'], texts, format),
  );

  it('leave to libphonenumber-js what they do not follow', () => {
    for (const [text, country] of [
      ['415-555-2671 x12', 'US'],
      ['+800 1234 5678', undefined],
      ['011 44 20 7946 0958', 'US'],
      ['0044 20 7946 0958', 'GB'],
      ['+0 123 456', undefined],
      ['12', 'US'],
      ['415\t555 2671', 'US'],
      ['２０７９４６０９５８', 'GB'],
      ['020 7946 0958', undefined],
      ['043-797-5229', 'TF'],
      ['043-797-5229', 'AQ'],
    ] as [string, CountryCode | undefined][])
      expect({ text, read: readPlainNumber(text, country) }).toEqual({ text, read: undefined });
  });

  it('cover every region libphonenumber-js knows', () => {
    const regions = new Set(Object.keys(examples));
    expect(getCountries().filter((c) => !regions.has(c))).toEqual([]);
  });
});

// North America shares +1 among 25 countries, told apart by area code: the case the rule meets most.
describe('North American numbers read with compiled numbering plans', () => {
  const NANP: (CountryCode | undefined)[] = [undefined, 'US', 'CA', 'JM', 'BS', 'PR', 'AI'];

  it('are valid exactly when libphonenumber-js says so, in every area code and for every default', () => {
    let valid = 0;
    let compared = 0;
    for (let area = 200; area <= 999; area++)
      for (let i = 0; i < 12; i++) {
        // Exchanges of every kind, the reserved ones (555, N11) and those Barbados and Jamaica single out among them.
        const exchange = i < 2 ? [555, 211, 521, 606, 911][random(5)] : 200 + random(800);
        const national = `${area}${exchange}${String(random(10000)).padStart(4, '0')}`;
        for (const country of NANP) {
          const text = country ? national : `+1${national}`;
          const theirs = parsePhoneNumberFromString(text, country ? { defaultCountry: country } : undefined);
          const ours = readPlainNumber(text, country);
          const got = ours && { national: ours.national, country: ours.country, valid: ours.valid };
          const expected = theirs && {
            national: theirs.nationalNumber,
            country: theirs.country,
            valid: theirs.isValid(),
          };
          expect({ text, country, got }).toEqual({ text, country, got: expected });
          if (expected?.valid) valid += 1;
          compared += 1;
        }
      }
    // Enough of both verdicts for the comparison to mean something.
    expect(valid).toBeGreaterThan(compared / 5);
    expect(compared - valid).toBeGreaterThan(compared / 5);
  });

  it('give the phone rule what libphonenumber-js gives, in the shapes people type them', () => {
    const shapes = [
      (a: string, b: string, c: string) => `(${a}) ${b}-${c}`,
      (a: string, b: string, c: string) => `${a}.${b}.${c}`,
      (a: string, b: string, c: string) => `${a}${b}${c}`,
      (a: string, b: string, c: string) => `+1 ${a} ${b} ${c}`,
      (a: string, b: string, c: string) => `1-${a}-${b}-${c}`,
      (a: string, b: string, c: string) => `+1${a}${b}${c}`,
      (_a: string, b: string, c: string) => `${b}-${c}`,
    ];
    const texts = Array.from({ length: 3000 }, (_, i) => {
      const a = String(i % 2 ? 200 + random(800) : [212, 264, 416, 787, 876, 809, 246][random(7)]);
      const b = String(i % 3 ? 200 + random(800) : [555, 234, 876, 521, 522, 606][random(6)]);
      const c = String(random(10000)).padStart(4, '0');
      return shapes[random(shapes.length)](a, b, c);
    });
    expectRuleAsLibphonenumber(NANP, texts);
  });
});
