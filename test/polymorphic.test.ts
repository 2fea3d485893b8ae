import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// Notes point at "any record" through parent_type + parent_id (the SugarCRM family); the new CRM has one
// foreign key column per kind of record (Twenty's note targets). Each ref applies to its type only, and a
// type the plan does not know is quarantined with a reason, never written pointing nowhere.

const PLAN = (m: ScratchMigration) => `version: 1
name: notes
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  companies:
    from: accounts
    into: companies
    key: id
    fields:
      id: { new_id: uuid }
      name: name
  people:
    from: contacts
    into: people
    key: id
    fields:
      id: { new_id: uuid }
      name: last_name
  notes:
    from: notes
    into: note_targets
    key: id
    fields:
      id: id
      kind: { from: parent_type, clean: { picklist: [Accounts, Contacts] } }
      company_id: { from: parent_id, ref: companies, when: { parent_type: Accounts } }
      person_id: { from: parent_id, ref: people, when: { parent_type: Contacts } }
`;

describe.each([['sqlite', 'postgres'], ['mysql', 'mysql']] as const)('polymorphic references, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE accounts (id VARCHAR(36) PRIMARY KEY, name VARCHAR(50))');
    await m.source.run('CREATE TABLE contacts (id VARCHAR(36) PRIMARY KEY, last_name VARCHAR(50))');
    await m.source.run('CREATE TABLE notes (id VARCHAR(36) PRIMARY KEY, parent_type VARCHAR(20), parent_id VARCHAR(36))');
    await m.source.run("INSERT INTO accounts VALUES ('x1', 'Acme')");
    await m.source.run("INSERT INTO contacts VALUES ('x1', 'Lee'), ('c2', 'Day')");
    // The same id in two modules (SugarCRM ids are per table): only the type says which record it is.
    for (const row of [['n1', 'Accounts', 'x1'], ['n2', 'Contacts', 'x1'], ['n3', 'Contacts', 'c2'], ['n4', 'Bugs', 'b9'], ['n5', 'Accounts', 'gone']]) await m.source.run('INSERT INTO notes VALUES (?, ?, ?)', row);
  });
  afterEach(() => m.drop());

  it('points each note at the record of its own type, and quarantines an unknown type and a missing parent', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    const summary = await runPlan(plan);
    expect(summary.entities.notes).toMatchObject({ read: 5, written: 3, quarantined: 2 });
    const reasons = summary.reasons.map((r) => [r.field, r.code, r.sampleKeys.join()]).sort((a, b) => String(a[2]).localeCompare(String(b[2])));
    expect(reasons).toEqual([['kind', 'unmapped_value', 'n4'], ['company_id', 'orphan', 'n5']]);
    const companies = await m.target.rows<{ id: string; name: string }>('SELECT id, name FROM companies');
    const people = new Map((await m.target.rows<{ id: string; name: string }>('SELECT id, name FROM people')).map((p) => [p.id, p.name]));
    const notes = await m.target.rows<{ id: string; company_id: string | null; person_id: string | null }>('SELECT id, company_id, person_id FROM note_targets ORDER BY id');
    expect(notes.map((n) => [n.id, n.company_id === null ? null : companies.find((c) => c.id === n.company_id)?.name, n.person_id === null ? null : people.get(n.person_id)])).toEqual([
      ['n1', 'Acme', null],
      ['n2', null, 'Lee'],
      ['n3', null, 'Day'],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('refuses when: on a field that is not a ref, and a placeholder with when:', () => {
    expect(() => parsePlan(PLAN(m).replace('      kind: { from: parent_type,', '      kind: { when: { parent_type: Accounts }, from: parent_type,'), 'plan.yaml')).toThrow(/"when" applies to a ref field only/);
    expect(() => parsePlan(PLAN(m).replace('ref: people, when:', 'ref: people, orphans: placeholder, when:'), 'plan.yaml')).toThrow(/a ref with when: makes no placeholders/);
  });
});
