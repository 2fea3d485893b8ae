import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePlan, syncPlan } from '../src/index.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// sync from TypeScript: increments until the caller says stop or the signal fires, what the CLI's sync runs.

const PLAN = (m: ScratchMigration) => `version: 1
name: sync-lib
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  people:
    from: people
    into: people
    key: id
    strategy: incremental
    cursor: updated_at
    fields: { id: id, name: name }
`;

describe('syncPlan', () => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration('sqlite', 'postgres');
    await m.source.run('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT NOT NULL)');
    await m.source.run("INSERT INTO people VALUES (1, 'Ann', '2026-01-01 10:00:00')");
  });
  afterEach(() => m.drop());

  it('runs an increment per interval until told to stop, each seeing what changed', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    const seen: number[] = [];
    const result = await syncPlan(plan, {
      everyMs: 10,
      signal: new AbortController().signal,
      onIncrement: async (summary) => {
        seen.push(summary.entities.people?.written ?? -1);
        if (seen.length === 1) await m.source.run("INSERT INTO people VALUES (2, 'Bo', '2026-01-02 10:00:00')");
        return seen.length < 3;
      },
    });
    expect(result).toEqual({ increments: 3, stoppedBy: 'caller' });
    expect(seen).toEqual([1, 1, 0]);
    expect((await m.target.rows<{ id: number }>('SELECT id FROM people ORDER BY id')).map((r) => Number(r.id))).toEqual(
      [1, 2],
    );
  });

  it('returns at once when its signal has fired, and refuses a plan with nothing incremental', async () => {
    const stop = new AbortController();
    stop.abort();
    expect(await syncPlan(parsePlan(PLAN(m), 'plan.yaml'), { everyMs: 10, signal: stop.signal })).toEqual({
      increments: 0,
      stoppedBy: 'signal',
    });
    await expect(
      syncPlan(parsePlan(PLAN(m).replace('    strategy: incremental\n    cursor: updated_at\n', ''), 'plan.yaml'), {
        everyMs: 10,
        signal: stop.signal,
      }),
    ).rejects.toThrow(/no entity of the plan is incremental/);
  });
});
