import type { Source } from '../connectors/contract.js';
import { batched, sortedRows } from '../connectors/shared/sorted-file.js';
import type { EntityMerges } from '../engine/dedupe/merge-plan.js';
import { mapInOrder, type ChunkMapper } from '../engine/map/chunk-mapper.js';
import { resolvedChunks, type RefResolver } from '../engine/relations/refs.js';
import type { BoundEntity } from '../engine/schema-check.js';
import { newUuid } from '../mapping/identity.js';
import { sourceKeyText, valueToJson, type Row } from '../values.js';

/** What verify knows of the entity's records besides the source: see verifyEntity. */
export interface KnownRecords {
  readonly plan: string;
  readonly placeholders: ReadonlySet<string>;
  readonly retried: ReadonlySet<string>;
  readonly refused: ReadonlySet<string>;
}

/** An expected row's first value: what became of its source row. */
export const WRITTEN = 1;
export const QUARANTINED = 0;
export const RETRIED = 2;

/**
 * The rows the target should hold, in the target's key order, as the load would write them: a flag (WRITTEN,
 * QUARANTINED, or RETRIED: quarantined but written by a retry from a fixed file), then the target values. A
 * quarantined row carries its key only; a merged one is left out (expected absent), a survivor has its merged
 * values; a row the target refused when it was loaded is expected in quarantine.
 */
export async function* expectedRows(options: {
  source: Source;
  entity: BoundEntity;
  resolve: RefResolver | undefined;
  merges: EntityMerges | undefined;
  known: KnownRecords;
  mapper: ChunkMapper;
}): AsyncIterable<Row[]> {
  const { entity } = options;
  if (!entity.plan.fields.some((f) => f.newId)) return yield* inSourceOrder(options);
  // The target is in new-key order, unrelated to the source's: the expected rows are sorted to match (on disk).
  const keyInRow = entity.targetKey.map((k) => entity.plan.fields.findIndex((f) => f.target === k));
  async function* rows(): AsyncIterable<Row> {
    for await (const batch of inSourceOrder(options)) yield* batch;
  }
  yield* batched(
    sortedRows(
      rows(),
      keyInRow.map((i) => i + 1),
      undefined,
      `entity ${entity.plan.name}`,
    ),
    2000,
  );
}

async function* inSourceOrder(options: Parameters<typeof expectedRows>[0]): AsyncIterable<Row[]> {
  const { source, entity, resolve, merges, known, mapper } = options;
  const { plan } = entity;
  const fields = plan.fields.map((f) => f.target);
  const newId = plan.fields.some((f) => f.newId);
  const keyInRow = entity.targetKey.map((k) => fields.indexOf(k));
  const sourceKey = plan.key.map((k) => entity.sourceColumns.indexOf(k));
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
        rows.push([WRITTEN, ...values]);
        return;
      }
      const key = sourceKey.map((k) => sourceRow[k] ?? null);
      const text = sourceKeyText(key.map(valueToJson));
      const row: Row = [
        known.retried.size > 0 && known.retried.has(text) ? RETRIED : QUARANTINED,
        ...fields.map(() => null),
      ];
      // A quarantined record of a new_id entity is placed where its new key would be.
      if (newId) row[keyInRow[0] + 1] = newUuid(plan.name, text);
      else keyInRow.forEach((at, k) => (row[at + 1] = key[k] ?? null));
      rows.push(row);
    });
    yield rows;
  }
}
