import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewPlan } from '../../src/engine/preview.js';
import { runPlan } from '../../src/engine/run.js';
import { loadPlan } from '../../src/plan/load.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from '../helpers/databases.js';

import { dataPath } from '../helpers/data.js';
import { draft, sqliteFile } from '../helpers/init-draft.js';

// `init` drafts plans from real schemas, the Chinook and Sakila sample databases, into CRM-shaped targets. A
// draft must match the obvious columns, flag the risky ones, and pass `plan` and `run` without edits where the
// schemas allow it.

const CHINOOK = dataPath('chinook/Chinook_Sqlite.sqlite');
const SAKILA = dataPath('sakila/postgres');

describe('init on the sample databases', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp?.remove());

  it("drafts Chinook (SQLite) into a CRM schema: names, phone with the row's country, risks measured on the data", async () => {
    const target = path.join(tmp.dir, 'crm.db');
    sqliteFile(
      target,
      `CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(40) NOT NULL, last_name VARCHAR(10) NOT NULL,
        company TEXT, street TEXT, city TEXT, region TEXT, country TEXT, postal_code VARCHAR(8), phone TEXT, email VARCHAR(60) NOT NULL, created_at TIMESTAMP);
      CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, invoice_date TIMESTAMP NOT NULL, total DECIMAL(10,2) NOT NULL);
      CREATE TABLE deals (id INTEGER PRIMARY KEY, title TEXT NOT NULL)`,
    );
    const { text, file, stderr } = await draft(tmp.dir, `sqlite:${CHINOOK}`, `sqlite:${target}`);
    for (const line of [
      '  customers:   # Customer -> customers',
      '    key: CustomerId',
      '      id: CustomerId',
      '      first_name: FirstName',
      '      street: Address',
      '      region: State',
      '      postal_code: PostalCode',
      '      phone: { from: Phone, clean: { phone: { country_from: Country } }, invalid: null }',
      '      email: { from: Email, clean: email, invalid: null }',
      '    # source columns not mapped: Fax, SupportRepId',
      // A table of people: a dedupe block to switch on, commented out (merging is the user's decision).
      '    #   on: [first_name, last_name, phone, email]',
      '  invoices:   # Invoice -> invoices',
      '      invoice_date: InvoiceDate',
      '# target tables no source table resembles: deals',
    ])
      expect(text).toContain(line);
    expect(text).toMatch(/# RISK: the longest LastName has 12 characters, last_name holds 10/);
    expect(text).toMatch(/# RISK: the longest PostalCode has 10 characters, postal_code holds 8/);
    expect(stderr).toContain('Customer -> customers: 11 fields, 2 risks to read');
    // Without a single edit: plan accepts it and run loads it, every row accounted for.
    const plan = await loadPlan(file);
    await previewPlan(plan, { sample: 5 });
    const summary = await runPlan(plan);
    expect(summary.entities.customers).toMatchObject({
      read: 59,
      written: 59 - summary.entities.customers.quarantined,
    });
    expect(summary.entities.customers.quarantined).toBeGreaterThan(0);
    // The risks init flagged; the dirt in Chinook's own phone numbers is NULLed and counted, not a reason to hold
    // back the customer: Denmark's "+453 3331 9991" (too long), Chile's "+56 (0)2 635 4444" and India's
    // "+91 0124 39883988" (Gurgaon's 124 with eight digits: eleven, where India's numbers have ten; the length-only
    // metadata used before let it pass).
    expect(summary.reasons.map((r) => `${r.field}/${r.rule}/${r.code}`).sort()).toEqual([
      'last_name/target/too_long',
      'postal_code/target/too_long',
    ]);
    expect(summary.quality.customers?.phone).toMatchObject({ nulled: 3 });
    expect(summary.entities.invoices).toMatchObject({ read: 412, written: 412 });
  });

  it('drafts Sakila (PostgreSQL) into a CRM schema, flagging NOT NULL from nullable and types that cannot convert', async () => {
    const [source, target]: TestPostgres[] = await Promise.all([createPostgresDatabase(), createPostgresDatabase()]);
    try {
      for (const f of ['postgres-sakila-schema.sql', 'postgres-sakila-insert-data-using-copy.sql']) {
        execFileSync('psql', ['-d', source.url, '-q', '-f', path.join(SAKILA, f)], {
          stdio: ['ignore', 'ignore', 'ignore'],
        });
      }
      await target.query(`CREATE TABLE people (id integer PRIMARY KEY, first_name text NOT NULL, last_name varchar(10) NOT NULL, email varchar(50) NOT NULL,
        active boolean NOT NULL DEFAULT true, created_at timestamptz)`);
      await target.query(
        'CREATE TABLE addresses (id integer PRIMARY KEY, street text NOT NULL, district text, postal_code varchar(10), phone text)',
      );
      await target.query(
        'CREATE TABLE payments (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES people (id), amount numeric(5,2) NOT NULL, payment_date timestamptz NOT NULL)',
      );
      const { text, file } = await draft(tmp.dir, source.url, target.url);
      for (const line of [
        '  people:   # customer -> people',
        '      id: customer_id',
        '      created_at: create_date',
        '      # active: active   # not mapped: integer cannot become boolean',
        '  addresses:   # address -> addresses',
        '      street: address',
        '      phone: { from: phone, clean: phone, invalid: null }',
        '  payments:   # payment -> payments',
        // The target's foreign key: a ref, so people load first and each payment points at its person.
        '      customer_id: { from: customer_id, ref: people }',
        '      payment_date: payment_date',
      ])
        expect(text).toContain(line);
      expect(text).toMatch(/# RISK: email is NOT NULL but email may be empty/);
      expect(text).toMatch(/# RISK: the longest last_name has 12 characters, last_name holds 10/);
      const plan = await loadPlan(file);
      await previewPlan(plan, { sample: 3 });
      const summary = await runPlan(plan);
      expect(summary.entities.people?.read).toBe(599);
      expect(summary.entities.payments?.read).toBe(16_049);
      for (const c of Object.values(summary.entities)) expect(c.read).toBe(c.written + c.quarantined);
      // A payment whose customer was quarantined is an orphan, held back with its reason, never refused by the foreign key.
      expect(summary.reasons.filter((r) => r.entity === 'payments' && r.rule.startsWith('target:'))).toEqual([]);
    } finally {
      await Promise.all([source.drop(), target.drop()]);
    }
  }, 60_000);
});
