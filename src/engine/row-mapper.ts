import type { Reason } from '../connectors/contract.js';
import type { FieldPlan } from '../mapping/compile.js';
import type { Row, Value } from '../values.js';
import type { BoundEntity } from './schema-check.js';
import { FitFailure, fitTarget } from './target-fit.js';

/**
 * Maps one source row to target values (in `targetColumns` order). Why the row must be quarantined is
 * pushed onto `reasons` — every failing field, not just the first; the values are meaningless then.
 * The caller owns `reasons` and empties it between rows: no per-row allocation on the hot path.
 */
export type RowMapper = (row: Row, reasons: Reason[]) => Row;

type FieldEvaluator = (row: Row, reasons: Reason[]) => Value;

function fieldEvaluator(field: FieldPlan, sourceColumns: readonly string[]): FieldEvaluator {
  const indexes = field.from.map((c) => sourceColumns.indexOf(c));
  const only = indexes[0] ?? -1;
  const { steps, invalid: policy, constant } = field;
  const fallback = field.default;
  return (row, reasons) => {
    let value: Value | readonly Value[] =
      constant !== undefined ? constant : field.fromList ? indexes.map((i) => row[i] ?? null) : (row[only] ?? null);
    for (const step of steps) {
      const result = step.run(step.takes === 'many' && !Array.isArray(value) ? [value as Value] : value);
      value = result.value;
      if (!result.issues) continue;
      for (const issue of result.issues) {
        if (issue.kind !== 'invalid') continue;
        if (policy === 'quarantine') {
          reasons.push({ field: field.target, rule: step.name, code: issue.code });
          return null;
        }
        if (policy === 'null' || policy === 'default') value = null;
      }
    }
    const result = value as Value;
    return result === null && fallback !== undefined ? fallback : result;
  };
}

/** Compiles an entity's fields and target checks into one function applied to every source row. */
export function createRowMapper(entity: BoundEntity): RowMapper {
  const evaluators = entity.plan.fields.map((f) => fieldEvaluator(f, entity.sourceColumns));
  const columns = entity.targetColumns;
  const names = entity.plan.fields.map((f) => f.target);
  return (row, reasons) => {
    const values: Row = new Array(evaluators.length);
    for (let i = 0; i < evaluators.length; i++) {
      const before = reasons.length;
      const value = (evaluators[i] as FieldEvaluator)(row, reasons);
      if (reasons.length > before) continue;
      const fit = fitTarget(value, columns[i] as NonNullable<(typeof columns)[number]>);
      if (fit instanceof FitFailure) reasons.push({ field: names[i] as string, rule: 'target', code: fit.code });
      else values[i] = fit;
    }
    return values;
  };
}
