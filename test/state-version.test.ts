import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { STATE_VERSION } from '../src/connectors/shared/sql-state-store.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// The state tables carry their version: a target's state is upgraded deliberately, and state written by a newer
// crm-migrate is refused before anything is read or written, never misread.

const PLAN = (m: ScratchMigration) => `version: 1
name: versioned
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  people: { from: people, into: people, key: id, fields: { id: id, name: name } }
`;

describe.each(['sqlite', 'postgres', 'mysql'] as const)('state version, %s target', (kind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration('sqlite', kind);
    await m.source.run('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)');
    await m.source.run("INSERT INTO people VALUES (1, 'Ann')");
  });
  afterEach(() => m.drop());

  const meta = () => (kind === 'postgres' ? '_crm_migrate.meta' : '_crm_migrate_meta');

  it('records the version, and refuses state of a newer one with what to do', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    await runPlan(plan);
    expect(await m.target.rows(`SELECT name, value FROM ${meta()}`)).toEqual([
      { name: 'state_version', value: String(STATE_VERSION) },
    ]);
    await m.target.run(`UPDATE ${meta()} SET value = '99'`);
    await expect(runPlan(plan, { fresh: true })).rejects.toThrow(
      /state was written by a newer crm-migrate \(state version 99; this one knows versions up to 1\)/,
    );
    expect((await m.target.rows<{ id: number }>('SELECT id FROM people')).length).toBe(1);
  });

  it('brings state written before versions were recorded to the current version', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    await runPlan(plan);
    await m.target.run(`DELETE FROM ${meta()}`);
    expect((await runPlan(plan)).status).toBe('already-done');
    expect(await m.target.rows(`SELECT value FROM ${meta()}`)).toEqual([{ value: String(STATE_VERSION) }]);
  });
});
