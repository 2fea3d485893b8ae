/**
 * SQL for key-ordered access shared by the SQL connectors. Column expressions come in quoted (and, where a
 * connector needs it, with their collation); values come in as placeholders or escaped literals.
 */

/** `(a, b) > (x, y)` over the leading order columns, as many as there are values: a keyset read's resume point. */
export function afterCondition(orderColumns: readonly string[], values: readonly string[]): string {
  const columns = orderColumns.slice(0, values.length);
  return values.length === 1 ? `${columns[0]} > ${values[0]}` : `(${columns.join(', ')}) > (${values.join(', ')})`;
}

/** `(a, b) <= (x, y)`: a key range's end, inclusive. */
export function throughCondition(orderColumns: readonly string[], values: readonly string[]): string {
  const columns = orderColumns.slice(0, values.length);
  return values.length === 1 ? `${columns[0]} <= ${values[0]}` : `(${columns.join(', ')}) <= (${values.join(', ')})`;
}

/**
 * `WHERE …` for the rows after `after` and at or before `through` (either may be empty), or '' for all;
 * `value(v)` spells a value (a placeholder, or an escaped literal).
 */
export function rangeWhere(
  orderColumns: readonly string[],
  after: readonly unknown[],
  through: readonly unknown[],
  value: (v: unknown) => string,
): string {
  const conditions = [
    ...(after.length > 0 ? [afterCondition(orderColumns, after.map(value))] : []),
    ...(through.length > 0 ? [throughCondition(orderColumns, through.map(value))] : []),
  ];
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** `(a, b) IN ((p1, p2), (p3, p4))` for `rows` keys; `param(i)` spells the i-th placeholder (1-based). */
export function keyInList(
  keyColumns: readonly string[],
  rows: number,
  param: (index: number) => string,
  firstParam = 1,
): string {
  const width = keyColumns.length;
  const tuples = Array.from(
    { length: rows },
    (_, r) => `(${keyColumns.map((_c, k) => param(firstParam + r * width + k)).join(', ')})`,
  );
  return `(${keyColumns.join(', ')}) IN (${tuples.join(', ')})`;
}

/** Keys per DELETE/UPDATE statement: well under every driver's limit on bound parameters. */
export const KEYS_PER_STATEMENT = 1000;
