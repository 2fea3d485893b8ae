import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLegacyCrm } from '../examples/legacy-crm/generate.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';

// The demo, run through the command line as a user would, with a list of every customer value it holds:
// none of them may appear in stdout, stderr, the report or the exported quarantine when values are not asked for.

const BIN = path.resolve(import.meta.dirname, '../bin/crm-migrate.js');
const DEMO = path.resolve(import.meta.dirname, '../examples/legacy-crm');

describe('no customer value leaks', () => {
  let tmp: ReturnType<typeof tempDir>;
  let values: string[];

  beforeAll(() => {
    tmp = tempDir();
    copyFileSync(path.join(DEMO, 'plan.yaml'), path.join(tmp.dir, 'plan.yaml'));
    generateLegacyCrm(path.join(tmp.dir, 'legacy.db'), { customers: 3000 });
    mkdirSync(path.join(tmp.dir, 'out'));
    const target = new Database(path.join(tmp.dir, 'out', 'new-crm.db'));
    target.exec(readFileSync(path.join(DEMO, 'new-crm-schema.sql'), 'utf8'));
    target.close();
    const legacy = new Database(path.join(tmp.dir, 'legacy.db'), { readonly: true });
    const cells = legacy.prepare('SELECT name, email, phone, street FROM old_crm_customers').raw(true).all() as (
      string | null
    )[][];
    legacy.close();
    // Whole cell values, and the forms the rules turn them into; short ones ("Wei") could match any word.
    values = [
      ...new Set(
        cells
          .flat()
          .flatMap((v) => (v ? [v.trim(), v.trim().toLowerCase()] : []))
          .filter((v) => v.length >= 8),
      ),
    ];
  }, 60_000);
  afterAll(() => tmp?.remove());

  it('through run, quarantine, verify and history', () => {
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp.dir, encoding: 'utf8' });
      return `${r.stdout}\n${r.stderr}`;
    };
    const output = [
      cli('run', 'plan.yaml'),
      cli('run', 'plan.yaml', '--json'),
      cli('quarantine', 'plan.yaml'),
      cli('quarantine', 'plan.yaml', '--json'),
      cli('quarantine', 'plan.yaml', '--csv', 'refused.csv'),
      cli('verify', 'plan.yaml'),
      cli('history', 'plan.yaml'),
      cli('run', 'missing.yaml'),
    ].join('\n');
    expect(output).toContain('read = sum');
    expect(output).toContain('quarantined rows in run');
    const reports = readdirSync(path.join(tmp.dir, 'reports')).map((f) =>
      readFileSync(path.join(tmp.dir, 'reports', f), 'utf8'),
    );
    expect(reports.length).toBe(2);
    const everything = [output, ...reports, readFileSync(path.join(tmp.dir, 'refused.csv'), 'utf8')].join('\n');
    expect(values.length).toBeGreaterThan(3000);
    const leaked = values.filter((v) => everything.includes(v));
    expect(leaked).toEqual([]);
    // The check can fail: with values asked for, they are there.
    expect(values.some((v) => cli('quarantine', 'plan.yaml', '--show-values').includes(v))).toBe(true);
  }, 120_000);
});

describe('no secret and no value in what a run prints or stores, on a PostgreSQL target', () => {
  const PASSWORD = 'Pa@ss/w#rd?x';
  let tmp: ReturnType<typeof tempDir>;
  let db: TestPostgres;

  beforeAll(async () => {
    tmp = tempDir();
    db = await createPostgresDatabase();
    const source = new Database(path.join(tmp.dir, 'old.db'));
    source.exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, score REAL);
      INSERT INTO customers VALUES (1, 'kept.customer@example.org', 1.5), (2, 'banned.person@example.org', 2), (3, 'huge.score@example.org', 1.7e308)`);
    source.close();
    await db.query('CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, score REAL)');
    // A trigger whose error quotes the row, and a real column that cannot hold the third row's score.
    await db.query(
      "CREATE FUNCTION no_banned() RETURNS trigger AS $$ BEGIN IF NEW.email LIKE 'banned%' THEN RAISE EXCEPTION 'banned: %', NEW.email; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
    );
    await db.query('CREATE TRIGGER no_banned BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION no_banned()');
    const url = new URL(db.url);
    writeFileSync(
      path.join(tmp.dir, 'plan.yaml'),
      `version: 1
name: secrets
source: sqlite:./old.db
target: postgres://root:\${env:CRM_TEST_PASSWORD}@${url.host}${url.pathname}
entities:
  customers:
    from: customers
    into: people
    key: id
    fields:
      id: id
      email: email
      score: score
`,
    );
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
    tmp?.remove();
  });

  it("keeps a password with @ / # ? whole, connects with it, and shows neither it nor trigger or range errors' values", async () => {
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], {
        cwd: tmp.dir,
        encoding: 'utf8',
        env: { ...process.env, CRM_TEST_PASSWORD: PASSWORD },
      });
      return { code: r.status, text: `${r.stdout}\n${r.stderr}` };
    };
    const run = cli('run', 'plan.yaml');
    expect(run.code).toBe(0);
    expect(run.text).toMatch(/rejected_by_target/);
    expect(run.text).toMatch(/out_of_range/);
    const output = [
      run.text,
      cli('run', 'plan.yaml', '--json').text,
      cli('history', 'plan.yaml').text,
      cli('history', 'plan.yaml', '--json').text,
      cli('quarantine', 'plan.yaml').text,
      cli('verify', 'plan.yaml').text,
    ].join('\n');
    expect(output).toContain('postgres://root:***@');
    const reports = readdirSync(path.join(tmp.dir, 'reports')).map((f) =>
      readFileSync(path.join(tmp.dir, 'reports', f), 'utf8'),
    );
    const audit = JSON.stringify(await db.query('SELECT * FROM _crm_migrate.audit'));
    const everything = [output, ...reports, audit].join('\n');
    for (const secret of ['Pa@ss', 'w#rd', 'rd?x', 'Pa%40ss', 'banned.person', 'huge.score', '1.7e+308', '1.7e308'])
      expect(everything).not.toContain(secret);
    expect(await db.query('SELECT id FROM people ORDER BY id')).toEqual([{ id: 1 }]);
  }, 60_000);
});
