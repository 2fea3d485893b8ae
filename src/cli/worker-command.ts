import { CrmMigrateError, DURATION_HINT, parseDuration, queueAddress, runWorker } from '../index.js';
import type { Io } from './main.js';
import { stopOnSignals } from './signals.js';

export interface WorkerCommandOptions {
  queue: string;
  lock?: string;
}

/**
 * `crm-migrate worker --queue URL`: loads the chunks `run --queue` hands out, on this machine, until SIGINT or
 * SIGTERM (the chunk in progress stops after its batch and goes back to the queue). One line per job on
 * stderr: entity, chunk, done or why not, never a customer's value.
 */
export async function workerCommand(options: WorkerCommandOptions, io: Io): Promise<number> {
  const address = queueAddress(options.queue);
  const lockMs = options.lock === undefined ? undefined : parseDuration(options.lock);
  if (lockMs === undefined && options.lock !== undefined)
    throw new CrmMigrateError('E_USAGE', `--lock "${options.lock}" is not a duration`, { hint: DURATION_HINT });
  const stop = stopOnSignals((line) => io.err(line));
  io.err(`worker: taking chunks from ${address.display}`);
  try {
    await runWorker({
      url: options.queue,
      signal: stop.signal,
      lockMs,
      onEvent: (line) => io.err(`${new Date().toISOString()} ${line}`),
    });
  } finally {
    stop.dispose();
  }
  io.err('worker stopped');
  return 0;
}
