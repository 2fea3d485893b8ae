import type { Reason, TableSpec } from '../connectors/contract.js';
import type { PlanIssue } from '../errors.js';
import type { Plan } from '../plan/load.js';
import { valueToJson, type Row } from '../values.js';
import { maskValue } from '../protect/protect.js';
import { sourceKeyText } from './write/load-entity.js';
import { piiColumns, rowForDisplay } from './quarantine/pii.js';
import { refResolver, resolvedChunks } from './relations/refs.js';
import { QualityTally, type EntityQuality } from './map/quality.js';
import { createRowMapper } from './map/row-mapper.js';
import { withConnections } from './run.js';
import { checkAgainstSchemas, type BoundEntity } from './schema-check.js';
import { changeCaptureIssues } from './strategies/change-stream.js';

export interface SampleRow {
  readonly sourceKey: string;
  readonly before: Readonly<Record<string, unknown>>;
  /** The target row; null when the row would be quarantined. */
  readonly after: Readonly<Record<string, unknown>> | null;
  readonly reasons: readonly Reason[];
}

export interface EntityPreview {
  readonly entity: string;
  readonly from: string;
  readonly into: string;
  readonly sourceRows: number;
  /** The table `run` would create; absent when it exists and was checked. */
  readonly create: TableSpec | undefined;
  readonly samples: readonly SampleRow[];
  /** The cleaning quality report over the sample rows. */
  readonly quality: EntityQuality;
}

export interface PlanPreview {
  readonly source: string;
  readonly target: string;
  readonly warnings: readonly PlanIssue[];
  readonly entities: readonly EntityPreview[];
}

/**
 * What the target's unique columns would refuse among the sample rows: a value that an earlier sample row
 * already holds (`unique_violation`, as the run would quarantine it when the database refuses it).
 */
function uniqueChecks(entity: BoundEntity): (values: Row, reasons: Reason[]) => void {
  const columns = entity.targetColumns.flatMap((c, i) => (c.unique ? [i] : []));
  const seen = columns.map(() => new Set<string>());
  return (values, reasons) => {
    columns.forEach((i, k) => {
      const value = values[i] ?? null;
      if (value === null) return;
      const text = String(valueToJson(value));
      const set = seen[k];
      if (set.has(text))
        reasons.push({ field: entity.targetColumns[i]?.name ?? '', rule: 'target', code: 'unique_violation' });
      else set.add(text);
    });
  };
}

/**
 * `plan`: checks the plan against the live schemas and pushes the first rows of each entity through
 * mapping and cleaning. Opens the target for inspection only: nothing is created or written anywhere.
 */
export async function previewPlan(
  plan: Plan,
  options: { sample?: number; showValues?: boolean | undefined } = {},
): Promise<PlanPreview> {
  const sample = options.sample ?? 20;
  return withConnections(plan, true, async (source, target, lookups) => {
    const { entities, warnings: schemaWarnings } = await checkAgainstSchemas(plan, source, target);
    const warnings = [...schemaWarnings, ...(await changeCaptureIssues(plan, source))];
    const previews: EntityPreview[] = [];
    for (const entity of entities) {
      const tally = new QualityTally(entity.plan.fields.map((f) => f.target));
      const map = createRowMapper(entity, tally);
      const keyIndexes = entity.plan.key.map((k) => entity.sourceColumns.indexOf(k));
      const samples: SampleRow[] = [];
      // Personal data is masked here too, unless values were asked for; protected fields show their protected form.
      const pii = options.showValues ? new Set<string>() : piiColumns(entity);
      const piiFields = new Set(
        options.showValues
          ? []
          : entity.plan.fields.filter((f) => f.pii && f.steps.at(-1)?.kind !== 'protect').map((f) => f.target),
      );
      if (sample > 0) {
        const resolve = refResolver(plan, entity, target.state, source, { dryRun: true, fillDeferred: true, lookups });
        const unique = uniqueChecks(entity);
        // The entity's where: holds here too: the sample is of the rows that would be loaded.
        sampling: for await (const batch of resolvedChunks(source, entity, { key: entity.plan.key, resolve })) {
          for (const row of batch) {
            if (samples.length >= sample) break sampling;
            const reasons: Reason[] = [];
            const values = map(row, reasons);
            if (reasons.length === 0) unique(values, reasons);
            const before = rowForDisplay(entity, row, pii);
            const shown = (target: string, value: unknown) =>
              piiFields.has(target) && value !== null ? maskValue(String(value)) : value;
            const after =
              reasons.length > 0
                ? null
                : Object.fromEntries(
                    entity.plan.fields.map((f, i) => [f.target, shown(f.target, valueToJson(values[i] ?? null))]),
                  );
            samples.push({
              sourceKey: sourceKeyText(keyIndexes.map((i) => valueToJson(row[i] ?? null))),
              before,
              after,
              reasons,
            });
          }
          if (samples.length >= sample) break;
        }
      }
      previews.push({
        entity: entity.plan.name,
        from: entity.plan.from,
        into: entity.plan.into,
        sourceRows: await source.count(entity.plan.from),
        create: entity.create,
        samples,
        quality: tally.snapshot(),
      });
    }
    return { source: source.display, target: target.display, warnings, entities: previews };
  });
}
