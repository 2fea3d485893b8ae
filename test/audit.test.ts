import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { packageVersion } from '../src/version.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';
import { captureIo } from './helpers/io.js';

// Every run, increment, verify and retry leaves a line in the target's audit trail: who, when, which tool
// version and plan, the connections with their passwords redacted, and how it ended. `history` lists them.

describe('audit trail', () => {
  let db: TestPostgres;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  const password = 'Sup3r-S3cret-pw';

  beforeEach(async () => {
    db = await createPostgresDatabase();
    tmp = tempDir();
    const source = new Database(path.join(tmp.dir, 'old.db'));
    source.exec(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT); INSERT INTO customers VALUES (1, 'Ann Lee', 'ann@example.com'), (2, 'Bo Day', 'not-an-email');",
    );
    source.close();
    planFile = path.join(tmp.dir, 'plan.yaml');
    // The server trusts local connections, so any password works: enough to check that it is never stored.
    const target = db.url.replace('postgres://root@', 'postgres://root:${env:AUDIT_TEST_PW}@');
    writeFileSync(
      planFile,
      `version: 1\nname: audited\nsource: sqlite:./old.db\ntarget: ${target}\nentities:\n  customers:\n    from: customers\n    into: people\n    key: id\n    fields: { id: id, name: name, email: { from: email, clean: email } }\n`,
    );
    process.env.AUDIT_TEST_PW = password;
  });
  afterEach(async () => {
    delete process.env.AUDIT_TEST_PW;
    await db.drop();
    tmp.remove();
  });

  it('records run, repeat, verify and retry, and lists them without a password', async () => {
    const quiet = ['--quiet', '--no-report'];
    expect(await main(['run', planFile, ...quiet], captureIo())).toBe(0);
    expect(await main(['run', planFile, ...quiet], captureIo())).toBe(0);
    expect(await main(['verify', planFile, '--no-report'], captureIo())).toBe(0);
    const csv = path.join(tmp.dir, 'q.csv');
    await main(['quarantine', planFile, '--csv', csv, '--show-values'], captureIo());
    expect(await main(['quarantine', planFile, '--retry', csv], captureIo())).toBe(0);

    const io = captureIo();
    expect(await main(['history', planFile, '--json'], io)).toBe(0);
    const entries = io.stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.map((e) => `${String(e.command)}:${String(e.outcome)}`)).toEqual([
      'run:done',
      'run:already-done',
      'verify:equal',
      'retry:done',
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({
        plan: 'audited',
        user: userInfo().username,
        toolVersion: packageVersion(),
        source: 'sqlite:./old.db',
      });
      expect(String(e.target)).toMatch(/^postgres:\/\/root:\*\*\*@127\.0\.0\.1:5432\/crm_test_/);
      expect(String(e.planHash)).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(entries[0]?.details).toMatchObject({ entities: { customers: { read: 2, written: 1, quarantined: 1 } } });
    expect(entries[3]?.details).toMatchObject({ retried: { customers: { retried: 1, written: 0, quarantined: 1 } } });

    const table = captureIo();
    await main(['history', planFile], table);
    expect(table.stdout.join('\n')).toMatch(
      /run\s+done\s+\S+\s+\S+\s+[\d.]+\s+[0-9a-f]{16}\s+customers read 2, written 1, quarantined 1/,
    );
    const everything =
      JSON.stringify(await db.query('SELECT * FROM _crm_migrate.audit')) + io.stdout.join('') + table.stdout.join('');
    expect(everything).not.toContain(password);
  });

  it('records a failed run with its error code and message', async () => {
    const source = new Database(path.join(tmp.dir, 'old.db'));
    source.exec("INSERT INTO customers VALUES (3, 'Cy', 'cy@example.com')");
    source.close();
    await db.query('CREATE TABLE people (id integer PRIMARY KEY, name text, email text)');
    // A row the target refuses is quarantined; a trigger broken in itself (a table it needs is gone) fails the run.
    await db.query(
      'CREATE FUNCTION audit_people() RETURNS trigger AS $$ BEGIN INSERT INTO people_log VALUES (NEW.id); RETURN NEW; END $$ LANGUAGE plpgsql',
    );
    await db.query('CREATE TRIGGER audit_people BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION audit_people()');
    const failed = captureIo();
    expect(await main(['run', planFile, '--quiet', '--no-report'], failed)).toBe(1);
    // The message ends with what to do: the committed batches stay, and the same command resumes after them.
    expect(failed.stderr.join('\n')).toMatch(
      /relation "people_log" does not exist[\s\S]*\nhint: once the cause is fixed, run crm-migrate run .*plan\.yaml again: it resumes after the last committed batch/,
    );
    const io = captureIo();
    await main(['history', planFile, '--json'], io);
    const [entry] = io.stdout.map(
      (l) => JSON.parse(l) as { outcome: string; details: { code: string; message: string } },
    );
    expect(entry?.outcome).toBe('failed');
    expect(entry?.details.code).toBe('E_TARGET');
    expect(entry?.details.message).toMatch(
      /writing a batch to people failed: relation "people_log" does not exist \[42P01/,
    );
  });
});
