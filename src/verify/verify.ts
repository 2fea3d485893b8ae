import type { Source, Target } from '../connectors/contract.js';
import { auditEntry, recordAudit } from '../engine/audit.js';
import { mapInOrder } from '../engine/map/chunk-mapper.js';
import { chooseMapper } from '../engine/write/load-entity.js';
import { mergePlanner, type EntityMerges } from '../engine/dedupe/merge-plan.js';
import { mergeJoin } from '../engine/read/merge-join.js';
import { refResolver, resolvedChunks, type RefResolver } from '../engine/relations/refs.js';
import { withConnections } from '../engine/run.js';
import { checkAgainstSchemas, type BoundEntity } from '../engine/schema-check.js';
import { CrmMigrateError } from '../errors.js';
import type { Plan } from '../plan/load.js';
import { batched, sortedRows } from '../connectors/shared/sorted-file.js';
import { newUuid } from '../mapping/identity.js';
import { sourceKeyText, valueToJson, type Row, type Value } from '../values.js';
import { canonical } from './canonical.js';
import { isRefusal } from '../engine/write/refused-rows.js';

/**
 * `missing`: the source row maps to a target row that is not there. `extra`: a target row with no source row.
 * `changed`: both are there and columns differ. `stale`: the source row is quarantined now, but the target
 * still holds an earlier version of it.
 */
export type DifferenceKind = 'missing' | 'extra' | 'changed' | 'stale';

export interface Difference {
  readonly kind: DifferenceKind;
  /** The key, as the quarantine shows it: the value for a one-column key, a JSON array for a composite one. */
  readonly key: string;
  /** The target columns that differ (`changed` only). */
  readonly columns: readonly string[];
  /** Expected and actual values of those columns: only when values were asked for. */
  readonly values?: readonly { column: string; expected: unknown; actual: unknown }[];
}

export interface EntityVerification {
  readonly entity: string;
  readonly table: string;
  /** Source rows read, and how many of them the plan quarantines (and so expects not to find). */
  readonly sourceRows: number;
  readonly quarantined: number;
  /** Target rows compared (soft-deleted rows are not counted: they are gone from the source by design). */
  readonly targetRows: number;
  readonly equal: number;
  readonly missing: number;
  readonly extra: number;
  readonly changed: number;
  readonly stale: number;
  /** Target rows that are placeholder records made for orphan refs (expected there, not `extra`). */
  readonly placeholders: number;
  /**
   * Records the source still has quarantined that `quarantine --retry` wrote from a fixed file: expected in the
   * target, their values not compared (the fixed values are in no source).
   */
  readonly retried: number;
  /**
   * Target rows of the entity's table that the entity did not write: another entity's of the plan, or the new
   * CRM's own. Not `extra`: they are not this entity's to verify. Told apart by the entity's crosswalk, which
   * every entity sharing its table (or detecting deletes) records; without one, every such row is `extra`.
   */
  readonly others: number;
  /** The first differences found, up to the limit asked for. */
  readonly differences: readonly Difference[];
}

/** Target rows without a source row whose owner is looked up per query. */
const UNSOURCED_CHUNK = 500;

/** The counts every verify shows, by field and column name. */
const VERIFY_COLUMNS = [
  ['sourceRows', 'source'],
  ['quarantined', 'quarantined'],
  ['targetRows', 'target'],
  ['equal', 'equal'],
  ['missing', 'missing'],
  ['extra', 'extra'],
  ['changed', 'changed'],
  ['stale', 'stale'],
] as const;

/**
 * The counts a verify shows per entity, as columns: the fixed ones, then placeholders, retried and others where some
 * entity has any. One list for the terminal table and the HTML report.
 */
export function verifyColumns(entities: readonly EntityVerification[]): {
  names: string[];
  counts(e: EntityVerification): number[];
} {
  const optional = (['placeholders', 'retried', 'others'] as const).filter((k) => entities.some((e) => e[k] > 0));
  const columns = [...VERIFY_COLUMNS, ...optional.map((k) => [k, k] as const)];
  return { names: columns.map(([, name]) => name), counts: (e) => columns.map(([k]) => e[k]) };
}

export interface VerifySummary {
  readonly source: string;
  readonly target: string;
  readonly equal: boolean;
  readonly entities: readonly EntityVerification[];
  readonly durationMs: number;
}

export interface VerifyOptions {
  /** Differences listed per entity (all are counted). Default 20. */
  readonly limit?: number | undefined;
  /** Include the differing values (customer data) in the result. */
  readonly showValues?: boolean | undefined;
}

/**
 * Recomputes what the target should hold — every source row pushed through the plan's mapping and cleaning,
 * minus the rows it quarantines — and compares it with what the target holds, row by row and column by
 * column. Both sides stream in key order and are merged in one pass: memory holds a few chunks, whatever the
 * table's size. Values are compared by their target column's type (see `canonical`). Reads only.
 */
export async function verifyPlan(plan: Plan, options: VerifyOptions = {}): Promise<VerifySummary> {
  const started = Date.now();
  const summary = await withConnections(plan, true, async (source, target, lookups) => {
    const { entities } = await checkAgainstSchemas(plan, source, target);
    const results: EntityVerification[] = [];
    const merging = mergePlanner(plan, entities, source, target.state, lookups);
    for (const entity of entities) {
      // The target holds a cycle's refs filled in (the second pass), so verify resolves them too.
      const resolve = refResolver(plan, entity, target.state, source, { fillDeferred: true, lookups });
      const known = {
        plan: plan.name,
        placeholders: new Set<string>(),
        retried: new Set<string>(),
        refused: new Set<string>(),
      };
      if (entity.placeholder)
        for await (const p of target.state.placeholders(plan.name, entity.plan.name)) known.placeholders.add(p.newKey);
      for await (const key of target.state.retried(plan.name, entity.plan.name)) known.retried.add(key);
      for await (const row of target.state.openQuarantine(plan.name, entity.plan.name))
        if (row.reasons.some(isRefusal)) known.refused.add(row.sourceKey);
      results.push(
        await verifyEntity(source, target, entity, options, resolve, (await merging.forEntity(entity))?.merges, known),
      );
    }
    const equal = results.every((r) => r.missing + r.extra + r.changed + r.stale === 0);
    return {
      source: source.display,
      target: target.display,
      equal,
      entities: results,
      durationMs: Date.now() - started,
    };
  });
  // The audit keeps the counts, not the differing keys: keys are listed by verify itself.
  const counts = Object.fromEntries(summary.entities.map(({ entity, differences: _d, ...c }) => [entity, c]));
  await recordAudit(
    plan,
    auditEntry(plan, {
      command: 'verify',
      outcome: summary.equal ? 'equal' : 'different',
      source: summary.source,
      target: summary.target,
      details: { entities: counts },
    }),
  );
  return summary;
}

/**
 * `merges`: the entity's dedupe merges, planned again from the source: merged rows are expected absent, survivors merged.
 * `known.placeholders`: target keys of the placeholder records made in the entity's table, expected there.
 * `known.retried`: source keys of records `retry` wrote from a fixed file, expected there with values of their own.
 * `known.refused`: source keys of rows the target refused when they were loaded, expected in quarantine.
 */
async function verifyEntity(
  source: Source,
  target: Target,
  entity: BoundEntity,
  options: VerifyOptions,
  resolve: RefResolver | undefined,
  merges: EntityMerges | undefined,
  known: {
    readonly plan: string;
    readonly placeholders: ReadonlySet<string>;
    readonly retried: ReadonlySet<string>;
    readonly refused: ReadonlySet<string>;
  },
): Promise<EntityVerification> {
  const { placeholders } = known;
  const { plan } = entity;
  const newId = plan.fields.some((f) => f.newId);
  if (entity.targetKey.length === 0) {
    throw new CrmMigrateError(
      'E_PLAN',
      `entity ${plan.name}: verify matches rows by key, so the key must be copied to the target as it is`,
      { hint: `add a field such as ${plan.key[0] ?? 'id'}: ${plan.key[0] ?? 'id'}` },
    );
  }
  const fields = plan.fields.map((f) => f.target);
  const types = fields.map((name) => entity.targetColumns.find((c) => c.name === name)?.type ?? 'text');
  const keyInRow = entity.targetKey.map((k) => fields.indexOf(k));
  const sourceKey = plan.key.map((k) => entity.sourceColumns.indexOf(k));
  const limit = options.limit ?? 20;
  const result = {
    entity: plan.name,
    table: plan.into,
    sourceRows: 0,
    quarantined: 0,
    targetRows: 0,
    equal: 0,
    missing: 0,
    extra: 0,
    changed: 0,
    stale: 0,
    placeholders: 0,
    retried: 0,
    others: 0,
  };
  const isPlaceholder = (key: readonly Value[]) =>
    placeholders.size > 0 && placeholders.has(sourceKeyText(key.map(valueToJson)));
  const differences: Difference[] = [];
  const note = (kind: DifferenceKind, key: readonly Value[], columns: string[] = [], values?: Difference['values']) => {
    result[kind] += 1;
    if (differences.length < limit)
      differences.push({ kind, key: sourceKeyText(key.map(valueToJson)), columns, ...(values ? { values } : {}) });
  };

  // Expected rows: a flag (1 written, 0 quarantined, 2 quarantined but retried from a fixed file) and the target
  // values; a quarantined row carries its key only.
  const mapper = chooseMapper(entity);
  async function* expected(): AsyncIterable<Row[]> {
    const keyText = (row: Row) => sourceKeyText(sourceKey.map((k) => valueToJson(row[k] ?? null)));
    for await (const chunk of mapInOrder(mapper, resolvedChunks(source, entity, { key: plan.key, resolve }))) {
      const rows: Row[] = [];
      chunk.values.forEach((mapped, i) => {
        const sourceRow = chunk.rows[i];
        let values = mapped;
        if (merges && values) {
          const key = keyText(sourceRow);
          if (merges.losers.has(key)) return; // merged into its survivor: expected absent
          values = merges.survivors.get(key) ?? values;
        }
        // The target itself refused the row when it was loaded (a unique index, a trigger): it waits in quarantine.
        if (values && known.refused.size > 0 && known.refused.has(keyText(sourceRow))) values = null;
        if (values) {
          rows.push([1, ...values]);
          return;
        }
        const key = sourceKey.map((k) => sourceRow[k] ?? null);
        const row: Row = [
          known.retried.size > 0 && known.retried.has(sourceKeyText(key.map(valueToJson))) ? 2 : 0,
          ...fields.map(() => null),
        ];
        // A quarantined record of a new_id entity is placed where its new key would be.
        if (newId) row[keyInRow[0] + 1] = newUuid(plan.name, sourceKeyText(key.map(valueToJson)));
        else keyInRow.forEach((at, k) => (row[at + 1] = key[k] ?? null));
        rows.push(row);
      });
      yield rows;
    }
  }
  // The target is in new-key order, unrelated to the source's: the expected rows are sorted to match (on disk).
  async function* expectedInOrder(): AsyncIterable<Row[]> {
    if (!newId) return yield* expected();
    async function* rows(): AsyncIterable<Row> {
      for await (const batch of expected()) yield* batch;
    }
    yield* batched(
      sortedRows(
        rows(),
        keyInRow.map((i) => i + 1),
        undefined,
        `entity ${plan.name}`,
      ),
      2000,
    );
  }
  // Target rows, without the soft-deleted ones.
  const tombstone = plan.tombstone;
  async function* actual(): AsyncIterable<Row[]> {
    if (entity.create) return; // the table does not exist: every expected row is missing
    const columns = tombstone ? [...fields, tombstone] : fields;
    for await (const rows of target.read({ table: plan.into, columns, key: entity.targetKey, batchSize: 2000 })) {
      yield tombstone ? rows.filter((r) => r[fields.length] === null) : rows;
    }
  }

  // Target rows with no source row are `extra` only if the entity wrote them (see `others`): looked up a few hundred at a time.
  const unsourced: Value[][] = [];
  const sortUnsourced = async () => {
    const keys = unsourced.splice(0);
    const texts = keys.map((k) => sourceKeyText(k.map(valueToJson)));
    const written = await target.state.writtenKeys(known.plan, plan.name, texts);
    keys.forEach((key, i) => {
      if (written.has(texts[i])) note('extra', key);
      else result.others += 1;
    });
  };

  try {
    await mergeJoin(
      { rows: expectedInOrder(), key: keyInRow.map((i) => i + 1), what: `source table ${plan.from}` },
      { rows: actual(), key: keyInRow, what: `target table ${plan.into}` },
      (want, have, key) => {
        if (want) result.sourceRows += 1;
        if (have) result.targetRows += 1;
        // A placeholder stands in for a record that was never migrated: missing from the source, or quarantined.
        const placeholder = have !== undefined && (!want || want[0] === 0) && isPlaceholder(key);
        if (placeholder) result.placeholders += 1;
        if (want && want[0] === 2) {
          result.retried += 1;
          return have ? undefined : note('missing', key);
        }
        if (want && want[0] === 0) {
          result.quarantined += 1;
          if (have && !placeholder) note('stale', key);
          return;
        }
        if (!want) {
          if (placeholder) return undefined;
          if (!entity.recordsCrosswalk) return note('extra', key);
          unsourced.push([...key]);
          return unsourced.length >= UNSOURCED_CHUNK ? sortUnsourced() : undefined;
        }
        if (!have) return note('missing', key);
        const differ: string[] = [];
        const values: { column: string; expected: unknown; actual: unknown }[] = [];
        for (let i = 0; i < fields.length; i++) {
          const type = types[i] ?? 'text';
          if (canonical(want[i + 1] ?? null, type) === canonical(have[i] ?? null, type)) continue;
          differ.push(fields[i]);
          if (options.showValues)
            values.push({
              column: fields[i],
              expected: valueToJson(want[i + 1] ?? null),
              actual: valueToJson(have[i] ?? null),
            });
        }
        if (differ.length === 0) result.equal += 1;
        else note('changed', key, differ, options.showValues ? values : undefined);
      },
    );
    await sortUnsourced();
  } finally {
    await mapper.close();
  }
  return { ...result, differences };
}
