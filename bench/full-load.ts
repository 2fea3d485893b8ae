import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pgCopy from 'pg-copy-streams';
import { mysqlBench } from './mysql-load.js';
import {
  benchArgs,
  crmMigrate,
  fmt,
  LEGACY_NAME_SQL,
  median,
  seedMappingPlan,
  withClient,
  withScratchDatabase,
} from './common.js';

/**
 * npm run bench [-- --rows N --runs R] (and -- --source mysql: MariaDB -> PostgreSQL, see mysql-load.ts)
 * PostgreSQL -> PostgreSQL with the seed's mapping (name -> first/last through the parser, email trimmed and
 * lower-cased, phone copied), against the raw baseline in the same run: COPY (SELECT … split_part …) TO STDOUT
 * piped into COPY … FROM STDIN. Prints medians of R runs each, the ratio, and crm-migrate's peak RSS.
 */
const { rows: ROWS, runs: RUNS, source: SOURCE } = benchArgs();

const TARGET = '(id INT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT)';

async function setup(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query('CREATE TABLE old_crm_customers (id INT PRIMARY KEY, name TEXT, email TEXT, phone TEXT)');
    // Names in the shapes a legacy CRM holds: "First Last" mostly, "Last, First M.", honorifics, suffixes.
    await c.query(`INSERT INTO old_crm_customers
      SELECT g,
        ${LEGACY_NAME_SQL},
        '  User.' || g || '@Example.COM ',
        '+1 555 ' || lpad((g % 10000)::text, 4, '0')
      FROM generate_series(1, ${ROWS}) g`);
    await c.query(`CREATE TABLE baseline_customers ${TARGET}`);
    await c.query(`CREATE TABLE new_crm_customers ${TARGET}`);
    await c.query('VACUUM ANALYZE old_crm_customers');
  });
}

async function baseline(url: string): Promise<number> {
  return withClient(url, (reader) =>
    withClient(url, async (writer) => {
      await writer.query('TRUNCATE baseline_customers');
      const started = performance.now();
      const out = reader.query(
        pgCopy.to(
          `COPY (SELECT id, split_part(name, ' ', 1), split_part(name, ' ', 2), lower(trim(email)), phone FROM old_crm_customers ORDER BY id) TO STDOUT`,
        ),
      );
      const into = writer.query(pgCopy.from('COPY baseline_customers FROM STDIN'));
      await pipeline(out, into);
      return performance.now() - started;
    }),
  );
}

const tmp = mkdtempSync(path.join(tmpdir(), 'crm-bench-'));
const plan = path.join(tmp, 'bench.yaml');

if (SOURCE === 'mysql') {
  await mysqlBench(ROWS, RUNS);
  process.exit(0);
}
if (SOURCE !== 'postgres') throw new Error(`--source takes postgres or mysql, got "${SOURCE}"`);

try {
  await withScratchDatabase('crm_bench', async (url) => {
    writeFileSync(plan, seedMappingPlan('bench', url));
    console.log(`generating ${fmt(ROWS)} legacy customers in PostgreSQL…`);
    await setup(url);
    const base: number[] = [];
    const ours: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternate the two, so drift on a noisy machine hits both alike.
      base.push(await baseline(url));
      const r = crmMigrate(plan);
      if (r.rows !== ROWS) throw new Error(`crm-migrate read ${r.rows} rows, expected ${ROWS}`);
      ours.push(r.ms);
      rss.push(r.maxRssMb);
      console.log(
        `  run ${i + 1}: raw COPY pipe ${fmt((ROWS * 1000) / (base.at(-1) ?? 1))} rows/s, crm-migrate ${fmt((ROWS * 1000) / r.ms)} rows/s, peak RSS ${r.maxRssMb.toFixed(0)} MB`,
      );
    }
    const baseRate = (ROWS * 1000) / median(base);
    const ourRate = (ROWS * 1000) / median(ours);
    console.log(`\nrows: ${fmt(ROWS)}, runs: ${RUNS} (medians)`);
    console.log(`raw COPY pipe (split_part in SQL): ${fmt(baseRate)} rows/s`);
    console.log(`crm-migrate (parser, email rule, target checks, checkpoints): ${fmt(ourRate)} rows/s`);
    console.log(`ratio crm-migrate / raw: ${(ourRate / baseRate).toFixed(2)} (target >= 0.60)`);
    console.log(`crm-migrate peak RSS: ${Math.max(...rss).toFixed(0)} MB (target <= 300 MB)`);
  });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
