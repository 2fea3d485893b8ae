import type { Checkpoint, Counts, Source } from '../../connectors/contract.js';
import { valueToJson } from '../../values.js';
import type { BoundEntity } from '../schema-check.js';
import { addCounts, zeroCounts } from '../write/load-entity.js';

/**
 * An entity's load as chunks of its key order: chunk i holds the keys after chunk i-1's end, through its own.
 * The ends are fixed when the load starts (stored in the checkpoint `<entity>#chunks`), so a resumed run
 * splits the table as the interrupted one did, and each chunk resumes from its own checkpoint.
 */
export interface ChunkPlan {
  /** Each chunk's last key (JSON values), inclusive; the last chunk's is null: it runs to the table's end. */
  readonly ends: readonly (readonly unknown[] | null)[];
  /** Rows each chunk held when the plan was made: the progress bar's total before a chunk has counted its own. */
  readonly rows: readonly number[];
}

/** One chunk to load: where it starts (after the previous chunk's end) and where it ends. */
export interface Chunk {
  readonly index: number;
  /** Its checkpoint: `<entity>#chunk-<i>`. */
  readonly name: string;
  readonly after: readonly unknown[] | null;
  readonly through: readonly unknown[] | undefined;
  readonly rows: number;
}

export const chunkPlanName = (entity: string): string => `${entity}#chunks`;
export const chunkName = (entity: string, index: number): string => `${entity}#chunk-${index}`;

/** A chunk never holds fewer rows than this: below it, the threads' start-up costs more than they save. */
export const MIN_CHUNK_ROWS = 20_000;
/** Chunks per worker: enough that a worker whose chunks run fast takes another, not so many that each is tiny. */
const CHUNKS_PER_WORKER = 4;

/**
 * Why an entity's load is not split into chunks, or undefined when it can be: a full load or a cdc snapshot
 * (an increment is small and reads in cursor order), no dedupe (its merge plan is made over the whole entity), and a source
 * that ends a read at a key in the database itself.
 */
export function unchunkable(entity: BoundEntity, source: Source, merging: boolean): string | undefined {
  // A cdc entity's snapshot is a full load whose stream start is stored before it (run.ts): chunked alike.
  if (entity.plan.strategy === 'incremental') return 'it is loaded with strategy: incremental';
  if (merging) return 'it is de-duplicated (its matches are found over the whole entity)';
  if (source.rangeReads !== true) return 'its source reads a table whole (files are sorted for every read)';
  return undefined;
}

/**
 * Splits an entity's table into about `workers × 4` chunks of equal rows: its key columns are read once, in
 * key order, and every n-th key ends a chunk. Exact quantiles rather than sampled ones: the key-only read of
 * 1,000,000 rows takes a fraction of a second next to the load, and chunks of equal size keep every worker busy
 * until the end. Undefined when the table is too small to be worth splitting, or holds a NULL key.
 */
export async function planChunks(source: Source, entity: BoundEntity, workers: number): Promise<ChunkPlan | undefined> {
  const { plan } = entity;
  const total = await source.count(plan.from);
  const chunks = Math.min(workers * CHUNKS_PER_WORKER, Math.floor(total / MIN_CHUNK_ROWS));
  if (chunks < 2) return undefined;
  const step = Math.ceil(total / chunks);
  const ends: (readonly unknown[] | null)[] = [];
  const rows: number[] = [];
  let seen = 0;
  let inChunk = 0;
  for await (const keys of source.read({ table: plan.from, columns: plan.key, key: plan.key, batchSize: 10_000 })) {
    for (const key of keys) {
      // A NULL key is in no range (`key <= end` is not true of it): such a table loads in one piece.
      if (key.some((v) => v === null)) return undefined;
      seen += 1;
      inChunk += 1;
      if (seen % step === 0 && ends.length < chunks - 1) {
        ends.push(key.map((v) => valueToJson(v)));
        rows.push(inChunk);
        inChunk = 0;
      }
    }
  }
  ends.push(null);
  rows.push(inChunk);
  return ends.length < 2 ? undefined : { ends, rows };
}

/** The chunks of a plan, each starting after the previous one's end. */
export function chunksOf(entity: string, plan: ChunkPlan): Chunk[] {
  return plan.ends.map((end, index) => ({
    index,
    name: chunkName(entity, index),
    after: index === 0 ? null : (plan.ends[index - 1] ?? null),
    through: end ?? undefined,
    rows: plan.rows[index] ?? 0,
  }));
}

/** The chunk plan as its checkpoint stores it, and back. */
export function chunkPlanCheckpoint(entity: string, plan: ChunkPlan): Checkpoint {
  return {
    entity: chunkPlanName(entity),
    lastKey: [plan],
    counts: zeroCounts(),
    done: true,
  };
}

export function storedChunkPlan(checkpoint: Checkpoint | undefined): ChunkPlan | undefined {
  const stored = checkpoint?.lastKey?.[0] as ChunkPlan | undefined;
  return stored && Array.isArray(stored.ends) ? stored : undefined;
}

/** An entity's counts so far while it loads as chunks (its own checkpoint comes when they are all done). */
export function chunkCounts(checkpoints: readonly Checkpoint[], entity: string): Counts | undefined {
  const prefix = `${entity}#chunk-`;
  const chunks = checkpoints.filter((c) => c.entity.startsWith(prefix));
  if (chunks.length === 0) return undefined;
  const counts = zeroCounts();
  for (const c of chunks) addCounts(counts, c.counts);
  return counts;
}
