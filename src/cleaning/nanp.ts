import { getCountryCallingCode, isSupportedCountry, type CountryCode } from 'libphonenumber-js';

/**
 * A fast path for North American (NANP, +1) numbers in the shapes people type them — (415) 555-2671,
 * 415.555.2671, 415-555-2671, 4155552671, +1 415 555 2671, 1-415-555-2671 — and nothing else (no letters, no
 * extensions). Why: libphonenumber-js builds a new RegExp for every pattern it tries, and a +1 number is tried
 * against the patterns of 25 countries; it parsed ≈ 85,000 numbers a second on one core here, the cleaning
 * benchmark's bottleneck.
 *
 * Why it is exact: in Google's metadata every NANP validity pattern ends in at least four free digits
 * (`…\d{4}`, `…[2-9]\d{6}`), so a 10-digit number's verdict depends on its first six digits (area code and
 * exchange) alone. test/phone-fast-path.test.ts checks that property on the installed metadata and compares this
 * path with libphonenumber-js on random numbers in every shape. The verdict itself always comes from
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
