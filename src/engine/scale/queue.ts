import type { FlowJob, Job, Queue } from 'bullmq';
import type { Counts, Target } from '../../connectors/contract.js';
import { CrmMigrateError, type ErrorCode } from '../../errors.js';
import { planOrigin, type Plan, type PlanOrigin } from '../../plan/load.js';
import type { BoundEntity } from '../schema-check.js';
import type { Chunk } from './chunk-plan.js';
import { jobEntityOf, type ChunkJob, type JobEntity } from './chunk-job.js';

// Chunks through BullMQ on Redis: the coordinator (`run --queue`) adds a flow per entity — one child job
// per chunk, a parent barrier job that sums them when all are done — and `crm-migrate worker` processes on
// any machine take the jobs (queue-worker.ts). BullMQ delivers at least once; exactly once stays in the
// target, where each chunk's batches commit with its checkpoint and its worker's fence.

/** Chunks planned per entity are enough for this many workers (a queue does not know how many will come). */
export const QUEUE_WORKERS = 4;
/** How often the coordinator looks at the target's checkpoints and the barrier job. */
const POLL_MS = 500;
/** How long the coordinator waits for a Redis that does not answer before it gives up. */
const REDIS_PATIENCE_MS = 300_000;
/** BullMQ, imported by a run that uses a queue: with ioredis it took a fifth of every command's start-up. */
const bullmq = () => import('bullmq');

/** Where a queue is: its Redis and its name (`redis://host:6379/0?queue=NAME`; `rediss://` for TLS). */
export interface QueueAddress {
  readonly connection: {
    readonly host: string;
    readonly port: number;
    readonly username?: string;
    readonly password?: string;
    readonly db: number;
    readonly tls?: Record<string, never>;
  };
  readonly name: string;
  /** The URL without credentials, to print. */
  readonly display: string;
}

export function queueAddress(url: string): QueueAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new CrmMigrateError('E_USAGE', `--queue takes a Redis URL, not "${parsed.protocol.replace(':', '')}"`, {
      hint: 'redis://host:6379 (rediss:// for TLS), with ?queue=NAME to keep one migration apart from another',
    });
  const db = Number(parsed.pathname.replace('/', '') || '0');
  const name = parsed.searchParams.get('queue') ?? 'crm-migrate';
  return {
    connection: {
      host: parsed.hostname,
      port: Number(parsed.port || '6379'),
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      db,
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    name,
    display: `${parsed.protocol}//${parsed.host}/${db}?queue=${name}`,
  };
}

/** What a chunk job carries: the plan's text, the run, the entity as the coordinator bound it, the chunk. */
export interface ChunkJobData {
  readonly origin: PlanOrigin;
  readonly runId: string;
  readonly entity: JobEntity;
  readonly job: ChunkJob;
}

/** What the barrier job carries: the entity's chunks, to sum once every one is done. */
export interface BarrierJobData {
  readonly origin: PlanOrigin;
  readonly runId: string;
  readonly entity: JobEntity;
  readonly chunks: readonly Chunk[];
}

/**
 * The plan as a worker on another machine makes it again: its text and file name, and not this process's
 * environment — each machine resolves the plan's `${env:…}` and `${file:…}` references itself.
 */
export function queuedOrigin(plan: Plan): PlanOrigin {
  const origin = planOrigin(plan);
  if (!origin)
    throw new CrmMigrateError('E_USAGE', `plan ${plan.name} was not parsed from text, so no worker can make it again`, {
      hint: 'load it with loadPlan or parsePlan',
    });
  const { allowPlaintextSecrets, target } = origin.options;
  return { text: origin.text, file: origin.file, options: { allowPlaintextSecrets, target } };
}

/** Where Redis keeps data, from its INFO: whether it evicts keys, and whether it writes anything to disk. */
export async function redisSettings(queue: Queue): Promise<{ evicts: string | undefined; persists: boolean }> {
  // The two commands asked, as ioredis has them (BullMQ's own client type names neither).
  const client = (await queue.client) as unknown as {
    info(section: string): Promise<string>;
    config(...args: string[]): Promise<unknown>;
  };
  const field = (text: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim();
  const memory = await client.info('memory');
  const persistence = await client.info('persistence');
  const policy = field(memory, 'maxmemory_policy') ?? 'noeviction';
  let persists = field(persistence, 'aof_enabled') === '1';
  if (!persists) {
    // RDB snapshots: only CONFIG tells whether any are planned (managed services may refuse it: unknown then).
    const save = (await client.config('GET', 'save').catch(() => [])) as string[];
    persists = typeof save[1] === 'string' && save[1].trim() !== '';
  }
  return { evicts: policy === 'noeviction' ? undefined : policy, persists };
}

/**
 * Refuses a Redis that may evict BullMQ's keys (a job or its lock could vanish mid-run), and says so when
 * it keeps nothing on disk: a restart then empties the queue, and the coordinator adds what is not done again.
 */
export async function checkRedis(queue: Queue, display: string, onNote?: (message: string) => void): Promise<void> {
  const { evicts, persists } = await redisSettings(queue);
  if (evicts)
    throw new CrmMigrateError(
      'E_USAGE',
      `Redis at ${display} may evict keys (maxmemory-policy ${evicts}): a queued chunk or its lock could vanish`,
      { hint: 'set maxmemory-policy noeviction (redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf)' },
    );
  if (!persists)
    onNote?.(
      `Redis at ${display} keeps nothing on disk: if it restarts, the coordinator adds the chunks not done again (appendonly yes keeps them)`,
    );
}

/** Checks the queue's Redis before a run writes anything (see checkRedis). */
export async function checkQueue(url: string, onNote?: (message: string) => void): Promise<void> {
  const address = queueAddress(url);
  const { Queue } = await bullmq();
  const queue = new Queue(address.name, { connection: address.connection });
  try {
    await checkRedis(queue, address.display, onNote);
  } catch (error) {
    if (error instanceof CrmMigrateError) throw error;
    throw new CrmMigrateError(
      'E_CONNECT',
      `cannot reach the queue's Redis at ${address.display}: ${(error as Error).message}`,
      {
        hint: 'start Redis, or check the URL given to --queue',
      },
    );
  } finally {
    await queue.close();
  }
}

/** A job id of ours: BullMQ's own ids are numbers, and custom ones may not hold ':'. */
const jobId = (runId: string, name: string) => `crm-${runId}-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** A worker's failure as BullMQ stores it (a message only), and back: the code and hint go with it. */
export const packFailure = (code: ErrorCode, message: string, hint: string | undefined): string =>
  JSON.stringify({ code, message, hint });
function unpackFailure(text: string | undefined): CrmMigrateError {
  try {
    const { code, message, hint } = JSON.parse(text ?? '') as { code: ErrorCode; message: string; hint?: string };
    return new CrmMigrateError(code, message, { hint });
  } catch {
    return new CrmMigrateError('E_INTERNAL', `a chunk job failed: ${text ?? 'no reason given'}`);
  }
}

/**
 * Hands an entity's chunks to the queue and waits until the barrier has summed them into the entity's
 * checkpoint, reporting each chunk's progress from the target's checkpoints. Job ids are fixed by run and
 * chunk, so a restarted coordinator adds nothing twice; a flow Redis lost (a restart with nothing on disk)
 * is added again with the chunks not done. A chunk that fails for good fails the run with its error.
 */
export async function loadOnQueue(options: {
  readonly url: string;
  readonly origin: PlanOrigin;
  readonly runId: string;
  readonly entity: BoundEntity;
  readonly chunks: readonly Chunk[];
  readonly pending: readonly ChunkJob[];
  readonly target: Target;
  readonly signal?: AbortSignal | undefined;
  readonly onNote?: ((message: string) => void) | undefined;
  onProgress(index: number, counts: Counts): void;
}): Promise<{ stopped: boolean }> {
  const { runId, entity, target } = options;
  const address = queueAddress(options.url);
  const { Queue, FlowProducer, Job } = await bullmq();
  const queue = new Queue(address.name, { connection: address.connection });
  const flows = new FlowProducer({ connection: address.connection });
  const name = entity.plan.name;
  const data = { origin: options.origin, runId, entity: jobEntityOf(entity) };
  const barrierId = jobId(runId, `${name}-barrier`);
  // The run checked Redis's settings before it wrote anything (checkQueue).
  try {
    let away = 0;
    for (;;) {
      const stored = new Map((await target.state.checkpoints(runId)).map((c) => [c.entity, c]));
      for (const chunk of options.chunks) {
        const own = stored.get(chunk.name);
        if (own) options.onProgress(chunk.index, own.counts);
      }
      if (stored.get(name)?.done) return { stopped: false };
      if (options.signal?.aborted) return { stopped: true };
      try {
        const barrier = await Job.fromId<BarrierJobData>(queue, barrierId);
        if (!barrier) {
          // Gone: done and removed since the checkpoints above were read, or lost with Redis's data.
          const now = new Map((await target.state.checkpoints(runId)).map((c) => [c.entity, c]));
          if (now.get(name)?.done) return { stopped: false };
          const pending = options.pending.filter((job) => !now.get(job.name)?.done);
          await flows.add(flowOf(address.name, data, barrierId, options.chunks, pending, runId));
        } else if ((await barrier.getState()) === 'failed') {
          throw await failureOf(
            queue,
            barrier,
            options.pending.map((job) => jobId(runId, job.name)),
          );
        }
        away = 0;
      } catch (error) {
        if (error instanceof CrmMigrateError) throw error;
        // Redis away (a restart, the network): the workers wait for it too; the target keeps what is done.
        if (++away * POLL_MS > REDIS_PATIENCE_MS)
          throw new CrmMigrateError(
            'E_CONNECT',
            `the queue's Redis at ${address.display} has not answered for ${REDIS_PATIENCE_MS / 1000} s`,
            {
              hint: 'start it again, then run the same command: every chunk goes on from its last committed batch',
            },
          );
        if (away === 1) options.onNote?.(`the queue's Redis at ${address.display} does not answer: waiting for it`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await Promise.allSettled([queue.close(), flows.close()]);
  }
}

/** An entity's flow: a barrier job whose children are its pending chunks; each chunk is tried up to 10 times. */
function flowOf(
  queueName: string,
  data: Omit<ChunkJobData, 'job'>,
  barrierId: string,
  chunks: readonly Chunk[],
  pending: readonly ChunkJob[],
  runId: string,
): FlowJob {
  const retried = { removeOnComplete: true, attempts: 10, backoff: { type: 'exponential', delay: 1000 } };
  return {
    name: 'barrier',
    queueName,
    data: { ...data, chunks } satisfies BarrierJobData,
    opts: { jobId: barrierId, ...retried },
    children: pending.map((job) => ({
      name: 'chunk',
      queueName,
      data: { ...data, job } satisfies ChunkJobData,
      opts: { jobId: jobId(runId, job.name), ...retried, failParentOnFailure: true },
    })),
  };
}

/** Why a flow failed: the first failed chunk's error (else the barrier's); the failed jobs are removed, so the next run adds them afresh. */
async function failureOf(queue: Queue, barrier: Job, chunkIds: readonly string[]): Promise<CrmMigrateError> {
  const { Job } = await bullmq();
  let reason = barrier.failedReason;
  for (const id of chunkIds) {
    const job = await Job.fromId(queue, id);
    if (job && (await job.getState()) === 'failed') {
      reason = job.failedReason;
      break;
    }
  }
  await barrier.remove({ removeChildren: true }).catch(() => undefined);
  return unpackFailure(reason);
}
