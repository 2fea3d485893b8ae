import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// A modern CRM keeps a person's emails as one JSON value ({ primaryEmail, additionalEmails }); the legacy one
// has three columns. Each item is cleaned; blank ones are left out of the list; a bad one is never dropped silently.

const PLAN = (m: ScratchMigration, policy = '') => `version: 1
name: json
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  people:
    from: contacts
    into: people
    key: id
    fields:
      id: id
      emails: { json: { primaryEmail: email1, additionalEmails: [email2, email3] }, clean: email${policy} }
      phones: { json: { primaryPhoneNumber: phone, primaryPhoneCountryCode: country } }
`;

describe.each([
  ['sqlite', 'postgres'],
  ['postgres', 'mysql'],
  ['mysql', 'sqlite'],
] as const)('JSON fields, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run(
      'CREATE TABLE contacts (id INTEGER PRIMARY KEY, email1 VARCHAR(100), email2 VARCHAR(100), email3 VARCHAR(100), phone VARCHAR(30), country VARCHAR(2))',
    );
    await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)', [
      1,
      ' Ann@Acme.com ',
      'ann.lee@gmail.com',
      '',
      '+1 415 555 2671',
      'US',
    ]);
    await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)', [2, 'bo@globex.com', null, null, null, null]);
    await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)', [
      3,
      'cy@initech.com',
      'not an email',
      null,
      null,
      null,
    ]);
    const json = targetKind === 'postgres' ? 'JSONB' : targetKind === 'mysql' ? 'JSON' : 'TEXT';
    await m.target.run(`CREATE TABLE people (id INTEGER PRIMARY KEY, emails ${json}, phones ${json})`);
  });
  afterEach(() => m.drop());

  const emails = async () =>
    (await m.target.rows<{ id: number; emails: unknown }>('SELECT id, emails FROM people ORDER BY id')).map((r) => [
      Number(r.id),
      typeof r.emails === 'string' ? JSON.parse(r.emails) : r.emails,
    ]);

  it('builds the object from the columns, each email cleaned, and quarantines a row with a bad one', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    const summary = await runPlan(plan);
    expect(summary.entities.people).toMatchObject({ read: 3, written: 2, quarantined: 1 });
    expect(summary.reasons.map((r) => [r.field, r.code, r.sampleKeys.join()])).toEqual([
      ['emails', 'invalid_email', '3'],
    ]);
    expect(await emails()).toEqual([
      [1, { primaryEmail: 'ann@acme.com', additionalEmails: ['ann.lee@gmail.com'] }],
      [2, { primaryEmail: 'bo@globex.com', additionalEmails: [] }],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('refuses a json field with from:, and with two clean rules', () => {
    expect(() =>
      parsePlan(
        PLAN(m).replace('{ json: { primaryPhoneNumber', '{ from: phone, json: { primaryPhoneNumber'),
        'plan.yaml',
      ),
    ).toThrow(/a json field reads the columns its object names: "from" does not go with it/);
    expect(() => parsePlan(PLAN(m).replace('clean: email', 'clean: [email, trim]'), 'plan.yaml')).toThrow(
      /a json field cleans its items with one rule/,
    );
  });
});

// SuiteCRM keeps a contact's emails in email_addresses, reached through the relation table email_addr_bean_rel
// (deleted flags on both, one row marked primary). The primary one is picked; the others are collected, in
// the plan's order, into the list; none is taken from a deleted link or a deleted address.
const COLLECT = (m: ScratchMigration) => `version: 1
name: collect
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  people:
    from: contacts
    join:
      primary_rel: { from: email_addr_bean_rel, on: id, key: bean_id, where: { deleted: 0, primary_address: 1 }, pick: { order: "date_modified desc, id" } }
      primary_addr: { from: email_addresses, on: primary_rel.email_address_id, key: id, where: { deleted: 0 } }
      rel: { from: email_addr_bean_rel, on: id, key: bean_id, where: { deleted: 0, primary_address: 0 }, collect: { order: "date_modified, id" } }
      addr: { from: email_addresses, on: rel.email_address_id, key: id, where: { deleted: 0 } }
    into: people
    key: id
    fields:
      id: id
      emails: { json: { primaryEmail: primary_addr.email_address, additionalEmails: addr.email_address }, clean: email }
`;

describe.each([
  ['sqlite', 'postgres'],
  ['mysql', 'mysql'],
] as const)('a join that collects, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE contacts (id VARCHAR(36) PRIMARY KEY, last_name VARCHAR(50))');
    await m.source.run(
      'CREATE TABLE email_addr_bean_rel (id VARCHAR(36) PRIMARY KEY, email_address_id VARCHAR(36), bean_id VARCHAR(36), primary_address INT, deleted INT, date_modified VARCHAR(19))',
    );
    await m.source.run(
      'CREATE TABLE email_addresses (id VARCHAR(36) PRIMARY KEY, email_address VARCHAR(100), deleted INT)',
    );
    await m.source.run("INSERT INTO contacts VALUES ('c1', 'Lee'), ('c2', 'Day'), ('c3', 'Roe')");
    for (const row of [
      ['e1', 'Ann@Acme.com', 0],
      ['e2', 'ann.lee@gmail.com', 0],
      ['e3', 'ann@old.example.org', 0],
      ['e4', 'a.lee@work.com', 0],
      ['e5', 'gone@acme.com', 1],
      ['e6', 'bo@globex.com', 0],
    ]) {
      await m.source.run('INSERT INTO email_addresses VALUES (?, ?, ?)', row);
    }
    // c1: a primary, two others (listed by date_modified, not as inserted), a deleted link, a link to a deleted address.
    for (const row of [
      ['r1', 'e1', 'c1', 1, 0, '2024-01-01 00:00:00'],
      ['r2', 'e4', 'c1', 0, 0, '2024-03-01 00:00:00'],
      ['r3', 'e2', 'c1', 0, 0, '2024-02-01 00:00:00'],
      ['r4', 'e3', 'c1', 0, 1, '2024-01-15 00:00:00'],
      ['r5', 'e5', 'c1', 0, 0, '2024-04-01 00:00:00'],
      ['r6', 'e6', 'c2', 1, 0, '2024-01-01 00:00:00'],
    ])
      await m.source.run('INSERT INTO email_addr_bean_rel VALUES (?, ?, ?, ?, ?, ?)', row);
    await m.target.run(
      `CREATE TABLE people (id VARCHAR(36) PRIMARY KEY, emails ${targetKind === 'postgres' ? 'JSONB' : 'JSON'})`,
    );
  });
  afterEach(() => m.drop());

  it('gathers the other emails in order, cleaned, and verifies', async () => {
    const plan = parsePlan(COLLECT(m), 'plan.yaml');
    expect((await runPlan(plan)).entities.people).toMatchObject({ read: 3, written: 3, quarantined: 0 });
    const rows = await m.target.rows<{ id: string; emails: unknown }>('SELECT id, emails FROM people ORDER BY id');
    expect(rows.map((r) => [r.id, typeof r.emails === 'string' ? JSON.parse(r.emails) : r.emails])).toEqual([
      ['c1', { primaryEmail: 'ann@acme.com', additionalEmails: ['ann.lee@gmail.com', 'a.lee@work.com'] }],
      ['c2', { primaryEmail: 'bo@globex.com', additionalEmails: [] }],
      ['c3', { primaryEmail: null, additionalEmails: [] }],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('refuses a collected column outside a json: field, and collect with pick', () => {
    expect(() => parsePlan(`${COLLECT(m)}      first: addr.email_address\n`, 'plan.yaml')).toThrow(
      /addr.email_address is a list \(its join collects\): only a json: field reads it/,
    );
    expect(() =>
      parsePlan(
        COLLECT(m).replace(
          'collect: { order: "date_modified, id" }',
          'collect: { order: "id" }, pick: { order: "id" }',
        ),
        'plan.yaml',
      ),
    ).toThrow(/picks one match or collects them all/);
  });
});
