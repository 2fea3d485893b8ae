import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// A deal shows its contact's email, reached through a link table. An increment reads the deals whose own cursor
// moved; with the joined cursors listed, a change in the contact (or the link) re-reads the deals that join it.

const PLAN = (m: ScratchMigration, cursor = '[updated_at, c.updated_at, link.updated_at]') => `version: 1
name: linked
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  deals:
    from: deals
    join:
      link: { from: deal_contacts, on: id, key: deal_id, pick: { order: "updated_at desc, contact_id" } }
      c: { from: contacts, on: link.contact_id, key: id }
    into: deals
    key: id
    strategy: incremental
    cursor: ${cursor}
    fields:
      id: id
      name: name
      contact_email: { from: c.email, clean: email }
`;

describe.each([
  ['sqlite', 'postgres'],
  ['postgres', 'mysql'],
  ['mysql', 'sqlite'],
] as const)('joined cursors, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run(
      'CREATE TABLE deals (id INTEGER PRIMARY KEY, name VARCHAR(50), updated_at VARCHAR(19) NOT NULL)',
    );
    await m.source.run(
      'CREATE TABLE deal_contacts (deal_id INTEGER, contact_id INTEGER, updated_at VARCHAR(19) NOT NULL, PRIMARY KEY (deal_id, contact_id))',
    );
    await m.source.run(
      'CREATE TABLE contacts (id INTEGER PRIMARY KEY, email VARCHAR(100), updated_at VARCHAR(19) NOT NULL)',
    );
    for (const row of [
      [1, 'Renewal', '2026-01-01 10:00:00'],
      [2, 'Upgrade', '2026-01-01 10:00:00'],
      [3, 'Pilot', '2026-01-01 10:00:00'],
    ])
      await m.source.run('INSERT INTO deals VALUES (?, ?, ?)', row);
    for (const row of [
      [1, 10, '2026-01-01 10:00:00'],
      [2, 10, '2026-01-01 10:00:00'],
      [3, 11, '2026-01-01 10:00:00'],
    ])
      await m.source.run('INSERT INTO deal_contacts VALUES (?, ?, ?)', row);
    for (const row of [
      [10, 'ann@acme.com', '2026-01-01 10:00:00'],
      [11, 'bo@globex.com', '2026-01-01 10:00:00'],
      [12, 'cy@initech.com', '2026-01-01 10:00:00'],
    ])
      await m.source.run('INSERT INTO contacts VALUES (?, ?, ?)', row);
  });
  afterEach(() => m.drop());

  const emails = async () =>
    (await m.target.rows<{ id: number; contact_email: string }>('SELECT id, contact_email FROM deals ORDER BY id')).map(
      (r) => [Number(r.id), r.contact_email],
    );

  it('re-reads the deals whose contact, or whose link, changed', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    await runPlan(plan);
    expect(await emails()).toEqual([
      [1, 'ann@acme.com'],
      [2, 'ann@acme.com'],
      [3, 'bo@globex.com'],
    ]);
    // Ann's email changes (deals 1 and 2 show it); deal 3 moves to another contact, through its link row.
    await m.source.run(
      "UPDATE contacts SET email = ' Ann.Lee@Acme.com ', updated_at = '2026-01-02 09:00:00' WHERE id = 10",
    );
    await m.source.run(
      "UPDATE deal_contacts SET contact_id = 12, updated_at = '2026-01-02 09:30:00' WHERE deal_id = 3",
    );
    const second = await runPlan(plan);
    expect(second.entities.deals).toMatchObject({ read: 0, written: 0 });
    expect(second.resynced?.deals).toMatchObject({ read: 3, written: 3, quarantined: 0 });
    expect(await emails()).toEqual([
      [1, 'ann.lee@acme.com'],
      [2, 'ann.lee@acme.com'],
      [3, 'cy@initech.com'],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
    // Nothing changed since: nothing is re-read.
    expect((await runPlan(plan)).resynced).toBeUndefined();
  });

  it('without them, an increment leaves the deal stale, and verify says so', async () => {
    const plan = parsePlan(PLAN(m, 'updated_at'), 'plan.yaml');
    await runPlan(plan);
    await m.source.run(
      "UPDATE contacts SET email = 'ann.lee@acme.com', updated_at = '2026-01-02 09:00:00' WHERE id = 10",
    );
    await runPlan(plan);
    expect(await emails()).toEqual([
      [1, 'ann@acme.com'],
      [2, 'ann@acme.com'],
      [3, 'bo@globex.com'],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(false);
  });

  it("refuses a joined cursor of no join, or a first cursor that is not the entity's own", () => {
    expect(() => parsePlan(PLAN(m, '[updated_at, contact.updated_at]'), 'plan.yaml')).toThrow(
      /no join "contact" for the cursor contact.updated_at/,
    );
    expect(() => parsePlan(PLAN(m, '[c.updated_at]'), 'plan.yaml')).toThrow(
      /the first cursor is a column of the entity's own table/,
    );
  });
});
