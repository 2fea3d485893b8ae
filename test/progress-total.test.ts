import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EntityProgress } from '../src/engine/write/load-entity.js';
import { runPlan } from '../src/engine/run.js';
import { loadPlan } from '../src/plan/load.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// The source's row count, shown as progress's total, is counted beside the load, not before it
// (src/engine/write/progress-reporter.ts): every report must still carry the whole table's count, a resumed run's too.
const ROWS = 3000;
const plan = (m: ScratchMigration) => `version: 1
name: progress_total
source: "${m.source.url}"
target: "${m.target.url}"
batch_size: 250
entities:
  customers:
    from: customers
    into: customers
    key: id
    fields:
      id: id
      email: email
`;

describe('progress totals', () => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration('postgres', 'sqlite');
    await m.source.run('CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)');
    await m.source.run(`INSERT INTO customers SELECT n, 'c' || n || '@example.com' FROM generate_series(1, ${ROWS}) n`);
    await m.target.run('CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)');
    writeFileSync(m.planFile, plan(m));
  });
  afterEach(() => m.drop());

  it('every report of a run, and of a run resumed after a stop, has the whole table as its total', async () => {
    const first: EntityProgress[] = [];
    const stop = new AbortController();
    await runPlan(await loadPlan(m.planFile), {
      signal: stop.signal,
      onProgress: (p) => {
        first.push(p);
        if (p.counts.read >= 1000) stop.abort();
      },
    });
    const resumed: EntityProgress[] = [];
    const summary = await runPlan(await loadPlan(m.planFile), { onProgress: (p) => void resumed.push(p) });

    const stoppedAt = first.at(-1)?.counts.read ?? 0;
    expect(stoppedAt).toBeGreaterThanOrEqual(1000);
    expect(stoppedAt).toBeLessThan(ROWS);
    expect(summary.entities.customers?.read).toBe(ROWS);
    for (const reports of [first, resumed]) {
      expect(reports.length).toBeGreaterThan(1);
      expect(reports.map((p) => p.total)).toEqual(reports.map(() => ROWS));
      const reads = reports.map((p) => p.counts.read);
      expect(reads).toEqual([...reads].sort((a, b) => a - b));
    }
    expect(resumed[0]?.counts.read).toBe(stoppedAt);
    expect(resumed.at(-1)).toMatchObject({ done: true, counts: { read: ROWS, written: ROWS } });
  });
});
