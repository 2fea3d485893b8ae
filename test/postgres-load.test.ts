import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { formatPlanIssue, PlanError } from '../src/errors.js';
import { loadPlan, parsePlan } from '../src/plan/load.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';
import { seedPlan } from './helpers/plans.js';

// [id, name, email, phone] → [first_name, last_name, email] or the quarantine reason code.
const SEED: [
  number,
  string | null,
  string | null,
  string | null,
  [string | null, string | null, string | null] | string,
][] = [
  [1, 'John Smith', 'john@example.com', '555-0100', ['John', 'Smith', 'john@example.com']],
  [
    2,
    'Scott, Michael C.',
    '  Michael.Scott@DunderMifflin.com ',
    null,
    ['Michael', 'Scott', 'michael.scott@dundermifflin.com'],
  ],
  [3, 'Dr. Jane van der Berg PhD', 'JANE@EXAMPLE.ORG', '+1 (555) 0101', ['Jane', 'van der Berg', 'jane@example.org']],
  [4, 'Tab\tName Back\\slash', null, null, ['Tab', 'Back\\slash', null]],
  [5, 'Line\nBreak', '', '', ['Line', 'Break', null]],
  [6, 'Zoë Østergaard', 'zoe@example.dk', null, ['Zoë', 'Østergaard', 'zoe@example.dk']],
  [7, 'Bad Email', 'bad.email(at)example', null, 'invalid_email'],
  [8, 'Madonna', 'm@example.com', null, [null, 'Madonna', 'm@example.com']],
  [9, "O'Brien-Smith, Conan", 'conan@example.com', null, ['Conan', "O'Brien-Smith", 'conan@example.com']],
  [10, '\\N', 'n@example.com', null, [null, '\\N', 'n@example.com']],
];

const PLAN = (url: string) =>
  seedPlan({
    source: url,
    target: url,
    name: 'pg-test',
    batchSize: 4,
    phone: '{ from: phone, clean: [trim, collapse_spaces] }',
  });

describe('PostgreSQL to PostgreSQL', () => {
  let db: TestPostgres;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;

  beforeEach(async () => {
    db = await createPostgresDatabase();
    tmp = tempDir();
    planFile = path.join(tmp.dir, 'plan.yaml');
    writeFileSync(planFile, PLAN(db.url));
    await db.query('CREATE TABLE old_crm_customers (id INT PRIMARY KEY, name TEXT, email TEXT, phone TEXT)');
    for (const [id, name, email, phone] of SEED)
      await db.query('INSERT INTO old_crm_customers VALUES ($1, $2, $3, $4)', [id, name, email, phone]);
  });
  afterEach(async () => {
    await db.drop();
    tmp.remove();
  });

  it('refuses a table or column name longer than PostgreSQL keeps, with file:line:col, before creating anything', async () => {
    const table = `new_crm_customers_${'x'.repeat(50)}`;
    const column = 'ø'.repeat(32); // 32 characters, 64 bytes
    writeFileSync(
      planFile,
      PLAN(db.url)
        .replace('into: new_crm_customers', `into: ${table}`)
        .replace('      id: id\n', `      id: id\n      ${column}: email\n`),
    );
    const error = await runPlan(await loadPlan(planFile)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanError);
    const text = (error as PlanError).issues.map(formatPlanIssue).join('\n');
    expect(text).toContain(
      `plan.yaml:9:11: error: entities.customers.into: the table name "${table}" has 68 bytes; the target keeps at most 63 and would cut it`,
    );
    expect(text).toMatch(new RegExp(`plan\\.yaml:13:\\d+: error: .*the column name "${column}" has 64 bytes`));
    expect(
      await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"),
    ).toEqual([{ table_name: 'old_crm_customers' }]);
  });

  it('creates the missing target table and lands every row exactly as expected', async () => {
    const summary = await runPlan(await loadPlan(planFile));
    expect(summary.entities.customers).toEqual({
      read: 10,
      written: 9,
      merged: 0,
      quarantined: 1,
      filtered: 0,
      deleted: 0,
    });
    const columns = await db.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'new_crm_customers' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => `${c.column_name}:${c.data_type}`)).toEqual([
      'id:integer',
      'first_name:text',
      'last_name:text',
      'email:text',
      'phone:text',
    ]);
    const pk = await db.query(
      `SELECT 1 FROM information_schema.table_constraints WHERE table_name = 'new_crm_customers' AND constraint_type = 'PRIMARY KEY'`,
    );
    expect(pk.length).toBe(1);

    const rows = await db.query<{
      id: number;
      first_name: string | null;
      last_name: string | null;
      email: string | null;
    }>('SELECT id, first_name, last_name, email FROM new_crm_customers ORDER BY id');
    const expected = SEED.filter((s) => Array.isArray(s[4])).map(([id, , , , out]) => ({
      id,
      first_name: out[0],
      last_name: out[1],
      email: out[2],
    }));
    expect(rows).toEqual(expected);
    const quarantine = await db.query<{ source_key: string; reasons: unknown; row_data: Record<string, unknown> }>(
      'SELECT source_key, reasons, row_data FROM _crm_migrate.quarantine',
    );
    expect(quarantine).toEqual([
      {
        source_key: '7',
        reasons: [{ field: 'email', rule: 'email', code: 'invalid_email' }],
        row_data: { id: 7, name: 'Bad Email', email: 'bad.email(at)example', phone: null },
      },
    ]);
    expect(summary.reasons).toEqual([
      { entity: 'customers', field: 'email', rule: 'email', code: 'invalid_email', count: 1, sampleKeys: ['7'] },
    ]);
  });

  it('checks an existing target: too-long values and NOT NULL violations are quarantined, never truncated', async () => {
    await db.query(
      'CREATE TABLE new_crm_customers (id INT PRIMARY KEY, first_name VARCHAR(5), last_name VARCHAR(10) NOT NULL, email TEXT, phone TEXT)',
    );
    const summary = await runPlan(await loadPlan(planFile));
    expect(summary.entities.customers).toEqual({
      read: 10,
      written: 6,
      merged: 0,
      quarantined: 4,
      filtered: 0,
      deleted: 0,
    });
    const keys = await db.query<{ source_key: string; reasons: { field: string; code: string }[] }>(
      'SELECT source_key, reasons FROM _crm_migrate.quarantine ORDER BY source_key::int',
    );
    expect(keys.map((k) => [k.source_key, k.reasons.map((r) => `${r.field}/${r.code}`).join(',')])).toEqual([
      ['2', 'first_name/too_long'],
      ['3', 'last_name/too_long'],
      ['7', 'email/invalid_email'],
      ['9', 'last_name/too_long'],
    ]);
    const written = await db.query<{ id: number }>('SELECT id FROM new_crm_customers ORDER BY id');
    expect(written.map((r) => r.id)).toEqual([1, 4, 5, 6, 8, 10]);
  });

  it('refuses a plan that does not fit the live schemas before writing anything, with file:line:col', async () => {
    writeFileSync(planFile, PLAN(db.url).replace('from: email, clean', 'from: emial, clean'));
    await db.query(
      'CREATE TABLE new_crm_customers (id INT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, region TEXT NOT NULL)',
    );
    const error = await runPlan(await loadPlan(planFile)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanError);
    const text = (error as PlanError).issues.map(formatPlanIssue).join('\n');
    expect(text).toContain(
      `${planFile}:15:22: error: entities.customers.fields.email.from: source table old_crm_customers has no column "emial" (did you mean "email"?)`,
    );
    expect(text).toContain('new_crm_customers.region is NOT NULL and has no default, but nothing maps to it');
    expect(await db.query(`SELECT 1 FROM pg_namespace WHERE nspname = '_crm_migrate'`)).toEqual([]);
    expect(await db.query('SELECT 1 FROM new_crm_customers')).toEqual([]);
  });
});

describe('numeric precision', () => {
  it('quarantines a number too big for numeric(p,s) instead of failing its batch', async () => {
    const db = await createPostgresDatabase();
    try {
      await db.query('CREATE TABLE prices (id int PRIMARY KEY, amount text)');
      await db.query(
        "INSERT INTO prices VALUES (1, '123.45'), (2, '1234.5'), (3, '-999.99'), (4, '1e3'), (5, '0.5e2'), (6, '00099.1')",
      );
      await db.query('CREATE TABLE amounts (id int PRIMARY KEY, amount numeric(5,2))');
      const text = `version: 1\nsource: ${db.url}\ntarget: ${db.url}\nentities:\n  prices:\n    from: prices\n    into: amounts\n    key: id\n    fields: { id: id, amount: { from: amount, transform: { cast: decimal } } }\n`;
      const summary = await runPlan(parsePlan(text, 'plan.yaml'));
      expect(summary.entities.prices).toMatchObject({ read: 6, written: 4, quarantined: 2 });
      expect(summary.reasons.map((r) => [r.field, r.code, r.sampleKeys])).toEqual([
        ['amount', 'out_of_range', ['2', '4']],
      ]);
      expect(await db.query('SELECT id, amount::text AS amount FROM amounts ORDER BY id')).toEqual([
        { id: 1, amount: '123.45' },
        { id: 3, amount: '-999.99' },
        { id: 5, amount: '50.00' },
        { id: 6, amount: '99.10' },
      ]);
    } finally {
      await db.drop();
    }
  });
});
