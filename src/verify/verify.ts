import type { Source, Target } from '../connectors/contract.js';
import { auditEntry, recordAudit } from '../engine/audit.js';
import { chooseMapper } from '../engine/write/load-entity.js';
import { mergePlanner, type EntityMerges } from '../engine/dedupe/merge-plan.js';
import { mergeJoin } from '../engine/read/merge-join.js';
import { refResolver, type RefResolver } from '../engine/relations/refs.js';
import { withConnections } from '../engine/run.js';
import { checkAgainstSchemas, type BoundEntity } from '../engine/schema-check.js';
import { CrmMigrateError } from '../errors.js';
import type { Plan } from '../plan/load.js';
import type { Row } from '../values.js';
import { EntityTally } from './entity-tally.js';
import { expectedRows, type KnownRecords } from './expected-rows.js';
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
 * The expected rows and the target's are read in key order and merged in one pass (see EntityTally).
 */
async function verifyEntity(
  source: Source,
  target: Target,
  entity: BoundEntity,
  options: VerifyOptions,
  resolve: RefResolver | undefined,
  merges: EntityMerges | undefined,
  known: KnownRecords,
): Promise<EntityVerification> {
  const { plan } = entity;
  if (entity.targetKey.length === 0) {
    throw new CrmMigrateError(
      'E_PLAN',
      `entity ${plan.name}: verify matches rows by key, so the key must be copied to the target as it is`,
      { hint: `add a field such as ${plan.key[0] ?? 'id'}: ${plan.key[0] ?? 'id'}` },
    );
  }
  const keyInRow = entity.targetKey.map((k) => plan.fields.findIndex((f) => f.target === k));
  const tally = new EntityTally(entity, known, target.state, options);
  const mapper = chooseMapper(entity);
  try {
    await mergeJoin(
      {
        rows: expectedRows({ source, entity, resolve, merges, known, mapper }),
        key: keyInRow.map((i) => i + 1),
        what: `source table ${plan.from}`,
      },
      { rows: targetRows(target, entity), key: keyInRow, what: `target table ${plan.into}` },
      (want, have, key) => tally.compare(want, have, key),
    );
    return await tally.result();
  } finally {
    await mapper.close();
  }
}

/** The entity's rows in the target, in key order, without the soft-deleted ones. */
async function* targetRows(target: Target, entity: BoundEntity): AsyncIterable<Row[]> {
  const { plan } = entity;
  if (entity.create) return; // the table does not exist: every expected row is missing
  const fields = plan.fields.map((f) => f.target);
  const tombstone = plan.tombstone;
  const columns = tombstone ? [...fields, tombstone] : fields;
  for await (const rows of target.read({ table: plan.into, columns, key: entity.targetKey, batchSize: 2000 })) {
    yield tombstone ? rows.filter((r) => r[fields.length] === null) : rows;
  }
}
