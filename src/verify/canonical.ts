import { TIMESTAMP_TEXT, zoneOffsetMinutes } from '../timestamps.js';
import type { LogicalType, Value } from '../values.js';

/**
 * A value as comparable text for its target column's type, so a value the mapping produced and the same
 * value read back from a database compare equal whatever form each side holds it in: 42 and "42" in an
 * integer column, "1.50" and 1.5 in a decimal, a Date and "2026-01-01 10:00:00+00" in a timestamp.
 */
export function canonical(value: Value, type: LogicalType): string | null {
  if (value === null) return null;
  try {
    switch (type) {
      case 'smallint':
      case 'integer':
      case 'bigint':
        return typeof value === 'boolean' ? (value ? '1' : '0') : BigInt(String(value).trim()).toString();
      case 'decimal':
        return decimal(String(value));
      case 'float':
        return String(Number(value));
      case 'boolean':
        return ['true', 't', '1', 'yes', 'y', 'on'].includes(String(value).trim().toLowerCase()) ? 'true' : 'false';
      case 'date':
        return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).trim().slice(0, 10);
      case 'timestamp':
        return value instanceof Date ? `${value.getTime()}.000` : timestamp(String(value));
      case 'json':
        return JSON.stringify(sorted(typeof value === 'string' ? JSON.parse(value) : value));
      case 'uuid':
        return String(value).trim().toLowerCase();
      case 'bytes':
        return value instanceof Uint8Array
          ? Buffer.from(value).toString('hex')
          : Buffer.from(String(value)).toString('hex');
      default:
        return value instanceof Date
          ? value.toISOString()
          : value instanceof Uint8Array
            ? Buffer.from(value).toString('hex')
            : String(value);
    }
  } catch {
    // Not a value of the column's type: compared as written, so it shows as different, never as equal by accident.
    return `!${String(value)}`;
  }
}

/** 1e3 as 1000, 1.5E-2 as 0.015: exponent notation spelt out, as a numeric column stores it. */
function withoutExponent(text: string): string {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?e([+-]?\d+)\s*$/i.exec(text);
  if (!m) return text;
  const digits = `${m[2] ?? ''}${m[3] ?? ''}`;
  const point = (m[2] ?? '').length + Number(m[4]);
  if (Math.abs(point) > 100_000) return text;
  const padded =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + '0'.repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${m[1] ?? ''}${padded}`;
}

/** 1.50, 01.5, 1.5 and 15e-1 as "1.5"; -0 as "0". */
function decimal(input: string): string {
  const text = withoutExponent(input);
  const m = /^\s*([+-]?)0*(\d*)(?:\.(\d*?)0*)?\s*$/.exec(text);
  if (!m) return `!${text}`;
  const whole = m[2] || '0';
  const fraction = m[3] ?? '';
  const sign = m[1] === '-' && (whole !== '0' || fraction !== '') ? '-' : '';
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Milliseconds since the epoch plus the digits below a millisecond; text without a zone is read as UTC. */
function timestamp(text: string): string {
  const m = TIMESTAMP_TEXT.exec(text.trim());
  if (!m) return `!${text}`;
  const [, y, mo, d, , h, mi, s, fraction, zone] = m;
  const digits = (fraction ?? '.').slice(1).padEnd(6, '0');
  const ms =
    Date.UTC(
      Number(y),
      Number(mo) - 1,
      Number(d),
      Number(h ?? 0),
      Number(mi ?? 0),
      Number(s ?? 0),
      Number(digits.slice(0, 3)),
    ) -
    zoneOffsetMinutes(zone) * 60_000;
  return `${ms}.${digits.slice(3, 6)}`;
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
    );
  return value;
}
