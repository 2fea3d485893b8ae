import type { Checkpoint, Source, Target } from '../../connectors/contract.js';
import { CrmMigrateError } from '../../errors.js';
import { parsePlan, type Plan, type PlanOrigin } from '../../plan/load.js';
import type { RefResolver } from '../relations/refs.js';
import type { BoundEntity } from '../schema-check.js';
import { loadEntity, type EntityProgress, type EntityResult } from '../write/load-entity.js';

// One chunk's load, the same wherever it runs: on this thread, on a worker thread (chunk-worker.ts) or in a
// queue's worker (queue-worker.ts); and the entity as a worker makes it again from what it is handed.

/** One chunk for a worker: where it resumes (its checkpoint, or the previous chunk's end) and where it ends. */
export interface ChunkJob {
  readonly index: number;
  readonly name: string;
  readonly from: Checkpoint;
  readonly through: readonly unknown[] | undefined;
}

/** An entity as a worker is handed it: bound against the live schemas once, by the coordinator. */
export interface JobEntity {
  readonly name: string;
  readonly bound: Omit<BoundEntity, 'plan'>;
}

/** Everything of a bound entity but its compiled plan, which holds functions: a worker compiles its own. */
export function jobEntityOf(entity: BoundEntity): JobEntity {
  const bound = Object.fromEntries(Object.entries(entity).filter(([k]) => k !== 'plan')) as Omit<BoundEntity, 'plan'>;
  return { name: entity.plan.name, bound };
}

/** The plan made again from its text, and the entity compiled from it and bound as the coordinator bound it. */
export function planAndEntity(origin: PlanOrigin, handed: JobEntity): { plan: Plan; entity: BoundEntity } {
  const plan = parsePlan(origin.text, origin.file, origin.options);
  const planned = plan.entities.find((e) => e.name === handed.name);
  if (!planned) throw new CrmMigrateError('E_PLAN', `the plan handed to a worker has no entity ${handed.name}`);
  return { plan, entity: { ...handed.bound, plan: planned } };
}

/** Loads one chunk from `from` (default: where the job starts) to its end, mapped on the calling thread. */
export function loadChunk(options: {
  readonly source: Source;
  readonly target: Target;
  readonly runId: string;
  readonly plan: Plan;
  readonly entity: BoundEntity;
  readonly resolve: RefResolver | undefined;
  readonly job: ChunkJob;
  readonly from?: Checkpoint | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((progress: EntityProgress) => void) | undefined;
  /** A queue worker's claim on the chunk (see StateStore.claimFence). */
  readonly holder?: string | undefined;
}): Promise<EntityResult> {
  const { job, holder } = options;
  return loadEntity({
    source: options.source,
    target: options.target,
    runId: options.runId,
    entity: options.entity,
    from: options.from ?? job.from,
    planName: options.plan.name,
    resolve: options.resolve,
    signal: options.signal,
    onProgress: options.onProgress,
    chunk: {
      through: job.through,
      checkpointName: job.name,
      fence: holder === undefined ? undefined : { name: job.name, holder },
    },
  });
}
