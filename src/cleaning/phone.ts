import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import { z } from 'zod';
import { builtinStep, invalid, ok, type StepContext, type StepResult, type StepDefinition } from '../mapping/steps.js';
import type { Value } from '../values.js';
import { countryCode } from './country.js';
import { lengthVerdict, phoneMetadata, readPlainNumber, type PhoneMetadata } from './numbering-plans.js';
import { phoneLibrary } from './phone-library.js';
import { changed, fixed } from './rule-helpers.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

const PhoneOptions = z
  .strictObject({
    /** Default country for numbers written without an international prefix (ISO alpha-2 or a country name). */
    country: z.string().optional(),
    /** A source column holding the row's country (a name or a code), used before `country`. */
    country_from: z.string().optional(),
    /**
     * A number of a possible length that lies in no range its region assigns (a new range the metadata does
     * not know yet, or a typo): `invalid` (the default: `invalid_phone`, and the field's policy applies), or
     * `flag`: written as any valid number is, flagged `unassigned_range` for someone to check.
     */
    unassigned: z.enum(['invalid', 'flag']).optional(),
    /** How the number is written, or one of its parts for a CRM that stores them apart (see PARTS). */
    format: z
      .enum(['e164', 'international', 'national', 'country', 'calling_code', 'national_number', 'extension'])
      .optional(),
  })
  .optional();

type PhoneOptions = z.infer<typeof PhoneOptions>;

/** Repeated numbers (shared switchboards, placeholder numbers) are parsed once; the cache is bounded. */
const CACHE_LIMIT = 50_000;

/** A bounded memo: cleared when full, so memory stays flat whatever the table's size. */
function remember<V>(cache: Map<string, V>, limit: number, key: string, compute: () => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= limit) cache.clear();
    value = compute();
    cache.set(key, value);
  }
  return value;
}

/** The value of a Unicode decimal digit: its place in its run of ten (full-width ０-９, Arabic-Indic ٠-٩, Devanagari ०-९…). */
function digitValue(cp: number): number {
  let zero = cp;
  while (zero > cp - 50 && /\p{Nd}/u.test(String.fromCodePoint(zero - 1))) zero -= 1;
  return (cp - zero) % 10;
}

/**
 * The number with every decimal digit, in any script, written as an ASCII digit: libphonenumber-js and the
 * digit checks read ASCII only, so "０３-１２３４-５６７８" was "not a phone". ASCII text is returned as it is.
 */
export function asciiDigits(text: string): string {
  // eslint-disable-next-line no-control-regex -- the ASCII range, not control characters, is what is tested
  if (!/[^\u0000-\u007f]/.test(text)) return text;
  return text.replace(/\p{Nd}/gu, (d) => (d >= '0' && d <= '9' ? d : String(digitValue(d.codePointAt(0) as number))));
}

/** 000-000-0000, 9999999: placeholders typed to get past a required field. */
export const isPlaceholderNumber = (digits: string): boolean => /^(\d)\1+$/.test(digits);

type Format = NonNullable<NonNullable<PhoneOptions>['format']>;

/**
 * A part of the number rather than the number: its country (ISO 3166 alpha-2), calling code (`1`, `44`), the
 * national number's digits, the extension (NULL when it has none). Derived from a valid number, not a
 * correction of it: the part is written without a `formatted` finding, and the number's own field keeps it whole.
 */
const PARTS: ReadonlySet<Format> = new Set(['country', 'calling_code', 'national_number', 'extension']);

/** A text of a number's own characters alone: libphonenumber-js's extracting and strict parses read it alike. */
const PLAIN_NUMBER = /^[\s\d+().-]*$/;
let lengthMetadata: PhoneMetadata | undefined;

/**
 * What validatePhoneNumberLength(text, country) says of a parsed number that is not valid, without its second
 * parse (27 → 17 µs for a British number written nationally under `country: US`): the possible lengths of the
 * number's plan against its national number, as its helpers/checkNumberLength.js compares them. Only for a plain
 * text, where the strict parse finds the number the first one found, and not for a number too short for its plan
 * (the strict parse may find no number at all); those are parsed again.
 * test/phone-corpus.test.ts compares the two on every region's renderings.
 */
export function lengthProblem(text: string, phone: PhoneNumber, country: CountryCode | undefined): string | undefined {
  const { validatePhoneNumberLength } = phoneLibrary();
  if (!PLAIN_NUMBER.test(text)) return validatePhoneNumberLength(text, country);
  const lengths = (lengthMetadata ??= phoneMetadata());
  lengths.selectNumberingPlan(phone.country ?? phone.countryCallingCode);
  const verdict = lengthVerdict(lengths.numberingPlan.possibleLengths(), phone.nationalNumber.length);
  // Too short for the plan may be too short to be a number at all for the strict parse (NOT_A_NUMBER): asked.
  if (verdict === 'TOO_SHORT') return validatePhoneNumberLength(text, country);
  return verdict === 'IS_POSSIBLE' ? undefined : verdict;
}

/**
 * The rule by libphonenumber-js alone, with no compiled reading and no cache (tests compare the rule with it).
 * `reparse`: the reason of an invalid number by validatePhoneNumberLength itself, as tests compare.
 */
export function formatPhone(
  text: string,
  country: CountryCode | undefined,
  style: Format | undefined,
  unassigned: 'invalid' | 'flag' = 'invalid',
  reparse = false,
): StepResult {
  const digits = text.replace(/\D/g, '');
  if (digits.length === 0) return invalid(text, 'not_a_phone');
  if (isPlaceholderNumber(digits)) return invalid(text, 'placeholder');
  const { parsePhoneNumberFromString, validatePhoneNumberLength } = phoneLibrary();
  const phone = parsePhoneNumberFromString(text, country ? { defaultCountry: country } : undefined);
  const flagged = unassigned === 'flag' && phone !== undefined && !phone.isValid() && phone.isPossible();
  if (!phone?.isValid() && !flagged) {
    const length = phone && !reparse ? lengthProblem(text, phone, country) : validatePhoneNumberLength(text, country);
    if (length === 'TOO_SHORT' || length === 'TOO_LONG') return invalid(text, length.toLowerCase());
    return invalid(
      text,
      phone ? 'invalid_phone' : length === 'INVALID_COUNTRY' ? 'unknown_country_code' : 'unparseable',
    );
  }
  if (!phone) return invalid(text, 'unparseable');
  const part = partOf(phone, style, text);
  if (part) return flagged && part.issues === undefined ? { value: part.value, issues: UNASSIGNED } : part;
  const value =
    style === 'international'
      ? phone.formatInternational()
      : style === 'national'
        ? phone.formatNational()
        : `${phone.number}${phone.ext ? `;ext=${phone.ext}` : ''}`;
  if (flagged) return { value, issues: UNASSIGNED };
  return changed(text, value, 'formatted');
}

/** A possible number outside every assigned range, written anyway (`unassigned: flag`). */
const UNASSIGNED: StepResult['issues'] = Object.freeze([{ code: 'unassigned_range', kind: 'flag' as const }]);

/** What a part is taken from: a number parsed by libphonenumber-js, or a plain one read with compiled plans. */
interface NumberParts {
  readonly country?: CountryCode | undefined;
  readonly countryCallingCode: string;
  readonly nationalNumber: string;
  readonly ext?: string | undefined;
}

/** One part of the number, for `format:` naming a part; undefined for a whole-number format. */
function partOf(phone: NumberParts, style: Format | undefined, text: string): StepResult | undefined {
  if (style === 'country') return phone.country ? ok(phone.country) : invalid(text, 'no_country');
  if (style === 'calling_code') return ok(phone.countryCallingCode);
  if (style === 'national_number') return ok(phone.nationalNumber);
  if (style === 'extension') return ok(phone.ext ?? null);
  return undefined;
}

/**
 * formatPhone(text, country, style, …) for a plain number read by numbering-plans.ts, in E.164 or as one of its
 * parts; undefined where that module or the verdict needs libphonenumber-js itself (a number too short for its
 * plan, `unassigned: flag`).
 */
function plainNumber(
  text: string,
  country: CountryCode | undefined,
  style: Format | undefined,
  flagging: boolean,
): StepResult | undefined {
  const number = readPlainNumber(text, country);
  if (!number) return undefined;
  if (isPlaceholderNumber(number.digits)) return invalid(text, 'placeholder');
  if (number.valid) {
    const { country: found, callingCode, national } = number;
    const e164 = `+${callingCode}${national}`;
    if (style === 'international' || style === 'national') {
      // Formatted by libphonenumber-js from the number as its parse would have made it, the parse itself skipped.
      const phone = phoneLibrary().phoneNumber(e164);
      if (found) phone.country = found;
      return changed(text, style === 'national' ? phone.formatNational() : phone.formatInternational(), 'formatted');
    }
    const parts = { country: found, countryCallingCode: callingCode, nationalNumber: national };
    return partOf(parts, style, text) ?? changed(text, e164, 'formatted');
  }
  if (flagging) return undefined;
  // As lengthProblem: too short for the plan may be no number at all, which libphonenumber-js says.
  const length = lengthVerdict(number.lengths, number.national.length);
  if (length === 'TOO_SHORT') return undefined;
  return invalid(text, length === 'TOO_LONG' ? 'too_long' : 'invalid_phone');
}

/**
 * A phone number through libphonenumber-js (Google's metadata) to E.164 (extensions kept as `;ext=N`, as in
 * RFC 3966), or the international or national format. Junk — "N/A", "call office", 000-000-0000, too few
 * digits — is reported invalid with a code saying which.
 */
STEPS.push(
  builtinStep({
    name: 'phone',
    kind: 'clean',
    takes: 'one',
    output: 'text',
    options: PhoneOptions,
    reads: (options) => (options?.country_from ? [options.country_from] : []),
    create: (options) => {
      const fallback = options?.country
        ? ((countryCode(options.country) as CountryCode | null) ?? undefined)
        : undefined;
      const cache = new Map<string, StepResult>();
      const flagging = options?.unassigned === 'flag';
      const part = options?.format !== undefined && PARTS.has(options.format);
      return (input: Value | readonly Value[], context?: StepContext): StepResult => {
        if (input === null || (typeof input === 'string' && input.trim() === '')) return ok(null);
        const original = typeof input === 'string' ? input : String(input);
        const text = asciiDigits(original);
        const result = clean(text, context);
        if (text === original || part) return result;
        // Digits of another script written as ASCII are a change of the value, counted as one; a number that is
        // invalid anyway keeps the value it came with.
        if (result.issues?.some((i) => i.kind === 'invalid')) return { value: original, issues: result.issues };
        return !result.issues && result.value !== original
          ? { value: result.value, issues: fixed('formatted') }
          : result;
      };
      function clean(text: string, context: StepContext | undefined): StepResult {
        let country = fallback;
        if (options?.country_from && context) {
          const rowCountry = context.get(options.country_from);
          if (typeof rowCountry === 'string') country = (countryCode(rowCountry) as CountryCode | null) ?? fallback;
        }
        // Most numbers are plain and read with compiled patterns (numbering-plans.ts); the rest, and a verdict
        // that needs libphonenumber-js itself, are parsed by it once per text.
        const plain = plainNumber(text, country, options?.format, flagging);
        if (plain) return plain;
        return remember(cache, CACHE_LIMIT, `${country ?? ''}|${text}`, () =>
          formatPhone(text, country, options?.format, options?.unassigned),
        );
      }
    },
  }),
);
