import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';
import { seedPlan } from './helpers/plans.js';

const ROWS = 200_000;
const BIN = path.resolve(import.meta.dirname, '../bin/crm-migrate.js');

const PLAN = (source: string, target: string) =>
  seedPlan({ source, target, name: 'crash-test', batchSize: 1000, phone: 'phone' });

const TARGET_TABLE =
  'CREATE TABLE new_crm_customers (id INT PRIMARY KEY, first_name TEXT, last_name TEXT NOT NULL, email TEXT, phone TEXT)';

function cli(args: string[]): {
  done: Promise<{ code: number | null; signal: string | null; stdout: string }>;
  kill(): void;
} {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', () => undefined);
  return {
    done: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout }))),
    kill: () => child.kill('SIGKILL'),
  };
}

describe('crash and resume', () => {
  let source: TestPostgres;
  let uninterrupted: TestPostgres;
  let crashed: TestPostgres;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    if (!existsSync(path.resolve(import.meta.dirname, '../dist/src/cli/main.js')))
      throw new Error('build first: npm run build (npm test does)');
    [source, uninterrupted, crashed] = await Promise.all([
      createPostgresDatabase(),
      createPostgresDatabase(),
      createPostgresDatabase(),
    ]);
    tmp = tempDir();
    await source.query('CREATE TABLE old_crm_customers (id INT PRIMARY KEY, name TEXT, email TEXT, phone TEXT)');
    await source.query(`INSERT INTO old_crm_customers
      SELECT g,
        CASE WHEN g % 1000 = 0 THEN NULL
             WHEN g % 7 = 0 THEN 'Last' || g || ', First M.'
             WHEN g % 11 = 0 THEN 'Dr. First' || g || ' van der Last' || g
             ELSE 'First' || g || E' \\t Last' || (g % 97) END,
        CASE WHEN g % 97 = 0 THEN 'broken' || g || ' at example.com' ELSE '  User' || g || '@Example.COM ' END,
        '555-' || lpad((g % 10000)::text, 4, '0')
      FROM generate_series(1, ${ROWS}) g`);
    await uninterrupted.query(TARGET_TABLE);
    await crashed.query(TARGET_TABLE);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([source?.drop(), uninterrupted?.drop(), crashed?.drop()]);
    tmp?.remove();
  });

  it('a run killed with SIGKILL mid-way, run again, equals an uninterrupted run row for row', async () => {
    const planA = path.join(tmp.dir, 'a.yaml');
    const planB = path.join(tmp.dir, 'b.yaml');
    writeFileSync(planA, PLAN(source.url, uninterrupted.url));
    writeFileSync(planB, PLAN(source.url, crashed.url));

    const a = await cli(['run', planA, '--json', '--quiet']).done;
    expect(a.code).toBe(0);

    const victim = cli(['run', planB, '--quiet']);
    let progressed = 0;
    for (let i = 0; i < 2000 && progressed < 20_000; i++) {
      await sleep(10);
      const rows = await crashed
        .query<{ n: string }>(`SELECT COALESCE(MAX(read_rows), 0) AS n FROM _crm_migrate.checkpoints`)
        .catch(() => [{ n: '0' }]);
      progressed = Number(rows[0]?.n ?? 0);
    }
    victim.kill();
    const killed = await victim.done;
    expect(killed.signal).toBe('SIGKILL');
    const [state] = await crashed.query<{ read_rows: string; done: number }>(
      'SELECT read_rows, done FROM _crm_migrate.checkpoints',
    );
    // It really died mid-way: some batches committed, not all.
    expect(Number(state?.read_rows)).toBeGreaterThan(0);
    expect(Number(state?.read_rows)).toBeLessThan(ROWS);
    expect(state?.done).toBe(0);

    const resumed = await cli(['run', planB, '--json', '--quiet']).done;
    expect(resumed.code).toBe(0);
    const summaryB = JSON.parse(resumed.stdout) as { entities: Record<string, Record<string, number>> };
    const summaryA = JSON.parse(a.stdout) as { entities: Record<string, Record<string, number>> };
    expect(summaryB.entities).toEqual(summaryA.entities);
    expect(summaryA.entities.customers?.read).toBe(ROWS);

    const rows = (db: TestPostgres) => db.query('SELECT * FROM new_crm_customers ORDER BY id');
    const quarantine = (db: TestPostgres) =>
      db.query('SELECT entity, source_key, row_data, reasons FROM _crm_migrate.quarantine ORDER BY entity, source_key');
    const [rowsA, rowsB] = await Promise.all([rows(uninterrupted), rows(crashed)]);
    expect(rowsB.length).toBe(summaryA.entities.customers?.written);
    expect(rowsB).toEqual(rowsA);
    const [qA, qB] = await Promise.all([quarantine(uninterrupted), quarantine(crashed)]);
    expect(qB.length).toBe(summaryA.entities.customers?.quarantined);
    expect(qB).toEqual(qA);
  }, 180_000);
});
