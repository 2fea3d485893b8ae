import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// Two legacy tables become one table of the new CRM (leads and contacts both into people), which holds records
// of its own already. Each entity verifies and removes only the rows it wrote: never the other entity's, never
// the new CRM's.

const PLAN = (m: ScratchMigration) => `version: 1
name: shared
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  leads:
    from: leads
    into: people
    key: id
    strategy: incremental
    cursor: updated_at
    deletes: hard
    fields:
      id: id
      name: name
      kind: { value: lead }
  contacts:
    from: contacts
    into: people
    key: id
    fields:
      id: id
      name: name
      kind: { value: contact }
`;

describe.each([
  ['sqlite', 'postgres'],
  ['mysql', 'mysql'],
  ['postgres', 'sqlite'],
] as const)('two entities into one table, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE leads (id INTEGER PRIMARY KEY, name VARCHAR(50), updated_at TIMESTAMP NOT NULL)');
    await m.source.run('CREATE TABLE contacts (id INTEGER PRIMARY KEY, name VARCHAR(50))');
    for (let id = 1; id <= 6; id++)
      await m.source.run('INSERT INTO leads VALUES (?, ?, ?)', [1000 + id, `Lead ${id}`, '2026-01-01 10:00:00']);
    for (let id = 1; id <= 4; id++) await m.source.run('INSERT INTO contacts VALUES (?, ?)', [id, `Contact ${id}`]);
    await m.target.run('CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(50), kind VARCHAR(10))');
    await m.target.run("INSERT INTO people VALUES (9999, 'Already in the new CRM', 'user')");
  });
  afterEach(() => m.drop());

  const ids = async () =>
    (await m.target.rows<{ id: number }>('SELECT id FROM people ORDER BY id')).map((r) => Number(r.id));

  it('verifies each entity against its own rows and deletes only a removed lead', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    const first = await runPlan(plan);
    expect(first.entities.leads).toMatchObject({ read: 6, written: 6, deleted: 0 });
    expect(await ids()).toEqual([1, 2, 3, 4, 1001, 1002, 1003, 1004, 1005, 1006, 9999]);

    const verified = await verifyPlan(plan);
    expect(verified.equal).toBe(true);
    expect(verified.entities.map((e) => [e.entity, e.equal, e.extra, e.others])).toEqual([
      ['leads', 6, 0, 5],
      ['contacts', 4, 0, 7],
    ]);

    await m.source.run('DELETE FROM leads WHERE id = 1002');
    const second = await runPlan(plan);
    expect(second.entities.leads).toMatchObject({ deleted: 1 });
    expect(await ids()).toEqual([1, 2, 3, 4, 1001, 1003, 1004, 1005, 1006, 9999]);
    expect((await verifyPlan(plan)).equal).toBe(true);

    // A row the entity did write, now without a source row, is still extra: here one put back by hand.
    await m.target.run("INSERT INTO people VALUES (1002, 'Lead 2', 'lead')");
    const after = await verifyPlan(plan);
    expect(after.entities.find((e) => e.entity === 'leads')).toMatchObject({ extra: 1, others: 5 });
  });

  it('refuses --fresh while the table holds a row the plan did not write, and empties nothing', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    await runPlan(plan);
    await expect(runPlan(plan, { fresh: true })).rejects.toThrow(
      /people holds 1 row this plan did not write .*--fresh empties whole tables/,
    );
    expect(await ids()).toEqual([1, 2, 3, 4, 1001, 1002, 1003, 1004, 1005, 1006, 9999]);
    // Without the new CRM's record, the plan's rows are all the table holds: a fresh start empties it.
    await m.target.run('DELETE FROM people WHERE id = 9999');
    expect((await runPlan(plan, { fresh: true })).entities.leads).toMatchObject({ read: 6, written: 6 });
    expect(await ids()).toEqual([1, 2, 3, 4, 1001, 1002, 1003, 1004, 1005, 1006]);
  });

  it('treats an entity loaded without a crosswalk as an earlier version did, and warns', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    await runPlan(plan);
    // A target an earlier crm-migrate loaded: it kept no crosswalk for the leads.
    await m.target.run(
      `DELETE FROM ${m.target.kind === 'postgres' ? '_crm_migrate.crosswalk' : '_crm_migrate_crosswalk'} WHERE entity = 'leads'`,
    );
    await m.source.run("UPDATE leads SET name = 'Lead 1, renamed', updated_at = '2026-01-02 11:00:00' WHERE id = 1001");
    const warnings: string[] = [];
    const second = await runPlan(plan, { onWarnings: (w) => warnings.push(...w.map((i) => i.message)) });
    expect(warnings).toEqual([
      expect.stringMatching(/^leads was loaded by an earlier crm-migrate that kept no crosswalk for it/),
    ]);
    expect(second.entities.leads).toMatchObject({ read: 1, written: 1, quarantined: 0 });
    expect((await m.target.rows<{ name: string }>('SELECT name FROM people WHERE id = 1001'))[0]?.name).toBe(
      'Lead 1, renamed',
    );
    // It stays so: the next increment updates its other rows too, rather than taking them for someone else's.
    await m.source.run("UPDATE leads SET name = 'Lead 2, renamed', updated_at = '2026-01-02 12:00:00' WHERE id = 1002");
    expect((await runPlan(plan)).entities.leads).toMatchObject({ read: 1, written: 1, quarantined: 0 });
    expect((await m.target.rows<{ name: string }>('SELECT name FROM people WHERE id = 1002'))[0]?.name).toBe(
      'Lead 2, renamed',
    );
  });

  it("never writes an increment over a row it did not write: the new CRM's, or the other entity's", async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    await runPlan(plan);
    // During the parallel run the new CRM made record 9999 itself, and the legacy CRM hands out 9999 and 3 too.
    await m.source.run('INSERT INTO leads VALUES (?, ?, ?)', [9999, 'New lead', '2026-01-02 10:00:00']);
    await m.source.run('INSERT INTO leads VALUES (?, ?, ?)', [3, 'Another new lead', '2026-01-02 10:00:00']);
    await m.source.run('INSERT INTO leads VALUES (?, ?, ?)', [7, 'A third new lead', '2026-01-02 10:00:00']);
    await m.source.run("UPDATE leads SET name = 'Lead 1, renamed', updated_at = '2026-01-02 11:00:00' WHERE id = 1001");
    const second = await runPlan(plan);
    expect(second.entities.leads).toMatchObject({ read: 4, written: 2, quarantined: 2 });
    expect(second.reasons.map((r) => [r.field, r.rule, r.code, r.sampleKeys.join()])).toEqual([
      ['id', 'target', 'key_exists', '3,9999'],
    ]);
    const rows = await m.target.rows<{ id: number; name: string; kind: string }>(
      'SELECT id, name, kind FROM people WHERE id IN (3, 7, 1001, 9999) ORDER BY id',
    );
    expect(rows.map((r) => [Number(r.id), r.name, r.kind])).toEqual([
      [3, 'Contact 3', 'contact'],
      [7, 'A third new lead', 'lead'],
      [1001, 'Lead 1, renamed', 'lead'],
      [9999, 'Already in the new CRM', 'user'],
    ]);
  });
});
