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

describe.each([
  ['sqlite', 'postgres'],
  ['mysql', 'mysql'],
] as const)('polymorphic references, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE accounts (id VARCHAR(36) PRIMARY KEY, name VARCHAR(50))');
    await m.source.run('CREATE TABLE contacts (id VARCHAR(36) PRIMARY KEY, last_name VARCHAR(50))');
    await m.source.run(
      'CREATE TABLE notes (id VARCHAR(36) PRIMARY KEY, parent_type VARCHAR(20), parent_id VARCHAR(36))',
    );
    await m.source.run("INSERT INTO accounts VALUES ('x1', 'Acme')");
    await m.source.run("INSERT INTO contacts VALUES ('x1', 'Lee'), ('c2', 'Day')");
    // The same id in two modules (SugarCRM ids are per table): only the type says which record it is.
    for (const row of [
      ['n1', 'Accounts', 'x1'],
      ['n2', 'Contacts', 'x1'],
      ['n3', 'Contacts', 'c2'],
      ['n4', 'Bugs', 'b9'],
      ['n5', 'Accounts', 'gone'],
    ])
      await m.source.run('INSERT INTO notes VALUES (?, ?, ?)', row);
  });
  afterEach(() => m.drop());

  it('points each note at the record of its own type, and quarantines an unknown type and a missing parent', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    const summary = await runPlan(plan);
    expect(summary.entities.notes).toMatchObject({ read: 5, written: 3, quarantined: 2 });
    const reasons = summary.reasons
      .map((r) => [r.field, r.code, r.sampleKeys.join()])
      .sort((a, b) => String(a[2]).localeCompare(String(b[2])));
    expect(reasons).toEqual([
      ['kind', 'unmapped_value', 'n4'],
      ['company_id', 'orphan', 'n5'],
    ]);
    const companies = await m.target.rows<{ id: string; name: string }>('SELECT id, name FROM companies');
    const people = new Map(
      (await m.target.rows<{ id: string; name: string }>('SELECT id, name FROM people')).map((p) => [p.id, p.name]),
    );
    const notes = await m.target.rows<{ id: string; company_id: string | null; person_id: string | null }>(
      'SELECT id, company_id, person_id FROM note_targets ORDER BY id',
    );
    expect(
      notes.map((n) => [
        n.id,
        n.company_id === null ? null : companies.find((c) => c.id === n.company_id)?.name,
        n.person_id === null ? null : people.get(n.person_id),
      ]),
    ).toEqual([
      ['n1', 'Acme', null],
      ['n2', null, 'Lee'],
      ['n3', null, 'Day'],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('refuses when: on a field that is not a ref, and a placeholder with when:', () => {
    expect(() =>
      parsePlan(
        PLAN(m).replace(
          '      kind: { from: parent_type,',
          '      kind: { when: { parent_type: Accounts }, from: parent_type,',
        ),
        'plan.yaml',
      ),
    ).toThrow(/"when" applies to a ref field only/);
    expect(() =>
      parsePlan(PLAN(m).replace('ref: people, when:', 'ref: people, orphans: placeholder, when:'), 'plan.yaml'),
    ).toThrow(/a ref with when: makes no placeholders/);
  });
});

// vtiger's shape, into Odoo's: every record is a row of vtiger_crmentity (its type in setype, its deleted flag),
// the details in a table per module joined by id; a comment's parent is any record, and the new CRM keeps it as
// one id column beside a model column (mail_message.model + res_id). The type comes from a join.
const BY_TYPE = (m: ScratchMigration) => `version: 1
name: comments
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  companies:
    from: crmentity
    where: { setype: Accounts, deleted: 0 }
    join: { a: { from: account, on: crmid, key: accountid } }
    into: partner
    key: crmid
    fields:
      id: crmid
      name: a.accountname
  people:
    from: crmentity
    where: { setype: Contacts, deleted: 0 }
    join: { c: { from: contactdetails, on: crmid, key: contactid } }
    into: partner
    key: crmid
    fields:
      id: crmid
      name: c.lastname
      parent_id: { from: c.accountid, ref: companies, orphans: null }
  messages:
    from: comments
    join: { parent: { from: crmentity, on: related_to, key: crmid } }
    into: message
    key: id
    fields:
      id: id
      model: { from: parent.setype, transform: { map: { Accounts: res.partner, Contacts: res.partner } } }
      res_id: { from: related_to, ref: { by: parent.setype, to: { Accounts: companies, Contacts: people } } }
`;

describe.each([
  ['sqlite', 'postgres'],
  ['mysql', 'mysql'],
] as const)('a parent of any type in one id column, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE crmentity (crmid INT PRIMARY KEY, setype VARCHAR(30), deleted INT)');
    await m.source.run('CREATE TABLE account (accountid INT PRIMARY KEY, accountname VARCHAR(50))');
    await m.source.run('CREATE TABLE contactdetails (contactid INT PRIMARY KEY, accountid INT, lastname VARCHAR(50))');
    await m.source.run('CREATE TABLE comments (id INT PRIMARY KEY, related_to INT)');
    for (const row of [
      [1, 'Accounts', 0],
      [2, 'Contacts', 0],
      [3, 'Potentials', 0],
      [4, 'Accounts', 1],
      [5, 'Contacts', 0],
    ])
      await m.source.run('INSERT INTO crmentity VALUES (?, ?, ?)', row);
    await m.source.run("INSERT INTO account VALUES (1, 'Acme'), (4, 'Gone Ltd')");
    // Contact 5 works for the deleted account 4: kept, with no company, not pointing at a record never migrated.
    await m.source.run("INSERT INTO contactdetails VALUES (2, 1, 'Lee'), (5, 4, 'Day')");
    // On an account, a contact, a deal (a type not migrated), a deleted account, a record that is not there.
    for (const row of [
      [10, 1],
      [11, 2],
      [12, 3],
      [13, 4],
      [14, 99],
    ])
      await m.source.run('INSERT INTO comments VALUES (?, ?)', row);
    await m.target.run('CREATE TABLE partner (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, parent_id INT)');
    await m.target.run('CREATE TABLE message (id INT PRIMARY KEY, model VARCHAR(30), res_id INT)');
  });
  afterEach(() => m.drop());

  it('resolves each id through the crosswalk its type names, and quarantines a type not migrated', async () => {
    const plan = parsePlan(BY_TYPE(m), 'plan.yaml');
    const summary = await runPlan(plan);
    expect(summary.entities.people).toMatchObject({ read: 5, written: 2, filtered: 3 });
    expect(summary.entities.messages).toMatchObject({ read: 5, written: 2, quarantined: 3 });
    const partners = await m.target.rows<{ id: number; name: string; parent_id: number | null }>(
      'SELECT id, name, parent_id FROM partner ORDER BY id',
    );
    expect(partners.map((p) => [Number(p.id), p.name, p.parent_id === null ? null : Number(p.parent_id)])).toEqual([
      [1, 'Acme', null],
      [2, 'Lee', 1],
      [5, 'Day', null],
    ]);
    const messages = await m.target.rows<{ id: number; model: string; res_id: number }>(
      'SELECT id, model, res_id FROM message ORDER BY id',
    );
    expect(messages.map((r) => [Number(r.id), r.model, Number(r.res_id)])).toEqual([
      [10, 'res.partner', 1],
      [11, 'res.partner', 2],
    ]);
    const reasons = summary.reasons
      .filter((r) => r.field === 'res_id')
      .map((r) => [r.code, r.sampleKeys.join()])
      .sort();
    expect(reasons).toEqual([
      ['orphan', '13'],
      ['unknown_type', '12,14'],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('refuses a type that names no entity, and placeholders', () => {
    expect(() => parsePlan(BY_TYPE(m).replace('Contacts: people }', 'Contacts: peeple }'), 'plan.yaml')).toThrow(
      /no entity "peeple" to refer to/,
    );
    expect(() =>
      parsePlan(
        BY_TYPE(m).replace('Contacts: people } } }', 'Contacts: people } }, orphans: placeholder }'),
        'plan.yaml',
      ),
    ).toThrow(/a ref by type makes no placeholders/);
  });
});
