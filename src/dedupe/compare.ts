import jaroWinkler from 'talisman/metrics/jaro-winkler.js';
import type { Value } from '../values.js';
import { editDistance } from './edit-distance.js';
import { sameNickname } from './nicknames.js';
import { metaphone } from './phonetic.js';

/** How a field is compared; each kind has its own agreement levels. */
export const COMPARE_KINDS = ['first_name', 'last_name', 'name', 'email', 'phone', 'date', 'id', 'postcode', 'text', 'exact'] as const;
export type CompareKind = (typeof COMPARE_KINDS)[number];

/** A record's value of one field, prepared once so pairs compare without re-normalizing. */
export interface Prepared {
  /** The normalized text: lower case, trimmed, inner whitespace collapsed. */
  readonly text: string;
  /** Double Metaphone codes (names), digits (phones), or a yyyymmdd date; '' when not used. */
  readonly code: string;
}

/** One field's comparison: its agreement levels (best first, the last is "else") and how two values rank. */
export interface Comparison {
  readonly field: string;
  readonly kind: CompareKind;
  readonly levels: readonly string[];
  prepare(value: Value): Prepared | null;
  /** The index in `levels` two non-null values agree at. */
  level(a: Prepared, b: Prepared): number;
}

/** The comparison kind a field name suggests: `email`, `phone`, `first_name`… (`text` otherwise). */
export function kindForField(field: string): CompareKind {
  const f = field.toLowerCase();
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
  const text = (value instanceof Date ? value.toISOString().slice(0, 10) : String(value)).trim().toLowerCase().replace(/\s+/g, ' ');
  return text === '' ? null : text;
}

const plain = (value: Value): Prepared | null => {
  const text = normalizeText(value);
  return text === null ? null : { text, code: '' };
};

const phonetic = (value: Value): Prepared | null => {
  const text = normalizeText(value);
  return text === null ? null : { text, code: metaphone(text) };
};

/** Dates as yyyymmdd digits, whichever of yyyy-mm-dd, yyyymmdd or a Date they came as; else the text. */
const dated = (value: Value): Prepared | null => {
  const text = normalizeText(value);
  if (text === null) return null;
  const digits = text.slice(0, 10).replace(/\D/g, '');
  return { text, code: digits.length === 8 ? digits : '' };
};

const digitsOnly = (value: Value): Prepared | null => {
  const text = normalizeText(value);
  if (text === null) return null;
  const digits = text.replace(/\D/g, '');
  return digits === '' ? null : { text: digits, code: digits.slice(-8) };
};

/** Splink's name levels, with a Double Metaphone rung (and for first names, known nicknames). */
function nameLevel(nicknames: boolean) {
  return (a: Prepared, b: Prepared): number => {
    if (a.text === b.text) return 0;
    if (nicknames && sameNickname(a.text, b.text)) return 1;
    const jw = jaroWinkler(a.text, b.text);
    if (jw >= 0.92) return 1;
    if (jw >= 0.88 || (a.code !== '' && a.code === b.code)) return 2;
    return jw >= 0.7 ? 3 : 4;
  };
}

const editLevels = (a: Prepared, b: Prepared): number => {
  if (a.text === b.text) return 0;
  const d = editDistance(a.text, b.text, 2);
  return d <= 1 ? 1 : d <= 2 ? 2 : 3;
};

const daysOf = (yyyymmdd: string): number => Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8))) / 86_400_000;

function dateLevel(a: Prepared, b: Prepared): number {
  if (a.text === b.text || (a.code !== '' && a.code === b.code)) return 0;
  if (a.code === '' || b.code === '') return editDistance(a.text, b.text, 1) <= 1 ? 1 : 4;
  // A typed digit wrong or two swapped, or day and month entered the other way round.
  const swapped = a.code.slice(0, 4) + a.code.slice(6, 8) + a.code.slice(4, 6) === b.code;
  if (swapped || editDistance(a.code, b.code, 1) <= 1) return 1;
  const apart = Math.abs(daysOf(a.code) - daysOf(b.code));
  return apart <= 366 ? 2 : apart <= 3660 ? 3 : 4;
}

function emailLevel(a: Prepared, b: Prepared): number {
  if (a.text === b.text) return 0;
  const local = (s: string) => {
    const at = s.lastIndexOf('@');
    return at > 0 ? s.slice(0, at) : s;
  };
  // Not "one edit apart": generated addresses (jane.doe12 / jane.doe13) differ by one character between
  // two people of the same name, and the name already counts in its own comparison.
  return local(a.text) === local(b.text) ? 1 : 2;
}

const LEVELS: Record<CompareKind, { levels: readonly string[]; prepare: (v: Value) => Prepared | null; level: (a: Prepared, b: Prepared) => number }> = {
  first_name: { levels: ['exact', 'jw>=0.92 or nickname', 'jw>=0.88 or sounds alike', 'jw>=0.7', 'else'], prepare: phonetic, level: nameLevel(true) },
  last_name: { levels: ['exact', 'jw>=0.92', 'jw>=0.88 or sounds alike', 'jw>=0.7', 'else'], prepare: phonetic, level: nameLevel(false) },
  name: { levels: ['exact', 'jw>=0.92', 'jw>=0.88 or sounds alike', 'jw>=0.7', 'else'], prepare: phonetic, level: nameLevel(false) },
  email: { levels: ['exact', 'same local part', 'else'], prepare: plain, level: emailLevel },
  phone: {
    levels: ['same digits', 'same last 8 digits or one edit', 'else'],
    prepare: digitsOnly,
    level: (a, b) => (a.text === b.text ? 0 : a.code === b.code || editDistance(a.text, b.text, 1) <= 1 ? 1 : 2),
  },
  date: { levels: ['exact', 'one typo or day/month swapped', 'within a year', 'within ten years', 'else'], prepare: dated, level: dateLevel },
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
