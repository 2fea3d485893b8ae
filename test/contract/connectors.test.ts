import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource, openTarget } from '../../src/connectors/index.js';
import type { Source, Target } from '../../src/connectors/contract.js';
import { writeBatch } from '../../src/connectors/shared/write-batch.js';
import type { Row } from '../../src/values.js';
import { compareCodePoints } from '../../src/key-order.js';
import {
  createMysqlDatabase,
  createPostgresDatabase,
  tempDir,
  type TestMysql,
  type TestPostgres,
} from '../helpers/databases.js';
import { fenceContract, mergeMapContract, placeholderContract, resetContract } from './state-contract.js';

// Every connector must behave the same behind the contract: one suite, run against each real database.
const UGLY = ['plain', 'tab\there', 'line\nbreak', 'back\\slash', '\\N', '', 'ünïcødé 😀', 'quote\'s "double"', null];

interface Fixture {
  url: string;
  seed(sql: string[]): Promise<void>;
  cleanup(): Promise<void>;
}

const FIXTURES: Record<string, () => Promise<Fixture>> = {
  sqlite: async () => {
    const tmp = tempDir();
    const file = path.join(tmp.dir, 'db.sqlite');
    return {
      url: `sqlite:${file}`,
      seed: async (sql) => {
        const db = new Database(file);
        for (const s of sql) db.exec(s);
        db.close();
      },
      cleanup: async () => tmp.remove(),
    };
  },
  postgres: async () => {
    const db: TestPostgres = await createPostgresDatabase();
    return {
      url: db.url,
      seed: async (sql) => {
        for (const s of sql) await db.query(s);
      },
      cleanup: () => db.drop(),
    };
  },
  mysql: async () => {
    const db: TestMysql = await createMysqlDatabase();
    // The seed is standard SQL, where a backslash in a literal is just a backslash.
    const seed = async (sql: string[]) => {
      await db.query("SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES'");
      for (const s of sql) await db.query(s);
      await db.query("SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES'");
    };
    return { url: db.url, seed, cleanup: () => db.drop() };
  },
};

const SEED = [
  `CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, code VARCHAR(5) NOT NULL DEFAULT 'x', score DOUBLE PRECISION)`,
  `INSERT INTO people (id, name, code, score) VALUES ${Array.from({ length: 25 }, (_, i) => `(${i + 1}, ${UGLY[i % UGLY.length] === null ? 'NULL' : `'${String(UGLY[i % UGLY.length]).replace(/'/g, "''")}'`}, 'c${i}', ${i / 2})`).join(', ')}`,
];

describe.each(Object.keys(FIXTURES))('%s connector', (kind) => {
  let fixture: Fixture;
  let source: Source;
  let target: Target;

  beforeAll(async () => {
    fixture = await FIXTURES[kind]();
    await fixture.seed(SEED);
    source = await openSource(fixture.url, { baseDir: '.' });
    target = await openTarget(fixture.url, { baseDir: '.' });
    await target.prepare();
  });
  afterAll(async () => {
    await source?.close();
    await target?.close();
    await fixture?.cleanup();
  });

  it('describes a table in logical types', async () => {
    const info = await source.describe('people');
    expect(info?.primaryKey).toEqual(['id']);
    expect(info?.columns.map((c) => [c.name, c.type, c.maxLength ?? null, c.nullable, c.hasDefault])).toEqual([
      ['id', 'integer', null, false, false],
      ['name', 'text', null, true, false],
      ['code', 'text', 5, false, true],
      ['score', 'float', null, true, false],
    ]);
    expect(await source.describe('no_such_table')).toBeUndefined();
    expect(await source.listTables()).toContain('people');
  });

  it('lists the one-column foreign keys of a table, its own table included, and none for a table without', async () => {
    await fixture.seed([
      'CREATE TABLE firms (id INTEGER PRIMARY KEY, name TEXT)',
      'CREATE TABLE staff (id INTEGER PRIMARY KEY, firm_id INTEGER REFERENCES firms (id), boss_id INTEGER REFERENCES staff (id), a INTEGER, b INTEGER)',
      'CREATE TABLE pairs (a INTEGER, b INTEGER, PRIMARY KEY (a, b))',
      'CREATE TABLE pair_notes (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, FOREIGN KEY (a, b) REFERENCES pairs (a, b))',
    ]);
    expect(await target.foreignKeys('staff')).toEqual([
      { column: 'firm_id', references: { table: 'firms', column: 'id' } },
      { column: 'boss_id', references: { table: 'staff', column: 'id' } },
    ]);
    expect(await target.foreignKeys('firms')).toEqual([]);
    // A key of two columns is not one `ref:`.
    expect(await target.foreignKeys('pair_notes')).toEqual([]);
  });

  it('reads in key order, in batches, resuming strictly after a key, with every ugly value intact', async () => {
    const batches: Row[][] = [];
    for await (const b of source.read({ table: 'people', columns: ['id', 'name'], key: ['id'], batchSize: 10 }))
      batches.push(b);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    const rows = batches.flat();
    expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(rows.map((r) => r[1])).toEqual(Array.from({ length: 25 }, (_, i) => UGLY[i % UGLY.length]));
    const after: Row[] = [];
    for await (const b of source.read({ table: 'people', columns: ['id'], key: ['id'], after: [22], batchSize: 10 }))
      after.push(...b);
    expect(after).toEqual([[23], [24], [25]]);
    expect(await source.count('people')).toBe(25);
  });

  it('creates a table and writes a batch, its quarantine and its checkpoint atomically', async () => {
    await target.createTable({
      name: 'out_people',
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'name', type: 'text', maxLength: 20, nullable: true },
      ],
      primaryKey: ['id'],
    });
    const described = await target.describe('out_people');
    expect(described?.columns.map((c) => [c.name, c.type, c.maxLength ?? null])).toEqual([
      ['id', 'integer', null],
      ['name', 'text', 20],
    ]);
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
    // A failing batch (duplicate key) leaves nothing behind: not its rows, not its quarantine, not its checkpoint.
    await expect(
      writeBatch(target, {
        runId,
        table: 'out_people',
        columns: ['id', 'name'],
        rows: [
          [4, 'new'],
          [1, 'dup'],
        ],
        quarantine: [{ entity: 'e', sourceKey: '5', row: {}, reasons: [] }],
        checkpoint: { entity: 'e', lastKey: [5], counts: { ...counts, read: 6 }, done: false },
      }),
    ).rejects.toThrow(/writing a batch to out_people failed/);
    const rows: Row[] = [];
    const check = await openSource(fixture.url, { baseDir: '.' });
    for await (const b of check.read({ table: 'out_people', columns: ['id', 'name'], key: ['id'], batchSize: 100 }))
      rows.push(...b);
    await check.close();
    expect(rows).toEqual([
      [1, 'a\tb'],
      [2, null],
    ]);
    expect(await target.state.checkpoints(runId)).toEqual([{ entity: 'e', lastKey: [3], counts, done: false }]);
    const quarantined = [];
    for await (const q of target.state.quarantined(runId)) quarantined.push(q);
    expect(quarantined).toEqual([
      {
        entity: 'e',
        sourceKey: '3',
        row: { id: 3, name: 'x' },
        reasons: [{ field: 'name', rule: 'email', code: 'invalid_email' }],
      },
    ]);
  });

  it('upserts: changed rows replaced, new rows added, equal rows kept; removes rows hard or by tombstone', async () => {
    await target.createTable({
      name: 'kept',
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'name', type: 'text', nullable: true },
        { name: 'gone_at', type: 'timestamp', nullable: true },
      ],
      primaryKey: ['id'],
    });
    const runId = `upsert-${kind}`;
    await target.state.startRun({
      runId,
      plan: 'u',
      planHash: 'h',
      status: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
    });
    const checkpoint = {
      entity: 'e',
      lastKey: [1],
      counts: { read: 0, written: 0, merged: 0, quarantined: 0, filtered: 0, deleted: 0 },
      done: false,
    };
    const upsert = (rows: Row[]) =>
      writeBatch(target, {
        runId,
        table: 'kept',
        columns: ['id', 'name', 'gone_at'],
        upsertKey: ['id'],
        rows,
        quarantine: [],
        checkpoint,
      });
    await upsert([
      [1, 'one', null],
      [2, 'two', null],
      [3, UGLY[2], null],
    ]);
    await upsert([
      [2, 'TWO', null],
      [3, UGLY[2], null],
      [4, null, null],
      [4, 'four', null],
    ]);
    const all = async () => {
      const rows: Row[] = [];
      for await (const b of target.read({
        table: 'kept',
        columns: ['id', 'name', 'gone_at'],
        key: ['id'],
        batchSize: 2,
      }))
        rows.push(...b);
      return rows;
    };
    // A key staged twice in one batch: the row added last wins.
    expect(await all()).toEqual([
      [1, 'one', null],
      [2, 'TWO', null],
      [3, 'line\nbreak', null],
      [4, 'four', null],
    ]);

    const remove = async (keys: Row[], tombstone?: { column: string; at: string }) => {
      const writer = await target.beginBatch({ runId, table: 'kept', columns: ['id'] });
      const changed = await writer.remove(keys, { key: ['id'], tombstone });
      await writer.commit([], checkpoint);
      return changed;
    };
    const at = '2026-03-01T00:00:00.000Z';
    expect(await remove([[1], [2], [77]], { column: 'gone_at', at })).toBe(2);
    expect(await remove([[1], [2]], { column: 'gone_at', at })).toBe(0);
    expect(await remove([[3], [78]])).toBe(1);
    const rows = await all();
    expect(rows.map((r) => [r[0], r[2] === null ? 'live' : 'tombstoned'])).toEqual([
      [1, 'tombstoned'],
      [2, 'tombstoned'],
      [4, 'live'],
    ]);
  });

  it('orders text keys by code point whatever the column collation, counts after a position, and counts NULLs', async () => {
    // A case-blind collation in SQLite cannot hold 'b' and 'B' as keys: there the column is not unique.
    const column =
      kind === 'postgres'
        ? 'k TEXT COLLATE "en-x-icu" PRIMARY KEY'
        : kind === 'mysql'
          ? 'k VARCHAR(20) COLLATE utf8mb4_general_ci'
          : 'k TEXT COLLATE NOCASE';
    const keys = ['b', 'B', 'a', 'A', 'é', 'e', 'z', '😀', '\uFFFD', '10', '9', ''];
    await fixture.seed([
      `CREATE TABLE texts (${column}, n INTEGER)`,
      `INSERT INTO texts VALUES ${keys.map((k, i) => `('${k}', ${i % 3 === 0 ? 'NULL' : i})`).join(', ')}`,
    ]);
    const expected = [...keys].sort(compareCodePoints);
    const read: Row[] = [];
    for await (const b of source.read({ table: 'texts', columns: ['k'], key: ['k'], batchSize: 5 })) read.push(...b);
    expect(read.map((r) => r[0])).toEqual(expected);
    expect(await source.count('texts', { key: ['k'], after: ['a'] })).toBe(expected.length - expected.indexOf('a') - 1);
    expect(await source.countNull('texts', 'n')).toBe(4);
    const after: Row[] = [];
    for await (const b of source.read({
      table: 'texts',
      columns: ['k', 'n'],
      key: ['n', 'k'],
      after: [5],
      batchSize: 100,
    }))
      after.push(...b);
    expect(after.map((r) => r[1])).toEqual([7, 8, 10, 11]);
    // A key range (a chunk of a parallel load): after one key, through another, both in code point order.
    expect(source.rangeReads).toBe(true);
    const range: Row[] = [];
    const [from, through] = [expected[2], expected[8]];
    for await (const b of source.read({
      table: 'texts',
      columns: ['k'],
      key: ['k'],
      after: [from],
      through: [through],
      batchSize: 4,
    }))
      range.push(...b);
    expect(range.map((r) => r[0])).toEqual(expected.slice(3, 9));
    expect(await source.count('texts', { key: ['k'], after: [], through: [through] })).toBe(9);
    expect(await source.count('texts', { key: ['k'], after: [from], through: [through] })).toBe(6);
  });

  it('lets a batch commit only while its worker holds the chunk, and a claim wait for it', () =>
    fenceContract(target, kind));

  it('keeps the merge map and review pairs with a batch, and decisions across a fresh start', () =>
    mergeMapContract(target, kind));
  it('keeps placeholders with a batch and in the crosswalk, and the records retried in their place', () =>
    placeholderContract(target, kind));

  it('keeps runs per plan and resets a plan for a fresh start', () => resetContract(target, source, kind));
});
