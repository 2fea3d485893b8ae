import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { tempDir } from './helpers/databases.js';
import { scratchDatabase, type ScratchDatabase } from './helpers/sql-databases.js';

// A legacy CRM as the SugarCRM family keeps it: every record and link row has a deleted flag, contacts reach
// accounts through a link table, emails through a relation table with a primary flag. Read as it is (no view
// on the legacy side): filtered rows are counted, a join takes one of several rows only by the plan's rule,
// and without a rule such a row is quarantined, never given an arbitrary one.

const T0 = '2026-01-01 10:00:00';
const T1 = '2026-01-02 10:00:00';

const SCHEMA = [
  'CREATE TABLE contacts (id VARCHAR(36) PRIMARY KEY, last_name VARCHAR(50), deleted INTEGER, date_modified TIMESTAMP NOT NULL)',
  'CREATE TABLE accounts_contacts (id VARCHAR(36) PRIMARY KEY, contact_id VARCHAR(36), account_id VARCHAR(36), deleted INTEGER, date_modified TIMESTAMP)',
  'CREATE TABLE email_addr_bean_rel (id VARCHAR(36) PRIMARY KEY, bean_id VARCHAR(36), email_address_id VARCHAR(36), primary_address INTEGER, deleted INTEGER)',
];

// [contact, last name, deleted]
const CONTACTS: [string, string, number][] = [
  ['c1', 'Lee', 0],
  ['c2', 'Day', 0], // moved company: two links, the newer one is current
  ['c3', 'Fox', 1], // deleted in the legacy CRM
  ['c4', 'Ma', 0], // two live emails, one primary
  ['c5', 'Ng', 0], // its only link is deleted
];
// [id, contact, account, deleted, modified]
const LINKS: [string, string, string, number, string][] = [
  ['l1', 'c1', 'a1', 0, T0],
  ['l2', 'c2', 'a1', 0, T0],
  ['l3', 'c2', 'a2', 0, T1],
  ['l4', 'c3', 'a1', 0, T0],
  ['l5', 'c4', 'a2', 0, T0],
  ['l6', 'c5', 'a1', 1, T0],
];
// [id, contact, email, primary, deleted]
const EMAILS: [string, string, string, number, number][] = [
  ['r1', 'c1', 'e1', 1, 0],
  ['r2', 'c2', 'e2', 1, 0],
  ['r3', 'c2', 'e9', 1, 1],
  ['r4', 'c4', 'e4', 0, 0],
  ['r5', 'c4', 'e5', 1, 0],
];

const PLAN = (
  source: string,
  target: string,
  options: { emailPick?: boolean; incremental?: boolean } = {},
) => `version: 1
name: suite
source: "${source}"
target: "${target}"
entities:
  contacts:
    from: contacts
    where: { deleted: 0 }
${options.incremental ? '    strategy: incremental\n    cursor: date_modified\n    deletes: hard\n' : ''}    join:
      link: { from: accounts_contacts, on: id, key: contact_id, where: { deleted: 0 }, pick: { order: "date_modified desc, id" } }
      rel: { from: email_addr_bean_rel, on: id, key: bean_id, where: { deleted: 0 }${options.emailPick === false ? '' : ', pick: { order: "primary_address desc, id" }'} }
    into: people
    key: id
    fields:
      id: id
      last_name: last_name
      account_id: link.account_id
      email_id: rel.email_address_id
`;

async function seed(db: ScratchDatabase): Promise<void> {
  for (const sql of SCHEMA) await db.run(sql);
  for (const [id, name, deleted] of CONTACTS)
    await db.run('INSERT INTO contacts VALUES (?, ?, ?, ?)', [id, name, deleted, T0]);
  for (const row of LINKS) await db.run('INSERT INTO accounts_contacts VALUES (?, ?, ?, ?, ?)', row);
  for (const row of EMAILS) await db.run('INSERT INTO email_addr_bean_rel VALUES (?, ?, ?, ?, ?)', row);
}

describe.each([
  ['sqlite', 'postgres'],
  ['postgres', 'sqlite'],
  ['mysql', 'mysql'],
] as const)('filters and joins, %s -> %s', (sourceKind, targetKind) => {
  let source: ScratchDatabase;
  let target: ScratchDatabase;
  beforeEach(async () => {
    [source, target] = await Promise.all([scratchDatabase(sourceKind), scratchDatabase(targetKind)]);
    await seed(source);
  });
  afterEach(() => Promise.all([source.drop(), target.drop()]));

  const people = async () =>
    (
      await target.rows<{ id: string; account_id: string | null; email_id: string | null }>(
        'SELECT id, account_id, email_id FROM people ORDER BY id',
      )
    ).map((p) => [p.id, p.account_id, p.email_id]);

  it('counts the filtered rows, takes the joined row the pick rule names, and verifies equal', async () => {
    const plan = parsePlan(PLAN(source.url, target.url), 'plan.yaml');
    const summary = await runPlan(plan);
    expect(summary.entities.contacts).toMatchObject({ read: 5, written: 4, filtered: 1, quarantined: 0 });
    expect(summary.filtered).toEqual({ contacts: { 'deleted = 0': 1 } });
    expect(await people()).toEqual([
      ['c1', 'a1', 'e1'],
      ['c2', 'a2', 'e2'], // the newer link; the deleted email relation does not count
      ['c4', 'a2', 'e5'], // the primary email
      ['c5', null, null], // its only link is deleted: no account
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('quarantines a row whose join matches several rows and has no pick rule, saying how many', async () => {
    const plan = parsePlan(PLAN(source.url, target.url, { emailPick: false }), 'plan.yaml');
    const summary = await runPlan(plan);
    expect(summary.entities.contacts).toMatchObject({ read: 5, written: 3, filtered: 1, quarantined: 1 });
    expect(summary.reasons.map((r) => [r.field, r.rule, r.code, r.sampleKeys])).toEqual([
      ['rel', 'join', 'ambiguous_join', ['c4']],
    ]);
    expect((await people()).map((p) => p[0])).toEqual(['c1', 'c2', 'c5']);
    const verified = await verifyPlan(plan);
    expect(verified.equal).toBe(true);
    expect(verified.entities[0]).toMatchObject({ quarantined: 1, equal: 3 });
  });

  it('removes a record from the target once the legacy CRM marks it deleted, and follows a link that moved', async () => {
    const plan = parsePlan(PLAN(source.url, target.url, { incremental: true }), 'plan.yaml');
    await runPlan(plan);
    await source.run('UPDATE contacts SET deleted = 1, date_modified = ? WHERE id = ?', [T1, 'c1']);
    await source.run('UPDATE accounts_contacts SET deleted = 1 WHERE id = ?', ['l5']);
    await source.run('INSERT INTO accounts_contacts VALUES (?, ?, ?, ?, ?)', ['l7', 'c4', 'a1', 0, T1]);
    await source.run('UPDATE contacts SET date_modified = ? WHERE id = ?', [T1, 'c4']);
    const second = await runPlan(plan);
    expect(second.entities.contacts).toMatchObject({ deleted: 1, filtered: 1 });
    expect(await people()).toEqual([
      ['c2', 'a2', 'e2'],
      ['c4', 'a1', 'e5'],
      ['c5', null, null],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });
});

describe('filters and joins on CSV files', () => {
  let tmp: ReturnType<typeof tempDir>;
  let target: ScratchDatabase;
  beforeEach(async () => {
    tmp = tempDir();
    target = await scratchDatabase('sqlite');
  });
  afterEach(async () => {
    tmp.remove();
    await target.drop();
  });

  it('evaluates the same where and pick as the databases do', async () => {
    const csv = (name: string, header: string, rows: readonly (readonly (string | number)[])[]) =>
      writeFileSync(path.join(tmp.dir, `${name}.csv`), `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
    csv(
      'contacts',
      'id,last_name,deleted,date_modified',
      CONTACTS.map((c) => [...c, T0]),
    );
    csv('accounts_contacts', 'id,contact_id,account_id,deleted,date_modified', LINKS);
    csv('email_addr_bean_rel', 'id,bean_id,email_address_id,primary_address,deleted', EMAILS);
    const summary = await runPlan(parsePlan(PLAN(`csv:${tmp.dir}`, target.url), path.join(tmp.dir, 'plan.yaml')));
    expect(summary.entities.contacts).toMatchObject({ read: 5, written: 4, filtered: 1 });
    const rows = await target.rows<{ id: string; account_id: string | null; email_id: string | null }>(
      'SELECT id, account_id, email_id FROM people ORDER BY id',
    );
    expect(rows.map((p) => [p.id, p.account_id, p.email_id])).toEqual([
      ['c1', 'a1', 'e1'],
      ['c2', 'a2', 'e2'],
      ['c4', 'a2', 'e5'],
      ['c5', null, null],
    ]);
  });
});

describe('a chain of joins: contact -> relation table -> email table', () => {
  let source: ScratchDatabase;
  let target: ScratchDatabase;
  beforeEach(async () => {
    [source, target] = await Promise.all([scratchDatabase('mysql'), scratchDatabase('postgres')]);
    await seed(source);
    await source.run(
      'CREATE TABLE email_addresses (id VARCHAR(36) PRIMARY KEY, email_address VARCHAR(100), deleted INTEGER)',
    );
    for (const [id, address, deleted] of [
      ['e1', 'ann@acme.com', 0],
      ['e2', 'bo@globex.com', 0],
      ['e4', 'old@acme.com', 0],
      ['e5', 'di@acme.com', 0],
    ] as const) {
      await source.run('INSERT INTO email_addresses VALUES (?, ?, ?)', [id, address, deleted]);
    }
  });
  afterEach(() => Promise.all([source.drop(), target.drop()]));

  it('reads the address through the relation table, by the rules of each join, and verifies', async () => {
    const text = PLAN(source.url, target.url)
      .replace(
        /(\n {6}rel: .*\n)/,
        '$1      address: { from: email_addresses, on: rel.email_address_id, key: id, where: { deleted: 0 } }\n',
      )
      .replace(
        '      email_id: rel.email_address_id\n',
        '      email_id: rel.email_address_id\n      email: address.email_address\n',
      );
    const plan = parsePlan(text, 'plan.yaml');
    await runPlan(plan);
    const rows = await target.rows<{ id: string; email: string | null }>('SELECT id, email FROM people ORDER BY id');
    expect(rows.map((r) => [r.id, r.email])).toEqual([
      ['c1', 'ann@acme.com'],
      ['c2', 'bo@globex.com'],
      ['c4', 'di@acme.com'], // the primary address, e5
      ['c5', null],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('refuses a join on a join that comes after it, or on no join, with a suggestion', () => {
    const text = PLAN(source.url, target.url).replace(
      'link: { from: accounts_contacts, on: id,',
      'link: { from: accounts_contacts, on: rell.id,',
    );
    expect(() => parsePlan(text, 'plan.yaml')).toThrow(
      /join\.link\.on: no join "rell" to join link on \(did you mean "rel"\?\)/,
    );
    const later = PLAN(source.url, target.url).replace(
      'link: { from: accounts_contacts, on: id,',
      'link: { from: accounts_contacts, on: rel.bean_id,',
    );
    expect(() => parsePlan(later, 'plan.yaml')).toThrow(/join link is on a column of join rel, which comes after it/);
  });
});
