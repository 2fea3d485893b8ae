import examples from 'libphonenumber-js/examples.mobile.json';
import { parsePhoneNumberFromString as parseWithMinMetadata } from 'libphonenumber-js';
import { Metadata, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import '../src/mapping/compile.js';
import { findStep } from '../src/mapping/steps.js';

/**
 * The phone rule against a corpus nobody on the project wrote: libphonenumber's own example mobile number of
 * each of its 245 regions, in the renderings people type (national and international formats, dots, dashes,
 * brackets, the region's international dialling prefix, padding, no-break spaces, full-width and Arabic-Indic
 * digits), each cleaned with its region as the default country. Right: the E.164 number. And the same numbers with a digit dropped or
 * added, which must never pass as valid.
 */

/** A rendering of a parsed example: the text people would type. */
type Rendering = (e164: string, national: string, international: string, idd: string) => string;

const FULL_WIDTH = (text: string) => text.replace(/\d/g, (d) => String.fromCodePoint(0xff10 + Number(d)));
const ARABIC_INDIC = (text: string) => text.replace(/\d/g, (d) => String.fromCodePoint(0x0660 + Number(d)));

export const RENDERINGS: Record<string, Rendering> = {
  e164: (e164) => e164,
  international: (_e, _n, international) => international,
  national: (_e, national) => national,
  'national, dots': (_e, national) => national.replace(/[\s-]+/g, '.'),
  'national, dashes': (_e, national) => national.replace(/\s+/g, '-'),
  // The region's own international dialling prefix for the +: 00 in most, 011 in North America, 0011 in Australia.
  'international, dialling prefix': (_e, _n, international, idd) => international.replace(/^\+/, idd),
  'international, brackets': (_e, _n, international) => international.replace(/^(\+\d+) (\d+)/, '$1 ($2)'),
  'padded, no-break spaces': (_e, _n, international) => `  ${international.replace(/ /g, '\u00a0')}\t`,
  'full-width digits': (_e, _n, international) => FULL_WIDTH(international),
  'Arabic-Indic digits': (_e, national) => ARABIC_INDIC(national),
};

const metadata = new Metadata() as unknown as {
  selectNumberingPlan(region: CountryCode): void;
  numberingPlan: { IDDPrefix(): string };
};

/** The digits a region dials before a country code; undefined where the metadata gives several (a pattern). */
function dialling(region: CountryCode): string | undefined {
  metadata.selectNumberingPlan(region);
  const idd = metadata.numberingPlan.IDDPrefix();
  return /^\d+$/.test(idd) ? idd : undefined;
}

export interface CorpusResult {
  readonly rendering: string;
  readonly cases: number;
  readonly right: number;
}

/** Every region's example in every rendering through the rule; then the broken numbers. */
export function phoneCorpus(): {
  results: CorpusResult[];
  broken: { cases: number; passed: number; passedMin: number };
} {
  const phone = findStep('phone');
  if (!phone) throw new Error('no phone rule');
  const results = new Map<string, { cases: number; right: number }>();
  let brokenCases = 0;
  let brokenPassed = 0;
  /** What the earlier rule set (libphonenumber-js's default, length-only metadata) let through. */
  let brokenPassedMin = 0;
  for (const [region, nsn] of Object.entries(examples as Record<string, string>)) {
    const parsed = parsePhoneNumberFromString(nsn, region as CountryCode);
    if (!parsed?.isValid()) continue;
    const run = phone.create({ country: region });
    const e164 = parsed.number;
    const idd = dialling(region as CountryCode);
    for (const [name, render] of Object.entries(RENDERINGS)) {
      if (name === 'international, dialling prefix' && idd === undefined) continue;
      const text = render(e164, parsed.formatNational(), parsed.formatInternational(), idd ?? '');
      const result = run(text);
      const tally = results.get(name) ?? { cases: 0, right: 0 };
      tally.cases += 1;
      if (result.value === e164 && !result.issues?.some((i) => i.kind === 'invalid')) tally.right += 1;
      results.set(name, tally);
    }
    for (const broken of [`+${parsed.countryCallingCode}${nsn.slice(0, -1)}`, `+${parsed.countryCallingCode}${nsn}0`]) {
      // Some regions take numbers of several lengths: a broken number that libphonenumber calls valid is not one.
      if (parsePhoneNumberFromString(broken)?.isValid()) continue;
      brokenCases += 1;
      const result = run(broken);
      if (!result.issues?.some((i) => i.kind === 'invalid')) brokenPassed += 1;
      if (parseWithMinMetadata(broken)?.isValid()) brokenPassedMin += 1;
    }
  }
  return {
    results: [...results].map(([rendering, t]) => ({ rendering, ...t })),
    broken: { cases: brokenCases, passed: brokenPassed, passedMin: brokenPassedMin },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, broken } = phoneCorpus();
  console.log("phone rule on libphonenumber's example mobile numbers (one per region), each rendering:");
  let cases = 0;
  let right = 0;
  for (const r of results) {
    cases += r.cases;
    right += r.right;
    console.log(
      `  ${r.rendering.padEnd(32)} ${String(r.right).padStart(4)} of ${r.cases}  ${((100 * r.right) / r.cases).toFixed(1)} %`,
    );
  }
  console.log(
    `  ${'all'.padEnd(32)} ${String(right).padStart(4)} of ${cases}  ${((100 * right) / cases).toFixed(1)} %`,
  );
  console.log(
    `broken numbers (a digit dropped or added) passed as valid: ${broken.passed} of ${broken.cases}; with the earlier rule set (libphonenumber-js min metadata): ${broken.passedMin}`,
  );
}
