import { CrmMigrateError } from '../../errors.js';
import type { Lookback } from '../../mapping/compile.js';
import { TIMESTAMP_TEXT } from '../../timestamps.js';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * The cursor value `lookback` before `value`, written the way `value` was: a number less the units, or a
 * date/timestamp less the time span in the same layout (separator, fraction, zone). The layout matters
 * where timestamps are stored as text (SQLite), which compares them as strings.
 */
export function shiftBack(value: unknown, lookback: Lookback, what: string): unknown {
  if ('units' in lookback) {
    if (typeof value === 'number') return value - lookback.units;
    if (typeof value === 'string' && /^-?\d+$/.test(value))
      return String(BigInt(value) - BigInt(Math.round(lookback.units)));
  } else if (typeof value === 'string') {
    const m = TIMESTAMP_TEXT.exec(value.trim());
    if (m) {
      const [, y, mo, d, sep, h, mi, s, fraction, zone] = m;
      // Wall-clock arithmetic in the value's own fixed offset: the zone text is kept as it was.
      const local = Date.UTC(
        Number(y),
        Number(mo) - 1,
        Number(d),
        Number(h ?? 0),
        Number(mi ?? 0),
        Number(s ?? 0),
        Math.round(Number(fraction ?? 0) * 1000),
      );
      const t = new Date(local - lookback.ms);
      const date = `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
      if (!sep) return date;
      const seconds =
        s === undefined ? '' : `:${pad(t.getUTCSeconds())}${fraction ? `.${pad(t.getUTCMilliseconds(), 3)}` : ''}`;
      return `${date}${sep}${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}${seconds}${zone ?? ''}`;
    }
  }
  throw new CrmMigrateError(
    'E_STATE',
    `${what}: the checkpoint's cursor value is not a ${'units' in lookback ? 'number' : 'date or timestamp'}, so lookback cannot be applied`,
    {
      hint: 'remove lookback, or use a cursor column of that kind',
    },
  );
}
