import { Worker } from 'node:worker_threads';
import type { Counts } from '../../connectors/contract.js';
import { CrmMigrateError, type ErrorCode } from '../../errors.js';
import type { PlanOrigin } from '../../plan/load.js';
import type { BoundEntity } from '../schema-check.js';
import { workerModule } from '../worker-module.js';
import { jobEntityOf, type ChunkJob, type JobEntity } from './chunk-job.js';

/** What a chunk worker thread starts with: the plan's text, the run, and the entity as the coordinator bound it. */
export interface WorkerStart {
  readonly origin: PlanOrigin;
  readonly runId: string;
  readonly entity: JobEntity;
}

export type ToWorker = { type: 'chunk'; job: ChunkJob } | { type: 'stop' } | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; index: number; counts: Counts; total: number }
  | { type: 'done'; index: number; counts: Counts; stopped: boolean }
  | { type: 'error'; code: ErrorCode; message: string; hint: string | undefined };

/**
 * Loads `jobs` on `threads` worker threads, each taking the next chunk when it finishes one. A failure in
 * one stops the others after their batch in progress (each chunk's committed batches stay committed, so
 * the next run resumes every chunk where it stood) and is thrown once all have stopped. `signal` stops all
 * of them the same way; resolves to whether any chunk was left unfinished.
 */
export async function loadOnThreads(options: {
  readonly start: Omit<WorkerStart, 'entity'> & { readonly entity: BoundEntity };
  readonly jobs: readonly ChunkJob[];
  readonly threads: number;
  readonly signal?: AbortSignal | undefined;
  onProgress(index: number, counts: Counts, total: number): void;
  onDone(index: number, counts: Counts): void;
}): Promise<{ stopped: boolean }> {
  const start: WorkerStart = {
    origin: options.start.origin,
    runId: options.start.runId,
    entity: jobEntityOf(options.start.entity),
  };
  const queue = [...options.jobs];
  let stopped = false;
  let failure: CrmMigrateError | undefined;
  const workers: Worker[] = [];
  const stopAll = () => {
    for (const w of workers) w.postMessage({ type: 'stop' } satisfies ToWorker);
  };
  const onAbort = () => {
    stopped = true;
    stopAll();
  };
  options.signal?.addEventListener('abort', onAbort);
  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const worker = new Worker(workerModule(import.meta.url, 'engine/scale/chunk-worker.js'), { workerData: start });
      workers.push(worker);
      const give = () => {
        const job = failure || stopped ? undefined : queue.shift();
        worker.postMessage((job ? { type: 'chunk', job } : { type: 'close' }) satisfies ToWorker);
      };
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') give();
        else if (message.type === 'progress') options.onProgress(message.index, message.counts, message.total);
        else if (message.type === 'done') {
          if (message.stopped) stopped = true;
          else options.onDone(message.index, message.counts);
          give();
        } else if (message.type === 'error') {
          failure ??= new CrmMigrateError(message.code, message.message, { hint: message.hint });
          stopAll();
        }
      });
      worker.on('error', (error) => {
        failure ??= new CrmMigrateError('E_INTERNAL', `a chunk worker failed: ${error.message}`);
        stopAll();
      });
      worker.on('exit', (code) => {
        // A thread that died without a word (out of memory, say) left its chunk unfinished: a failure, not a stop.
        if (code !== 0) failure ??= new CrmMigrateError('E_INTERNAL', `a chunk worker thread exited with code ${code}`);
        resolve();
      });
    });
  try {
    await Promise.all(Array.from({ length: Math.min(options.threads, queue.length) }, one));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure;
  return { stopped: stopped || queue.length > 0 };
}
