import type { LogicalType, Value } from '../values.js';
import { invalid, ok, type StepResult } from './steps.js';

export const CAST_TYPES = [
  'text',
  'smallint',
  'integer',
  'bigint',
  'decimal',
  'float',
  'boolean',
  'date',
  'timestamp',
  'json',
  'uuid',
] as const;

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRUE = new Set(['true', 't', 'yes', 'y', '1', 'on']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0', 'off']);
const RANGES: Partial<Record<LogicalType, readonly [number, number]>> = {
  smallint: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};

/** A real calendar day: 2023-02-30 and 0000-00-00 are not (MySQL's zero dates are a classic silent loss). */
function isCalendarDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function castInteger(value: Value, type: LogicalType): StepResult {
  let n: number | bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return invalid(value, 'cast_failed');
    n = value;
  } else if (typeof value === 'bigint') {
    n = value;
  } else if (typeof value === 'boolean') {
    n = value ? 1 : 0;
  } else if (typeof value === 'string' && INTEGER.test(value.trim())) {
    const big = BigInt(value.trim());
    n = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  } else {
    return invalid(value, 'cast_failed');
  }
  const range = RANGES[type];
  if (range && (n < range[0] || n > range[1])) return invalid(value, 'out_of_range');
  if (type === 'bigint' && (n < -(2n ** 63n) || n >= 2n ** 63n)) return invalid(value, 'out_of_range');
  return ok(n);
}

const EMPTY_TO_NULL: StepResult = { value: null, issues: [{ code: 'empty_to_null', kind: 'fixed' }] };

/**
 * Converts a value to a logical type, or says `cast_failed` / `out_of_range` and leaves it as it was.
 * Dates and timestamps accept ISO 8601 only; other formats are the `date` cleaning rule's job.
 */
export function castValue(value: Value, type: LogicalType): StepResult {
  if (value === null) return ok(null);
  // Empty text is how exports write "no value": NULL for any other type, reported as a fix of its own.
  if (type !== 'text' && typeof value === 'string' && value.trim() === '') return EMPTY_TO_NULL;
  switch (type) {
    case 'text':
      return ok(
        value instanceof Date
          ? value.toISOString()
          : value instanceof Uint8Array
            ? Buffer.from(value).toString('hex')
            : String(value),
      );
    case 'smallint':
    case 'integer':
    case 'bigint':
      return castInteger(value, type);
    case 'decimal':
    case 'float': {
      if (typeof value === 'number') return Number.isFinite(value) ? ok(value) : invalid(value, 'cast_failed');
      if (typeof value === 'bigint') return ok(type === 'float' ? Number(value) : value.toString());
      if (typeof value === 'string' && DECIMAL.test(value.trim())) {
        return ok(type === 'float' ? Number(value.trim()) : value.trim());
      }
      return invalid(value, 'cast_failed');
    }
    case 'boolean': {
      if (typeof value === 'boolean') return ok(value);
      const key = String(value).trim().toLowerCase();
      if (TRUE.has(key)) return ok(true);
      if (FALSE.has(key)) return ok(false);
      return invalid(value, 'cast_failed');
    }
    case 'date':
    case 'timestamp': {
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) return invalid(value, 'cast_failed');
        return ok(type === 'date' ? value.toISOString().slice(0, 10) : value.toISOString());
      }
      if (typeof value !== 'string') return invalid(value, 'cast_failed');
      const text = value.trim();
      const m = DATE.exec(text) ?? TIMESTAMP.exec(text);
      if (!m || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) return invalid(value, 'cast_failed');
      if (m.length > 4 && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59)) {
        return invalid(value, 'cast_failed');
      }
      return ok(type === 'date' ? text.slice(0, 10) : text);
    }
    case 'json': {
      // JSON has no bigint: a big integer is written as its digits, which JSON numbers allow.
      if (typeof value === 'bigint') return ok(value.toString());
      if (typeof value !== 'string') return ok(JSON.stringify(value));
      try {
        JSON.parse(value);
        return ok(value);
      } catch {
        return invalid(value, 'cast_failed');
      }
    }
    case 'uuid':
      return typeof value === 'string' && UUID.test(value.trim())
        ? ok(value.trim().toLowerCase())
        : invalid(value, 'cast_failed');
    case 'bytes':
      return value instanceof Uint8Array ? ok(value) : invalid(value, 'cast_failed');
  }
}
