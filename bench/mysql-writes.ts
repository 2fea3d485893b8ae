import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { benchArgs, crmMigrate, fmt, median, seedMappingPlan, withClient, withScratchDatabase } from './common.js';

/**
 * npm run bench:mysql-writes [-- --rows N --runs R]
 * PostgreSQL -> MariaDB with the seed mapping, two ways of writing, alternated in the same run: LOAD DATA LOCAL
 * INFILE fed from a stream (the default) and multi-row INSERTs of 500 rows (CRM_MIGRATE_MYSQL_WRITES=insert,
 * which upserts always use).
 */
const { rows: ROWS, runs: RUNS } = benchArgs();
const MYSQL = process.env.CRM_MIGRATE_BENCH_MYSQL ?? 'mysql://root@127.0.0.1:3306';
const name = `crm_bench_myw_${process.pid}`;
const admin = await mysql.createConnection({ uri: MYSQL });
await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
const tmp = mkdtempSync(path.join(tmpdir(), 'crm-bench-'));
try {
  await withScratchDatabase('crm_bench_myw', async (pgUrl) => {
    console.log(`generating ${fmt(ROWS)} legacy customers in PostgreSQL…`);
    await withClient(pgUrl, (c) =>
      c.query(`CREATE TABLE old_crm_customers AS SELECT g AS id, 'James' || g || ' Smith' AS name, '  User.' || g || '@Example.COM ' AS email,
      '+1 555 ' || lpad((g % 10000)::text, 4, '0') AS phone FROM generate_series(1, ${ROWS}) g; ALTER TABLE old_crm_customers ADD PRIMARY KEY (id)`),
    );
    await admin.query(
      `CREATE TABLE ${name}.new_crm_customers (id INT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT)`,
    );
    const plan = path.join(tmp, 'bench.yaml');
    writeFileSync(
      plan,
      seedMappingPlan('bench-mysql-writes', pgUrl).replace(/^target: .*$/m, `target: ${MYSQL}/${name}`),
    );
    const times: Record<string, number[]> = { load: [], insert: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const mode of ['load', 'insert'] as const) {
        process.env.CRM_MIGRATE_MYSQL_WRITES = mode;
        // Emptied outside the timing: a --fresh start would time MariaDB deleting a million rows.
        await admin.query(`TRUNCATE TABLE ${name}.new_crm_customers`);
        for (const t of ['runs', 'checkpoints', 'quarantine', 'audit'])
          await admin.query(`DROP TABLE IF EXISTS ${name}._crm_migrate_${t}`);
        const r = crmMigrate(plan, 'increment');
        if (r.written !== ROWS) throw new Error(`${mode}: wrote ${r.written} rows, expected ${ROWS}`);
        times[mode]?.push(r.ms);
        console.log(`  run ${i + 1} ${mode}: ${fmt((ROWS * 1000) / r.ms)} rows/s`);
      }
    }
    const rate = (xs: number[] = []) => (ROWS * 1000) / median(xs);
    console.log(`\nrows: ${fmt(ROWS)}, runs: ${RUNS} (medians), PostgreSQL -> MariaDB`);
    console.log(`LOAD DATA LOCAL INFILE from a stream: ${fmt(rate(times.load))} rows/s`);
    console.log(`multi-row INSERT, 500 rows a statement: ${fmt(rate(times.insert))} rows/s`);
    console.log(`LOAD DATA / INSERT: ${(rate(times.load) / rate(times.insert)).toFixed(2)}`);
  });
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
  await admin.end();
  rmSync(tmp, { recursive: true, force: true });
}
