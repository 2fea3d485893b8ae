import type { Checkpoint, Counts, Source, Target } from '../../connectors/contract.js';
import { planOrigin, type Plan, type PlanOrigin } from '../../plan/load.js';
import { isBuiltinStep } from '../../mapping/steps.js';
import { QualityTally, readStoredQuality, storedQuality, type FilterCounts } from '../map/quality.js';
import type { RefResolver } from '../relations/refs.js';
import type { BoundEntity } from '../schema-check.js';
import { addCounts, zeroCounts, type EntityProgress, type EntityResult } from '../write/load-entity.js';
import {
  chunkPlanCheckpoint,
  chunkPlanName,
  chunksOf,
  planChunks,
  storedChunkPlan,
  unchunkable,
  type Chunk,
  type ChunkPlan,
} from './chunk-plan.js';
import { loadOnThreads } from './chunk-threads.js';
import { loadChunk, type ChunkJob } from './chunk-job.js';
import { loadOnQueue, queuedOrigin, QUEUE_WORKERS } from './queue.js';
import { carryForward } from '../write/carry-forward.js';
import { CrmMigrateError } from '../../errors.js';

export interface ChunkedLoad {
  readonly plan: Plan;
  readonly source: Source;
  readonly target: Target;
  readonly runId: string;
  readonly entity: BoundEntity;
  /** This run's checkpoints, as the step found them. */
  readonly checkpoints: readonly Checkpoint[];
  /** Whether the entity's load merges duplicates (its dedupe group's merge plan). */
  readonly merging: boolean;
  readonly resolve: RefResolver | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((progress: EntityProgress) => void) | undefined;
  /** Something to tell the user: why a load asked to run in parallel does not. */
  readonly onNote?: ((message: string) => void) | undefined;
  /** A queue to hand the chunks to (`run --queue redis://…`), for `crm-migrate worker` processes to load. */
  readonly queue?: string | undefined;
}

/**
 * Loads an entity as key-range chunks when the plan asks for workers (`parallel:` / `--parallel`), or goes on
 * with the chunks an interrupted run planned; undefined when the entity is loaded as one (the caller's
 * loadEntity, as always). The chunks run on worker threads, each with its own connections, where the target
 * takes writers side by side and the entity's steps are all built in; otherwise one after another here. When
 * every chunk is done, their counts and quality add up to the entity's own checkpoint, done: the run's
 * summary, the next run and verify see the entity as if loaded in one piece.
 */
export async function loadInChunks(load: ChunkedLoad): Promise<EntityResult | undefined> {
  const { entity, checkpoints } = load;
  const name = entity.plan.name;
  const chunking = await chunkPlanOf(load);
  if (!chunking) return undefined;
  const chunks = chunksOf(name, chunking);
  const stored = new Map(checkpoints.map((c) => [c.entity, c]));
  const progress = new ChunkProgress(load, chunks);
  for (const chunk of chunks) {
    const own = stored.get(chunk.name);
    if (own?.done) progress.done(chunk.index, own.counts);
  }
  const jobs = chunks.filter((c) => !progress.isDone(c.index)).map((c) => jobOf(c, stored.get(c.name)));
  progress.report(false);
  const stopped = load.queue
    ? await onQueue(load, chunks, jobs, progress)
    : await onThreadsOrHere(load, jobs, progress);
  if (stopped) return { counts: zeroCounts(), stopped: true };
  // Through a queue, its barrier job has summed the chunks already; the sums are the same either way.
  const counts = load.queue
    ? { ...zeroCounts(), ...(await load.target.state.checkpoints(load.runId)).find((c) => c.entity === name)?.counts }
    : await finishChunks(load.target, load.runId, entity, chunks);
  progress.report(true);
  return { counts, stopped: false };
}

/**
 * The entity's chunk plan: the one an interrupted run stored, or a new one (stored before any row is read)
 * when the plan asks for workers and the entity can be split; undefined: the entity loads in one piece.
 */
async function chunkPlanOf(load: ChunkedLoad): Promise<ChunkPlan | undefined> {
  const { plan, entity, checkpoints } = load;
  const name = entity.plan.name;
  const stored = storedChunkPlan(checkpoints.find((c) => c.entity === chunkPlanName(name)));
  if (stored) return stored;
  // A load begun in one piece goes on in one piece.
  if ((plan.parallel <= 1 && !load.queue) || checkpoints.some((c) => c.entity === name)) return undefined;
  const why = unchunkable(entity, load.source, load.merging) ?? (await nullableKey(load.source, entity));
  if (why) {
    load.onNote?.(`${name} is loaded by one worker: ${why}`);
    return undefined;
  }
  // Workers of a queue are not counted: chunks for a few of them each, at least.
  const workers = load.queue ? Math.max(plan.parallel, QUEUE_WORKERS) : plan.parallel;
  const chunking = await planChunks(load.source, entity, workers);
  if (chunking) await carryForward(load.target, load.runId, entity, chunkPlanCheckpoint(name, chunking));
  return chunking;
}

/** The entity's progress as its chunks report theirs: the sum over the chunks, done or under way. */
class ChunkProgress {
  readonly #finished = new Map<number, Counts>();
  readonly #going = new Map<number, { counts: Counts; total: number }>();

  constructor(
    private readonly load: ChunkedLoad,
    private readonly chunks: readonly Chunk[],
  ) {}

  isDone(index: number): boolean {
    return this.#finished.has(index);
  }

  done(index: number, counts: Counts): void {
    this.#finished.set(index, counts);
  }

  update(index: number, counts: Counts, total: number): void {
    this.#going.set(index, { counts, total });
    this.report(false);
  }

  report(done: boolean): void {
    if (!this.load.onProgress) return;
    const counts = zeroCounts();
    let total = 0;
    for (const chunk of this.chunks) {
      const finished = this.#finished.get(chunk.index);
      const going = this.#going.get(chunk.index);
      total += finished?.read ?? going?.total ?? chunk.rows;
      const now = finished ?? going?.counts;
      if (now) addCounts(counts, now);
    }
    this.load.onProgress({ entity: this.load.entity.plan.name, counts, total, done });
  }
}

/** The chunks handed to a queue's workers; resolves to whether the run was stopped before they were done. */
async function onQueue(
  load: ChunkedLoad,
  chunks: readonly Chunk[],
  jobs: readonly ChunkJob[],
  progress: ChunkProgress,
): Promise<boolean> {
  if (!load.target.capabilities.concurrentWriters)
    throw new CrmMigrateError(
      'E_USAGE',
      `${load.target.display} takes one writer at a time: its chunks cannot go to a queue's workers`,
      { hint: 'load a file or SQLite target in one process (--parallel runs its chunks one after another)' },
    );
  const { stopped } = await loadOnQueue({
    url: load.queue as string,
    origin: queuedOrigin(load.plan),
    runId: load.runId,
    entity: load.entity,
    chunks,
    pending: jobs,
    target: load.target,
    signal: load.signal,
    onNote: load.onNote,
    onProgress: (index, counts) => progress.update(index, counts, chunks[index]?.rows ?? 0),
  });
  return stopped;
}

/** The chunks on worker threads, or one after another on this thread; resolves to whether it was stopped. */
async function onThreadsOrHere(
  load: ChunkedLoad,
  jobs: readonly ChunkJob[],
  progress: ChunkProgress,
): Promise<boolean> {
  const threads = threadsFor(load, jobs.length);
  if (threads > 1) {
    const { stopped } = await loadOnThreads({
      start: { origin: planOrigin(load.plan) as PlanOrigin, runId: load.runId, entity: load.entity },
      jobs,
      threads,
      signal: load.signal,
      onProgress: (index, counts, total) => progress.update(index, counts, total),
      onDone: (index, counts) => progress.done(index, counts),
    });
    return stopped;
  }
  for (const job of jobs) {
    const result = await loadChunk({
      source: load.source,
      target: load.target,
      runId: load.runId,
      plan: load.plan,
      entity: load.entity,
      resolve: load.resolve,
      job,
      signal: load.signal,
      onProgress: (p) => progress.update(job.index, p.counts, p.total),
    });
    if (result.stopped) return true;
    progress.done(job.index, result.counts);
  }
  return false;
}

/**
 * A key column that may hold NULL: a row with a NULL key is in no range (`key <= end` is not true of it), so
 * such a table is loaded in one piece, as ever.
 */
async function nullableKey(source: Source, entity: BoundEntity): Promise<string | undefined> {
  const info = await source.describe(entity.plan.from);
  const open = entity.plan.key.filter((k) => info?.columns.find((c) => c.name === k)?.nullable !== false);
  return open.length > 0 ? `its key column ${open.join(', ')} may hold NULL, which no key range holds` : undefined;
}

/** A chunk's start: its own checkpoint from an earlier attempt, or the previous chunk's end. */
export function jobOf(chunk: Chunk, own: Checkpoint | undefined): ChunkJob {
  return {
    index: chunk.index,
    name: chunk.name,
    from: own ?? { entity: chunk.name, lastKey: chunk.after, counts: zeroCounts(), done: false },
    through: chunk.through,
  };
}

/**
 * Threads for the chunks: one (this thread) where the target takes one writer at a time (a file, SQLite),
 * where an entity's step is defined in TypeScript (a fresh thread has none), or where the plan was not made
 * from text a thread can parse again.
 */
function threadsFor(load: ChunkedLoad, pending: number): number {
  const { plan, target, entity } = load;
  const reasons = [
    ...(target.capabilities.concurrentWriters ? [] : [`${target.display} takes one writer at a time`]),
    ...(entity.plan.fields.every((f) => f.steps.every((s) => isBuiltinStep(s.name)))
      ? []
      : ['a step of it is defined in code']),
    ...(planOrigin(plan) ? [] : ['the plan was not parsed from text']),
  ];
  if (plan.parallel > 1 && reasons.length > 0)
    load.onNote?.(`${entity.plan.name}: its chunks are loaded one after another: ${reasons.join('; ')}`);
  return reasons.length > 0 ? 1 : Math.min(plan.parallel, pending);
}

/**
 * Every chunk done: their counts and quality summed into the entity's own checkpoint, marked done. Run by
 * the coordinator, or by a queue's barrier job; committed twice, it writes the same sums.
 */
export async function finishChunks(
  target: Target,
  runId: string,
  entity: BoundEntity,
  chunks: readonly Chunk[],
): Promise<Counts> {
  const stored = new Map((await target.state.checkpoints(runId)).map((c) => [c.entity, c]));
  const counts = zeroCounts();
  const tally = new QualityTally(entity.plan.fields.map((f) => f.target));
  const filtered: FilterCounts = {};
  let lastKey: readonly unknown[] | null = null;
  for (const chunk of chunks) {
    const own = stored.get(chunk.name);
    if (!own?.done)
      throw new CrmMigrateError(
        'E_STATE',
        `${chunk.name} is not done: the chunks of ${entity.plan.name} cannot be summed yet`,
      );
    addCounts(counts, own.counts);
    const quality = readStoredQuality(own.quality);
    tally.merge(quality.quality);
    for (const [clause, n] of Object.entries(quality.filtered)) filtered[clause] = (filtered[clause] ?? 0) + n;
    lastKey = own.lastKey ?? lastKey;
  }
  await carryForward(target, runId, entity, {
    entity: entity.plan.name,
    lastKey,
    counts,
    done: true,
    quality: storedQuality(tally.snapshot(), filtered),
  });
  return counts;
}
