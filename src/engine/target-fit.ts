import { ESCAPED_BYTE } from '../connectors/shared/utf8-escaped.js';
import { castValue } from '../mapping/cast.js';
import type { Value } from '../values.js';
import type { TargetColumn } from './schema-check.js';

export type FitCode =
  | 'not_null'
  | 'too_long'
  | 'type_mismatch'
  | 'out_of_range'
  | 'not_in_enum'
  | 'nul_character'
  | 'invalid_unicode'
  | 'invalid_utf8'
  | 'not_representable';

/** Why a value cannot be written; one shared instance per code, so the hot path allocates nothing. */
export class FitFailure {
  constructor(readonly code: FitCode) {}
}

const FAIL: Readonly<Record<FitCode, FitFailure>> = {
  not_null: new FitFailure('not_null'),
  too_long: new FitFailure('too_long'),
  type_mismatch: new FitFailure('type_mismatch'),
  out_of_range: new FitFailure('out_of_range'),
  not_in_enum: new FitFailure('not_in_enum'),
  nul_character: new FitFailure('nul_character'),
  invalid_unicode: new FitFailure('invalid_unicode'),
  invalid_utf8: new FitFailure('invalid_utf8'),
  not_representable: new FitFailure('not_representable'),
};

const INT32_MIN = -2147483648;
const FLOAT32_MAX = 3.4028234663852886e38;

/** Whether an enum column takes this text: exactly, or as MySQL matches (case aside, trailing spaces dropped). */
function isLabel(text: string, labels: NonNullable<TargetColumn['labels']>): boolean {
  if (!labels.caseInsensitive) return labels.values.includes(text);
  let lower = LOWERED.get(labels);
  if (!lower) LOWERED.set(labels, (lower = new Set(labels.values.map((l) => l.toLowerCase()))));
  return lower.has(text.replace(/ +$/, '').toLowerCase());
}

const LOWERED = new WeakMap<object, ReadonlySet<string>>();
const INT32_MAX = 2147483647;

/** Characters as the databases count them (code points), not UTF-16 units. */
function lengthOf(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by its low half is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) i += 1;
    n += 1;
  }
  return n;
}

/** Digits before the point of a decimal written as text or a number (leading zeros not counted; 1.2e5 has 6). */
function integerDigits(value: Value): number {
  const text = (typeof value === 'number' ? String(Math.abs(value)) : String(value)).trim().replace(/^[+-]/, '');
  const m = /^(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!m) return 0;
  const whole = m[1] ?? '';
  const digits = whole + (m[2] ?? '');
  const point = whole.length + Number(m[3] ?? 0);
  if (point > 1000) return point;
  const integer = point <= 0 ? '' : (digits + '0'.repeat(Math.max(0, point - digits.length))).slice(0, point);
  return integer.replace(/^0+/, '').length;
}

/**
 * The value as it will be written to the column, or why it cannot be: such a row is quarantined with that
 * code — never truncated, never left to fail the whole batch.
 */
export function fitTarget(value: Value, column: TargetColumn): Value | FitFailure {
  if (value === null) return column.nullable ? null : FAIL.not_null;
  if (column.type === 'text') {
    const text = typeof value === 'string' ? value : (castValue(value, 'text').value as string);
    // PostgreSQL cannot store U+0000 in text, and a lone surrogate half would be written as U+FFFD: both
    // would change or lose the value, so the row is quarantined instead, whatever the target.
    if (text.includes('\0')) return FAIL.nul_character;
    // A byte a file source could not decode as UTF-8 arrives escaped as a lone surrogate (see utf8-escaped.ts).
    if (!text.isWellFormed()) return ESCAPED_BYTE.test(text) ? FAIL.invalid_utf8 : FAIL.invalid_unicode;
    // MySQL's utf8mb3 holds nothing above U+FFFF; an emoji would fail the whole batch there.
    if (column.bmpOnly && /[\uD800-\uDFFF]/.test(text)) return FAIL.not_representable;
    // A string no longer in UTF-16 units than the limit is certainly within it in code points.
    if (column.maxLength !== undefined && text.length > column.maxLength && lengthOf(text) > column.maxLength)
      return FAIL.too_long;
    if (column.labels && !isLabel(text, column.labels)) return FAIL.not_in_enum;
    return text;
  }
  // The common case, an integer that is already a number, needs no conversion.
  if (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    (column.type === 'bigint' || (column.type === 'integer' && value >= INT32_MIN && value <= INT32_MAX))
  )
    return value;
  const cast = castValue(value, column.type);
  if (cast.issues) return cast.issues[0]?.code === 'out_of_range' ? FAIL.out_of_range : FAIL.type_mismatch;
  // A real holds up to 3.4e38: a double beyond it would fail the whole batch.
  if (column.singlePrecision && typeof cast.value === 'number' && Math.abs(cast.value) > FLOAT32_MAX)
    return FAIL.out_of_range;
  // numeric(p,s) holds p - s digits before the point: a bigger number would fail the whole batch.
  if (column.precision !== undefined && integerDigits(cast.value) > column.precision - (column.scale ?? 0))
    return FAIL.out_of_range;
  return cast.value;
}
