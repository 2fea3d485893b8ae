import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Source, Target } from '../../src/connectors/contract.js';
import { openSource, openTarget } from '../../src/connectors/index.js';
import { writeBatch } from '../../src/connectors/shared/write-batch.js';
import { compareCodePoints } from '../../src/key-order.js';
import type { Row } from '../../src/values.js';
import { tempDir } from '../helpers/databases.js';
import { mergeMapContract, placeholderContract, resetContract } from './state-contract.js';

// The contract again, for the file connectors (a folder of CSV or JSON Lines files, one per table). What a
// file cannot do is asserted as a clear refusal: it has no types beyond what its values show (CSV: text; an
// empty CSV cell is NULL), no primary key, and it cannot update rows in place.
const UGLY = ['plain', 'tab\there', 'line\nbreak', 'back\\slash', '\\N', 'ünïcødé 😀', 'quote\'s "double"', '', null];

interface FileKind {
  /** Writes a table as the format's file. */
  write(dir: string, table: string, columns: string[], rows: unknown[][]): void;
  /** What a value reads back as. */
  read(value: unknown): unknown;
}

const KINDS: Record<string, FileKind> = {
  csv: {
    write: (dir, table, columns, rows) =>
      writeFileSync(
        path.join(dir, `${table}.csv`),
        stringify([columns, ...rows.map((r) => r.map((v) => (v === null ? '' : String(v))))]),
      ),
    read: (v) => (v === null || v === '' ? null : String(v)),
  },
  jsonl: {
    write: (dir, table, columns, rows) =>
      writeFileSync(
        path.join(dir, `${table}.jsonl`),
        rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i]])))).join('\n'),
      ),
    read: (v) => v,
  },
};

describe.each(Object.keys(KINDS))('%s connector', (kind) => {
  const format = KINDS[kind];
  let tmp: ReturnType<typeof tempDir>;
  let source: Source;
  let target: Target;
  const ids = Array.from({ length: 25 }, (_, i) => i + 1);

  beforeAll(async () => {
    tmp = tempDir();
    format.write(
      tmp.dir,
      'people',
      ['id', 'name'],
      ids.map((id) => [id, UGLY[(id - 1) % UGLY.length]]),
    );
    source = await openSource(`${kind}:${tmp.dir}`, { baseDir: '.' });
    target = await openTarget(`${kind}:${tmp.dir}`, { baseDir: '.' });
    await target.prepare();
  });
  afterAll(async () => {
    await source?.close();
    await target?.close();
    tmp?.remove();
  });

  it('describes a table by its columns, without a primary key', async () => {
    const info = await source.describe('people');
    expect(info?.columns.map((c) => c.name)).toEqual(['id', 'name']);
    expect(info?.columns.map((c) => c.type)).toEqual(kind === 'csv' ? ['text', 'text'] : ['integer', 'text']);
    expect(await source.describe('no_such_table')).toBeUndefined();
    expect(await source.listTables()).toContain('people');
  });

  it('reads in key order, in batches, resuming strictly after a key, with every ugly value intact', async () => {
    const batches: Row[][] = [];
    for await (const b of source.read({ table: 'people', columns: ['id', 'name'], key: ['id'], batchSize: 10 }))
      batches.push(b);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    const rows = batches.flat();
    // Keys in code-point order of their text in CSV ("10" before "2"), numeric in JSON Lines.
    const order = kind === 'csv' ? ids.map(String).sort(compareCodePoints) : ids;
    expect(rows.map((r) => r[0])).toEqual(order);
    expect(rows.map((r) => r[1])).toEqual(order.map((id) => format.read(UGLY[(Number(id) - 1) % UGLY.length])));
    const last = order[21];
    const after: Row[] = [];
    for await (const b of source.read({ table: 'people', columns: ['id'], key: ['id'], after: [last], batchSize: 10 }))
      after.push(...b);
    expect(after).toEqual(order.slice(22).map((id) => [id]));
    expect(await source.count('people')).toBe(25);
    expect(await source.count('people', { key: ['id'], after: [last] })).toBe(3);
    expect(await source.countNull('people', 'name')).toBe(kind === 'csv' ? 4 : 2);
  });

  it('orders text keys by code point', async () => {
    const keys = ['b', 'B', 'a', 'A', 'é', 'e', 'z', '😀', '\uFFFD', '10', '9'];
    format.write(
      tmp.dir,
      'texts',
      ['k'],
      keys.map((k) => [k]),
    );
    const read: Row[] = [];
    for await (const b of source.read({ table: 'texts', columns: ['k'], key: ['k'], batchSize: 4 })) read.push(...b);
    expect(read.map((r) => r[0])).toEqual([...keys].sort(compareCodePoints));
  });

  it('writes a batch with its quarantine and checkpoint; an aborted batch leaves nothing; updates are refused', async () => {
    await target.createTable({
      name: 'out_people',
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'name', type: 'text', nullable: true },
      ],
      primaryKey: ['id'],
    });
    const runId = `run-${kind}`;
    await target.state.startRun({
      runId,
      plan: 'p',
      planHash: 'h',
      status: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
    });
    const counts = { read: 3, written: 2, merged: 0, quarantined: 1, filtered: 0, deleted: 0 };
    await writeBatch(target, {
      runId,
      table: 'out_people',
      columns: ['id', 'name'],
      rows: [
        [1, 'a\tb'],
        [2, null],
      ],
      quarantine: [
        {
          entity: 'e',
          sourceKey: '3',
          row: { id: 3, name: 'x' },
          reasons: [{ field: 'name', rule: 'email', code: 'invalid_email' }],
        },
      ],
      checkpoint: { entity: 'e', lastKey: [3], counts, done: false },
    });
    const aborted = await target.beginBatch({ runId, table: 'out_people', columns: ['id', 'name'] });
    aborted.add([4, 'never']);
    await aborted.flush();
    await aborted.abort();
    const rows: Row[] = [];
    for await (const b of target.read({ table: 'out_people', columns: ['id', 'name'], key: ['id'], batchSize: 100 }))
      rows.push(...b);
    expect(rows).toEqual(
      kind === 'csv'
        ? [
            ['1', 'a\tb'],
            ['2', null],
          ]
        : [
            [1, 'a\tb'],
            [2, null],
          ],
    );
    expect(await target.state.checkpoints(runId)).toEqual([{ entity: 'e', lastKey: [3], counts, done: false }]);
    const quarantined = [];
    for await (const q of target.state.quarantined(runId)) quarantined.push(q);
    expect(quarantined.map((q) => q.sourceKey)).toEqual(['3']);
    await expect(
      target.beginBatch({ runId, table: 'out_people', columns: ['id', 'name'], upsertKey: ['id'] }),
    ).rejects.toThrow(/a file target cannot update rows/);
  });

  it('keeps the merge map and review pairs with a batch, and decisions across a fresh start', () =>
    mergeMapContract(target, kind));
  it('keeps placeholders with a batch and in the crosswalk, and the records retried in their place', () =>
    placeholderContract(target, kind));

  it('keeps runs per plan and resets a plan for a fresh start', () => resetContract(target, source, kind));
});
