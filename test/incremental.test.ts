import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan, type RunSummary } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { scratchDatabase, type ScratchDatabase } from './helpers/sql-databases.js';

// Incremental sync, against real databases: the source changes between runs, and after each run the target
// must hold exactly what the source holds (through the mapping), row for row.

const plan = (source: string, target: string, extra = '') => `
version: 1
name: sync-test
source: "${source}"
target: "${target}"
entities:
  customers:
    from: customers
    into: people
    key: id
    strategy: incremental
    cursor: updated_at
    batch_size: 3
${extra}
    fields:
      id: id
      full_name: name
      email: { from: email, clean: email }
      changed_at: updated_at
`;

type Customer = [number, string, string, string];

const T0 = '2026-01-01 10:00:00';
const T1 = '2026-01-01 11:00:00';
const T2 = '2026-01-01 12:00:00';

// Eight rows share T0: a burst with one timestamp across batch boundaries (batch_size 3).
const SEED: Customer[] = [
  ...Array.from({ length: 8 }, (_, i): Customer => [i + 1, `Person ${i + 1}`, `p${i + 1}@example.com`, T0]),
  [9, 'Nine', 'nine@example.com', T1],
  [10, 'Ten', 'ten@example.com', T1],
];

const CASES: [string, 'sqlite' | 'postgres' | 'mysql', 'sqlite' | 'postgres' | 'mysql'][] = [
  ['SQLite -> SQLite', 'sqlite', 'sqlite'],
  ['PostgreSQL -> PostgreSQL', 'postgres', 'postgres'],
  ['SQLite -> PostgreSQL', 'sqlite', 'postgres'],
  ['MariaDB -> MariaDB', 'mysql', 'mysql'],
  ['MariaDB -> PostgreSQL', 'mysql', 'postgres'],
];

describe.each(CASES)('incremental sync, %s', (_name, sourceKind, targetKind) => {
  let source: ScratchDatabase;
  let target: ScratchDatabase;

  beforeEach(async () => {
    source = await scratchDatabase(sourceKind);
    target = await scratchDatabase(targetKind);
    await source.run(
      'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, updated_at TIMESTAMP NOT NULL)',
    );
    for (const row of SEED) await source.run('INSERT INTO customers VALUES (?, ?, ?, ?)', row);
  });
  afterEach(async () => {
    await source.drop();
    await target.drop();
  });

  const run = (extra = '') => runPlan(parsePlan(plan(source.url, target.url, extra), 'plan.yaml', {}));
  const sourceRows = async () =>
    (
      await source.rows<{ id: number; name: string; email: string | null }>(
        'SELECT id, name, email FROM customers ORDER BY id',
      )
    ).map((r) => [Number(r.id), r.name, r.email?.toLowerCase() ?? null]);
  const targetRows = async (where = '') =>
    (
      await target.rows<{ id: number; full_name: string; email: string | null }>(
        `SELECT id, full_name, email FROM people ${where} ORDER BY id`,
      )
    ).map((r) => [Number(r.id), r.full_name, r.email]);
  const counts = (s: RunSummary) => s.entities.customers;

  it('loads everything first, then only what changed, with rows sharing the checkpoint timestamp kept', async () => {
    const first = await run();
    expect(counts(first)).toMatchObject({ read: 10, written: 10, quarantined: 0 });
    expect(await targetRows()).toEqual(await sourceRows());

    // Nothing changed: an increment reads nothing.
    const idle = await run();
    expect(idle.previousRunId).toBe(first.runId);
    expect(counts(idle)).toMatchObject({ read: 0, written: 0 });

    // The checkpoint is (T1, 10). New rows at exactly T1 with higher keys, an update of the row at the
    // checkpoint itself, an update of an old row, a bad email (quarantined), and a burst at T2.
    await source.run('INSERT INTO customers VALUES (11, ?, ?, ?), (12, ?, ?, ?)', [
      'Eleven',
      'e11@example.com',
      T1,
      'Twelve',
      'e12@example.com',
      T1,
    ]);
    await source.run('UPDATE customers SET name = ?, updated_at = ? WHERE id = 10', ['Ten Changed', T2]);
    await source.run('UPDATE customers SET email = ?, updated_at = ? WHERE id = 2', ['NEW2@Example.com', T2]);
    await source.run('UPDATE customers SET email = ?, updated_at = ? WHERE id = 3', ['not-an-email', T2]);
    for (let id = 13; id <= 17; id++)
      await source.run('INSERT INTO customers VALUES (?, ?, ?, ?)', [id, `Burst ${id}`, `b${id}@example.com`, T2]);
    const second = await run();
    expect(counts(second)).toMatchObject({ read: 10, written: 9, quarantined: 1 });
    // Row 3 keeps its last good version in the target; its new version waits in quarantine.
    expect(await targetRows()).toEqual(
      (await sourceRows()).map((r) => (r[0] === 3 ? [3, 'Person 3', 'p3@example.com'] : r)),
    );
    expect(await targetRows('WHERE id IN (2, 10)')).toEqual([
      [2, 'Person 2', 'new2@example.com'],
      [10, 'Ten Changed', 'ten@example.com'],
    ]);
  });

  it('re-reads a lookback window without changing a single row', async () => {
    await run();
    const before = await targetRows();
    // A row committed late with an old timestamp: behind the checkpoint (T1, 10), so only lookback finds it.
    await source.run('INSERT INTO customers VALUES (5000, ?, ?, ?)', ['Late', 'late@example.com', T0]);
    const plain = await run();
    expect(counts(plain)).toMatchObject({ read: 0 });
    const withLookback = await run('    lookback: 2h');
    expect(counts(withLookback)).toMatchObject({ read: 11, written: 11 });
    expect(await targetRows()).toEqual([...before, [5000, 'Late', 'late@example.com']]);
    if (targetKind === 'postgres') {
      // Re-applied rows equal to the stored ones are not written at all: their row versions stay the same.
      const versions = async () =>
        (await target.rows<{ xmin: string }>('SELECT xmin::text AS xmin FROM people WHERE id < 5000 ORDER BY id')).map(
          (r) => r.xmin,
        );
      const seen = await versions();
      await run('    lookback: 2h');
      expect(await versions()).toEqual(seen);
    }
  });

  it('removes target rows whose source row was deleted: hard deletes them, soft sets a tombstone', async () => {
    await run('    deletes: hard');
    await source.run('DELETE FROM customers WHERE id IN (1, 5, 10)');
    const hard = await run('    deletes: hard');
    expect(counts(hard)).toMatchObject({ read: 0, deleted: 3 });
    expect(await targetRows()).toEqual(await sourceRows());
  });

  it('soft deletes set the tombstone, and a row that comes back is live again', async () => {
    const soft = '    deletes: soft';
    await run(soft);
    await source.run('DELETE FROM customers WHERE id IN (2, 9)');
    const removed = await run(soft);
    expect(counts(removed)).toMatchObject({ deleted: 2 });
    expect(await targetRows('WHERE deleted_at IS NULL')).toEqual(await sourceRows());
    expect((await targetRows('WHERE deleted_at IS NOT NULL')).map((r) => r[0])).toEqual([2, 9]);
    // Already tombstoned rows are not counted again.
    expect(counts(await run(soft))).toMatchObject({ deleted: 0 });
    await source.run('INSERT INTO customers VALUES (9, ?, ?, ?)', ['Nine Again', 'nine@example.com', T2]);
    await run(soft);
    expect((await targetRows('WHERE deleted_at IS NOT NULL')).map((r) => r[0])).toEqual([2]);
    expect(await targetRows('WHERE deleted_at IS NULL')).toEqual(await sourceRows());
  });

  it('refuses to sync a source with rows that have no cursor value, naming how many', async () => {
    if (sourceKind === 'postgres') await source.run('ALTER TABLE customers ALTER COLUMN updated_at DROP NOT NULL');
    else {
      await source.run(
        'CREATE TABLE c2 (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, updated_at TIMESTAMP)',
      );
      await source.run('INSERT INTO c2 SELECT * FROM customers');
      await source.run('DROP TABLE customers');
      await source.run('ALTER TABLE c2 RENAME TO customers');
    }
    await source.run('UPDATE customers SET updated_at = NULL WHERE id IN (4, 7)');
    await expect(run()).rejects.toThrow(/2 rows of customers have no updated_at/);
  });
});

describe('incremental plans checked against the live schemas', () => {
  let source: ScratchDatabase;
  let target: ScratchDatabase;

  beforeEach(async () => {
    source = await scratchDatabase('sqlite');
    target = await scratchDatabase('sqlite');
    await source.run(
      'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, updated_at TIMESTAMP NOT NULL)',
    );
  });
  afterEach(async () => {
    await source.drop();
    await target.drop();
  });

  const refusal = async (edit: (text: string) => string, targetTable?: string): Promise<string> => {
    if (targetTable) await target.run(targetTable);
    const error = await runPlan(parsePlan(edit(plan(source.url, target.url)), 'plan.yaml', {})).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    if (!error) throw new Error('the plan was accepted');
    return error.message;
  };

  it.each([
    [
      'a misspelt cursor',
      (t: string) => t.replace('cursor: updated_at', 'cursor: updatd_at'),
      undefined,
      /source table customers has no column "updatd_at" \(did you mean "updated_at"\?\)/,
    ],
    [
      'a key not copied as it is',
      (t: string) => t.replace('      id: id\n', ''),
      undefined,
      /must copy its key to the target as it is/,
    ],
    [
      'a target without the primary key',
      (t: string) => t,
      'CREATE TABLE people (id INTEGER, full_name TEXT, email TEXT, changed_at TEXT)',
      /target table people needs its primary key on \(id\) for upserts; it has none/,
    ],
    [
      'a numeric lookback on a timestamp cursor',
      (t: string) => t.replace('    batch_size: 3', '    batch_size: 3\n    lookback: 100'),
      undefined,
      /lookback is a time span/,
    ],
    [
      'soft deletes without the tombstone column',
      (t: string) => t.replace('    batch_size: 3', '    batch_size: 3\n    deletes: soft'),
      'CREATE TABLE people (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT, changed_at TEXT)',
      /has no column "deleted_at" for soft deletes.*ADD COLUMN deleted_at/,
    ],
  ] as const)('refuses %s before writing anything', async (_what, edit, table, message) => {
    expect(await refusal(edit, table)).toMatch(message);
    expect(await target.rows("SELECT name FROM sqlite_schema WHERE name LIKE '_crm_migrate%'")).toEqual([]);
  });
});

describe('a stop request', () => {
  it('ends the run after a committed batch, and the next run resumes to the same target', async () => {
    const source = await scratchDatabase('sqlite');
    const target = await scratchDatabase('sqlite');
    try {
      await source.run(
        'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, updated_at TIMESTAMP NOT NULL)',
      );
      for (let i = 1; i <= 40; i++)
        await source.run('INSERT INTO customers VALUES (?, ?, ?, ?)', [i, `P${i}`, `p${i}@example.com`, T0]);
      const controller = new AbortController();
      const first = await runPlan(parsePlan(plan(source.url, target.url), 'plan.yaml', {}), {
        signal: controller.signal,
        // Asked to stop once the first batch (3 rows) has committed.
        onProgress: (p) => (p.counts.read >= 3 ? controller.abort() : undefined),
      });
      expect(first.status).toBe('interrupted');
      expect(first.entities.customers?.read).toBeLessThan(40);
      const written = first.entities.customers?.written ?? 0;
      expect(await target.rows('SELECT count(*) AS n FROM people')).toEqual([{ n: written }]);
      const second = await runPlan(parsePlan(plan(source.url, target.url), 'plan.yaml', {}));
      expect(second).toMatchObject({ status: 'done', resumed: true, runId: first.runId });
      expect(second.entities.customers).toMatchObject({ read: 40, written: 40 });
      expect(await target.rows('SELECT count(*) AS n FROM people')).toEqual([{ n: 40 }]);
    } finally {
      await source.drop();
      await target.drop();
    }
  });
});
