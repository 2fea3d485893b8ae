import { execFileSync, execSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { createConnection as createCallbackConnection } from 'mysql2';
import {
  crmMigrate,
  fmt,
  hasPgloader,
  median,
  queued,
  queueWorkers,
  seedMappingPlan,
  withClient,
  withScratchDatabase,
} from './common.js';
import { legacyCustomerLines } from './legacy-customers.js';

/**
 * npm run bench -- --source mysql [--rows N --runs R]
 * MariaDB -> PostgreSQL with the seed mapping on realistic legacy customers (bench/legacy-customers.ts), beside, in the same run: the raw pipe `mariadb --batch | psql
 * \copy` (the split done in SQL) and pgloader's plain copy of the same table, where pgloader is installed.
 */
const MYSQL = process.env.CRM_MIGRATE_BENCH_MYSQL ?? 'mysql://root@127.0.0.1:3306';

const seconds = (started: number) => performance.now() - started;

export async function mysqlBench(rows: number, runs: number): Promise<void> {
  const name = `crm_bench_my_${process.pid}`;
  const admin = await mysql.createConnection({ uri: MYSQL });
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'crm-bench-'));
  try {
    console.log(`generating ${fmt(rows)} legacy customers in MariaDB…`);
    await admin.query(
      `CREATE TABLE ${name}.old_crm_customers (id INT PRIMARY KEY, name VARCHAR(120), email VARCHAR(160), phone VARCHAR(40))`,
    );
    // The realistic legacy customers of bench/legacy-customers.ts, as the PostgreSQL benchmark loads them.
    const file = path.join(tmp, 'customers.tsv');
    await pipeline(Readable.from(legacyCustomerLines(rows)), createWriteStream(file));
    const raw = createCallbackConnection({ uri: MYSQL, flags: ['+LOCAL_FILES'] });
    await new Promise((resolve, reject) =>
      raw.query(
        {
          sql: `LOAD DATA LOCAL INFILE 'customers.tsv' INTO TABLE ${name}.old_crm_customers CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'`,
          infileStreamFactory: () => createReadStream(file),
        },
        (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)),
      ),
    );
    raw.end();
    await withScratchDatabase('crm_bench_my', async (pgUrl) => {
      const target = '(id INT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT)';
      await withClient(pgUrl, async (c) => {
        await c.query(`CREATE TABLE baseline_customers ${target}`);
        await c.query(`CREATE TABLE new_crm_customers ${target}`);
      });
      const plan = path.join(tmp, 'bench.yaml');
      writeFileSync(
        plan,
        seedMappingPlan('bench-mysql', `${MYSQL}/${name}`).replace(/^target: .*$/m, `target: ${pgUrl}`),
      );
      const parallelPlan = path.join(tmp, 'bench-parallel.yaml');
      writeFileSync(
        parallelPlan,
        seedMappingPlan('bench-mysql', `${MYSQL}/${name}`)
          .replace(/^target: .*$/m, `target: ${pgUrl}`)
          .replace(/^entities:/m, 'parallel: 2\nentities:'),
      );
      const load = path.join(tmp, 'pgloader.load');
      writeFileSync(
        load,
        `LOAD DATABASE FROM ${MYSQL}/${name} INTO ${pgUrl.replace('postgres://', 'postgresql://')}
  WITH include drop, create tables, no foreign keys, workers = 2, concurrency = 1
  INCLUDING ONLY TABLE NAMES MATCHING 'old_crm_customers';\n`,
      );
      const select = `SELECT id, SUBSTRING_INDEX(name, ' ', 1), SUBSTRING_INDEX(SUBSTRING_INDEX(name, ' ', 2), ' ', -1), LOWER(TRIM(email)), phone FROM old_crm_customers ORDER BY id`;
      const [host, port] = ['127.0.0.1', new URL(MYSQL).port || '3306'];
      const pipe = `mariadb -uroot -h${host} -P${port} --batch --skip-column-names --quick ${name} -e "${select}" | psql -q "${pgUrl}" -c "\\copy baseline_customers FROM STDIN"`;
      const pgloader = hasPgloader();
      const figures = {
        pipe: [] as number[],
        pgloader: [] as number[],
        ours: [] as number[],
        rss: [] as number[],
        parallel: [] as number[],
        parallelRss: [] as number[],
        queued: [] as number[],
        workerRss: [] as number[],
      };
      const workers = queueWorkers(3);
      process.once('exit', () => workers.forEach((w) => w.kill('SIGTERM')));
      for (let i = 0; i < runs; i++) {
        await withClient(pgUrl, (c) => c.query('TRUNCATE baseline_customers'));
        let started = performance.now();
        execSync(pipe, { shell: '/bin/bash', stdio: 'ignore' });
        figures.pipe.push(seconds(started));
        if (pgloader) {
          started = performance.now();
          execFileSync('pgloader', [load], { cwd: tmp, stdio: 'ignore' });
          figures.pgloader.push(seconds(started));
        }
        // Wall clock for all three, start-up included: pgloader's own start-up is in its figure too.
        started = performance.now();
        const r = crmMigrate(plan);
        if (r.rows !== rows) throw new Error(`crm-migrate read ${r.rows} rows, expected ${rows}`);
        figures.ours.push(seconds(started));
        figures.rss.push(r.maxRssMb);
        started = performance.now();
        const p = crmMigrate(parallelPlan);
        if (p.rows !== rows) throw new Error(`crm-migrate --parallel 2 read ${p.rows} rows, expected ${rows}`);
        figures.parallel.push(seconds(started));
        figures.parallelRss.push(p.maxRssMb);
        const q = await queued(plan, workers);
        figures.queued.push(q.wallMs);
        figures.workerRss.push(q.workerRss);
        const rate = (ms: number | undefined) => fmt((rows * 1000) / (ms ?? 1));
        console.log(
          `  run ${i + 1}: raw pipe ${rate(figures.pipe.at(-1))} rows/s, pgloader ${pgloader ? `${rate(figures.pgloader.at(-1))} rows/s` : 'not installed'}, crm-migrate ${rate(figures.ours.at(-1))} rows/s, parallel: 2 ${rate(figures.parallel.at(-1))} rows/s, 3 queue workers ${rate(figures.queued.at(-1))} rows/s`,
        );
      }
      const rate = (xs: number[]) => (rows * 1000) / median(xs);
      console.log(`\nrows: ${fmt(rows)}, runs: ${runs} (medians), MariaDB -> PostgreSQL`);
      console.log(
        `raw pipe (mariadb --batch | psql \\copy, split in SQL; wall clock): ${fmt(rate(figures.pipe))} rows/s`,
      );
      if (pgloader)
        console.log(
          `pgloader (plain copy of the table, no cleaning; wall clock): ${fmt(rate(figures.pgloader))} rows/s`,
        );
      console.log(
        `crm-migrate (parser, email rule, target checks, checkpoints; wall clock): ${fmt(rate(figures.ours))} rows/s, peak RSS ${Math.max(...figures.rss).toFixed(0)} MB`,
      );
      console.log(
        `crm-migrate, parallel: 2 (wall clock): ${fmt(rate(figures.parallel))} rows/s, peak RSS ${Math.max(...figures.parallelRss).toFixed(0)} MB`,
      );
      console.log(
        `crm-migrate, 3 queue workers (wall clock): ${fmt(rate(figures.queued))} rows/s, peak RSS ${Math.max(...figures.workerRss).toFixed(0)} MB a worker`,
      );
      if (pgloader)
        console.log(
          `crm-migrate / pgloader: ${(rate(figures.ours) / rate(figures.pgloader)).toFixed(2)} (target >= 3)`,
        );
      console.log(`crm-migrate / raw pipe: ${(rate(figures.ours) / rate(figures.pipe)).toFixed(2)}`);
    });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
    await admin.end();
    rmSync(tmp, { recursive: true, force: true });
  }
}
