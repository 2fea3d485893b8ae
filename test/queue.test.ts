import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CrmMigrateError, parsePlan, runPlan, type RunSummary } from '../src/index.js';
import { startOwnRedis, type OwnRedis } from '../scripts/servers/own-redis.js';
import { fillLegacyCrm, outcome, PEOPLE, pgContent, planText } from './helpers/chunk-fixture.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';

// Chunks through BullMQ on Redis (src/engine/scale/queue.ts): `crm-migrate worker` processes take them, and
// whatever happens to a worker, to Redis or to the coordinator, the target ends as a load in one process
// leaves it, row for row, with the same accounting. The real Redis on 127.0.0.1:6379, each test on a queue
// of its own; the Redis restart on a server of the test's own that keeps its data on disk.

const BIN = path.resolve(import.meta.dirname, '../bin/crm-migrate.js');
const REDIS = process.env.CRM_MIGRATE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

interface Spawned {
  readonly child: ChildProcess;
  readonly log: () => string;
  readonly exited: Promise<number | null>;
}

function spawnCli(args: string[]): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  return { child, log: () => log, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

/** Rows of `entity` its chunks have committed so far. */
async function committed(db: TestPostgres, entity: string): Promise<number> {
  const rows = await db
    .query<{ n: string }>(
      `SELECT COALESCE(SUM(read_rows), 0) AS n FROM _crm_migrate.checkpoints WHERE entity LIKE '${entity}#chunk-%'`,
    )
    .catch(() => [{ n: '0' }]);
  return Number(rows[0]?.n ?? 0);
}

async function until(what: string, ready: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('chunks through a BullMQ queue', () => {
  let source: TestPostgres;
  let reference: TestPostgres;
  let single: RunSummary;
  let tmp: ReturnType<typeof tempDir>;
  const workers: Spawned[] = [];
  const queues: string[] = [];
  const dropped: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    if (!existsSync(path.resolve(import.meta.dirname, '../dist/src/cli/main.js')))
      throw new Error('build first: npm run build (npm test does)');
    [source, reference] = await Promise.all([createPostgresDatabase(), createPostgresDatabase()]);
    await fillLegacyCrm(source);
    tmp = tempDir();
    single = await runPlan(parsePlan(planText(source.url, reference.url, 1), path.join(tmp.dir, 'one.yaml')));
  }, 120_000);

  afterEach(async () => {
    for (const w of workers.splice(0)) {
      w.child.kill('SIGCONT');
      w.child.kill('SIGKILL');
      await w.exited;
    }
  });

  afterAll(async () => {
    for (const url of queues) {
      const name = new URL(url).searchParams.get('queue') ?? '';
      const queue = new Queue(name, { connection: { host: new URL(url).hostname, port: Number(new URL(url).port) } });
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    await Promise.all(dropped.map((drop) => drop()));
    await Promise.all([source?.drop(), reference?.drop()]);
    tmp?.remove();
  });

  /** A queue of the test's own on `server`, and a target database. */
  async function setting(server = REDIS) {
    const url = `${server}?queue=t${randomBytes(4).toString('hex')}`;
    queues.push(url);
    const target = await createPostgresDatabase();
    dropped.push(target.drop);
    const file = path.join(tmp.dir, `${randomBytes(4).toString('hex')}.yaml`);
    writeFileSync(file, planText(source.url, target.url, 1));
    const startWorkers = (n: number) => {
      for (let i = 0; i < n; i++) workers.push(spawnCli(['worker', '--queue', url, '--lock', '2s']));
    };
    return { url, target, file, startWorkers };
  }

  async function expectSameAsOneProcess(summary: RunSummary, target: TestPostgres): Promise<void> {
    expect(outcome(summary)).toEqual(outcome(single));
    expect(summary.entities.customers?.read).toBe(PEOPLE);
    expect(await pgContent(target)).toEqual(await pgContent(reference));
  }

  it('three workers, one SIGKILLed in the middle of a chunk: the target is a one-process load', async () => {
    const { url, target, file, startWorkers } = await setting();
    startWorkers(3);
    const running = runPlan(parsePlan(planText(source.url, target.url, 1), file), { queue: url });
    await until('a chunk of customers under way', async () => (await committed(target, 'customers')) > 5000);
    workers[0]?.child.kill('SIGKILL');
    const summary = await running;
    await expectSameAsOneProcess(summary, target);
  }, 120_000);

  it('a worker frozen past its lock writes nothing after the one that took its chunk over', async () => {
    const { url, target, file, startWorkers } = await setting();
    // The zombie alone first, so it is frozen early in a chunk, with most of it still to do.
    startWorkers(1);
    const zombie = workers[0];
    const running = runPlan(parsePlan(planText(source.url, target.url, 1), file), { queue: url });
    await until('the first batch of a customers chunk', async () => (await committed(target, 'customers')) > 0, 60_000);
    zombie.child.kill('SIGSTOP');
    startWorkers(1);
    // Its lock expires (2 s) and the other worker takes the chunk over, waiting for the batches in flight.
    await sleep(6000);
    zombie.child.kill('SIGCONT');
    const summary = await Promise.race([
      running,
      sleep(60_000).then(() => {
        throw new Error(`the run did not end; workers:\n${workers.map((w) => w.log()).join('\n---\n')}`);
      }),
    ]);
    await until(
      'the zombie to be refused',
      async () => /taken over by another worker/.test(zombie.log()),
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; workers:\n${workers.map((w) => w.log()).join('\n---\n')}`);
    });
    await expectSameAsOneProcess(summary, target);
  }, 120_000);

  it('Redis killed and started again mid-run: workers and coordinator wait for it, and the target is whole', async () => {
    const redis: OwnRedis = await startOwnRedis();
    dropped.push(() => redis.stop());
    const { url, target, file, startWorkers } = await setting(redis.url());
    startWorkers(2);
    const notes: string[] = [];
    const running = runPlan(parsePlan(planText(source.url, target.url, 1), file), {
      queue: url,
      onNote: (n) => notes.push(n),
    });
    await until('a chunk of customers under way', async () => (await committed(target, 'customers')) > 5000);
    await redis.crash();
    const summary = await running;
    await expectSameAsOneProcess(summary, target);
  }, 180_000);

  it('the coordinator SIGKILLed and run again picks up its run where the workers have taken it', async () => {
    const { url, target, file, startWorkers } = await setting();
    startWorkers(2);
    const first = spawnCli(['run', file, '--queue', url, '--no-report', '--quiet']);
    await until('a chunk of customers under way', async () => (await committed(target, 'customers')) > 5000);
    first.child.kill('SIGKILL');
    await first.exited;
    const again = spawnCli(['run', file, '--queue', url, '--no-report', '--json']);
    expect(await again.exited).toBe(0);
    const summary = JSON.parse(
      again
        .log()
        .split('\n')
        .find((l) => l.startsWith('{')) ?? '{}',
    ) as RunSummary;
    expect(summary.entities).toEqual(single.entities);
    expect(await pgContent(target)).toEqual(await pgContent(reference));
  }, 120_000);

  it('refuses a Redis that may evict keys, before anything is written', async () => {
    const redis = await startOwnRedis();
    dropped.push(() => redis.stop());
    const queue = new Queue('x', { connection: { host: '127.0.0.1', port: redis.port } });
    const client = (await queue.client) as unknown as { config(...args: string[]): Promise<unknown> };
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await queue.close();
    const { target, file } = await setting(redis.url());
    const error = await runPlan(parsePlan(planText(source.url, target.url, 1), file), {
      queue: `${redis.url()}?queue=x`,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmMigrateError);
    expect((error as CrmMigrateError).message).toMatch(/may evict keys \(maxmemory-policy allkeys-lru\)/);
    expect(await target.query("SELECT 1 FROM pg_namespace WHERE nspname = '_crm_migrate'")).toEqual([]);
  }, 60_000);
});
