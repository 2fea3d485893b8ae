import { expect } from 'vitest';
import type { Source, Target } from '../../src/connectors/contract.js';

// The state half of the contract, the same for a database and for a folder of files (whose state is a
// sidecar SQLite file): one body each, called by both contract suites.

/** The merge map and review pairs commit with a batch; decisions survive a fresh start, the latest one winning. */
export async function mergeMapContract(target: Target, kind: string): Promise<void> {
  const runId = `dedupe-${kind}`;
  await target.state.startRun({
    runId,
    plan: 'd',
    planHash: 'h',
    status: 'running',
    startedAt: new Date().toISOString(),
    finishedAt: null,
  });
  const long = `k${'é'.repeat(200)}`; // keys up to the state tables' limit, in any script
  const merges = [
    {
      plan: 'd',
      entity: 'people',
      sourceKey: '2',
      survivorEntity: 'people',
      survivorKey: '1',
      probability: 0.999,
      why: 'email exact +12.0',
    },
    {
      plan: 'd',
      entity: 'shop',
      sourceKey: long,
      survivorEntity: 'people',
      survivorKey: '1',
      probability: 0.95,
      why: 'first_name jw>=0.92 or nickname +3.1',
    },
  ];
  const review = {
    plan: 'd',
    pairs: [{ entityA: 'people', keyA: '5', entityB: 'shop', keyB: long, probability: 0.6, why: 'w' }],
  };
  const checkpoint = {
    entity: 'people',
    lastKey: [2],
    counts: { read: 2, written: 1, merged: 1, quarantined: 0, filtered: 0, deleted: 0 },
    done: false,
  };
  const writer = await target.beginBatch({ runId, table: 'out_people', columns: ['id', 'name'] });
  await writer.commit([], checkpoint, { merges, review });
  const stored = [];
  for await (const m of target.state.merges('d')) stored.push(m);
  expect(stored).toEqual(merges);
  expect(await target.state.reviewPairs('d')).toEqual(review.pairs);
  // A decision on a pair is found whichever way round it is written, and a new one replaces the old.
  await target.state.decide('d', [{ entityA: 'shop', keyA: long, entityB: 'people', keyB: '5', same: false }]);
  await target.state.decide('d', [{ entityA: 'people', keyA: '5', entityB: 'shop', keyB: long, same: true }]);
  expect(await target.state.decisions('d')).toEqual([
    { entityA: 'people', keyA: '5', entityB: 'shop', keyB: long, same: true },
  ]);
  await target.reset('d', []);
  const after = [];
  for await (const m of target.state.merges('d')) after.push(m);
  expect(after).toEqual([]);
  expect(await target.state.reviewPairs('d')).toEqual([]);
  expect(await target.state.decisions('d')).toHaveLength(1);
}

/** Runs are kept per plan; a fresh start supersedes them and empties the plan's tables and checkpoints. */
export async function resetContract(target: Target, source: Source, kind: string): Promise<void> {
  expect((await target.state.latestRun('p'))?.runId).toBe(`run-${kind}`);
  await target.reset('p', ['out_people']);
  expect((await target.state.latestRun('p'))?.status).toBe('superseded');
  expect(await target.state.checkpoints(`run-${kind}`)).toEqual([]);
  expect(await source.count('out_people')).toBe(0);
}

/**
 * Placeholders commit with a batch and enter the crosswalk; a retried record leaves the quarantine, stops being a
 * placeholder and is remembered as retried; a fresh start forgets both.
 */
export async function placeholderContract(target: Target, kind: string): Promise<void> {
  const runId = `placeholders-${kind}`;
  await target.state.startRun({
    runId,
    plan: 'ph',
    planHash: 'h',
    status: 'running',
    startedAt: new Date().toISOString(),
    finishedAt: null,
  });
  const long = `k${'é'.repeat(200)}`;
  const made = [
    { plan: 'ph', entity: 'companies', sourceKey: '7', newKey: 'u7' },
    { plan: 'ph', entity: 'companies', sourceKey: long, newKey: 'u-long' },
  ];
  const checkpoint = (done: boolean) => ({
    entity: 'orders#placeholders:companies',
    lastKey: [3],
    counts: { read: 3, written: 2, merged: 0, quarantined: 0, filtered: 0, deleted: 0 },
    done,
  });
  const writer = await target.beginBatch({ runId, table: 'out_people', columns: ['id', 'name'] });
  await writer.commit(
    [
      {
        entity: 'companies',
        sourceKey: '7',
        row: { id: 7 },
        reasons: [{ field: 'email', rule: 'email', code: 'invalid_email' }],
      },
    ],
    checkpoint(false),
    { placeholders: made },
  );
  const listed = async () => {
    const all = [];
    for await (const p of target.state.placeholders('ph', 'companies')) all.push(p);
    return all;
  };
  const retried = async () => {
    const all = [];
    for await (const k of target.state.retried('ph', 'companies')) all.push(k);
    return all;
  };
  expect(await listed()).toEqual(made);
  expect(await target.state.crosswalk('ph', 'companies', ['7', long, '8'])).toEqual(
    new Map([
      ['7', 'u7'],
      [long, 'u-long'],
    ]),
  );
  const retry = await target.beginBatch({ runId, table: 'out_people', columns: ['id', 'name'] });
  await retry.commit([], checkpoint(true), { retried: { plan: 'ph', entity: 'companies', sourceKeys: ['7'] } });
  expect(await listed()).toEqual([made[1]]);
  expect(await retried()).toEqual(['7']);
  const quarantine = [];
  for await (const q of target.state.quarantined(runId)) quarantine.push(q.sourceKey);
  expect(quarantine).toEqual([]);
  await target.reset('ph', []);
  expect(await listed()).toEqual([]);
  expect(await retried()).toEqual([]);
}

/**
 * Fencing a chunk between queue workers: the last claim holds it, a worker that lost it cannot begin a batch,
 * and the holder's batches commit.
 */
export async function fenceContract(target: Target, kind: string): Promise<void> {
  const runId = `fence-${kind}`;
  const claim = target.state.claimFence?.bind(target.state);
  if (!claim) throw new Error(`${kind}: no fences`);
  await target.state.startRun({
    runId,
    plan: 'f',
    planHash: 'h',
    status: 'running',
    startedAt: new Date().toISOString(),
    finishedAt: null,
  });
  expect(await claim(runId, 'people#chunk-0', 'worker-a')).toBe(1);
  expect(await claim(runId, 'people#chunk-0', 'worker-b')).toBe(2);
  expect(await claim(runId, 'people#chunk-1', 'worker-a')).toBe(1);
  const checkpoint = (read: number) => ({
    entity: 'people#chunk-0',
    lastKey: [read],
    counts: { read, written: read, merged: 0, quarantined: 0, filtered: 0, deleted: 0 },
    done: false,
  });
  // A worker that lost the chunk cannot even begin a batch of it: no row of its reaches the table.
  const columns = ['id', 'name'];
  await expect(
    target.beginBatch({ runId, table: 'out_people', columns, fence: { name: 'people#chunk-0', holder: 'worker-a' } }),
  ).rejects.toThrow(/taken over by another worker/);
  expect(await target.state.checkpoints(runId)).toEqual([]);
  const holder = await target.beginBatch({
    runId,
    table: 'out_people',
    columns,
    fence: { name: 'people#chunk-0', holder: 'worker-b' },
  });
  holder.add([9002, 'holder']);
  await holder.commit([], checkpoint(7));
  expect((await target.state.checkpoints(runId)).map((c) => c.lastKey)).toEqual([[7]]);
  const written: unknown[] = [];
  for await (const rows of target.read({
    table: 'out_people',
    columns: ['id'],
    key: ['id'],
    after: [9000],
    batchSize: 10,
  }))
    written.push(...rows.map((r) => r[0]));
  expect(written).toEqual([9002]);
}
