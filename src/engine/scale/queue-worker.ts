import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Counts } from '../../connectors/contract.js';
import { CrmMigrateError, FencedError } from '../../errors.js';
import { refResolver } from '../relations/refs.js';
import { withConnections } from '../run.js';
import { TRANSIENT_CODES } from '../sync.js';
import { loadChunk, planAndEntity } from './chunk-job.js';
import { finishChunks } from './chunked-load.js';
import { packFailure, queueAddress, type BarrierJobData, type ChunkJobData } from './queue.js';

export interface WorkerOptions {
  /** The queue: `redis://host:6379?queue=NAME`, as the coordinator was given it. */
  readonly url: string;
  readonly signal: AbortSignal;
  /**
   * How long a job's lock lasts without renewal (default 30 s): a worker that dies holding a chunk gives it up
   * after this, and another worker goes on from the chunk's last committed batch.
   */
  readonly lockMs?: number | undefined;
  /** One line per job taken, finished or failed: entity, chunk and counts, never values. */
  onEvent?(line: string): void;
}

/**
 * `crm-migrate worker`: takes chunk jobs (and the barriers that sum them) from the queue until the signal
 * fires, one at a time; the job in progress stops after its batch and goes back to the queue for another
 * worker. Each chunk is claimed in the target first (its fence): a worker whose lock expired while it
 * was away cannot commit after the one that took the chunk over.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const address = queueAddress(options.url);
  const lockMs = options.lockMs ?? 30_000;
  let current: AbortController | undefined;
  const worker = new Worker(
    address.name,
    async (job: Job, token?: string) => {
      current = new AbortController();
      try {
        if (job.name === 'barrier') return await sumChunks(job.data as BarrierJobData);
        return await claimAndLoad(
          job.data as ChunkJobData,
          `${hostname()}:${process.pid}:${token ?? job.id}`,
          current.signal,
        );
      } catch (error) {
        options.onEvent?.(`${job.name} ${job.id ?? ''} failed: ${(error as Error).message}`);
        throw asJobFailure(error);
      } finally {
        current = undefined;
      }
    },
    {
      connection: { ...address.connection, maxRetriesPerRequest: null },
      autorun: false,
      concurrency: 1,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A chunk whose worker was killed goes to another; only a chunk that kills every worker fails for good.
      maxStalledCount: 10,
    },
  );
  worker.on('completed', (job) => options.onEvent?.(`${job.name} ${job.id ?? ''} done`));
  worker.on('error', (error) => options.onEvent?.(`queue: ${error.message}`));
  const stop = () => {
    current?.abort();
    void worker.close();
  };
  options.signal.addEventListener('abort', stop);
  try {
    if (!options.signal.aborted) await worker.run();
  } finally {
    options.signal.removeEventListener('abort', stop);
    await worker.close();
  }
}

/**
 * One chunk: claimed in the target (the fence), then loaded from its own checkpoint (or the previous chunk's
 * end) to its end; a chunk already done is not read again.
 */
async function claimAndLoad(data: ChunkJobData, holder: string, signal: AbortSignal): Promise<Counts> {
  const { plan, entity } = planAndEntity(data.origin, data.entity);
  const { job, runId } = data;
  return withConnections(plan, false, async (source, target, lookups) => {
    if (!target.state.claimFence)
      throw new CrmMigrateError('E_USAGE', `${target.display} cannot take chunks from several workers`);
    if ((await target.state.claimFence(runId, job.name, holder)) === undefined)
      throw new Error(`${job.name} was claimed by another worker at the same moment`);
    const own = (await target.state.checkpoints(runId)).find((c) => c.entity === job.name);
    if (own?.done) return own.counts;
    const result = await loadChunk({
      source,
      target,
      runId,
      plan,
      entity,
      resolve: refResolver(plan, entity, target.state, source, { lookups }),
      job,
      from: own,
      signal,
      holder,
    });
    // Back to the queue for another worker (the error is retried): the chunk goes on from its checkpoint.
    if (result.stopped) throw new Error(`${job.name}: the worker was stopped; the chunk goes on elsewhere`);
    return result.counts;
  });
}

/** The barrier: every chunk done, their sums committed as the entity's checkpoint. */
async function sumChunks(data: BarrierJobData): Promise<Counts> {
  const { plan, entity } = planAndEntity(data.origin, data.entity);
  return withConnections(plan, false, (_source, target) => finishChunks(target, data.runId, entity, data.chunks));
}

/** A failure as the queue keeps it: retried when it may pass (a lost connection, a stop), else final, with its code. */
function asJobFailure(error: unknown): Error {
  // Taken over: whoever holds the job now goes on (BullMQ drops this worker's word on a job it lost).
  if (error instanceof FencedError) return new Error(error.message);
  if (!(error instanceof CrmMigrateError)) return error instanceof Error ? error : new Error(String(error));
  if (TRANSIENT_CODES.has(error.code)) return error;
  return new UnrecoverableError(packFailure(error.code, error.message, error.hint));
}
