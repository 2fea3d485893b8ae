import { z } from 'zod';
import { builtinStep, invalid, ok, type StepIssue, type StepResult, type StepDefinition } from '../mapping/steps.js';
import type { Value } from '../values.js';
import { textRule } from './rule-helpers.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

const DateOptions = z
  .strictObject({
    /**
     * How to read a numeric date whose day and month could be swapped (03/04/2020). Without it such a date
     * is invalid (`ambiguous_date`): guessing silently is how migrations corrupt birthdays.
     */
    order: z.enum(['mdy', 'dmy']).optional(),
    /** Two-digit years below this are 20xx, the rest 19xx (default 50). */
    pivot: z.number().int().min(0).max(100).optional(),
  })
  .optional();
type DateOptions = z.infer<typeof DateOptions>;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const TIME = String.raw`(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*([AaPp][Mm])?\s*(Z|[+-]\d{2}:?\d{2})?)?`;
const ISO = new RegExp(String.raw`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})${TIME}$`);
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const NUMERIC = new RegExp(String.raw`^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})${TIME}$`);
const DAY_MONTH_NAME = new RegExp(String.raw`^(\d{1,2})[\s-]+([A-Za-z]{3,9})\.?[\s,-]+(\d{4})${TIME}$`);
const MONTH_NAME_DAY = new RegExp(String.raw`^([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})${TIME}$`);

interface Parts {
  y: number;
  m: number;
  d: number;
  time: (string | undefined)[];
  issues: StepIssue[];
}

const monthOf = (name: string) => {
  const i = MONTHS.indexOf(name.slice(0, 3).toLowerCase());
  return i === -1 ? NaN : i + 1;
};

function parse(text: string, options: DateOptions): Parts | 'ambiguous' | undefined {
  let m = ISO.exec(text);
  if (m) return { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]), time: m.slice(4), issues: [] };
  m = COMPACT.exec(text);
  if (m) return { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]), time: [], issues: [] };
  m = DAY_MONTH_NAME.exec(text);
  if (m) return { y: Number(m[3]), m: monthOf(m[2] ?? ''), d: Number(m[1]), time: m.slice(4), issues: [] };
  m = MONTH_NAME_DAY.exec(text);
  if (m) return { y: Number(m[3]), m: monthOf(m[1] ?? ''), d: Number(m[2]), time: m.slice(4), issues: [] };
  m = NUMERIC.exec(text);
  if (!m) return undefined;
  const [a, sep, b, yearText] = [Number(m[1]), m[2], Number(m[3]), m[4] ?? ''];
  const issues: StepIssue[] = [];
  let y = Number(yearText);
  if (yearText.length === 2) {
    y += y < (options?.pivot ?? 50) ? 2000 : 1900;
    issues.push({ code: 'two_digit_year', kind: 'flag' });
  }
  // Dotted dates are day-first wherever they are written (31.12.2020); a number over 12 settles the rest.
  let order: 'mdy' | 'dmy' | undefined = sep === '.' || a > 12 ? 'dmy' : b > 12 ? 'mdy' : a === b ? 'mdy' : undefined;
  if (!order) {
    if (!options?.order) return 'ambiguous';
    order = options.order;
    issues.push({ code: 'ambiguous_order_assumed', kind: 'flag' });
  }
  return { y, m: order === 'mdy' ? a : b, d: order === 'mdy' ? b : a, time: m.slice(5), issues };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function isRealDay(y: number, m: number, d: number): boolean {
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function clean(input: string, withTime: boolean, options: DateOptions): StepResult {
  const text = input.trim();
  if (text === '') return ok(null);
  const parts = parse(text, options);
  if (parts === 'ambiguous') return invalid(input, 'ambiguous_date');
  if (!parts) return invalid(input, 'unparseable_date');
  const { y, m, d, time, issues } = parts;
  // 0000-00-00, 2023-02-30, month 13: reported, never silently turned into NULL or into another day.
  if (!isRealDay(y, m, d)) return invalid(input, 'impossible_date');
  let value = `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
  if (withTime) {
    const [hh, mm, ss, fraction, meridiem, rawZone] = time;
    let hour = Number(hh ?? 0);
    if (meridiem) {
      if (hour < 1 || hour > 12) return invalid(input, 'impossible_date');
      hour = (hour % 12) + (meridiem.toLowerCase() === 'pm' ? 12 : 0);
    }
    if (hour > 23 || Number(mm ?? 0) > 59 || Number(ss ?? 0) > 59) return invalid(input, 'impossible_date');
    const zone =
      rawZone === undefined
        ? ''
        : rawZone === 'Z' || rawZone.includes(':')
          ? rawZone
          : `${rawZone.slice(0, 3)}:${rawZone.slice(3)}`;
    value += `T${pad(hour)}:${pad(Number(mm ?? 0))}:${pad(Number(ss ?? 0))}${fraction ?? ''}${zone}`;
  }
  if (value !== input) issues.push({ code: 'reformatted', kind: 'fixed' });
  return issues.length === 0 ? ok(value) : { value, issues };
}

const fromDate = (value: Date, withTime: boolean): StepResult =>
  Number.isNaN(value.getTime())
    ? invalid(value, 'impossible_date')
    : ok(withTime ? value.toISOString() : value.toISOString().slice(0, 10));

for (const [name, withTime] of [
  ['date', false],
  ['datetime', true],
] as const) {
  STEPS.push(
    builtinStep({
      name,
      kind: 'clean',
      takes: 'one',
      output: withTime ? 'timestamp' : 'date',
      options: DateOptions,
      create: (options) => {
        const onText = textRule((s) => clean(s, withTime, options));
        return (input: Value | readonly Value[]) => (input instanceof Date ? fromDate(input, withTime) : onText(input));
      },
    }),
  );
}
