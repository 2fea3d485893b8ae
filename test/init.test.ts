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
    sqliteFile(path.join(tmp.dir, 'legacy.db'), `CREATE TABLE tbl_clients (client_id INTEGER PRIMARY KEY, client_name TEXT, cust_email TEXT, tel TEXT, zip TEXT, notes BLOB);
      INSERT INTO tbl_clients VALUES (1, 'Smith, Jane', 'JANE@example.com', '+1 415 555 2671', '94105-1234', NULL)`);
    sqliteFile(path.join(tmp.dir, 'contacts.db'), 'CREATE TABLE contacts (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT NOT NULL, email TEXT, phone TEXT, postal_code VARCHAR(5), score INTEGER NOT NULL)');
    const { text } = await draft(tmp.dir, `sqlite:${path.join(tmp.dir, 'legacy.db')}`, `sqlite:${path.join(tmp.dir, 'contacts.db')}`);
    for (const line of [
      '      id: client_id',
      '      first_name: { from: client_name, transform: name.first }',
      '      last_name: { from: client_name, transform: name.last }',
      '      email: { from: cust_email, clean: email }',
      '      phone: { from: tel, clean: phone }',
      '      postal_code: zip',
      '    # source columns not mapped: notes',
      '    # RISK: contacts.score is NOT NULL with no default and nothing fills it',
    ]) expect(text).toContain(line);
    expect(text).toMatch(/# RISK: the longest zip has 10 characters, postal_code holds 5/);
    // Relative SQLite paths are rewritten for the plan's folder; a password moves into ${env:…}.
    const relocated = await draftPlan({ source: 'sqlite:./legacy.db', target: 'sqlite:./contacts.db', baseDir: tmp.dir, planDir: path.join(tmp.dir, 'plans') });
    expect(relocated.text).toContain('source: "sqlite:../legacy.db"');
    expect(secretFree('postgres://crm:s3cret@127.0.0.1:1/none', 'CRM_SOURCE_PASSWORD')).toEqual({ url: 'postgres://crm:${env:CRM_SOURCE_PASSWORD}@127.0.0.1:1/none', moved: true });
  });

  it('refuses to overwrite a plan without --force', async () => {
    const file = path.join(tmp.dir, 'kept.yaml');
    writeFileSync(file, 'mine');
    const io = captureIo();
    sqliteFile(path.join(tmp.dir, 'any.db'), 'CREATE TABLE t (id INTEGER PRIMARY KEY)');
    expect(await main(['init', '--source', `sqlite:${path.join(tmp.dir, 'any.db')}`, '--target', `sqlite:${path.join(tmp.dir, 'any.db')}`, '-o', file], io)).toBe(2);
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
  ] as const)('%s ~ %s', (a, b, ta, tb, min) => {
    const score = columnSimilarity(a, b, tableWords(ta), tableWords(tb));
    if (min < 0.8) expect(score).toBeLessThan(0.8);
    else expect(score).toBeGreaterThanOrEqual(min);
  });
});
