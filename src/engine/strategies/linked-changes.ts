import type { Checkpoint, Counts, QuarantinedRow, Reason, Source, Target } from '../../connectors/contract.js';
import { CrmMigrateError, RowsRejected } from '../../errors.js';
import type { JoinPlan } from '../../mapping/compile.js';
import { joinColumn } from '../../mapping/identity.js';
import { rowFilter } from '../../mapping/where.js';
import { sourceKeyText, valueToJson, type Row, type Value } from '../../values.js';
import { chunkMapperFor } from '../map/chunk-mapper.js';
import { piiColumns, rowForDisplay } from '../quarantine/pii.js';
import { QualityTally, readStoredQuality, storedQuality } from '../map/quality.js';
import { notOurs } from '../write/foreign-rows.js';
import { crosswalkEntries, type RefResolver } from '../relations/refs.js';
import { zeroCounts } from '../write/load-entity.js';
import { PendingRows, writeRefusedBatch } from '../write/refused-rows.js';
import type { BoundEntity } from '../schema-check.js';

/** Joined rows read a page at a time, and records re-read a batch at a time. */
const PAGE = 2_000;

/**
 * `cursor: [modifiedtime, person.modifiedtime]`: an increment reads the records whose own cursor moved, and a
 * change in a joined row only (a deal's contact person changed their email) would leave the record stale until
 * `verify` said so. This step, run before the entity's own increment, reads each joined table from where it
 * stopped, in (cursor, key) order, follows each changed row back through the chain of joins to the records that
 * join it (a lookup per link), and upserts those records as they are now, mapped and cleaned as the load does.
 *
 * Its checkpoint holds, per joined cursor, the (cursor, key) of the last joined row seen; each batch of records
 * commits with it. Re-reading a record twice writes the same row: a crash between batches costs a repeat, never
 * a loss. The first run only records where each joined table ends, before the full load reads the records.
 */
export async function resyncLinkedChanges(options: {
  source: Source;
  target: Target;
  runId: string;
  planName: string;
  entity: BoundEntity;
  stepName: string;
  from: Checkpoint | undefined;
  resolve: RefResolver | undefined;
  foreignRows: ((values: readonly (Row | null | undefined)[]) => Promise<Set<number>>) | undefined;
  signal?: AbortSignal | undefined;
}): Promise<{ stopped: boolean; counts: Counts }> {
  const { source, target, runId, entity, stepName } = options;
  const { plan } = entity;
  const counts: Counts = { ...zeroCounts(), ...options.from?.counts };
  const stored = readStoredQuality(options.from?.quality);
  const tally = new QualityTally(
    plan.fields.map((f) => f.target),
    stored.quality,
  );
  const cursors = plan.linkedCursors.map((c) => ({
    ...c,
    join: plan.joins.find((j) => j.alias === c.alias) as JoinPlan,
  }));
  /** Per joined cursor, the (cursor, key) of the last joined row seen, as the checkpoint stores it. */
  let positions: (unknown[] | null)[] | null =
    (options.from?.lastKey as (unknown[] | null)[] | null | undefined) ?? null;
  const checkpoint = (done: boolean): Checkpoint => ({
    entity: stepName,
    lastKey: positions,
    counts: { ...counts },
    done,
    quality: storedQuality(tally.snapshot(), stored.filtered),
  });
  const commitOnly = async (done: boolean) => {
    const writer = await target.beginBatch({ runId, table: plan.into, columns: entity.writeColumns });
    await writer.commit([], checkpoint(done));
  };
  if (positions === null) {
    // The first run: where each joined table ends now, before the records are loaded; nothing to re-read yet.
    positions = [];
    for (const c of cursors) positions.push(await lastPosition(source, c.join.from, c.column, c.join.key));
    await commitOnly(true);
    return { stopped: false, counts };
  }
  const filter = rowFilter(plan.where, entity.sourceColumns);
  const map = chunkMapperFor(entity);
  const pii = piiColumns(entity);
  const keyAt = entity.sourceColumns.indexOf(plan.key[0]);
  const keyOf = (row: Row) => sourceKeyText([valueToJson(row[keyAt] ?? null)]);
  const entry = (row: Row, reasons: readonly Reason[]): QuarantinedRow => ({
    entity: plan.name,
    sourceKey: keyOf(row),
    row: rowForDisplay(entity, row, pii),
    reasons,
  });
  for (const [i, c] of cursors.entries()) {
    const after: unknown[] | null = positions[i] ?? null;
    const pages: AsyncIterable<Row[]> = source.read({
      table: c.join.from,
      columns: [c.column, c.join.key],
      key: [c.column, c.join.key],
      after: (after as Row | null) ?? undefined,
      batchSize: PAGE,
    });
    for await (const page of pages) {
      if (options.signal?.aborted) return { stopped: true, counts };
      const keys = await recordsJoining(
        source,
        entity,
        c.join,
        page.map((r: Row) => r[1] ?? null),
      );
      await rewrite(keys);
      positions = positions.map((p, k) => (k === i ? page[page.length - 1].slice(0, 2).map(valueToJson) : p));
      await commitOnly(false);
    }
  }
  await commitOnly(true);
  return { stopped: false, counts };

  /** Upserts the records with these keys as the source holds them now, a batch with its checkpoint. */
  async function rewrite(keys: readonly Value[]): Promise<void> {
    for (let at = 0; at < keys.length; at += PAGE) {
      const found = await source.lookup(plan.from, plan.key[0], keys.slice(at, at + PAGE), entity.readColumns);
      const rows = found
        .map((r) => r.slice(1))
        .filter((row) => {
          counts.read += 1;
          if (filter?.(row) === undefined) return true;
          counts.filtered += 1;
          return false;
        });
      if (options.resolve) await options.resolve(rows);
      const mapped = map(rows);
      tally.merge(mapped.quality);
      const foreign = await options.foreignRows?.(mapped.values);
      const pending = new PendingRows();
      const quarantine: QuarantinedRow[] = [];
      rows.forEach((row, k) => {
        const values = foreign?.has(k) ? null : mapped.values[k];
        if (values) {
          pending.push(plan.tombstone ? [...values, null] : values, row);
          return;
        }
        const reasons = foreign?.has(k) ? [notOurs(entity.targetKey[0])] : (mapped.reasons[k] ?? []);
        quarantine.push(entry(row, reasons));
      });
      counts.written += pending.length;
      counts.quarantined += quarantine.length;
      const written = pending.values.map((values, k) => ({ sourceKey: keyOf(pending.sources[k]), values }));
      // As in an increment: each row written or quarantined again closes its entry from an earlier run.
      const seen = [...written.map((w) => w.sourceKey), ...quarantine.map((q) => q.sourceKey)];
      const state = {
        crosswalk: entity.recordsCrosswalk ? crosswalkEntries(options.planName, entity, written) : [],
        closedQuarantine: { plan: options.planName, entity: plan.name, sourceKeys: seen },
      };
      const start = { runId, table: plan.into, columns: entity.writeColumns, upsertKey: entity.targetKey };
      const writer = await target.beginBatch(start);
      try {
        for (const values of pending.values) writer.add(values);
        await writer.commit(quarantine, checkpoint(false), state);
      } catch (error) {
        if (!(error instanceof RowsRejected)) throw error;
        // The target refused some of them (a unique email now taken): those are quarantined, the rest written.
        const refused = await writeRefusedBatch(
          target,
          start,
          { quarantine, checkpoint: checkpoint(false), state },
          pending,
          (row, reason) => entry(row, [reason]),
          keyOf,
        );
        counts.written -= refused;
        counts.quarantined += refused;
      }
    }
  }
}

/** The (cursor, key) of a table's last row in that order, or null for an empty table. */
async function lastPosition(source: Source, table: string, cursor: string, key: string): Promise<unknown[] | null> {
  let last: Row | undefined;
  for await (const page of source.read({ table, columns: [cursor, key], key: [cursor, key], batchSize: 10_000 }))
    last = page[page.length - 1];
  return last ? last.slice(0, 2).map(valueToJson) : null;
}

/**
 * The keys of the entity's records that join these rows of `join` (by its key), followed back through the chain:
 * a join on the entity's own column is looked up in the entity's table; one on an earlier join's column, in that
 * join's table, and so on back.
 */
async function recordsJoining(
  source: Source,
  entity: BoundEntity,
  join: JoinPlan,
  values: readonly Value[],
): Promise<Value[]> {
  const wanted = [...new Set(values.filter((v) => v !== null))];
  if (wanted.length === 0) return [];
  const prefix = joinColumn('');
  const dot = join.on.startsWith(prefix) ? join.on.slice(prefix.length) : undefined;
  if (dot === undefined) {
    const rows = await source.lookup(entity.plan.from, join.on, wanted, [entity.plan.key[0]]);
    return [...new Set(rows.map((r) => r[1] ?? null))];
  }
  const [alias, column] = [dot.slice(0, dot.indexOf('.')), dot.slice(dot.indexOf('.') + 1)];
  const via = entity.plan.joins.find((j) => j.alias === alias);
  if (!via) throw new CrmMigrateError('E_INTERNAL', `join ${join.alias} is on ${dot}, and there is no join ${alias}`);
  const rows = await source.lookup(via.from, column, wanted, [via.key]);
  return recordsJoining(
    source,
    entity,
    via,
    rows.map((r) => r[1] ?? null),
  );
}
