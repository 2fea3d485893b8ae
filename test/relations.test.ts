import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newUuid } from '../src/mapping/identity.js';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// A CRM is related tables: companies, contacts, deals. New UUID keys for the new CRM, references re-pointed
// through the crosswalk, entities loaded in the order the references need, orphans handled by policy.

const PLAN = (source: string, target: string) => `version: 1
name: relations
source: "${source}"
target: "${target}"
batch_size: 2
entities:
  deals:
    from: deals
    into: deals
    key: id
    fields:
      id: id
      contact_id: { from: contact_id, ref: contacts, orphans: null }
      amount: amount
  contacts:
    from: contacts
    into: people
    key: id
    fields:
      id: { new_id: uuid }
      legacy_id: id
      full_name: name
      company_id: { from: company_id, ref: companies }
  companies:
    from: companies
    into: organisations
    key: id
    fields:
      id: { new_id: uuid }
      name: { from: name, clean: required }
`;

describe.each([
  ['sqlite', 'postgres'],
  ['postgres', 'mysql'],
] as const)('relations, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;

  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT)');
    await m.source.run('CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, company_id INTEGER)');
    await m.source.run('CREATE TABLE deals (id INTEGER PRIMARY KEY, contact_id INTEGER, amount INTEGER)');
    await m.source.run("INSERT INTO companies VALUES (1, 'Acme'), (2, 'Globex'), (3, '  ')");
    // Contact 13's company does not exist; contact 14's company was quarantined (blank name): both orphans.
    await m.source.run(
      "INSERT INTO contacts VALUES (10, 'Ann', 1), (11, 'Bo', 2), (12, 'Cy', NULL), (13, 'Di', 99), (14, 'Ed', 3)",
    );
    // Deal 102 points at an orphaned contact, 103 at no contact: orphans: null keeps both deals.
    await m.source.run('INSERT INTO deals VALUES (100, 10, 500), (101, 11, 700), (102, 13, 900), (103, 77, 50)');
  });
  afterEach(() => m.drop());

  it('loads referenced entities first, re-points references to the new keys, and handles orphans by policy', async () => {
    const summary = await runPlan(parsePlan(PLAN(m.source.url, m.target.url), 'plan.yaml'));
    expect(Object.keys(summary.entities)).toEqual(['deals', 'contacts', 'companies']);
    expect(summary.entities.companies).toMatchObject({ read: 3, written: 2, quarantined: 1 });
    expect(summary.entities.contacts).toMatchObject({ read: 5, written: 3, quarantined: 2 });
    expect(summary.entities.deals).toMatchObject({ read: 4, written: 4, quarantined: 0 });
    expect(
      summary.reasons.filter((r) => r.code === 'orphan').map((r) => [r.entity, r.field, r.rule, r.count, r.sampleKeys]),
    ).toEqual([['contacts', 'company_id', 'ref', 2, ['13', '14']]]);
    expect(summary.quality.deals?.contact_id).toMatchObject({ nulled: 2 });

    const people = await m.target.rows<{ full_name: string; company: string | null; id: string }>(
      'SELECT p.full_name, o.name AS company, p.id FROM people p LEFT JOIN organisations o ON o.id = p.company_id ORDER BY p.legacy_id',
    );
    expect(people.map((p) => [p.full_name, p.company])).toEqual([
      ['Ann', 'Acme'],
      ['Bo', 'Globex'],
      ['Cy', null],
    ]);
    expect(people[0]?.id).toBe(newUuid('contacts', '10'));
    const deals = await m.target.rows<{ id: number; full_name: string | null }>(
      'SELECT d.id, p.full_name FROM deals d LEFT JOIN people p ON p.id = d.contact_id ORDER BY d.id',
    );
    expect(deals.map((d) => [Number(d.id), d.full_name])).toEqual([
      [100, 'Ann'],
      [101, 'Bo'],
      [102, null],
      [103, null],
    ]);
    const crosswalk = await m.target.rows<{ entity: string; n: number }>(
      `SELECT entity, count(*) AS n FROM ${targetKind === 'postgres' ? '_crm_migrate.crosswalk' : '_crm_migrate_crosswalk'} GROUP BY entity ORDER BY entity`,
    );
    expect(crosswalk.map((c) => [c.entity, Number(c.n)])).toEqual([
      ['companies', 2],
      ['contacts', 3],
    ]);
    // verify follows the new keys and the references; a tampered reference is found.
    const plan = parsePlan(PLAN(m.source.url, m.target.url), 'plan.yaml');
    expect((await verifyPlan(plan)).equal).toBe(true);
    await m.target.run('UPDATE people SET company_id = NULL WHERE legacy_id = 10');
    const tampered = await verifyPlan(plan);
    expect(tampered.entities.find((e) => e.entity === 'contacts')?.differences).toEqual([
      { kind: 'changed', key: newUuid('contacts', '10'), columns: ['company_id'] },
    ]);
  });

  it('removes the records whose source row is gone, found through their new keys', async () => {
    const incremental = PLAN(m.source.url, m.target.url).replace(
      '    into: organisations\n    key: id\n',
      '    into: organisations\n    key: id\n    strategy: incremental\n    cursor: id\n    deletes: hard\n',
    );
    await runPlan(parsePlan(incremental, 'plan.yaml'));
    await m.source.run('DELETE FROM companies WHERE id = 2');
    await m.source.run('UPDATE contacts SET company_id = NULL WHERE company_id = 2');
    const summary = await runPlan(parsePlan(incremental, 'plan.yaml'));
    expect(summary.entities.companies).toMatchObject({ deleted: 1 });
    expect(await m.target.rows('SELECT name FROM organisations ORDER BY name')).toEqual([{ name: 'Acme' }]);
  });
});

describe('relation plans refused when they load', () => {
  it.each([
    [
      'a ref to an unknown entity',
      (t: string) => t.replace('ref: companies', 'ref: companys'),
      /plan\.yaml:23:\d+: error: .*no entity "companys" to refer to \(did you mean "companies"\?\)/,
    ],
    [
      'a cycle',
      (t: string) =>
        t.replace(
          '      name: { from: name, clean: required }',
          '      name: { from: name, clean: required }\n      boss: { from: boss_id, ref: contacts }',
        ),
      /references go round in a cycle: contacts -> companies -> contacts/,
    ],
    [
      'a ref with a transform',
      (t: string) => t.replace('ref: contacts, orphans: null', 'ref: contacts, transform: trim'),
      /a ref field takes the referenced record's key: "transform" does not go with it/,
    ],
    [
      'a ref to an entity with no key in the target',
      (t: string) => t.replace('      id: { new_id: uuid }\n      name:', '      name:'),
      /entity "companies" gives its records no key in the target to refer to/,
    ],
  ])('%s', (_what, edit, message) => {
    expect(() => parsePlan(edit(PLAN('sqlite:./a.db', 'sqlite:./b.db')), 'plan.yaml')).toThrow(message);
  });
});

describe.each(['sqlite', 'postgres', 'mysql'] as const)('joins, %s source', (kind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(kind, 'sqlite');
    await m.source.run('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, address_id INTEGER)');
    await m.source.run('CREATE TABLE address (address_id INTEGER PRIMARY KEY, city TEXT, country TEXT)');
    await m.source.run("INSERT INTO address VALUES (1, 'Berlin', 'Germany'), (2, 'Austin', 'USA')");
    await m.source.run(
      "INSERT INTO customers VALUES (10, 'Ann', '030 1234567', 1), (11, 'Bo', '(512) 555-0142', 2), (12, 'Cy', NULL, 99), (13, 'Di', NULL, NULL)",
    );
  });
  afterEach(() => m.drop());

  it('joins another table by key into each row, and reads a NULL where nothing matches', async () => {
    const text = `version: 1
source: "${m.source.url}"
target: "${m.target.url}"
batch_size: 3
entities:
  people:
    from: customers
    join:
      addr: { from: address, on: address_id }
    into: people
    key: id
    fields:
      id: id
      name: name
      city: addr.city
      phone: { from: phone, clean: { phone: { country_from: addr.country } }, invalid: null }
`;
    const summary = await runPlan(parsePlan(text, 'plan.yaml'));
    expect(summary.entities.people).toMatchObject({ read: 4, written: 4 });
    expect(await m.target.rows('SELECT id, name, city, phone FROM people ORDER BY id')).toEqual([
      { id: 10, name: 'Ann', city: 'Berlin', phone: '+49301234567' },
      { id: 11, name: 'Bo', city: 'Austin', phone: '+15125550142' },
      { id: 12, name: 'Cy', city: null, phone: null },
      { id: 13, name: 'Di', city: null, phone: null },
    ]);
    expect((await verifyPlan(parsePlan(text, 'plan.yaml'))).equal).toBe(true);
    expect(() => parsePlan(text.replace('addr.city', 'addr.cty'), 'plan.yaml')).not.toThrow();
    await expect(
      runPlan(parsePlan(text.replace('addr.city', 'addr.cty').replace('name: relations', ''), 'plan.yaml')),
    ).rejects.toThrow(/joined table address has no column "cty" \(did you mean "city"\?\)/);
  });
});
