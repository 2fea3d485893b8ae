import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { newUuid } from '../src/mapping/identity.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// A company's primary contact is a contact; a contact works for a company: the references go round. The ref
// with orphans: null closes the cycle: the load writes it NULL, a second pass fills it in.
const PLAN = (source: string, target: string) => `version: 1
name: cycles
source: "${source}"
target: "${target}"
batch_size: 2
entities:
  companies:
    from: companies
    into: organisations
    key: id
    fields:
      id: { new_id: uuid }
      name: name
      primary_contact_id: { from: primary_contact, ref: contacts, orphans: null }
  contacts:
    from: contacts
    into: people
    key: id
    fields:
      id: { new_id: uuid }
      name: name
      company_id: { from: company_id, ref: companies }
      mentor_id: { from: mentor_id, ref: contacts, orphans: null }
`;

describe.each([
  ['sqlite', 'postgres'],
  ['postgres', 'mysql'],
] as const)('a cycle of references, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT, primary_contact INTEGER)');
    await m.source.run(
      'CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, company_id INTEGER, mentor_id INTEGER)',
    );
    // Globex's primary contact (99) does not exist: it stays NULL. Contacts refer to each other (mentors) too.
    await m.source.run("INSERT INTO companies VALUES (1, 'Acme', 11), (2, 'Globex', 99), (3, 'Initech', NULL)");
    await m.source.run(
      "INSERT INTO contacts VALUES (10, 'Ann', 1, 11), (11, 'Bo', 1, NULL), (12, 'Cy', 2, 10), (13, 'Di', 3, 12), (14, 'Ed', 3, 13)",
    );
  });
  afterEach(() => m.drop());

  it('loads in two passes: NULL first, then filled in; the accounting counts each row once; verify agrees', async () => {
    const text = PLAN(m.source.url, m.target.url);
    const controller = new AbortController();
    // Stopped while contacts load; the rerun resumes it and still fills every ref in.
    const first = await runPlan(parsePlan(text, 'plan.yaml'), {
      signal: controller.signal,
      onProgress: (p) => (p.entity === 'contacts' && p.counts.read >= 2 ? controller.abort() : undefined),
    });
    expect(first.status).toBe('interrupted');
    const summary = await runPlan(parsePlan(text, 'plan.yaml'));
    expect(summary.status).toBe('done');
    expect(Object.keys(summary.entities)).toEqual(['companies', 'contacts']);
    expect(summary.entities.companies).toMatchObject({ read: 3, written: 3, quarantined: 0 });
    expect(summary.entities.contacts).toMatchObject({ read: 5, written: 5, quarantined: 0 });
    const companies = await m.target.rows<{ id: string; name: string; primary_contact_id: string | null }>(
      'SELECT id, name, primary_contact_id FROM organisations ORDER BY name',
    );
    expect(companies.map((c) => [c.name, c.primary_contact_id])).toEqual([
      ['Acme', newUuid('contacts', '11')],
      ['Globex', null],
      ['Initech', null],
    ]);
    const people = await m.target.rows<{ name: string; company_id: string; mentor_id: string | null }>(
      'SELECT name, company_id, mentor_id FROM people ORDER BY name',
    );
    expect(people.map((p) => [p.name, p.company_id, p.mentor_id])).toEqual([
      ['Ann', newUuid('companies', '1'), newUuid('contacts', '11')],
      ['Bo', newUuid('companies', '1'), null],
      ['Cy', newUuid('companies', '2'), newUuid('contacts', '10')],
      ['Di', newUuid('companies', '3'), newUuid('contacts', '12')],
      ['Ed', newUuid('companies', '3'), newUuid('contacts', '13')],
    ]);
    const verified = await verifyPlan(parsePlan(text, 'plan.yaml'));
    expect(verified.equal).toBe(true);
  }, 60_000);

  it('refuses a cycle whose refs all quarantine their orphans, naming the way out', () => {
    const hard = PLAN(m.source.url, m.target.url).replace(
      'ref: contacts, orphans: null }\n  contacts',
      'ref: contacts }\n  contacts',
    );
    expect(() => parsePlan(hard, 'plan.yaml')).toThrow(
      /references go round in a cycle: .*give one of its refs orphans: null/s,
    );
  });
});
