import { parentPort, workerData } from 'node:worker_threads';
import { CrmMigrateError } from '../../errors.js';
import { refResolver } from '../relations/refs.js';
import { withConnections } from '../run.js';
import { loadChunk, planAndEntity } from './chunk-job.js';
import type { FromWorker, ToWorker, WorkerStart } from './chunk-threads.js';

// A chunk worker thread: makes the plan again from its text, opens its own source and target connections,
// and loads the chunks the coordinator hands it one at a time, each committing with its own checkpoint.

const start = workerData as WorkerStart;
const port = parentPort;
if (!port) throw new Error('chunk worker: not started as a worker thread');
const post = (message: FromWorker) => port.postMessage(message);

const stop = new AbortController();
const inbox: ToWorker[] = [];
let wake: (() => void) | undefined;
port.on('message', (message: ToWorker) => {
  if (message.type === 'stop') stop.abort();
  else inbox.push(message);
  wake?.();
});
async function next(): Promise<ToWorker> {
  while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  return inbox.shift() as ToWorker;
}

async function work(): Promise<void> {
  const { plan, entity } = planAndEntity(start.origin, start.entity);
  await withConnections(plan, false, async (source, target, lookups) => {
    const resolve = refResolver(plan, entity, target.state, source, { lookups });
    post({ type: 'ready' });
    for (;;) {
      const message = await next();
      if (message.type === 'close') return;
      if (message.type !== 'chunk') continue;
      const { job } = message;
      const result = await loadChunk({
        source,
        target,
        runId: start.runId,
        plan,
        entity,
        resolve,
        job,
        signal: stop.signal,
        onProgress: (p) => post({ type: 'progress', index: job.index, counts: p.counts, total: p.total }),
      });
      post({ type: 'done', index: job.index, counts: result.counts, stopped: result.stopped });
    }
  });
}

work().then(
  () => port.close(),
  (error: unknown) => {
    post({
      type: 'error',
      code: error instanceof CrmMigrateError ? error.code : 'E_INTERNAL',
      message: error instanceof Error ? error.message : String(error),
      hint: error instanceof CrmMigrateError ? error.hint : undefined,
    });
    port.close();
  },
);
