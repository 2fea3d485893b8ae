import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { draftPlan } from '../src/init/init.js';
import { columnSimilarity, tableWords } from '../src/init/names.js';
import { secretFree } from '../src/init/render.js';
import { tempDir } from './helpers/databases.js';
import { captureIo } from './helpers/io.js';
import { draft, sqliteFile } from './helpers/init-draft.js';

// `init` drafts plans from a legacy table in the shapes old CRMs use (the Chinook and Sakila sample databases
// are in test/data). A draft must match the obvious columns,
// flag the risky ones, and pass `plan` and `run` without edits where the schemas allow it.

describe('init', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp?.remove());

  it('splits a full name into first and last, spells out legacy abbreviations, and keeps passwords out of the draft', async () => {
    sqliteFile(
      path.join(tmp.dir, 'legacy.db'),
      `CREATE TABLE tbl_clients (client_id INTEGER PRIMARY KEY, client_name TEXT, cust_email TEXT, tel TEXT, zip TEXT, notes BLOB);
      INSERT INTO tbl_clients VALUES (1, 'Smith, Jane', 'JANE@example.com', '+1 415 555 2671', '94105-1234', NULL)`,
    );
    sqliteFile(
      path.join(tmp.dir, 'contacts.db'),
      'CREATE TABLE contacts (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT NOT NULL, email TEXT, phone TEXT, postal_code VARCHAR(5), score INTEGER NOT NULL)',
    );
    const { text } = await draft(
      tmp.dir,
      `sqlite:${path.join(tmp.dir, 'legacy.db')}`,
      `sqlite:${path.join(tmp.dir, 'contacts.db')}`,
    );
    for (const line of [
      '      id: client_id',
      '      first_name: { from: client_name, transform: name.first }',
      '      last_name: { from: client_name, transform: name.last }',
      '      email: { from: cust_email, clean: email, invalid: null }',
      '      phone: { from: tel, clean: phone, invalid: null }',
      '      postal_code: zip',
      '    # source columns not mapped: notes',
      '    # RISK: contacts.score is NOT NULL with no default and nothing fills it',
    ])
      expect(text).toContain(line);
    expect(text).toMatch(/# RISK: the longest zip has 10 characters, postal_code holds 5/);
    // Relative SQLite paths are rewritten for the plan's folder; a password moves into ${env:…}.
    const relocated = await draftPlan({
      source: 'sqlite:./legacy.db',
      target: 'sqlite:./contacts.db',
      baseDir: tmp.dir,
      planDir: path.join(tmp.dir, 'plans'),
    });
    expect(relocated.text).toContain('source: "sqlite:../legacy.db"');
    expect(secretFree('postgres://crm:s3cret@127.0.0.1:1/none', 'CRM_SOURCE_PASSWORD')).toEqual({
      url: 'postgres://crm:${env:CRM_SOURCE_PASSWORD}@127.0.0.1:1/none',
      moved: true,
    });
  });

  it('drafts a CRM-shaped schema without losing data: refs for foreign keys, rules that null and count, no audit columns in dedupe', async () => {
    // The SugarCRM family's shapes: char(36) keys, audit columns on every table, a link table.
    sqliteFile(
      path.join(tmp.dir, 'suite.db'),
      `
      CREATE TABLE accounts (id CHAR(36) PRIMARY KEY, name VARCHAR(150), date_entered DATETIME, date_modified DATETIME, created_by CHAR(36), deleted TINYINT);
      CREATE TABLE contacts (id CHAR(36) PRIMARY KEY, first_name VARCHAR(100), last_name VARCHAR(100), email VARCHAR(100), phone_work VARCHAR(100),
        account_id CHAR(36), reports_to_id CHAR(36), last_update DATETIME, date_entered DATETIME, created_by CHAR(36), deleted TINYINT);
      CREATE TABLE accounts_contacts (id CHAR(36) PRIMARY KEY, contact_id CHAR(36), account_id CHAR(36), date_modified DATETIME, deleted TINYINT);
      INSERT INTO accounts VALUES ('a1', 'Acme', '2020-01-01', '2021-01-01', 'u1', 0);
      INSERT INTO contacts VALUES ('c1', 'Ann', 'Lee', 'not an email', '12', 'a1', NULL, '2021-01-01', '2020-01-01', 'u1', 0),
                                  ('c2', 'Bo', 'Day', 'bo@example.com', '+1 415 555 2671', 'a1', 'c1', '2021-01-02', '2020-01-02', 'u1', 0);`,
    );
    sqliteFile(
      path.join(tmp.dir, 'twenty.db'),
      `
      CREATE TABLE companies (id TEXT PRIMARY KEY, name TEXT, created_at TIMESTAMP, updated_at TIMESTAMP, deleted_at TIMESTAMP);
      CREATE TABLE people (id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, company_id TEXT REFERENCES companies (id),
        manager_id TEXT REFERENCES people (id), created_at TIMESTAMP, created_by TEXT, updated_at TIMESTAMP, deleted_at TIMESTAMP);
      CREATE TABLE note_targets (id TEXT PRIMARY KEY, note_id TEXT, person_id TEXT REFERENCES people (id), company_id TEXT REFERENCES companies (id),
        created_at TIMESTAMP, updated_at TIMESTAMP, deleted_at TIMESTAMP);`,
    );
    const { text, file } = await draft(
      tmp.dir,
      `sqlite:${path.join(tmp.dir, 'suite.db')}`,
      `sqlite:${path.join(tmp.dir, 'twenty.db')}`,
    );
    for (const line of [
      '  companies:   # accounts -> companies',
      '  people:   # contacts -> people',
      '      company_id: { from: account_id, ref: companies }',
      '      email: { from: email, clean: email, invalid: null }',
      '      phone: { from: phone_work, clean: phone, invalid: null }',
      '      created_by: created_by',
      '# source tables not migrated: accounts_contacts',
    ])
      expect(text).toContain(line);
    // A link table shares only audit columns with contacts: it is not where contacts go.
    expect(text).not.toMatch(/note_targets:/);
    expect(text).not.toMatch(/created_at: created_by/);
    // Merging is suggested on who the person is, never on when the old CRM touched the row.
    expect(text).toContain('    #   on: [first_name, last_name, email, phone]');
    expect(text).not.toMatch(/on: \[.*(last_update|updated|created)/);

    // The draft runs as it is: a bad email or phone is NULLed and counted, the record is not held back.
    const { runPlan } = await import('../src/engine/run.js');
    const { loadPlan } = await import('../src/plan/load.js');
    const summary = await runPlan(await loadPlan(file));
    expect(summary.entities.people).toMatchObject({ read: 2, written: 2, quarantined: 0 });
    expect(summary.quality.people?.email).toMatchObject({ nulled: 1 });
  });

  it('says the target schema must exist first when the target has no tables', async () => {
    sqliteFile(path.join(tmp.dir, 'empty-source.db'), 'CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const io = captureIo();
    const out = path.join(tmp.dir, 'never.yaml');
    expect(
      await main(
        [
          'init',
          '--source',
          `sqlite:${path.join(tmp.dir, 'empty-source.db')}`,
          '--target',
          `sqlite:${path.join(tmp.dir, 'nothing-yet.db')}`,
          '-o',
          out,
        ],
        io,
      ),
    ).toBe(2);
    expect(io.stderr.join('\n')).toMatch(
      /has no tables: init maps the legacy tables onto the new CRM's schema, so that schema must exist first[\s\S]*hint: create the new CRM's tables/,
    );
  });

  it('refuses to overwrite a plan without --force', async () => {
    const file = path.join(tmp.dir, 'kept.yaml');
    writeFileSync(file, 'mine');
    const io = captureIo();
    sqliteFile(path.join(tmp.dir, 'any.db'), 'CREATE TABLE t (id INTEGER PRIMARY KEY)');
    expect(
      await main(
        [
          'init',
          '--source',
          `sqlite:${path.join(tmp.dir, 'any.db')}`,
          '--target',
          `sqlite:${path.join(tmp.dir, 'any.db')}`,
          '-o',
          file,
        ],
        io,
      ),
    ).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/kept\.yaml exists[\s\S]*--force/);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });
});

describe('column names', () => {
  it.each([
    ['cust_email', 'email', 'customers', 'contacts', 1],
    ['CustomerId', 'id', 'Customer', 'customers', 1],
    ['tel', 'phone', 't', 'u', 1],
    ['TelNo', 'phone_number', 't', 'u', 1],
    ['zip', 'postal_code', 't', 'u', 1],
    ['email', 'email_address', 't', 'u', 0.9],
    ['e_mail', 'email', 't', 'u', 0.9],
    ['create_date', 'created_at', 't', 'u', 0.9],
    ['name', 'first_name', 't', 'u', 0.5],
    ['phone', 'phone_number', 't', 'u', 0.9],
    // Who is not when, and a reference is not the thing's name.
    ['created_by', 'createdAt', 't', 'u', 0.5],
    ['account_id', 'account', 't', 'u', 0.5],
  ] as const)('%s ~ %s', (a, b, ta, tb, min) => {
    const score = columnSimilarity(a, b, tableWords(ta), tableWords(tb));
    if (min < 0.8) expect(score).toBeLessThan(0.8);
    else expect(score).toBeGreaterThanOrEqual(min);
  });
});
