import { maskValue } from '../../protect/protect.js';
import { valueToJson, type Row } from '../../values.js';
import type { BoundEntity } from '../schema-check.js';

/**
 * The source columns that feed personal data (fields with `pii: true` or a `protect`), key columns aside:
 * their values are masked wherever rows are kept or shown (the quarantine, the `plan` preview), so a value
 * the plan hashes or encrypts in the target is not kept in clear beside it.
 */
export function piiColumns(entity: BoundEntity): Set<string> {
  const columns = new Set(
    entity.plan.fields.filter((f) => f.pii).flatMap((f) => [...f.from, ...f.steps.flatMap((s) => s.reads)]),
  );
  for (const key of entity.plan.key) columns.delete(key);
  return columns;
}

/** A source row as JSON-able values by column (the real columns, not those refs fill in), personal data masked. */
export function rowForDisplay(entity: BoundEntity, row: Row, pii: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  entity.readColumns.forEach((c, i) => {
    const value = valueToJson(row[i] ?? null);
    out[c] =
      pii.has(c) && value !== null
        ? maskValue(typeof value === 'object' ? JSON.stringify(value) : String(value))
        : value;
  });
  return out;
}
