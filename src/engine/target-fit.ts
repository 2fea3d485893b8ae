import { castValue } from '../mapping/cast.js';
import type { Value } from '../values.js';
import type { TargetColumn } from './schema-check.js';

export type Fit = { readonly ok: true; readonly value: Value } | { readonly ok: false; readonly code: 'not_null' | 'too_long' | 'type_mismatch' | 'out_of_range' };

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

/**
 * Whether a value can be written to a column as it is. A value that cannot is quarantined with this
 * code — never truncated, never left to fail the whole batch.
 */
export function fitTarget(value: Value, column: TargetColumn): Fit {
  if (value === null) return column.nullable ? { ok: true, value } : { ok: false, code: 'not_null' };
  if (column.type === 'text') {
    const text = typeof value === 'string' ? value : (castValue(value, 'text').value as string);
    // A string no longer in UTF-16 units than the limit is certainly within it in code points.
    if (column.maxLength !== undefined && text.length > column.maxLength && lengthOf(text) > column.maxLength) return { ok: false, code: 'too_long' };
    return { ok: true, value: text };
  }
  const cast = castValue(value, column.type);
  if (cast.issues) return { ok: false, code: cast.issues[0]?.code === 'out_of_range' ? 'out_of_range' : 'type_mismatch' };
  return { ok: true, value: cast.value };
}
