import jaroWinkler from 'talisman/metrics/jaro-winkler.js';
import type { Value } from '../values.js';
import { isMailProvider } from '../cleaning/mail-domains.js';
import { isPlaceholderNumber } from '../cleaning/phone.js';
import { editDistance } from './edit-distance.js';
import { otherGivenName } from './given-names.js';
import { formalNames, sameNickname } from './nicknames.js';
import { metaphone } from './phonetic.js';

/** How a field is compared; each kind has its own agreement levels. */
export const COMPARE_KINDS = [
  'first_name',
  'last_name',
  'name',
  'email',
  'phone',
  'date',
  'id',
  'postcode',
  'text',
  'exact',
] as const;
export type CompareKind = (typeof COMPARE_KINDS)[number];

/** A record's value of one field, prepared once so pairs compare without re-normalizing. */
export interface Prepared {
  /** The normalized text: lower case, trimmed, inner whitespace collapsed. */
  readonly text: string;
  /** Double Metaphone codes (names), digits (phones), or a yyyymmdd date; '' when not used. */
  readonly code: string;
  /** A name's generational suffix (`jr`, `sr`, `iii`), compared apart from the name: father and son differ only there. */
  readonly suffix?: string | undefined;
}

/** One field's comparison: its agreement levels (best first, the last is "else") and how two values rank. */
export interface Comparison {
  readonly field: string;
  readonly kind: CompareKind;
  readonly levels: readonly string[];
  prepare(value: Value): Prepared | null;
  /** The index in `levels` two non-null values agree at. */
  level(a: Prepared, b: Prepared): number;
  /**
   * From this level on, "two different people", whatever the other fields say: names that disagree (Jennifer
   * and Michael, or Jessica and Jennifer, on one family email and phone; James Lee and James Ng behind one
   * switchboard; Jr and Sr). Such a pair is never merged; at most it is reviewed.
   */
  readonly veto?: number | undefined;
  /**
   * True when a veto below "else" may be lifted by a third record close to both values (two typos of one
   * name: Corvis and Covius beside Corvius), because neither is another known given name.
   */
  readonly bridgeable?: ((a: Prepared, b: Prepared) => boolean) | undefined;
  /** Evidence against that no level carries, with the same effect as a veto: what it is, else undefined. */
  readonly against?: ((a: Prepared, b: Prepared) => string | undefined) | undefined;
}

/** The comparison kind a field name suggests: `email`, `phone`, `first_name`… (`text` otherwise). */
/**
 * A column of the old system's bookkeeping: when or by whom it touched the row (`last_update`, `created_at`,
 * `modified_by`, `date_entered`). It says nothing about who the customer is.
 */
export function isAuditField(field: string): boolean {
  const f = field.toLowerCase();
  return /(^|_)(created|updated|modified|changed|deleted|entered)(_|$)|last_?(update|modified|login|seen|activity|change)|timestamp|(^|_)(ts|mtime|ctime)$|_(at|by|on)$|^(date|time)_(entered|modified|created)/.test(
    f,
  );
}

export function kindForField(field: string): CompareKind {
  const f = field.toLowerCase();
  // Before the name checks: last_update is no last name.
  if (isAuditField(f)) return 'exact';
  if (/e_?mail/.test(f)) return 'email';
  if (/phone|mobile|\btel|_tel|cell|fax/.test(f)) return 'phone';
  if (/first|given|fore|christian/.test(f)) return 'first_name';
  if (/last|sur|family/.test(f)) return 'last_name';
  if (/name/.test(f)) return 'name';
  if (/birth|dob|date/.test(f)) return 'date';
  if (/post|zip/.test(f)) return 'postcode';
  if (/ssn|soc_?sec|national|passport|tax|vat|_id$|^id$/.test(f)) return 'id';
  return 'text';
}

export function normalizeText(value: Value): string | null {
  if (value === null) return null;
  const text = (value instanceof Date ? value.toISOString().slice(0, 10) : String(value))
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ');
  return text === '' ? null : text;
}

const plain = (value: Value): Prepared | null => {
  const text = normalizeText(value);
  return text === null ? null : { text, code: '' };
};

/** Titles before a name and generational suffixes after it: not the name, so not compared as part of it. */
const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'dame', 'rev', 'fr']);
const SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'v', 'jnr', 'snr']);

const phonetic = (value: Value): Prepared | null => {
  const normalized = normalizeText(value);
  if (normalized === null) return null;
  const words = normalized.split(' ');
  const bare = (w: string) => w.replace(/[.,]/g, '');
  while (words.length > 1 && TITLES.has(bare(words[0]))) words.shift();
  const suffix =
    words.length > 1 && SUFFIXES.has(bare(words.at(-1) as string))
      ? bare(words.pop() as string)
          .replace(/^jnr$/, 'jr')
          .replace(/^snr$/, 'sr')
      : undefined;
  const text = words.join(' ').replace(/,$/, '');
  return { text, code: metaphone(text), suffix };
};

/** Dates as yyyymmdd digits, whichever of yyyy-mm-dd, yyyymmdd or a Date they came as; else the text. */
const dated = (value: Value): Prepared | null => {
  const text = normalizeText(value);
  if (text === null) return null;
  const digits = text.slice(0, 10).replace(/\D/g, '');
  return { text, code: digits.length === 8 ? digits : '' };
};

/**
 * A phone's digits; none for a placeholder (000-000-0000) or fewer than seven digits: two customers who both
 * left the field with junk share nothing (a raw `source.phone` merged two James Garcias so).
 */
const digitsOnly = (value: Value): Prepared | null => {
  const text = normalizeText(value);
  if (text === null) return null;
  const digits = text.replace(/\D/g, '');
  return digits.length < 7 || isPlaceholderNumber(digits) ? null : { text: digits, code: digits.slice(-8) };
};

/**
 * Splink's name levels, with a Double Metaphone rung (and for first names, known nicknames, and a nickname
 * against a typo of its formal name: Tom and Tohmas). Sounding alike lifts a pair by one rung and no more
 * (from "jw >= 0.7" to "sounds alike"), never from "else": Double Metaphone codes Almi and William alike.
 */
function nameLevel(nicknames: boolean) {
  return (a: Prepared, b: Prepared): number => {
    // Jr and Sr on one name are two people (father and son): the "else" level, which vetoes the merge.
    if (a.suffix !== undefined && b.suffix !== undefined && a.suffix !== b.suffix) return 4;
    if (a.text === b.text) return 0;
    if (nicknames && sameNickname(a.text, b.text)) return 1;
    const jw = jaroWinkler(a.text, b.text);
    // Two real given names are two people's, however close: a woman's and a man's outright, else at most
    // "sounds alike" (where a first name vetoes).
    const given = nicknames ? otherGivenName(a.text, b.text) : undefined;
    if (given === 'opposite') return 4;
    // A first name one edit from the other, or a slip: Mancoro and Mancorus are two names, not a typo.
    const close = jw >= 0.92 && (!nicknames || editDistance(a.text, b.text, 1) <= 1);
    if (given === undefined && (close || keyingSlip(a.text, b.text))) return 1;
    if (given === undefined && nicknames && nicknameOfTypo(a.text, b.text)) return 1;
    // Two spellings of one name (Matthew and Mathew, Anthony and Antony), or a short form against another
    // spelling of its formal name (Matt and Mathew): both on the list of given names, yet one name.
    if (given === 'other' && (spellingVariant(a.text, b.text) || nicknameOfVariant(a.text, b.text))) return 1;
    if (jw >= 0.88 || (jw >= 0.7 && a.code !== '' && a.code === b.code)) return 2;
    return jw >= 0.7 ? 3 : 4;
  };
}

/**
 * One slip of the keyboard: two adjacent letters swapped (Kraen, Karen), a letter doubled (Saarah), or a letter
 * left out of a long name (Stven, Wlliam). A slip early in a name costs Jaro-Winkler its prefix bonus, so these
 * fall below 0.92 and would read as another name. Not a letter changed (Mark, Mary; John, Joan), nor one left
 * out of a short name or at the end (Carl, Carol; Lois, Louis; Paul, Paula): those are other people's names.
 */
export function keyingSlip(a: string, b: string): boolean {
  if (a.length === b.length) {
    const i = [...a].findIndex((c, k) => c !== b[k]);
    return i >= 0 && i + 1 < a.length && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  if (long.length !== short.length + 1 || short.length < 4) return false;
  const i = [...short].findIndex((c, k) => c !== long[k]);
  if (i < 0 || short.slice(i) !== long.slice(i + 1)) return false;
  const doubled = long[i] === long[i - 1] || long[i] === long[i + 1];
  return doubled || (long.length >= 6 && i < short.length);
}

/**
 * Two spellings of one given name: a letter doubled, or one left out inside a long name (Matthew and Mathew,
 * Anthony and Antony, Barbara and Barbra, Michael and Michal). Not a letter changed (Jenny and Jenna), one
 * added at the end (Paul and Paula), nor two swapped (Elise and Elsie, Marian and Marina): those are other
 * people's names.
 */
function spellingVariant(a: string, b: string): boolean {
  return a.length !== b.length && keyingSlip(a, b);
}

/** One name is a known short form of a name the other is another spelling of (Matt and Mathew, Jen and Jenifer). */
function nicknameOfVariant(a: string, b: string): boolean {
  const near = (name: string, other: string) =>
    (formalNames(other) ?? []).some((formal) => formal !== name && spellingVariant(name, formal));
  return near(a, b) || near(b, a);
}

/** One name is a known short form whose formal name the other is a typo of (Jaro-Winkler >= 0.92). */
function nicknameOfTypo(a: string, b: string): boolean {
  const near = (name: string, other: string) =>
    (formalNames(other) ?? []).some((formal) => formal !== other && jaroWinkler(name, formal) >= 0.92);
  return near(a, b) || near(b, a);
}

const editLevels = (a: Prepared, b: Prepared): number => {
  if (a.text === b.text) return 0;
  const d = editDistance(a.text, b.text, 2);
  return d <= 1 ? 1 : d <= 2 ? 2 : 3;
};

const daysOf = (yyyymmdd: string): number =>
  Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8))) / 86_400_000;

function dateLevel(a: Prepared, b: Prepared): number {
  if (a.text === b.text || (a.code !== '' && a.code === b.code)) return 0;
  if (a.code === '' || b.code === '') return editDistance(a.text, b.text, 1) <= 1 ? 1 : 4;
  // A typed digit wrong or two swapped, or day and month entered the other way round.
  const swapped = a.code.slice(0, 4) + a.code.slice(6, 8) + a.code.slice(4, 6) === b.code;
  if (swapped || editDistance(a.code, b.code, 1) <= 1) return 1;
  const apart = Math.abs(daysOf(a.code) - daysOf(b.code));
  return apart <= 366 ? 2 : apart <= 3660 ? 3 : 4;
}

/**
 * Exact, or not. No "same local part" level: local parts are made of names (jsmith, john.smith), so at two
 * domains they belong to different people as often as not, and the names already count in their own
 * comparisons; EM, which takes the fields as independent, gave that level nearly an exact address's weight and
 * merged James and Jessica Ramirez. Nor "one edit apart": jane.doe12 and jane.doe13 are two people.
 */
const emailLevel = (a: Prepared, b: Prepared): number => (a.text === b.text ? 0 : 1);

/** An email's code is its domain when that is a company's (not a mail provider's): see `againstEmail`. */
const emailParts = (value: Value): Prepared | null => {
  const text = normalizeText(value);
  if (text === null) return null;
  const domain = text.slice(text.lastIndexOf('@') + 1);
  return { text, code: domain !== text && !isMailProvider(domain) ? domain : '' };
};

/**
 * Two addresses at one company's domain are two colleagues (behind one switchboard number), seldom one person.
 * Not a level of its own: EM, given such a level, took the colleagues who share a phone for the matches.
 */
const againstEmail = (a: Prepared, b: Prepared): string | undefined =>
  a.code !== '' && a.code === b.code && a.text !== b.text ? 'another address at the same company domain' : undefined;

const LEVELS: Record<CompareKind, Omit<Comparison, 'field' | 'kind'>> = {
  first_name: {
    levels: ['exact', 'jw>=0.92, nickname or slip', 'jw>=0.88, sounds alike or another name', 'jw>=0.7', 'else'],
    prepare: phonetic,
    level: nameLevel(true),
    // From "sounds alike" on: Mark and Mary, Michael and Michelle, John and Jane are spouses or colleagues
    // on one phone, not typos.
    veto: 2,
    bridgeable: (a, b) => a.suffix === b.suffix && otherGivenName(a.text, b.text) === undefined,
  },
  last_name: {
    levels: ['exact', 'jw>=0.92 or slip', 'jw>=0.88 or sounds alike', 'jw>=0.7', 'else'],
    prepare: phonetic,
    level: nameLevel(false),
    veto: 4,
  },
  name: {
    levels: ['exact', 'jw>=0.92 or slip', 'jw>=0.88 or sounds alike', 'jw>=0.7', 'else'],
    prepare: phonetic,
    level: nameLevel(false),
    veto: 4,
  },
  email: { levels: ['exact', 'else'], prepare: emailParts, level: emailLevel, against: againstEmail },
  phone: {
    levels: ['same digits', 'same last 8 digits or one edit', 'else'],
    prepare: digitsOnly,
    level: (a, b) => (a.text === b.text ? 0 : a.code === b.code || editDistance(a.text, b.text, 1) <= 1 ? 1 : 2),
  },
  date: {
    levels: ['exact', 'one typo or day/month swapped', 'within a year', 'within ten years', 'else'],
    prepare: dated,
    level: dateLevel,
  },
  id: { levels: ['exact', 'one edit', 'two edits', 'else'], prepare: plain, level: editLevels },
  postcode: { levels: ['exact', 'one edit', 'two edits', 'else'], prepare: plain, level: editLevels },
  text: {
    levels: ['exact', 'jw>=0.92', 'jw>=0.8', 'else'],
    prepare: plain,
    level: (a, b) => {
      if (a.text === b.text) return 0;
      const jw = jaroWinkler(a.text, b.text);
      return jw >= 0.92 ? 1 : jw >= 0.8 ? 2 : 3;
    },
  },
  exact: { levels: ['exact', 'else'], prepare: plain, level: (a, b) => (a.text === b.text ? 0 : 1) },
};

export function comparison(field: string, kind: CompareKind = kindForField(field)): Comparison {
  return { field, kind, ...LEVELS[kind] };
}
