import { parentPort, workerData } from 'node:worker_threads';
import { CrmMigrateError } from '../../errors.js';
import { parsePlan } from '../../plan/load.js';
import { refResolver } from '../relations/refs.js';
import { withConnections } from '../run.js';
import { loadEntity } from '../write/load-entity.js';
import type { ChunkJob, FromWorker, ToWorker, WorkerStart } from './chunk-threads.js';

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
  const plan = parsePlan(start.origin.text, start.origin.file, start.origin.options);
  const planned = plan.entities.find((e) => e.name === start.entity.name);
  if (!planned) throw new CrmMigrateError('E_STATE', `chunk worker: the plan has no entity ${start.entity.name}`);
  const entity = { ...start.entity.bound, plan: planned };
  await withConnections(plan, false, async (source, target, lookups) => {
    post({ type: 'ready' });
    for (;;) {
      const message = await next();
      if (message.type === 'close') return;
      if (message.type !== 'chunk') continue;
      const job: ChunkJob = message.job;
      const result = await loadEntity({
        source,
        target,
        runId: start.runId,
        entity,
        from: job.from,
        planName: plan.name,
        resolve: refResolver(plan, entity, target.state, source, { lookups }),
        signal: stop.signal,
        onProgress: (p) => post({ type: 'progress', index: job.index, counts: p.counts, total: p.total }),
        chunk: { through: job.through, checkpointName: job.name },
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
