import type { CountryCode } from 'libphonenumber-js/max';
import { phoneLibrary } from './phone-library.js';

/**
 * libphonenumber-js's parse and validity check of a plain number — digits, spaces, dots, dashes and brackets,
 * perhaps after a `+` — with each country's patterns compiled once.
 *
 * Why by hand: libphonenumber-js builds a new RegExp from its metadata for every pattern it tries
 * (es6/helpers/matchesEntirely.js), and a +44 number is tried against the patterns of four countries: 21 µs
 * a number here, against about 1 µs with the expressions compiled once. The steps below follow its es6/parse.js
 * and helpers (extractCountryCallingCode, stripIddPrefix, extractNationalNumber, getCountryByCallingCode,
 * getNumberType, checkNumberLength) line for line, in the same order, on the same metadata ("max"). Where a step
 * would take a road this module does not follow (an IDD prefix, a number too short or too long to parse, a
 * non-geographic calling code, a default region with no metadata), it answers undefined and the caller asks
 * libphonenumber-js itself. test/numbering-plans.test.ts compares the two on every region's numbers in many
 * renderings; a libphonenumber-js upgrade must pass it before it is taken.
 */

/** The parts of libphonenumber-js's Metadata class read here and by the phone rule (its typings leave them out). */
export interface PhoneMetadata {
  /** Undefined for a non-geographic calling code (800, 882…). */
  getCountryCodesForCallingCode(code: string): CountryCode[] | undefined;
  hasCallingCode(code: string): boolean;
  hasCountry(country: string): boolean;
  /** A country, or a calling code for its main country. */
  selectNumberingPlan(country: string): void;
  readonly numberingPlan: {
    callingCode(): string;
    nationalNumberPattern(): string;
    leadingDigits(): string | undefined;
    possibleLengths(): number[] | undefined;
    hasTypes(): boolean;
    type(name: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
    nationalPrefixForParsing(): string | undefined;
    nationalPrefixTransformRule(): string | undefined;
    IDDPrefix(): string | undefined;
  };
}

export const phoneMetadata = (): PhoneMetadata => phoneLibrary().metadata() as unknown as PhoneMetadata;

/** A number as libphonenumber-js parses it: `+${callingCode}${national}` is its E.164 form. */
export interface PlainNumber {
  /** Every digit of the text. */
  readonly digits: string;
  readonly callingCode: string;
  readonly national: string;
  /** The country it is found to be, as PhoneNumber.country (undefined: none of its calling code's matched). */
  readonly country: CountryCode | undefined;
  readonly valid: boolean;
  /** The possible lengths of the plan its validity was judged by (of its country, else its calling code's). */
  readonly lengths: readonly number[] | undefined;
}

interface NumberType {
  readonly pattern: RegExp;
  readonly lengths: readonly number[] | undefined;
}

/** A country's numbering plan, its expressions compiled. */
interface Plan {
  readonly country: CountryCode;
  readonly callingCode: string;
  readonly national: RegExp;
  readonly leading: RegExp | undefined;
  /** Fixed line first, then the other types in getNumberType's order; undefined when the plan has none. */
  readonly types: readonly NumberType[] | undefined;
  readonly lengths: readonly number[] | undefined;
  readonly prefixForParsing: RegExp | undefined;
  readonly transformRule: string | undefined;
  readonly idd: RegExp | undefined;
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

/** The shortest and longest national numbers parse accepts (constants.js). */
const MIN_NATIONAL = 2;
const MAX_NATIONAL = 17;
const MAX_CALLING_CODE = 3;
const MAX_INPUT = 250;

let loaded: PhoneMetadata | undefined;
/** The metadata the plans are compiled from, made on the first number read. */
const metadata = (): PhoneMetadata => (loaded ??= phoneMetadata());
const plans = new Map<string, Plan>();

const entire = (pattern: string) => new RegExp(`^(?:${pattern})$`);
/** `text.search(new RegExp(pattern)) === 0`, as libphonenumber-js asks it, is this expression's test. */
const atStart = (pattern: string | undefined) => (pattern ? new RegExp(`^(?:${pattern})`) : undefined);

function planOf(country: CountryCode): Plan {
  let plan = plans.get(country);
  if (plan) return plan;
  const m = metadata();
  m.selectNumberingPlan(country);
  const p = m.numberingPlan;
  plan = {
    country,
    callingCode: p.callingCode(),
    national: entire(p.nationalNumberPattern()),
    leading: atStart(p.leadingDigits()),
    types: p.hasTypes()
      ? TYPES.flatMap((name) => {
          const type = p.type(name);
          const pattern = type?.pattern();
          return type && pattern ? [{ pattern: entire(pattern), lengths: type.possibleLengths() }] : [];
        })
      : undefined,
    lengths: p.possibleLengths(),
    prefixForParsing: atStart(p.nationalPrefixForParsing()),
    transformRule: p.nationalPrefixTransformRule(),
    idd: atStart(p.IDDPrefix()),
  };
  plans.set(country, plan);
  return plan;
}

const codePlans = new Map<string, readonly Plan[] | null>();

/** The plans of a geographic calling code's countries, its main one first; undefined for others (800, 882…). */
function plansOf(callingCode: string): readonly Plan[] | undefined {
  let found = codePlans.get(callingCode);
  if (found === undefined) {
    found = metadata().getCountryCodesForCallingCode(callingCode)?.map(planOf) ?? null;
    codePlans.set(callingCode, found);
  }
  return found ?? undefined;
}

/** getNumberType(…) !== undefined: the number matches its plan and one of its types. */
function hasType(plan: Plan, national: string): boolean {
  if (!plan.national.test(national)) return false;
  if (!plan.types) return true;
  for (const type of plan.types)
    if ((!type.lengths || type.lengths.includes(national.length)) && type.pattern.test(national)) return true;
  return false;
}

/**
 * getCountryByCallingCode: the first country of the code whose leading digits start the number or, having none,
 * whose types match it (then the number is valid: see readPlainNumber).
 */
function countryByNumber(plans: readonly Plan[], national: string): Plan | undefined {
  if (plans.length === 1) return plans[0];
  for (const plan of plans)
    if (plan.leading ? national !== '' && plan.leading.test(national) : hasType(plan, national)) return plan;
  return undefined;
}

/** checkNumberLength against a plan: IS_POSSIBLE, TOO_SHORT, TOO_LONG or INVALID_LENGTH. */
export function lengthVerdict(lengths: readonly number[] | undefined, length: number): string {
  if (!lengths) return 'IS_POSSIBLE';
  const min = lengths[0];
  if (min === length) return 'IS_POSSIBLE';
  if (min > length) return 'TOO_SHORT';
  if (lengths[lengths.length - 1] < length) return 'TOO_LONG';
  return lengths.indexOf(length, 1) >= 0 ? 'IS_POSSIBLE' : 'INVALID_LENGTH';
}

/** extractNationalNumberFromPossiblyIncompleteNumber: the national prefix (and carrier code) taken off. */
function withoutPrefix(plan: Plan, number: string): string {
  if (!number || !plan.prefixForParsing) return number;
  const match = plan.prefixForParsing.exec(number);
  if (!match) return number;
  const groups = match.length - 1;
  const captured = groups > 0 && match[groups];
  if (plan.transformRule && captured) return number.replace(plan.prefixForParsing, plan.transformRule);
  return number.slice(match[0].length);
}

/** extractNationalNumber: the prefix is taken off only when what is left can still be a number of the plan. */
function nationalOf(plan: Plan, number: string, plans: readonly Plan[]): string {
  const national = withoutPrefix(plan, number);
  if (national === number) return number;
  if (plan.national.test(number) && !plan.national.test(national)) return number;
  if (plan.lengths) {
    const verdict = lengthVerdict((countryByNumber(plans, national) ?? plan).lengths, national.length);
    if (verdict === 'TOO_SHORT' || verdict === 'INVALID_LENGTH') return number;
  }
  return national;
}

/** Leading white space or brackets, a `+` perhaps, then digits, spaces, dots, dashes and brackets. */
const PLAIN = /^[\s(]*(\+?)([\d .()-]*\d)[\s.()-]*$/;

/**
 * The number a plain text holds, as `parsePhoneNumberFromString(text, { defaultCountry })` finds it, with
 * its validity as `isValid()` judges it; undefined when the text is not plain or takes a road this module
 * leaves to libphonenumber-js (see above). The text's digits must be ASCII.
 */
export function readPlainNumber(text: string, defaultCountry: CountryCode | undefined): PlainNumber | undefined {
  if (text.length > MAX_INPUT) return undefined;
  const shape = PLAIN.exec(text);
  if (!shape) return undefined;
  const digits = shape[2].replace(/\D/g, '');
  // Fewer than three digits is not a viable number (isViablePhoneNumber): libphonenumber-js says why.
  if (digits.length < 3) return undefined;
  let callingCode: string | undefined;
  let number = digits;
  let home: Plan | undefined;
  if (shape[1]) {
    if (digits[0] === '0') return undefined;
    for (let i = 1; i <= MAX_CALLING_CODE && i <= digits.length && !callingCode; i++)
      if (metadata().hasCallingCode(digits.slice(0, i))) callingCode = digits.slice(0, i);
    if (!callingCode) return undefined;
    number = digits.slice(callingCode.length);
  } else {
    // A region with no numbering plan of its own (TF, AQ, BV): libphonenumber-js says what it makes of that.
    if (!defaultCountry || !metadata().hasCountry(defaultCountry)) return undefined;
    home = planOf(defaultCountry);
    if (home.idd?.test(digits)) return undefined;
    callingCode = home.callingCode;
    if (digits.startsWith(callingCode) && callingCodeWithoutPlus(home, digits)) {
      number = digits.slice(callingCode.length);
      home = undefined;
    }
  }
  const plans = plansOf(callingCode);
  if (!plans || number === '') return undefined;
  // The plan selected while parsing: the default country's, or the calling code's main country's.
  const national = nationalOf(home ?? plans[0], number, plans);
  if (national.length < MIN_NATIONAL || national.length > MAX_NATIONAL) return undefined;
  const found = countryByNumber(plans, national);
  const judged = found ?? home ?? plans[0];
  // A country found among several by its types needs no second look: they matched.
  const valid = found !== undefined && plans.length > 1 && !found.leading ? true : hasType(judged, national);
  // A carrier code taken off with the prefix (BR, CO) is not kept: no format libphonenumber-js makes reads it.
  const country = (found ?? home)?.country;
  return { digits, callingCode, national, country, valid, lengths: judged.lengths };
}

/**
 * extractCountryCallingCodeFromInternationalNumberWithoutPlusSign: "44 20 7946 0958" under GB is +44 when the
 * digits without the code make a number of the plan and the digits with it do not, or are too long.
 */
function callingCodeWithoutPlus(plan: Plan, digits: string): boolean {
  const plans = plansOf(plan.callingCode) ?? [plan];
  const shorter = nationalOf(plan, digits.slice(plan.callingCode.length), plans);
  const whole = nationalOf(plan, digits, plans);
  return (
    (!plan.national.test(whole) && plan.national.test(shorter)) ||
    lengthVerdict(plan.lengths, whole.length) === 'TOO_LONG'
  );
}
