import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { previewPlan } from '../src/engine/preview.js';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// Owners are users invited into the new CRM before the migration: a lead's owner is found there by email,
// never migrated. A miss follows the orphan policy; a login that two users share is never given to one of them.

const PLAN = (m: ScratchMigration, orphans = '') => `version: 1
name: lookups
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  leads:
    from: leads
    into: crm_lead
    key: id
    fields:
      id: id
      name: name
      user_id: { from: owner_email, lookup: { table: res_users, key: login, value: id }${orphans} }
`;

describe.each([
  ['sqlite', 'postgres'],
  ['postgres', 'mysql'],
  ['mysql', 'sqlite'],
] as const)('lookups in the target, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE leads (id INTEGER PRIMARY KEY, name VARCHAR(50), owner_email VARCHAR(100))');
    for (const row of [
      [1, 'Deal A', 'ann@acme.com'],
      [2, 'Deal B', 'bo@acme.com'],
      [3, 'Deal C', 'gone@acme.com'],
      [4, 'Deal D', null],
      [5, 'Deal E', 'shared@acme.com'],
      [6, 'Deal F', 'ann@acme.com'],
    ]) {
      await m.source.run('INSERT INTO leads VALUES (?, ?, ?)', row);
    }
    await m.target.run('CREATE TABLE res_users (id INTEGER PRIMARY KEY, login VARCHAR(100))');
    for (const row of [
      [7, 'ann@acme.com'],
      [8, 'bo@acme.com'],
      [9, 'shared@acme.com'],
      [10, 'shared@acme.com'],
    ])
      await m.target.run('INSERT INTO res_users VALUES (?, ?)', row);
    await m.target.run('CREATE TABLE crm_lead (id INTEGER PRIMARY KEY, name VARCHAR(50), user_id INTEGER)');
  });
  afterEach(() => m.drop());

  const leads = async () =>
    (await m.target.rows<{ id: number; user_id: number | null }>('SELECT id, user_id FROM crm_lead ORDER BY id')).map(
      (r) => [Number(r.id), r.user_id === null ? null : Number(r.user_id)],
    );

  it('writes the id of the user found by email, and quarantines a missing or shared one', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    const summary = await runPlan(plan);
    expect(summary.entities.leads).toMatchObject({ read: 6, written: 4, quarantined: 2 });
    const reasons = summary.reasons
      .map((r) => [r.field, r.code, r.sampleKeys.join()])
      .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    expect(reasons).toEqual([
      ['user_id', 'ambiguous_lookup', '5'],
      ['user_id', 'orphan', '3'],
    ]);
    expect(await leads()).toEqual([
      [1, 7],
      [2, 8],
      [4, null],
      [6, 7],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('sets a missing owner NULL with orphans: null, and plan shows what it found', async () => {
    const plan = parsePlan(PLAN(m, ', orphans: null'), 'plan.yaml');
    const preview = await previewPlan(plan, { sample: 10, showValues: true });
    expect(preview.entities[0]?.samples.map((s) => s.after?.user_id ?? null)).toEqual([7, 8, null, null, null, 7]);
    await runPlan(plan);
    expect(await leads()).toEqual([
      [1, 7],
      [2, 8],
      [3, null],
      [4, null],
      [5, null],
      [6, 7],
    ]);
  });

  it('writes the default for an owner the new CRM does not have, with orphans: default', async () => {
    const plan = parsePlan(PLAN(m, ', orphans: default, default: 8'), 'plan.yaml');
    const summary = await runPlan(plan);
    expect(summary.entities.leads).toMatchObject({ written: 6, quarantined: 0 });
    // A login two users share is given neither of them: the plan's default instead, counted. As for any field,
    // the default also fills a value that was NULL in the source (deal 4 has no owner).
    expect(await leads()).toEqual([
      [1, 7],
      [2, 8],
      [3, 8],
      [4, 8],
      [5, 8],
      [6, 7],
    ]);
    expect(summary.quality.leads?.user_id?.findings.map((f) => [f.code, f.outcome, f.count]).sort()).toEqual([
      ['ambiguous_lookup', 'nulled', 1],
      ['orphan', 'nulled', 1],
    ]);
    expect(() => parsePlan(PLAN(m, ', orphans: default'), 'plan.yaml')).toThrow(
      /orphans: default needs the value to write/,
    );
  });

  it('refuses a lookup with a placeholder or with a ref, before anything is written', () => {
    expect(() => parsePlan(PLAN(m, ', orphans: placeholder'), 'plan.yaml')).toThrow(
      /a lookup finds records of the new CRM: it makes no placeholder/,
    );
    expect(() => parsePlan(PLAN(m, ', ref: users'), 'plan.yaml')).toThrow(
      /a lookup field takes the value the new CRM holds: "ref" does not go with it/,
    );
  });
});
