import { getCountryCallingCode, isSupportedCountry, Metadata, type CountryCode } from 'libphonenumber-js/max';

/**
 * A fast path for North American (NANP, +1) numbers in the shapes people type them — (415) 555-2671,
 * 415.555.2671, 415-555-2671, 4155552671, +1 415 555 2671, 1-415-555-2671 — and nothing else (no letters, no
 * extensions). Why: libphonenumber-js builds a new RegExp for every pattern it tries, and a +1 number is tried
 * against the patterns of 25 countries; it parsed ≈ 85,000 numbers a second on one core here, the cleaning
 * benchmark's bottleneck.
 *
 * Why it is exact: in Google's full metadata nearly every NANP validity pattern ends in at least four free
 * digits (`…\d{4}`, `…[2-9]\d{6}`), so a 10-digit number's verdict depends on its first six digits (area code
 * and exchange) alone. The few that do not (Barbados 246 52…, Jamaica 876 6060…: three in libphonenumber-js
 * 1.x) are found in the metadata when this module loads, and numbers starting with their digits take the slow
 * path, each parsed. test/phone-fast-path.test.ts checks that property on the installed metadata and compares
 * this path with libphonenumber-js on random numbers in every shape. The verdict itself always comes from
 * libphonenumber-js: the first number of each area code and exchange is parsed by it, the rest reuse its answer.
 */
const NANP_SHAPE =
  /^\s*(?:(\+1)[\s.-]?|(1)[\s.-]?)?(?:\(([2-9]\d\d)\)\s?|([2-9]\d\d)[\s.-]?)([2-9]\d\d)[\s.-]?(\d{4})\s*$/;

/**
 * The ten national digits, and how the text began: `+1` (international: libphonenumber-js finds the country
 * from the number), `1` (the national prefix: the default country's rules apply), or neither.
 */
export interface NanpNumber {
  readonly national: string;
  readonly prefix: '+1' | '1' | '';
}

export function nanpShape(text: string): NanpNumber | undefined {
  const m = NANP_SHAPE.exec(text);
  if (!m) return undefined;
  return { national: `${m[3] ?? m[4] ?? ''}${m[5] ?? ''}${m[6] ?? ''}`, prefix: m[1] ? '+1' : m[2] ? '1' : '' };
}

export function isNanpCountry(country: CountryCode | undefined): boolean {
  return country !== undefined && isSupportedCountry(country) && getCountryCallingCode(country) === '1';
}

/** What decides a NANP number's verdict: the default country, how the text began, and the first six digits. */
export const verdictKey = (country: CountryCode, n: NanpNumber): string =>
  `${country}|${n.prefix}|${n.national.slice(0, 6)}`;

/** The top-level alternatives of a regular expression's source: `a|b(c|d)` → `a`, `b(c|d)`. */
export function alternatives(pattern: string): string[] {
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

/** The parts of libphonenumber-js's Metadata class the rule reads (its typings leave them out). */
export interface PhoneMetadata {
  getCountryCodesForCallingCode(code: string): CountryCode[];
  /** A country, or a calling code for its main country. */
  selectNumberingPlan(country: string): void;
  readonly numberingPlan: {
    nationalNumberPattern(): string;
    leadingDigits(): string | undefined;
    possibleLengths(): number[] | undefined;
    types(): unknown;
    type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
  };
}

export const phoneMetadata = (): PhoneMetadata => new Metadata() as unknown as PhoneMetadata;

/** Every validity pattern of a NANP country in the installed metadata, split into its alternatives. */
export function nanpPatterns(): { country: CountryCode; alternative: string }[] {
  const metadata = phoneMetadata();
  return metadata.getCountryCodesForCallingCode('1').flatMap((country) => {
    metadata.selectNumberingPlan(country);
    const plan = metadata.numberingPlan;
    return [plan.nationalNumberPattern(), ...strings(plan.types())]
      .filter((p) => p !== '')
      .flatMap((pattern) => alternatives(pattern).map((alternative) => ({ country, alternative })));
  });
}

/** An alternative ends in four or more free digits: the first six digits decide a match. */
export const endsFree = (alternative: string): boolean =>
  Number(/\\d\{(\d+)(?:,\d+)?\}$/.exec(alternative)?.[1] ?? 0) >= 4;

/**
 * The leading digits of the numbers whose verdict six digits do not decide: each such pattern's literal
 * prefix, at most six digits ('' would send every number the slow way).
 */
const UNDECIDED: readonly string[] = [
  ...new Set(
    nanpPatterns()
      .filter(({ alternative }) => !endsFree(alternative))
      .map(({ alternative }) => (/^\d*/.exec(alternative)?.[0] ?? '').slice(0, 6)),
  ),
];

/** Whether the first six digits decide this number's verdict (see UNDECIDED). */
export const decidedBySix = (national: string): boolean => !UNDECIDED.some((p) => national.startsWith(p));

/** A NANP country's rules as libphonenumber-js applies them to a national number, compiled once. */
interface NanpPlan {
  readonly country: CountryCode;
  /** The number starts so: it is this country's (`leadingDigits`, searched at position 0). */
  readonly leading: RegExp | undefined;
  readonly national: RegExp;
  /** Fixed line first, then the other types, in libphonenumber-js's order (helpers/getNumberType.js). */
  readonly types: readonly { readonly pattern: RegExp; readonly lengths: readonly number[] | undefined }[];
}

const TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
] as const;

const anchored = (pattern: string) => new RegExp(`^(?:${pattern})$`);

const NANP_PLANS: readonly NanpPlan[] = (() => {
  const metadata = phoneMetadata();
  return metadata.getCountryCodesForCallingCode('1').map((country) => {
    metadata.selectNumberingPlan(country);
    const plan = metadata.numberingPlan;
    const leading = plan.leadingDigits();
    return {
      country,
      leading: leading ? new RegExp(leading) : undefined,
      national: anchored(plan.nationalNumberPattern()),
      types: TYPES.flatMap((name) => {
        const type = plan.type(name);
        const pattern = type?.pattern();
        return type && pattern ? [{ pattern: anchored(pattern), lengths: type.possibleLengths() }] : [];
      }),
    };
  });
})();

/** libphonenumber-js's getNumberType(…) !== undefined, for a national number and one NANP country's plan. */
const hasType = (plan: NanpPlan, national: string): boolean =>
  plan.national.test(national) &&
  plan.types.some((t) => (!t.lengths || t.lengths.includes(national.length)) && t.pattern.test(national));

/**
 * Whether libphonenumber-js takes this ten-digit national number for a valid one, as `parsePhoneNumber(text,
 * { defaultCountry }).isValid()` decides it for the shapes `nanpShape` accepts: the country is the first NANP
 * country whose leading digits start the number (or, having none, whose types match it), else the default
 * (none for `+1`: the calling code's main country, US); the number is valid when a type of that country matches.
 *
 * Why by hand: parsing builds a RegExp for every pattern it tries (12–14 µs a number here); these are compiled
 * once (about 1 µs). Only a valid verdict is taken from here: an invalid number is parsed by libphonenumber-js
 * all the same, for its reason code. test/phone-fast-path.test.ts compares the two on every NANP country.
 */
export function nanpValid(national: string, defaultCountry: CountryCode | undefined): boolean {
  let chosen: NanpPlan | undefined;
  for (const plan of NANP_PLANS) {
    if (plan.leading ? national.search(plan.leading) === 0 : hasType(plan, national)) {
      chosen = plan;
      break;
    }
  }
  chosen ??= NANP_PLANS.find((p) => p.country === (defaultCountry ?? 'US'));
  return chosen !== undefined && hasType(chosen, national);
}
