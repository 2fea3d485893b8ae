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

describe.each([['sqlite', 'postgres'], ['postgres', 'mysql'], ['mysql', 'sqlite']] as const)('JSON fields, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE contacts (id INTEGER PRIMARY KEY, email1 VARCHAR(100), email2 VARCHAR(100), email3 VARCHAR(100), phone VARCHAR(30), country VARCHAR(2))');
    await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)', [1, ' Ann@Acme.com ', 'ann.lee@gmail.com', '', '+1 415 555 2671', 'US']);
    await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)', [2, 'bo@globex.com', null, null, null, null]);
    await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)', [3, 'cy@initech.com', 'not an email', null, null, null]);
    const json = targetKind === 'postgres' ? 'JSONB' : targetKind === 'mysql' ? 'JSON' : 'TEXT';
    await m.target.run(`CREATE TABLE people (id INTEGER PRIMARY KEY, emails ${json}, phones ${json})`);
  });
  afterEach(() => m.drop());

  const emails = async () => (await m.target.rows<{ id: number; emails: unknown }>('SELECT id, emails FROM people ORDER BY id')).map((r) => [Number(r.id), typeof r.emails === 'string' ? JSON.parse(r.emails) : r.emails]);

  it('builds the object from the columns, each email cleaned, and quarantines a row with a bad one', async () => {
    const plan = parsePlan(PLAN(m), 'plan.yaml');
    const summary = await runPlan(plan);
    expect(summary.entities.people).toMatchObject({ read: 3, written: 2, quarantined: 1 });
    expect(summary.reasons.map((r) => [r.field, r.code, r.sampleKeys.join()])).toEqual([['emails', 'invalid_email', '3']]);
    expect(await emails()).toEqual([
      [1, { primaryEmail: 'ann@acme.com', additionalEmails: ['ann.lee@gmail.com'] }],
      [2, { primaryEmail: 'bo@globex.com', additionalEmails: [] }],
    ]);
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('refuses a json field with from:, and with two clean rules', () => {
    expect(() => parsePlan(PLAN(m).replace('{ json: { primaryPhoneNumber', '{ from: phone, json: { primaryPhoneNumber'), 'plan.yaml')).toThrow(/a json field reads the columns its object names: "from" does not go with it/);
    expect(() => parsePlan(PLAN(m).replace('clean: email', 'clean: [email, trim]'), 'plan.yaml')).toThrow(/a json field cleans its items with one rule/);
  });
});
