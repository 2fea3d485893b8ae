import type { BatchState, Checkpoint, Counts, Removal, Source, Target } from '../../connectors/contract.js';
import { batched, sortedRows } from '../../connectors/shared/sorted-file.js';
import { newUuid } from '../../mapping/identity.js';
import { sourceKeyText, valueToJson, type Row } from '../../values.js';
import { mergeJoin } from '../read/merge-join.js';
import { rowFilter } from '../../mapping/where.js';
import type { BoundEntity } from '../schema-check.js';

/** Keys read per batch from each side, and removed per transaction. */
const KEYS_PER_BATCH = 5000;
/** Quarantined keys looked up in the source per query. */
const LOOKUP_CHUNK = 500;

/**
 * Removes target rows whose source row is gone. The source's keys and the target's keys are read in key
 * order and merged in one pass, so no key list is ever held in memory; the keys missing from the source are
 * deleted (or tombstoned) in batches, each committed with the entity's checkpoint. Running it again finds
 * nothing more to do, so a crash in the middle is repaired by the next run.
 */
export async function removeDeleted(options: {
  source: Source;
  target: Target;
  runId: string;
  planName: string;
  entity: BoundEntity;
  counts: Counts;
  checkpoint: (done: boolean) => Checkpoint;
}): Promise<void> {
  const { source, target, entity, counts } = options;
  const { plan } = entity;
  const how: Removal = {
    key: entity.targetKey,
    tombstone:
      plan.deletes === 'soft' && plan.tombstone ? { column: plan.tombstone, at: new Date().toISOString() } : undefined,
  };
  let gone: Row[] = [];
  const commit = async (done: boolean, state?: BatchState) => {
    // Only rows the entity wrote are its to remove: not another entity's in the same table, nor the new CRM's own.
    const texts = gone.map((key) => sourceKeyText(key.map(valueToJson)));
    const written = await target.state.writtenKeys(options.planName, plan.name, texts);
    const writer = await target.beginBatch({ runId: options.runId, table: plan.into, columns: entity.writeColumns });
    try {
      counts.deleted += await writer.remove(
        gone.filter((_key, i) => written.has(texts[i])),
        how,
      );
      gone = [];
      await writer.commit([], options.checkpoint(done), state);
    } catch (error) {
      await writer.abort();
      throw error;
    }
  };
  const keyIndexes = plan.key.map((_k, i) => i);
  // A row the entity's `where:` now filters out (a record marked deleted) is gone as far as the target goes.
  const filterColumns = [...new Set(plan.where.flatMap((c) => c.columns))].filter((c) => !plan.key.includes(c));
  const filter = rowFilter(plan.where, [...plan.key, ...filterColumns]);
  async function* keptKeys(): AsyncIterable<Row[]> {
    for await (const batch of source.read({
      table: plan.from,
      columns: [...plan.key, ...filterColumns],
      key: plan.key,
      batchSize: KEYS_PER_BATCH,
    })) {
      yield filter
        ? batch.filter((row) => filter(row) === undefined).map((row) => row.slice(0, plan.key.length))
        : batch;
    }
  }
  const sourceKeys = keptKeys();
  // With a new_id the target holds each record under its new key: the source's keys become those, sorted (on disk).
  async function* newKeys(): AsyncIterable<Row> {
    for await (const batch of sourceKeys)
      for (const key of batch) yield [newUuid(plan.name, sourceKeyText(key.map(valueToJson)))];
  }
  const newId = plan.fields.some((f) => f.newId);
  await mergeJoin(
    {
      rows: newId
        ? batched(sortedRows(newKeys(), [0], undefined, `source table ${plan.from}`), KEYS_PER_BATCH)
        : sourceKeys,
      key: newId ? [0] : keyIndexes,
      what: `source table ${plan.from}`,
    },
    {
      rows: target.read({
        table: plan.into,
        columns: entity.targetKey,
        key: entity.targetKey,
        batchSize: KEYS_PER_BATCH,
      }),
      key: entity.targetKey.map((_k, i) => i),
      what: `target table ${plan.into}`,
    },
    (inSource, inTarget) => {
      if (inSource || !inTarget) return undefined;
      gone.push(inTarget);
      return gone.length >= KEYS_PER_BATCH ? commit(false) : undefined;
    },
  );
  await commit(true, await goneFromQuarantine(source, target, options.planName, entity));
}

/**
 * The open quarantine entries of rows the source no longer has: a quarantined row has no target row for the
 * merge above to find. Looked up by key (one-column keys; the open quarantine is small next to the table).
 */
async function goneFromQuarantine(
  source: Source,
  target: Target,
  planName: string,
  entity: BoundEntity,
): Promise<BatchState | undefined> {
  const { plan } = entity;
  const column = plan.key[0];
  if (plan.key.length !== 1 || column === undefined) return undefined;
  const open: string[] = [];
  for await (const q of target.state.openQuarantine(planName, plan.name)) open.push(q.sourceKey);
  const gone: string[] = [];
  for (let start = 0; start < open.length; start += LOOKUP_CHUNK) {
    const chunk = open.slice(start, start + LOOKUP_CHUNK);
    const found = new Set(
      (await source.lookup(plan.from, column, chunk, [])).map((r) => sourceKeyText([valueToJson(r[0] ?? null)])),
    );
    gone.push(...chunk.filter((k) => !found.has(k)));
  }
  return gone.length === 0 ? undefined : { closedQuarantine: { plan: planName, entity: plan.name, sourceKeys: gone } };
}
