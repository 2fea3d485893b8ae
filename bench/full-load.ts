import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pgCopy from 'pg-copy-streams';
import { mysqlBench } from './mysql-load.js';
import {
  benchArgs,
  createLegacyCustomers,
  crmMigrate,
  fmt,
  hasPgloader,
  median,
  queued,
  queueWorkers,
  seedMappingPlan,
  withClient,
  withScratchDatabase,
  type RunFigures,
} from './common.js';

/**
 * npm run bench [-- --rows N --runs R] (and -- --source mysql: MariaDB -> PostgreSQL, see mysql-load.ts)
 * PostgreSQL -> PostgreSQL with the seed's mapping (name -> first/last through the parser, email trimmed and
 * lower-cased, phone copied) on realistic legacy customers (bench/legacy-customers.ts), beside, in the same run:
 * the raw pipe COPY (SELECT … split_part …) TO STDOUT into COPY … FROM STDIN, pgloader's plain copy of the table
 * (where installed), crm-migrate in one process and with parallel: 2. Each by wall clock, start-up included;
 * medians of R runs, ratios, and each crm-migrate process's peak RSS.
 */
const { rows: ROWS, runs: RUNS, source: SOURCE } = benchArgs();

const TARGET = '(id INT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT)';

async function setup(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await createLegacyCustomers(c, ROWS);
    await c.query(`CREATE TABLE baseline_customers ${TARGET}`);
    await c.query(`CREATE TABLE new_crm_customers ${TARGET}`);
    await c.query('VACUUM ANALYZE old_crm_customers');
  });
}

/** pgloader's plain copy of the legacy table into a database of its own: seconds, wall clock. */
function pgloader(from: string, into: string, dir: string): number {
  const load = path.join(dir, 'pgloader.load');
  const pgsql = (url: string) => url.replace('postgres://', 'postgresql://');
  writeFileSync(
    load,
    `LOAD DATABASE FROM ${pgsql(from)} INTO ${pgsql(into)}
  WITH include drop, create tables, no foreign keys, workers = 2, concurrency = 1
  INCLUDING ONLY TABLE NAMES MATCHING 'old_crm_customers' IN SCHEMA 'public';\n`,
  );
  const started = performance.now();
  execFileSync('pgloader', [load], { cwd: dir, stdio: 'ignore' });
  return performance.now() - started;
}

/** One crm-migrate run in its own process, wall clock around it (start-up included). */
function timed(plan: string): RunFigures & { wallMs: number } {
  const started = performance.now();
  const figures = crmMigrate(plan);
  if (figures.rows !== ROWS) throw new Error(`crm-migrate read ${figures.rows} rows, expected ${ROWS}`);
  return { ...figures, wallMs: performance.now() - started };
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
const parallelPlan = path.join(tmp, 'bench-parallel.yaml');

if (SOURCE === 'mysql') {
  await mysqlBench(ROWS, RUNS);
  process.exit(0);
}
if (SOURCE !== 'postgres') throw new Error(`--source takes postgres or mysql, got "${SOURCE}"`);

try {
  await withScratchDatabase('crm_bench', async (url) => {
    writeFileSync(plan, seedMappingPlan('bench', url));
    writeFileSync(parallelPlan, seedMappingPlan('bench', url).replace(/^entities:/m, 'parallel: 2\nentities:'));
    console.log(`generating ${fmt(ROWS)} legacy customers in PostgreSQL…`);
    await setup(url);
    const withPgloader = hasPgloader();
    const base: number[] = [];
    const loader: number[] = [];
    const one: (RunFigures & { wallMs: number })[] = [];
    const two: (RunFigures & { wallMs: number })[] = [];
    const three: { wallMs: number; rss: number; workerRss: number }[] = [];
    const workers = queueWorkers(3);
    const rate = (ms: number) => (ROWS * 1000) / ms;
    await withScratchDatabase('crm_bench_pgloader', async (pgloaderUrl) => {
      for (let i = 0; i < RUNS; i++) {
        // Alternated, so drift on a noisy machine hits all alike.
        base.push(await baseline(url));
        if (withPgloader) loader.push(pgloader(url, pgloaderUrl, tmp));
        one.push(timed(plan));
        two.push(timed(parallelPlan));
        three.push(await queued(plan, workers));
        console.log(
          `  run ${i + 1}: raw pipe ${fmt(rate(base.at(-1) ?? 1))}${withPgloader ? `, pgloader ${fmt(rate(loader.at(-1) ?? 1))}` : ''}, crm-migrate ${fmt(rate(one.at(-1)?.wallMs ?? 1))}, parallel: 2 ${fmt(rate(two.at(-1)?.wallMs ?? 1))}, 3 queue workers ${fmt(rate(three.at(-1)?.wallMs ?? 1))} rows/s`,
        );
      }
    }).finally(() => workers.forEach((w) => w.kill('SIGTERM')));
    const raw = rate(median(base));
    const pgl = withPgloader ? rate(median(loader)) : undefined;
    const row = (label: string, rows: number, rss?: number) =>
      `| ${label} | ${fmt(rows)} | ${(rows / raw).toFixed(2)} | ${pgl ? (rows / pgl).toFixed(2) : '–'} | ${rss === undefined ? '–' : `${rss.toFixed(0)} MB`} |`;
    const ours = (runs: (RunFigures & { wallMs: number })[]) => ({
      wall: rate(median(runs.map((r) => r.wallMs))),
      inside: rate(median(runs.map((r) => r.ms))),
      rss: Math.max(...runs.map((r) => r.maxRssMb)),
    });
    const [a, b] = [ours(one), ours(two)];
    console.log(`\nrows: ${fmt(ROWS)}, runs: ${RUNS} (medians, wall clock, start-up included)\n`);
    console.log('| PostgreSQL → PostgreSQL | rows/s | × raw pipe | × pgloader | peak RSS |');
    console.log('|---|---|---|---|---|');
    console.log(row('raw pipe (COPY … split_part … \\| COPY)', raw));
    if (pgl) console.log(row('pgloader, plain copy', pgl));
    console.log(row('crm-migrate, one process', a.wall, a.rss));
    console.log(row('crm-migrate, parallel: 2', b.wall, b.rss));
    const q = rate(median(three.map((r) => r.wallMs)));
    console.log(
      row(
        `crm-migrate, 3 queue workers (coordinator ${Math.max(...three.map((r) => r.rss)).toFixed(0)} MB)`,
        q,
        Math.max(...three.map((r) => r.workerRss)),
      ),
    );
    console.log(
      `\ninside the process (the run's own duration): one ${fmt(a.inside)}, parallel: 2 ${fmt(b.inside)} rows/s; targets: ≥ 0.60 × raw, ≥ 3 × pgloader`,
    );
    // Each run's own ratios pair measurements taken minutes apart, not across the whole run: on a machine whose
    // speed drifts, their median says more than the ratio of the medians above.
    const paired = (against: number[]) => median(one.map((r, i) => (against[i] ?? 0) / r.wallMs)).toFixed(2);
    console.log(
      `one process, each run's own ratio (median): ${paired(base)} × raw${withPgloader ? `, ${paired(loader)} × pgloader` : ''}`,
    );
  });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
