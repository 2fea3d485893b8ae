import type { Checkpoint, Counts, Source, Target } from '../../connectors/contract.js';
import { planOrigin, type Plan } from '../../plan/load.js';
import { isBuiltinStep } from '../../mapping/steps.js';
import { QualityTally, readStoredQuality, storedQuality, type FilterCounts } from '../map/quality.js';
import type { RefResolver } from '../relations/refs.js';
import type { BoundEntity } from '../schema-check.js';
import { loadEntity, zeroCounts, type EntityProgress, type EntityResult } from '../write/load-entity.js';
import {
  chunkPlanCheckpoint,
  chunkPlanName,
  chunksOf,
  planChunks,
  storedChunkPlan,
  unchunkable,
  type Chunk,
} from './chunk-plan.js';
import { loadOnThreads, type ChunkJob } from './chunk-threads.js';
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
  const { plan, entity, checkpoints } = load;
  const name = entity.plan.name;
  let chunking = storedChunkPlan(checkpoints.find((c) => c.entity === chunkPlanName(name)));
  if (!chunking) {
    // A load begun in one piece goes on in one piece.
    if ((plan.parallel <= 1 && !load.queue) || checkpoints.some((c) => c.entity === name)) return undefined;
    const why = unchunkable(entity, load.source, load.merging) ?? (await nullableKey(load.source, entity));
    if (why) {
      load.onNote?.(`${name} is loaded by one worker: ${why}`);
      return undefined;
    }
    // Workers of a queue are not counted: chunks for a few of them each, at least.
    chunking = await planChunks(
      load.source,
      entity,
      load.queue ? Math.max(plan.parallel, QUEUE_WORKERS) : plan.parallel,
    );
    if (!chunking) return undefined;
    await carryForward(load.target, load.runId, entity, chunkPlanCheckpoint(name, chunking));
  }
  const chunks = chunksOf(name, chunking);
  const stored = new Map(checkpoints.map((c) => [c.entity, c]));
  const finished = new Map<number, Counts>();
  for (const chunk of chunks) {
    const own = stored.get(chunk.name);
    if (own?.done) finished.set(chunk.index, own.counts);
  }
  const pending = chunks.filter((c) => !finished.has(c.index));
  const progress = new Map<number, { counts: Counts; total: number }>();
  const report = (done: boolean) => {
    if (!load.onProgress) return;
    const counts = zeroCounts();
    let total = 0;
    for (const chunk of chunks) {
      const now = finished.get(chunk.index) ?? progress.get(chunk.index)?.counts;
      const rows = finished.get(chunk.index)?.read ?? progress.get(chunk.index)?.total ?? chunk.rows;
      total += rows;
      if (now) for (const k of Object.keys(counts) as (keyof Counts)[]) counts[k] += now[k];
    }
    load.onProgress({ entity: name, counts, total, done });
  };
  const jobs = pending.map((chunk) => jobOf(chunk, stored.get(chunk.name)));
  const threads = load.queue ? 0 : threadsFor(load, pending.length);
  let stopped = false;
  report(false);
  if (load.queue) {
    if (!load.target.capabilities.concurrentWriters)
      throw new CrmMigrateError(
        'E_USAGE',
        `${load.target.display} takes one writer at a time: its chunks cannot go to a queue's workers`,
        {
          hint: 'load a file or SQLite target in one process (--parallel runs its chunks one after another)',
        },
      );
    ({ stopped } = await loadOnQueue({
      url: load.queue,
      origin: queuedOrigin(plan),
      runId: load.runId,
      entity,
      chunks,
      pending: jobs,
      target: load.target,
      signal: load.signal,
      onNote: load.onNote,
      onProgress: (index, counts) => {
        progress.set(index, { counts, total: chunks[index]?.rows ?? 0 });
        report(false);
      },
    }));
    if (stopped) return { counts: zeroCounts(), stopped: true };
    // The queue's barrier job summed the chunks into the entity's checkpoint.
    const done = (await load.target.state.checkpoints(load.runId)).find((c) => c.entity === name);
    report(true);
    return { counts: { ...zeroCounts(), ...done?.counts }, stopped: false };
  }
  if (threads > 1) {
    const origin = planOrigin(plan);
    ({ stopped } = await loadOnThreads({
      start: { origin: origin as NonNullable<typeof origin>, runId: load.runId, entity },
      jobs,
      threads,
      signal: load.signal,
      onProgress: (index, counts, total) => {
        progress.set(index, { counts, total });
        report(false);
      },
      onDone: (index, counts) => finished.set(index, counts),
    }));
  } else {
    for (const job of jobs) {
      const result = await loadEntity({
        source: load.source,
        target: load.target,
        runId: load.runId,
        entity,
        from: job.from,
        planName: plan.name,
        resolve: load.resolve,
        signal: load.signal,
        onProgress: (p) => {
          progress.set(job.index, { counts: p.counts, total: p.total });
          report(false);
        },
        chunk: { through: job.through, checkpointName: job.name },
      });
      if (result.stopped) {
        stopped = true;
        break;
      }
      finished.set(job.index, result.counts);
    }
  }
  if (stopped) return { counts: zeroCounts(), stopped: true };
  const counts = await finishChunks(load.target, load.runId, entity, chunks);
  report(true);
  return { counts, stopped: false };
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
    for (const k of Object.keys(counts) as (keyof Counts)[]) counts[k] += own.counts[k];
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
