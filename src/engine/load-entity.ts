import type { Checkpoint, Counts, QuarantinedRow, Reason, Source, Target } from '../connectors/contract.js';
import { valueToJson, type Row } from '../values.js';
import { QualityTally, type EntityQuality } from './quality.js';
import { createRowMapper } from './row-mapper.js';
import type { BoundEntity } from './schema-check.js';

export interface EntityProgress {
  readonly entity: string;
  readonly counts: Readonly<Counts>;
  /** Rows in the source table when the load started. */
  readonly total: number;
  readonly done: boolean;
}

export const zeroCounts = (): Counts => ({ read: 0, written: 0, merged: 0, quarantined: 0, filtered: 0 });

export function sourceKeyText(key: readonly unknown[]): string {
  return key.length === 1 ? String(key[0]) : JSON.stringify(key);
}

/** Source rows are pulled in chunks of at most this many; a batch (one transaction) spans several chunks. */
const READ_CHUNK = 500;

/**
 * Streams one entity from its checkpoint to the end. Rows are read in chunks, mapped, and streamed into an
 * open batch; every `batchSize` rows the batch commits with its quarantine rows and its checkpoint (one
 * transaction), and the last batch commits with `done`. Memory holds one chunk and the writer's buffer,
 * whatever the table's size; the database ingests while the next chunk is mapped.
 */
export async function loadEntity(options: {
  source: Source;
  target: Target;
  runId: string;
  entity: BoundEntity;
  from: Checkpoint | undefined;
  onProgress?: ((progress: EntityProgress) => void) | undefined;
}): Promise<Counts> {
  const { source, target, runId, entity } = options;
  const { plan } = entity;
  const tally = new QualityTally(plan.fields.map((f) => f.target), options.from?.quality as EntityQuality | undefined);
  const map = createRowMapper(entity, tally);
  const keyIndexes = plan.key.map((k) => entity.sourceColumns.indexOf(k));
  const start = { runId, table: plan.into, columns: plan.fields.map((f) => f.target) };
  const counts: Counts = { ...(options.from?.counts ?? zeroCounts()) };
  let lastKey: readonly unknown[] | null = options.from?.lastKey ?? null;
  const total = await source.count(plan.from);
  const report = (done: boolean) => options.onProgress?.({ entity: plan.name, counts: { ...counts }, total, done });
  const checkpoint = (done: boolean): Checkpoint => ({ entity: plan.name, lastKey, counts: { ...counts }, done, quality: tally.snapshot() });

  const reasons: Reason[] = [];
  let quarantine: QuarantinedRow[] = [];
  let inBatch = 0;
  let writer = await target.beginBatch(start);
  // With overlapping batches, the previous batch commits while this one streams. Commits stay in order:
  // a batch's commit starts only after the one before it has committed, so a checkpoint never runs ahead.
  let committing: Promise<void> = Promise.resolve();
  report(false);
  try {
    const after = lastKey === null ? undefined : (lastKey as Row);
    for await (const chunk of source.read({ table: plan.from, columns: entity.sourceColumns, key: plan.key, after, batchSize: Math.min(plan.batchSize, READ_CHUNK) })) {
      for (const row of chunk) {
        reasons.length = 0;
        const values = map(row, reasons);
        if (reasons.length === 0) {
          writer.add(values);
          counts.written += 1;
          continue;
        }
        const original: Record<string, unknown> = {};
        entity.sourceColumns.forEach((c, i) => (original[c] = valueToJson(row[i] ?? null)));
        quarantine.push({ entity: plan.name, sourceKey: sourceKeyText(keyIndexes.map((i) => valueToJson(row[i] ?? null))), row: original, reasons: reasons.slice() });
        counts.quarantined += 1;
      }
      const last = chunk[chunk.length - 1] as Row;
      lastKey = keyIndexes.map((i) => valueToJson(last[i] ?? null));
      counts.read += chunk.length;
      inBatch += chunk.length;
      if (inBatch < plan.batchSize) {
        await writer.flush();
        continue;
      }
      await committing;
      const commit = writer.commit(quarantine, checkpoint(false)).then(() => report(false));
      quarantine = [];
      inBatch = 0;
      if (target.capabilities.overlappingBatches) {
        committing = commit;
        // Handled here so it is not reported as unhandled; the failure is thrown by the next `await committing`.
        committing.catch(() => undefined);
      } else {
        await commit;
      }
      writer = await target.beginBatch(start);
    }
    await committing;
    // The last rows and the entity's `done` mark commit together.
    await writer.commit(quarantine, checkpoint(true));
  } catch (error) {
    await committing.catch(() => undefined);
    await writer.abort().catch(() => undefined);
    throw error;
  }
  report(true);
  return counts;
}
