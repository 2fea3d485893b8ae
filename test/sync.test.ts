import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';

// The live-migration workflow through the command line: a full load, then increments (one killed with
// SIGKILL half-way and run again), `sync --every` stopped by SIGTERM, and `verify`'s exit codes.

const ROWS = 60_000;
const BIN = path.resolve(import.meta.dirname, '../bin/crm-migrate.js');

const PLAN = (source: string, target: string) => `
version: 1
name: live
source: ${source}
target: ${target}
batch_size: 1000
entities:
  customers:
    from: customers
    into: people
    key: id
    strategy: incremental
    cursor: updated_at
    deletes: hard
    fields:
      id: id
      first_name: { from: name, transform: name.first }
      last_name: { from: name, transform: name.last }
      email: { from: email, clean: email, invalid: null }
      updated_at: updated_at
`;

function cli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    done: new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
    ),
    output: () => stdout,
    stderr: () => stderr,
    signal: (name: NodeJS.Signals) => child.kill(name),
  };
}

describe('live migration from the command line', () => {
  let source: TestPostgres;
  let calm: TestPostgres;
  let crashed: TestPostgres;
  let tmp: ReturnType<typeof tempDir>;
  let calmPlan: string;
  let crashedPlan: string;

  beforeAll(async () => {
    [source, calm, crashed] = await Promise.all([
      createPostgresDatabase(),
      createPostgresDatabase(),
      createPostgresDatabase(),
    ]);
    tmp = tempDir();
    calmPlan = path.join(tmp.dir, 'calm.yaml');
    crashedPlan = path.join(tmp.dir, 'crashed.yaml');
    writeFileSync(calmPlan, PLAN(source.url, calm.url));
    writeFileSync(crashedPlan, PLAN(source.url, crashed.url));
    await source.query(
      'CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, email TEXT, updated_at TIMESTAMPTZ NOT NULL)',
    );
    await source.query('CREATE INDEX ON customers (updated_at, id)');
    // Many rows share each timestamp: every batch boundary falls inside a run of equal cursor values.
    await source.query(`INSERT INTO customers SELECT g, 'First' || g || ' Last' || (g % 50), 'user' || g || '@example.com',
      timestamptz '2026-01-01' + (g / 500) * interval '1 second' FROM generate_series(1, ${ROWS}) g`);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([source?.drop(), calm?.drop(), crashed?.drop()]);
    tmp?.remove();
  });

  const people = (db: TestPostgres) =>
    db.query('SELECT id, first_name, last_name, email, updated_at FROM people ORDER BY id');

  it('an increment killed with SIGKILL and run again ends equal to one that ran through', async () => {
    for (const plan of [calmPlan, crashedPlan])
      expect((await cli(['run', plan, '--quiet', '--json']).done).code).toBe(0);
    // Change the source: 30,000 updates (all at one new timestamp), 500 inserts at that timestamp, 61 deletes
    // (60 loaded rows and one just inserted): 30,499 rows to read, 60 to delete.
    await source.query(
      `UPDATE customers SET name = 'Changed' || id || ' Person', updated_at = timestamptz '2026-02-01' WHERE id % 2 = 0`,
    );
    await source.query(
      `INSERT INTO customers SELECT g, 'New' || g || ' Person', 'new' || g || '@example.com', timestamptz '2026-02-01' FROM generate_series(${ROWS + 1}, ${ROWS + 500}) g`,
    );
    await source.query('DELETE FROM customers WHERE id % 1000 = 7');

    const calmRun = await cli(['run', calmPlan, '--quiet', '--json']).done;
    expect(calmRun.code).toBe(0);
    const calmSummary = JSON.parse(calmRun.stdout) as {
      previousRunId?: string;
      entities: { customers: Record<string, number> };
    };
    expect(calmSummary.previousRunId).toBeDefined();
    expect(calmSummary.entities.customers).toMatchObject({ read: 30_499, written: 30_499, deleted: 60 });

    const victim = cli(['run', crashedPlan, '--quiet']);
    for (let i = 0; i < 3000; i++) {
      await sleep(5);
      const [row] = await crashed.query<{ n: string }>(
        `SELECT COALESCE(MAX(c.read_rows), 0) AS n FROM _crm_migrate.checkpoints c JOIN _crm_migrate.runs r USING (run_id) WHERE r.status = 'running'`,
      );
      if (Number(row?.n) >= 3000) break;
    }
    victim.signal('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');
    const [state] = await crashed.query<{ n: string; done: number }>(
      `SELECT c.read_rows AS n, c.done FROM _crm_migrate.checkpoints c JOIN _crm_migrate.runs r USING (run_id) WHERE r.status = 'running'`,
    );
    expect(Number(state?.n)).toBeGreaterThan(0);
    expect(state?.done).toBe(0);

    const rerun = await cli(['run', crashedPlan, '--quiet', '--json']).done;
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout).entities.customers).toMatchObject({ read: 30_499, deleted: 60 });
    expect(await people(crashed)).toEqual(await people(calm));
    expect((await people(crashed)).length).toBe(ROWS + 500 - 61);

    // verify agrees, and says so with exit code 0; a tampered row makes it exit 3 and name the key.
    expect((await cli(['verify', crashedPlan]).done).code).toBe(0);
    await crashed.query(`UPDATE people SET email = 'tampered@example.com' WHERE id = 42`);
    const differs = await cli(['verify', crashedPlan]).done;
    expect(differs.code).toBe(3);
    expect(differs.stdout).toMatch(/customers {2}key 42 {2}changed {2}email/);
    expect(differs.stdout).not.toContain('tampered@');
  }, 120_000);

  it('sync --every applies changes as they come and stops cleanly on SIGTERM', async () => {
    const sync = cli(['sync', calmPlan, '--every', '200ms']);
    for (let i = 0; i < 400 && !sync.output().includes('lag'); i++) await sleep(25);
    await source.query(`INSERT INTO customers VALUES (900001, 'Live Person', 'live@example.com', now())`);
    let landed = 0;
    for (let i = 0; i < 400 && landed === 0; i++) {
      await sleep(25);
      landed = (await calm.query('SELECT 1 FROM people WHERE id = 900001')).length;
    }
    expect(landed).toBe(1);
    sync.signal('SIGTERM');
    const ended = await sync.done;
    expect(ended.code).toBe(0);
    expect(ended.stderr).toContain('sync stopped');
    expect(ended.stdout).toMatch(/customers: read \d+, written \d+, quarantined 0, deleted 0; lag 0 pending/);
  }, 60_000);

  it('sync rides out a source that is away for a while, and resumes', async () => {
    const dir = tempDir();
    try {
      const db = path.join(dir.dir, 'old.db');
      const setup = new Database(db);
      setup.pragma('journal_mode = WAL');
      setup.exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, updated_at TEXT NOT NULL);
        INSERT INTO customers VALUES (1, 'Ann Lee', 'ann@example.com', '2026-01-01 10:00:00');`);
      setup.close();
      const plan = path.join(dir.dir, 'plan.yaml');
      writeFileSync(plan, PLAN('sqlite:./old.db', 'sqlite:./new.db'));
      const sync = cli(['sync', plan, '--every', '100ms']);
      for (let i = 0; i < 400 && !sync.output().includes('lag'); i++) await sleep(25);
      renameSync(db, `${db}.away`);
      for (let i = 0; i < 400 && !sync.stderr().includes('increment failed'); i++) await sleep(25);
      expect(sync.stderr()).toMatch(
        /increment failed \(1 of 5 in a row\), retrying in 100ms: SQLite database not found: old\.db/,
      );
      renameSync(`${db}.away`, db);
      const back = new Database(db);
      back.exec(`INSERT INTO customers VALUES (2, 'Bo Day', 'bo@example.com', '2026-01-02 10:00:00')`);
      back.close();
      let landed = 0;
      for (let i = 0; i < 400 && landed === 0; i++) {
        await sleep(25);
        const target = new Database(path.join(dir.dir, 'new.db'), { readonly: true });
        landed = (target.prepare('SELECT count(*) AS n FROM people').get() as { n: number }).n === 2 ? 1 : 0;
        target.close();
      }
      expect(landed).toBe(1);
      sync.signal('SIGINT');
      expect((await sync.done).code).toBe(0);
    } finally {
      dir.remove();
    }
  }, 60_000);
});
