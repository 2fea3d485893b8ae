import type {
  Checkpoint,
  ColumnInfo,
  Counts,
  CrosswalkEntry,
  Source,
  TableInfo,
  TableSpec,
  Target,
} from '../../connectors/contract.js';
import { RowsRejected, type PlanIssue } from '../../errors.js';
import type { EntityPlan } from '../../mapping/compile.js';
import { newUuid } from '../../mapping/identity.js';
import type { Plan } from '../../plan/load.js';
import { didYouMean } from '../../suggest.js';
import { sourceKeyText, valueToJson, type Row, type Value } from '../../values.js';
import type { BoundEntity, TargetColumn } from '../schema-check.js';
import { zeroCounts } from '../write/load-entity.js';
import { writeAllBut } from '../write/refused-rows.js';
import { rowFilter } from '../../mapping/where.js';
import { FitFailure, fitTarget } from '../target-fit.js';

// Orphan refs with `orphans: placeholder`: before an entity loads, the records its rows refer to that were
// never migrated (missing from the source, or quarantined) are made as placeholders in the referenced
// entity's table — the key, the entity's `placeholder:` values, NULL elsewhere — each with its crosswalk line,
// in the same transaction as the step's checkpoint. The load then resolves those refs like any other.

/** What a placeholder record of an entity holds: its key column and the plan's values, fitted to the table. */
export interface PlaceholderSpec {
  readonly keyColumn: TargetColumn;
  /** Keys are new UUIDs (the entity has a new_id), made from the referenced source key as the load would. */
  readonly newId: boolean;
  readonly columns: readonly string[];
  readonly values: readonly Value[];
}

/** The checkpoint of the step that makes `entity`'s placeholders in `referenced`'s table. */
export const placeholderStepName = (entity: string, referenced: string): string =>
  `${entity}#placeholders:${referenced}`;

/** The entities whose orphan refs `entity` makes placeholders in, in the plan's field order. */
export const placeholderTargets = (entity: EntityPlan): string[] => [
  ...new Set(entity.fields.flatMap((f) => (f.ref?.placeholder ? [f.ref.entity] : []))),
];

/**
 * Checks that the records other entities' refs may make in `entity`'s table can be written — a one-column key,
 * every NOT NULL column given a value — and fits the values to their columns. Undefined when no ref makes any.
 */
export function placeholderSpec(
  plan: Plan,
  entity: EntityPlan,
  table: TableInfo | TableSpec,
  targetKey: readonly string[],
  updates: boolean,
  issues: PlanIssue[],
): PlaceholderSpec | undefined {
  const refs = plan.entities.flatMap((e) => e.fields.filter((f) => f.ref?.placeholder && f.ref.entity === entity.name));
  const given = entity.placeholder ?? {};
  if (refs.length === 0) {
    if (entity.placeholder)
      issues.push({
        severity: 'warning',
        path: [...entity.path, 'placeholder'],
        message: `no ref to ${entity.name} has orphans: placeholder, so no placeholder is ever made`,
      });
    return undefined;
  }
  const at = [...(refs[0]?.path ?? entity.path), 'orphans'];
  const columns = new Map(table.columns.map((c) => [c.name, c as Partial<ColumnInfo> & TableSpec['columns'][number]]));
  const key = targetKey.length === 1 ? columns.get(targetKey[0]) : undefined;
  if (!key) {
    issues.push({
      severity: 'error',
      path: at,
      message: `a placeholder record of ${entity.name} needs its key in one target column`,
      hint: `give ${entity.name} a field new_id: uuid, or copy its one key column (id: id)`,
    });
    return undefined;
  }
  if (updates && (table.primaryKey.length !== 1 || table.primaryKey[0] !== key.name)) {
    // `retry` replaces a placeholder with the fixed record by upserting on the key (a file target only appends).
    issues.push({
      severity: 'error',
      path: at,
      message: `placeholder records of ${entity.name} are found by key: target table ${table.name} needs its primary key on (${key.name})`,
      hint: `ALTER TABLE ${table.name} ADD PRIMARY KEY (${key.name})`,
    });
  }
  if (entity.strategy === 'incremental' && entity.deletes !== 'ignore') {
    issues.push({
      severity: 'error',
      path: [...entity.path, 'deletes'],
      message: `${entity.name} removes target rows whose source row is gone, which would remove its placeholder records (they have none)`,
      hint: 'use deletes: ignore on it, or orphans: quarantine on the refs',
    });
  }
  const values: Value[] = [];
  for (const [name, value] of Object.entries(given)) {
    const column = columns.get(name);
    const path = [...entity.path, 'placeholder', name];
    if (!column) {
      issues.push({
        severity: 'error',
        path,
        message: `target table ${table.name} has no column "${name}"`,
        hint: didYouMean(name, columns.keys()),
      });
      continue;
    }
    if (name === key.name)
      issues.push({
        severity: 'error',
        path,
        message: `${name} is the key: a placeholder's key is the one its orphan refers to`,
      });
    const fitted = fitTarget(value, column);
    if (fitted instanceof FitFailure)
      issues.push({
        severity: 'error',
        path,
        message: `this value cannot be written to ${table.name}.${name} (${fitted.code})`,
      });
    values.push(fitted instanceof FitFailure ? null : fitted);
  }
  for (const column of columns.values()) {
    if (column.nullable || column.hasDefault || column.name === key.name || column.name in given) continue;
    issues.push({
      severity: 'error',
      path: at,
      message: `a placeholder record of ${entity.name} leaves ${table.name}.${column.name} empty, but it is NOT NULL`,
      hint: `add placeholder: { ${column.name}: … } to entity ${entity.name}`,
    });
  }
  return { keyColumn: key, newId: entity.fields.some((f) => f.newId), columns: Object.keys(given), values };
}

/** What one placeholder step did: the rows it looked at and the placeholders it made. */
export interface PlaceholderResult {
  readonly counts: Counts;
  readonly stopped: boolean;
}

/**
 * Reads `entity`'s ref columns from its checkpoint on, and makes a placeholder in `referenced`'s table for each
 * referenced key that is not in the crosswalk. Checkpoint counts: `read` rows looked at, `written` placeholders
 * made. A key that cannot be written to the key column is left alone: the load quarantines its rows as orphans.
 */
export async function makePlaceholders(options: {
  source: Source;
  target: Target;
  runId: string;
  planName: string;
  entity: BoundEntity;
  referenced: BoundEntity;
  spec: PlaceholderSpec;
  order: readonly string[];
  from: Checkpoint | undefined;
  signal?: AbortSignal | undefined;
}): Promise<PlaceholderResult> {
  const { source, target, entity, referenced, spec, planName, signal } = options;
  const name = placeholderStepName(entity.plan.name, referenced.plan.name);
  const refColumns = [
    ...new Set(
      entity.plan.fields.flatMap((f) =>
        f.ref?.placeholder && f.ref.entity === referenced.plan.name ? [f.ref.column] : [],
      ),
    ),
  ];
  // A row the entity's `where:` filters out is not loaded: its refs need no placeholder.
  const columns = [...new Set([...options.order, ...refColumns, ...entity.plan.where.flatMap((c) => c.columns)])];
  const filter = rowFilter(entity.plan.where, columns);
  const refAt = refColumns.map((c) => columns.indexOf(c));
  const orderAt = options.order.map((c) => columns.indexOf(c));
  const counts: Counts = { ...zeroCounts(), ...options.from?.counts };
  let lastKey = options.from?.lastKey ?? null;
  const start = { runId: options.runId, table: referenced.plan.into, columns: [spec.keyColumn.name, ...spec.columns] };
  let writer = await target.beginBatch(start);
  let made: CrosswalkEntry[] = [];
  /** The open batch's placeholder rows, beside `made`: a batch the target refuses is written again without the refused ones. */
  let madeRows: Row[] = [];
  // Made in the open batch, not committed yet: the crosswalk (read on its own connection) cannot see them.
  const madeKeys = new Set<string>();
  let inBatch = 0;
  let stopped = false;
  const checkpoint = (done: boolean): Checkpoint => ({ entity: name, lastKey, counts: { ...counts }, done });
  /** Set when the open batch's writer refused rows while streaming: the batch ends there and is written again. */
  let refusedBatch: unknown;
  /**
   * Commits the open batch. A placeholder the target refuses (a unique column, a trigger) is left out, with its
   * crosswalk line: the rows referring to it are then orphans, quarantined by the load as such.
   */
  const commit = async (done: boolean): Promise<void> => {
    try {
      if (refusedBatch !== undefined) throw refusedBatch;
      await writer.commit([], checkpoint(done), { placeholders: made });
      return;
    } catch (error) {
      refusedBatch = undefined;
      if (!(error instanceof RowsRejected)) throw error;
      await writer.abort().catch(() => undefined);
    }
    writer = await target.beginBatch(start);
    const refused = await writeAllBut(writer, madeRows);
    counts.written -= refused.size;
    await writer.commit([], checkpoint(done), { placeholders: made.filter((_m, i) => !refused.has(i)) });
  };
  try {
    for await (const rows of source.read({
      table: entity.plan.from,
      columns,
      key: options.order,
      after: (lastKey as Row | null) ?? undefined,
      batchSize: 500,
    })) {
      if (signal?.aborted) {
        stopped = true;
        break;
      }
      const wanted = new Map<string, Value>();
      for (const row of filter ? rows.filter((r) => filter(r) === undefined) : rows) {
        for (const i of refAt) {
          const value = row[i] ?? null;
          const sourceKey = value === null ? '' : sourceKeyText([valueToJson(value)]);
          if (value !== null && !madeKeys.has(sourceKey)) wanted.set(sourceKey, value);
        }
      }
      const found =
        wanted.size === 0
          ? new Map()
          : await target.state.crosswalk(planName, referenced.plan.name, [...wanted.keys()]);
      for (const [sourceKey, value] of wanted) {
        if (found.has(sourceKey)) continue;
        const key = spec.newId ? newUuid(referenced.plan.name, sourceKey) : fitTarget(value, spec.keyColumn);
        if (key instanceof FitFailure) continue;
        const placeholder = [key, ...spec.values];
        writer.add(placeholder);
        madeRows.push(placeholder);
        made.push({
          plan: planName,
          entity: referenced.plan.name,
          sourceKey,
          newKey: sourceKeyText([valueToJson(key)]),
        });
        madeKeys.add(sourceKey);
        counts.written += 1;
      }
      counts.read += rows.length;
      inBatch += rows.length;
      const last = rows[rows.length - 1];
      lastKey = orderAt.map((i) => valueToJson(last[i] ?? null));
      if (inBatch < entity.plan.batchSize) {
        await writer.flush().catch((error: unknown) => (refusedBatch = error));
        if (refusedBatch === undefined) continue;
      }
      await commit(false);
      made = [];
      madeRows = [];
      madeKeys.clear();
      inBatch = 0;
      writer = await target.beginBatch(start);
    }
    await commit(!stopped);
  } catch (error) {
    await writer.abort().catch(() => undefined);
    throw error;
  }
  return { counts, stopped };
}
