import type { Reason } from '../../connectors/contract.js';
import type { FieldPlan } from '../../mapping/compile.js';
import { ambiguousColumn, joinColumn } from '../../mapping/identity.js';
import type { StepContext } from '../../mapping/steps.js';
import type { Row, Value } from '../../values.js';
import { OUTCOME, type QualityTally } from './quality.js';
import type { MappableEntity } from '../schema-check.js';
import { FitFailure, fitTarget } from '../target-fit.js';

/**
 * Maps one source row to target values (in `targetColumns` order). Why the row must be quarantined is
 * pushed onto `reasons` — every failing field, not just the first; the values are meaningless then.
 * The caller owns `reasons` and empties it between rows: no per-row allocation on the hot path.
 */
export type RowMapper = (row: Row, reasons: Reason[]) => Row;

/** The current row, as steps that read other columns see it. One per mapper, pointed at each row in turn. */
class RowContext implements StepContext {
  row: Row = [];
  readonly #index: ReadonlyMap<string, number>;
  constructor(columns: readonly string[]) {
    this.#index = new Map(columns.map((c, i) => [c, i]));
  }
  get(column: string): Value {
    // A step reading a joined column names it as written (`addr.country`); the row holds it under its virtual name.
    return this.row[this.#index.get(column) ?? this.#index.get(joinColumn(column)) ?? -1] ?? null;
  }
}

/** Evaluates one field; its outcome (an OUTCOME index) is left in `state.outcome` for the caller to count. */
type FieldEvaluator = (row: Row, context: RowContext, reasons: Reason[], state: { outcome: number }) => Value;

function fieldEvaluator(
  field: FieldPlan,
  index: number,
  sourceColumns: readonly string[],
  tally: QualityTally,
): FieldEvaluator {
  const indexes = field.from.map((c) => sourceColumns.indexOf(c));
  const only = indexes[0] ?? -1;
  const { steps, invalid: policy, constant, fix } = field;
  const fallback = field.default;
  return (row, context, reasons, state) => {
    let value: Value | readonly Value[] =
      constant !== undefined ? constant : field.fromList ? indexes.map((i) => row[i] ?? null) : (row[only] ?? null);
    let outcome: number = OUTCOME.valid;
    for (const step of steps) {
      const before = value;
      const result = step.run(step.takes === 'many' && !Array.isArray(value) ? [value as Value] : value, context);
      value = result.value;
      if (!result.issues) continue;
      for (const issue of result.issues) {
        if (issue.kind === 'fixed' && fix) {
          outcome = Math.max(outcome, OUTCOME.corrected);
          tally.finding(index, step.name, issue.code, 'corrected', issue.detail);
        } else if (issue.kind !== 'invalid') {
          // A correction the plan did not ask to apply (fix: false) is only reported.
          if (issue.kind === 'fixed') value = before;
          outcome = Math.max(outcome, OUTCOME.flagged);
          tally.finding(index, step.name, issue.code, 'flagged', issue.detail);
        } else if (policy === 'quarantine') {
          reasons.push({ field: field.target, rule: step.name, code: issue.code });
          tally.finding(index, step.name, issue.code, 'quarantined', issue.detail);
          state.outcome = OUTCOME.quarantined;
          return null;
        } else if (policy === 'keep') {
          outcome = Math.max(outcome, OUTCOME.kept);
          tally.finding(index, step.name, issue.code, 'kept', issue.detail);
        } else {
          value = null;
          outcome = Math.max(outcome, OUTCOME.nulled);
          tally.finding(index, step.name, issue.code, 'nulled', issue.detail);
        }
      }
    }
    state.outcome = outcome;
    const result = value as Value;
    return result === null && fallback !== undefined ? fallback : result;
  };
}

/** Compiles an entity's fields and target checks into one function applied to every source row. */
export function createRowMapper(entity: MappableEntity, tally: QualityTally): RowMapper {
  const evaluators = entity.plan.fields.map((f, i) => fieldEvaluator(f, i, entity.sourceColumns, tally));
  const columns = entity.targetColumns;
  const names = entity.plan.fields.map((f) => f.target);
  const context = new RowContext(entity.sourceColumns);
  const state = { outcome: 0 };
  // Legacy exports write "no value" as empty text: into a number, date or boolean column that is NULL
  // (counted as its own correction), never a cast failure that quarantines the row.
  const blankIsNull = columns.map((c) => c !== undefined && c.type !== 'text');
  // Joins without a pick rule that matched several rows (see refs.ts): such a row is quarantined, never given one of them.
  const ambiguity = entity.plan.joins
    .map((j) => ({ alias: j.alias, from: j.from, at: entity.sourceColumns.indexOf(ambiguousColumn(j.alias)) }))
    .filter((j) => j.at >= 0);
  return (row, reasons) => {
    context.row = row;
    const values: Row = new Array(evaluators.length);
    for (const j of ambiguity) {
      const matched = row[j.at];
      if (typeof matched === 'number')
        reasons.push({
          field: j.alias,
          rule: 'join',
          code: 'ambiguous_join',
          detail: `${matched} rows of ${j.from} match`,
        });
    }
    if (reasons.length > 0) return values;
    for (let i = 0; i < evaluators.length; i++) {
      const before = reasons.length;
      let value = evaluators[i](row, context, reasons, state);
      if (typeof value === 'string' && blankIsNull[i] && value.trim() === '') {
        value = null;
        tally.finding(i, 'target', 'empty_to_null', 'corrected');
        state.outcome = Math.max(state.outcome, OUTCOME.corrected);
      }
      if (reasons.length === before) {
        const fit = fitTarget(value, columns[i]);
        if (fit instanceof FitFailure) {
          reasons.push({ field: names[i], rule: 'target', code: fit.code });
          tally.finding(i, 'target', fit.code, 'quarantined');
          state.outcome = OUTCOME.quarantined;
        } else {
          values[i] = fit;
        }
      }
      tally.row(i, state.outcome);
    }
    return values;
  };
}
