import type { Checkpoint, Counts, QuarantinedRow, Source, Target } from '../connectors/contract.js';
import { valueToJson, type Row } from '../values.js';
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

/**
 * Streams one entity from its checkpoint to the end: read a batch, map it, write it with its checkpoint.
 * Reading and mapping the next batch overlaps the write of the previous one; at most two batches are in
 * memory, whatever the table's size.
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
  const map = createRowMapper(entity);
  const keyIndexes = plan.key.map((k) => entity.sourceColumns.indexOf(k));
  const columns = plan.fields.map((f) => f.target);
  const counts: Counts = { ...(options.from?.counts ?? zeroCounts()) };
  let lastKey: readonly unknown[] | null = options.from?.lastKey ?? null;
  const total = await source.count(plan.from);
  const report = (done: boolean) => options.onProgress?.({ entity: plan.name, counts: { ...counts }, total, done });

  let inFlight: Promise<void> = Promise.resolve();
  report(false);
  for await (const batch of source.read({ table: plan.from, columns: entity.sourceColumns, key: plan.key, after: lastKey as Row | null ?? undefined, batchSize: plan.batchSize })) {
    const rows: Row[] = [];
    const quarantine: QuarantinedRow[] = [];
    for (const row of batch) {
      const mapped = map(row);
      if (mapped.reasons === null) {
        rows.push(mapped.values);
        continue;
      }
      const original: Record<string, unknown> = {};
      entity.sourceColumns.forEach((c, i) => (original[c] = valueToJson(row[i] ?? null)));
      quarantine.push({ entity: plan.name, sourceKey: sourceKeyText(keyIndexes.map((i) => valueToJson(row[i] ?? null))), row: original, reasons: mapped.reasons });
    }
    const last = batch[batch.length - 1] as Row;
    lastKey = keyIndexes.map((i) => valueToJson(last[i] ?? null));
    counts.read += batch.length;
    counts.written += rows.length;
    counts.quarantined += quarantine.length;
    const checkpoint: Checkpoint = { entity: plan.name, lastKey, counts: { ...counts }, done: false };

    await inFlight;
    report(false);
    inFlight = target.writeBatch({ runId, table: plan.into, columns, rows, quarantine, checkpoint });
    // Marks the rejection as handled now; it is still thrown by the `await inFlight` above or below.
    inFlight.catch(() => undefined);
  }
  await inFlight;
  await target.writeBatch({ runId, table: plan.into, columns, rows: [], quarantine: [], checkpoint: { entity: plan.name, lastKey, counts: { ...counts }, done: true } });
  report(true);
  return counts;
}
