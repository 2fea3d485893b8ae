import { availableParallelism } from 'node:os';
import type {
  BatchStart,
  Checkpoint,
  Counts,
  QuarantinedRow,
  Reason,
  ReviewPair,
  Source,
  Target,
} from '../../connectors/contract.js';
import { CrmMigrateError } from '../../errors.js';
import { isBuiltinStep } from '../../mapping/steps.js';
import { sourceKeyText, valueToJson, type Row } from '../../values.js';
import { adaptiveMapper } from '../map/adaptive-mapper.js';
import { inlineMapper, mapInOrder, type ChunkMapper, type MappedChunk } from '../map/chunk-mapper.js';
import type { EntityMerges } from '../dedupe/merge-plan.js';
import { removeDeleted } from '../strategies/deletes.js';
import { notOurs } from './foreign-rows.js';
import { piiColumns, rowForDisplay } from '../quarantine/pii.js';
import type { RefResolver } from '../relations/refs.js';
import { QualityTally, readStoredQuality, storedQuality, type FilterCounts } from '../map/quality.js';
import { rowFilter } from '../../mapping/where.js';
import { BatchPipeline } from './batch-pipeline.js';
import { OpenBatch } from './open-batch.js';
import { READ_CHUNK, spanReader } from './read-again.js';
import { EMPTY_DIGEST, foldKey, writeRefusedBatch, type BatchContent } from './refused-rows.js';
import type { BoundEntity } from '../schema-check.js';
import { poolMapper } from '../map/worker-pool.js';
import { chooseScavenges } from './scavenges.js';
import { progressReporter } from './progress-reporter.js';

export interface EntityProgress {
  readonly entity: string;
  readonly counts: Readonly<Counts>;
  /** Rows in the source table when the load started. */
  readonly total: number;
  readonly done: boolean;
}

/** What became of one entity's load: its counts, and whether it stopped early on request. */
export interface EntityResult {
  readonly counts: Counts;
  readonly stopped: boolean;
}

/** The checkpoint of an entity's second pass (refs closing a cycle, filled in): kept apart from its load's. */
export const secondPassName = (entity: string): string => `${entity}#refs`;

export const zeroCounts = (): Counts => ({ read: 0, written: 0, merged: 0, quarantined: 0, filtered: 0, deleted: 0 });

/** Adds `more` into `into`, bucket by bucket (the chunks of an entity, summed). */
export function addCounts(into: Counts, more: Readonly<Counts>): void {
  for (const k of Object.keys(into) as (keyof Counts)[]) into[k] += more[k];
}

export { sourceKeyText } from '../../values.js';

/**
 * Where rows are mapped: `workers: 0` on the main thread, `N` on N threads, `auto` on whichever measures
 * faster. Entities with steps defined from TypeScript stay on the main thread: a fresh thread has no such step.
 */
export function chooseMapper(entity: BoundEntity): ChunkMapper {
  const { workers } = entity.plan;
  const threadable = entity.plan.fields.every((f) => f.steps.every((s) => isBuiltinStep(s.name)));
  if (!threadable || workers === 0) return inlineMapper(entity);
  if (workers !== 'auto') return poolMapper(entity, workers);
  const cores = availableParallelism();
  return cores > 1 ? adaptiveMapper(entity, cores) : inlineMapper(entity);
}

/** The columns rows are read in order of: the key, or for an incremental entity the cursor, then the key. */
export function readOrder(entity: BoundEntity): string[] {
  const { plan } = entity;
  return plan.strategy === 'incremental' && plan.cursor ? [plan.cursor, ...plan.key] : [...plan.key];
}

/**
 * Streams one entity from its checkpoint to the end. Rows are read in chunks, mapped (on this thread or on
 * worker threads), and streamed into an open batch; every `batchSize` rows the batch commits with its
 * quarantine rows and its checkpoint (one transaction), and the last batch commits with `done`. Memory holds
 * a few chunks and the writer's buffer, whatever the table's size; the database ingests while the next
 * chunks are mapped.
 *
 * An incremental entity is read in (cursor, key) order from its checkpoint and upserted; the key breaks
 * ties, so rows sharing the checkpoint's cursor value are neither lost nor read twice. Then, with `deletes`,
 * target rows whose source row is gone are removed. `signal` stops the load after the batch in progress.
 */
export async function loadEntity(options: {
  source: Source;
  target: Target;
  runId: string;
  entity: BoundEntity;
  from: Checkpoint | undefined;
  /** The plan's name: the crosswalk is kept per plan. */
  planName?: string | undefined;
  /** Fills in ref fields before mapping (see refs.ts); absent for an entity without refs. */
  resolve?: RefResolver | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: EntityProgress) => void) | undefined;
  /** The entity's share of its dedupe group's merge plan: merged rows are counted, not written. */
  merges?: EntityMerges | undefined;
  /** Pairs for review, stored with the first batch this call commits (the caller passes them once per run). */
  review?: readonly ReviewPair[] | undefined;
  /**
   * The second pass over an entity whose refs close a cycle: every row again, refs resolved, upserted onto
   * what the load wrote. Its accounting is its own checkpoint (`<entity>#refs`); rows it cannot map stay as
   * the load left them (their quarantine is the load's), and the crosswalk is the load's.
   */
  secondPass?: boolean | undefined;
  /**
   * An increment (a run after a finished one): each row it writes or quarantines closes the row's quarantine
   * entry from an earlier run, so the plan's open quarantine lists every row once, as it stands now.
   */
  closesEarlierQuarantine?: boolean | undefined;
  /** An increment's rows whose key holds a target row the entity never wrote (see foreign-rows.ts). */
  foreignRows?: ((values: readonly (Row | null | undefined)[]) => Promise<Set<number>>) | undefined;
  /**
   * One chunk of the entity's key order (src/engine/scale/): its rows end at this key, inclusive, and its
   * batches commit with its own checkpoint, `checkpointName`. Mapped on the chunk's own thread (`inline`).
   */
  chunk?:
    | {
        readonly through?: readonly unknown[] | undefined;
        readonly checkpointName: string;
        /** A queue worker's claim on the chunk: a batch commits only while the worker holds it. */
        readonly fence?: { readonly name: string; readonly holder: string } | undefined;
      }
    | undefined;
}): Promise<EntityResult> {
  chooseScavenges();
  const { source, target, runId, entity, signal } = options;
  const { plan } = entity;
  const incremental = plan.strategy === 'incremental';
  const stored = readStoredQuality(options.from?.quality);
  const tally = new QualityTally(
    plan.fields.map((f) => f.target),
    stored.quality,
  );
  /** Rows the entity's `where:` filtered out so far, by clause. */
  const filteredBy: FilterCounts = stored.filtered;
  const filter = rowFilter(plan.where, entity.sourceColumns);
  const keyIndexes = plan.key.map((k) => entity.sourceColumns.indexOf(k));
  const keyOf = (row: Row): string => sourceKeyText(keyIndexes.map((k) => valueToJson(row[k] ?? null)));
  const order = readOrder(entity);
  const orderIndexes = order.map((k) => entity.sourceColumns.indexOf(k));
  // An incremental entity upserts — except on its very first pass over a snapshot-reading source, where each
  // key comes once into a target the plan fills from empty: plain bulk inserts then, about twice as fast.
  const firstPass = options.from === undefined && source.snapshotReads;
  const second = options.secondPass === true;
  const start: BatchStart = {
    runId,
    table: plan.into,
    columns: entity.writeColumns,
    upsertKey: second || (incremental && !firstPass) ? entity.targetKey : undefined,
    fence: options.chunk?.fence,
  };
  const chunk = options.chunk;
  const checkpointName = chunk?.checkpointName ?? (second ? secondPassName(plan.name) : plan.name);
  const through = chunk?.through as Row | undefined;
  const tombstoned = plan.tombstone !== undefined;
  const pii = piiColumns(entity);
  const counts: Counts = { ...zeroCounts(), ...options.from?.counts };
  let lastKey: readonly unknown[] | null = options.from?.lastKey ?? null;
  const after = lastKey === null ? undefined : (lastKey as Row);
  if (incremental && plan.cursor) {
    // A row with no cursor value sorts outside every "changed since" window: it would never be synced.
    const blank = await source.countNull(plan.from, plan.cursor);
    if (blank > 0) {
      throw new CrmMigrateError(
        'E_SOURCE',
        `${blank} row${blank === 1 ? '' : 's'} of ${plan.from} ha${blank === 1 ? 's' : 've'} no ${plan.cursor}: an incremental sync would never see ${blank === 1 ? 'it' : 'them'}`,
        {
          hint: `fill ${plan.cursor} on those rows (or give the column a default), or load this entity with strategy: full`,
        },
      );
    }
  }
  const progress = progressReporter(options.onProgress, counts.read, () =>
    source.count(plan.from, after || through ? { key: order, after: after ?? [], through } : undefined),
  );
  const report = (done: boolean) => progress.report({ entity: plan.name, counts: { ...counts }, done });
  const checkpoint = (done: boolean): Checkpoint => ({
    entity: checkpointName,
    lastKey,
    counts: { ...counts },
    done,
    // A copy: the batch commits while the next rows are counted, and must store the counts as of its own end.
    quality: storedQuality(tally.snapshot(), { ...filteredBy }),
  });

  const mapper = chunk ? inlineMapper(entity) : chooseMapper(entity);

  const merges = options.merges;
  /** An increment: each row it writes, merges, quarantines or filters closes the row's earlier quarantine entry. */
  const closing = options.closesEarlierQuarantine === true && !second;
  const current = new OpenBatch({
    planName: options.planName ?? '',
    entity,
    recordsState: !second && (entity.recordsCrosswalk || merges !== undefined || closing),
    closing,
    // Rows an increment writes where a placeholder may stand in for them (made by an earlier run's orphan refs).
    realizing: closing && entity.placeholder !== undefined,
    review: options.review,
    after: lastKey,
  });
  const quarantineEntry = (source: Row, reason: Reason): QuarantinedRow => ({
    entity: plan.name,
    sourceKey: keyOf(source),
    row: rowForDisplay(entity, source, pii),
    reasons: [reason],
  });
  /** The open batch's content, handed over for its commit; the next batch starts empty. */
  const takeBatch = (done: boolean): BatchContent => current.take(checkpoint(done), lastKey);
  /**
   * The values a mapped row is written as, or undefined for a row not written (quarantined, or merged into
   * its survivor): the survivor's folded values where it has them, with the cleared tombstone.
   */
  const writtenValues = (row: Row, mapped: Row | null | undefined): Row | undefined => {
    if (!mapped) return undefined;
    const sourceKey = merges ? keyOf(row) : '';
    return merges?.losers.has(sourceKey) ? undefined : asWritten(sourceKey, mapped);
  };
  /** A written row's values: its survivor's folded values where it has them, and (soft deletes) the tombstone cleared, as a row can come back. */
  function asWritten(sourceKey: string, mapped: Row): Row {
    const values = merges?.survivors.get(sourceKey)?.slice() ?? mapped;
    if (tombstoned) values.push(null);
    return values;
  }
  const readAgain = spanReader({ source, entity, order, filter, resolve: options.resolve, writtenValues });
  /** Writes a batch the target refused again without its refused rows, which move to the quarantine. */
  const rewrite = async (batch: BatchContent): Promise<void> => {
    const refused = await writeRefusedBatch(target, start, batch, await readAgain(batch.span), quarantineEntry, keyOf);
    counts.written -= refused;
    counts.quarantined += refused;
  };
  const batches = new BatchPipeline(target, start, {
    take: takeBatch,
    rewrite,
    readOpenAgain: () => readAgain(current.span),
    report: () => report(false),
  });
  await batches.open();

  /**
   * What `where:` took out of each source chunk before mapping, in read order (one entry per chunk mapped):
   * the rows are counted, and the checkpoint moves past them, when their chunk is accounted.
   */
  const filteredChunks: {
    read: number;
    last: Row;
    filtered: number;
    digest: number;
    by: FilterCounts;
    keys: string[];
  }[] = [];
  /** Accounts for one mapped chunk, in read order, and commits the batch when it is full. */
  const account = async (chunk: MappedChunk): Promise<void> => {
    tally.merge(chunk.quality);
    const taken = filter ? filteredChunks.shift() : undefined;
    if (taken) {
      counts.filtered += taken.filtered;
      for (const [clause, n] of Object.entries(taken.by)) filteredBy[clause] = (filteredBy[clause] ?? 0) + n;
      current.span.digest = (current.span.digest + taken.digest) >>> 0;
      current.filtered(taken.keys);
    }
    const batchWriter = batches.writer;
    const foreign = start.upsertKey && !second ? await options.foreignRows?.(chunk.values) : undefined;
    chunk.rows.forEach((row, i) => {
      const someoneElses = foreign?.has(i) === true;
      let values = someoneElses ? null : chunk.values[i];
      if (values) {
        const sourceKey = entity.recordsCrosswalk || merges || closing ? keyOf(row) : '';
        const lost = merges?.losers.get(sourceKey);
        current.span.digest = foldKey(current.span.digest, row, keyIndexes, !lost);
        if (lost) {
          // Merged into its survivor: not written, and references to it now lead to the survivor's record.
          counts.merged += 1;
          current.merged(sourceKey, lost);
          return;
        }
        values = asWritten(sourceKey, values);
        batchWriter.add(values);
        counts.written += 1;
        current.wrote(sourceKey, values);
        return;
      }
      current.span.digest = foldKey(current.span.digest, row, keyIndexes, false);
      counts.quarantined += 1;
      if (second) return;
      current.quarantined({
        entity: plan.name,
        sourceKey: keyOf(row),
        row: rowForDisplay(entity, row, pii),
        reasons: someoneElses ? [notOurs(entity.targetKey[0])] : (chunk.reasons[i] ?? []),
      });
    });
    const last = taken?.last ?? chunk.rows[chunk.rows.length - 1];
    lastKey = orderIndexes.map((i) => valueToJson(last[i] ?? null));
    const read = taken?.read ?? chunk.rows.length;
    counts.read += read;
    current.span.read += read;
    if (current.span.read < plan.batchSize) {
      await batches.flush();
      return;
    }
    await batches.commit(false);
    await batches.open();
  };

  const removesDeleted = incremental && plan.deletes !== 'ignore';
  let stopped = false;
  /** The rows of a chunk `where:` keeps; what it takes out is noted for `account` (filteredChunks). */
  const keptRows = (rows: Row[]): Row[] => {
    const kept: Row[] = [];
    const taken = {
      read: rows.length,
      last: rows[rows.length - 1],
      filtered: 0,
      digest: EMPTY_DIGEST,
      by: {} as FilterCounts,
      keys: [] as string[],
    };
    for (const row of rows) {
      const clause = (filter as NonNullable<typeof filter>)(row);
      if (clause === undefined) {
        kept.push(row);
        continue;
      }
      taken.filtered += 1;
      taken.by[clause] = (taken.by[clause] ?? 0) + 1;
      taken.digest = foldKey(taken.digest, row, keyIndexes, false);
      if (closing) taken.keys.push(keyOf(row));
    }
    filteredChunks.push(taken);
    return kept;
  };
  /** Source chunks, refs resolved; a stop request ends them before the next chunk, which is then not accounted. */
  async function* chunks(): AsyncIterable<Row[]> {
    for await (const rows of source.read({
      table: plan.from,
      columns: entity.readColumns,
      key: order,
      after,
      through,
      batchSize: Math.min(plan.batchSize, READ_CHUNK),
    })) {
      if (signal?.aborted) {
        stopped = true;
        return;
      }
      const kept = filter ? keptRows(rows) : rows;
      if (options.resolve) await options.resolve(kept);
      yield kept;
    }
  }
  report(false);
  try {
    for await (const chunk of mapInOrder(mapper, chunks())) await account(chunk);
    // The last rows and the entity's `done` mark commit together (after deletes, when there are any).
    await batches.commit(true, !stopped && !removesDeleted);
    if (removesDeleted && !stopped)
      await removeDeleted({ source, target, runId, planName: options.planName ?? '', entity, counts, checkpoint });
  } catch (error) {
    progress.abandon();
    await batches.abandon();
    throw error;
  } finally {
    await mapper.close();
  }
  await progress.counted;
  report(!stopped);
  return { counts, stopped };
}
