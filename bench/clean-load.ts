import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  benchArgs,
  createLegacyCustomers,
  crmMigrate,
  fmt,
  median,
  withClient,
  withScratchDatabase,
  type RunFigures,
} from './common.js';

/**
 * npm run bench:clean [-- --rows N --runs R]
 * PostgreSQL -> PostgreSQL on realistic legacy customers (below) with the full cleaning set (name parsed and
 * proper-cased, email rule with domain repairs, phone to E.164 with default US, required last name, length
 * limits), beside the engine's
 * mapping-only plan on the same rows in the same run, and the cleaning plan kept on the main thread
 * (`workers: 0`); then a heavy variant (phones formatted international, so every number is formatted by
 * libphonenumber-js) both ways, to show when the mapping threads pay. All alternate; medians of R runs.
 * `--baseline DIR`: the cleaning plan on the main thread is also run by that checkout (an earlier commit,
 * built), alternating with the rest: the rule set before a change beside the one after it, on the same rows.
 */
const { rows: ROWS, runs: RUNS, baseline: BASELINE } = benchArgs();

const TARGET =
  '(id INT PRIMARY KEY, first_name VARCHAR(80), last_name VARCHAR(80) NOT NULL, email VARCHAR(254), phone VARCHAR(32))';

/**
 * The realistic legacy customers of the load benchmark (bench/legacy-customers.ts): long-tailed names in the
 * shapes people type, about 5,000 company domains behind the big providers, phones of the US, Britain and
 * Germany in their usual renderings, some junk. A plan that says `country: US` reads a British or German
 * number written nationally as a bad US one (nulled) and one written with its +44/+49 through
 * libphonenumber-js: what a CRM of mixed customers costs.
 */
async function setup(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await createLegacyCustomers(c, ROWS);
    await c.query(`CREATE TABLE cleaned_customers ${TARGET}`);
    await c.query(`CREATE TABLE mapped_customers ${TARGET}`);
    await c.query('VACUUM ANALYZE old_crm_customers');
  });
}

const plan = (url: string, into: string, workers: string, fields: string) => `version: 1
name: bench-${into}-${workers}
source: ${url}
target: ${url}
workers: ${workers}
entities:
  customers:
    from: old_crm_customers
    into: ${into}
    key: id
    fields:
      id: id
${fields}`;

const MAPPING_ONLY = `      first_name: { from: name, transform: name.first }
      last_name: { from: name, transform: name.last }
      email: { from: email, clean: [trim, lower] }
      phone: phone
`;

const CLEANING = `      first_name: { from: name, transform: name.first, clean: person_name }
      last_name: { from: name, transform: name.last, clean: [person_name, required] }
      email: { from: email, clean: { email: { fix: domains } }, invalid: null }
      phone: { from: phone, clean: { phone: { country: US } }, invalid: null }
`;

/** The same, with phones in the international format: each number formatted by libphonenumber-js. */
const HEAVY = CLEANING.replace('{ phone: { country: US } }', '{ phone: { country: US, format: international } }');

const tmp = mkdtempSync(path.join(tmpdir(), 'crm-bench-clean-'));
try {
  await withScratchDatabase('crm_bench_clean', async (url) => {
    const files = {
      mapping: path.join(tmp, 'mapping.yaml'),
      cleaning: path.join(tmp, 'cleaning.yaml'),
      mainThread: path.join(tmp, 'main-thread.yaml'),
      heavy: path.join(tmp, 'heavy.yaml'),
      heavyMainThread: path.join(tmp, 'heavy-main-thread.yaml'),
    };
    writeFileSync(files.mapping, plan(url, 'mapped_customers', 'auto', MAPPING_ONLY));
    writeFileSync(files.cleaning, plan(url, 'cleaned_customers', 'auto', CLEANING));
    writeFileSync(files.mainThread, plan(url, 'cleaned_customers', '0', CLEANING));
    writeFileSync(files.heavy, plan(url, 'cleaned_customers', 'auto', HEAVY));
    writeFileSync(files.heavyMainThread, plan(url, 'cleaned_customers', '0', HEAVY));
    console.log(`generating ${fmt(ROWS)} legacy customers in PostgreSQL…`);
    await setup(url);
    type Variant = keyof typeof files | 'baseline';
    const variants: [Variant, () => RunFigures][] = (Object.keys(files) as (keyof typeof files)[]).map((name) => [
      name,
      () => crmMigrate(files[name]),
    ]);
    if (BASELINE) variants.push(['baseline', () => crmMigrate(files.mainThread, 'run', BASELINE)]);
    const runs = Object.fromEntries(variants.map(([name]) => [name, [] as RunFigures[]])) as Record<
      Variant,
      RunFigures[]
    >;
    for (let i = 0; i < RUNS; i++) {
      // Alternate, so drift on a noisy machine hits all alike.
      for (const [name, run] of variants) {
        const r = run();
        if (r.rows !== ROWS) throw new Error(`crm-migrate read ${r.rows} rows, expected ${ROWS}`);
        runs[name].push(r);
      }
      console.log(
        `  run ${i + 1}: ${variants.map(([n]) => `${n} ${fmt((ROWS * 1000) / (runs[n].at(-1)?.ms ?? 1))} rows/s`).join(', ')}`,
      );
    }
    const rate = (name: Variant) => (ROWS * 1000) / median(runs[name].map((r) => r.ms));
    const rss = (name: Variant) => Math.max(...runs[name].map((r) => r.maxRssMb)).toFixed(0);
    console.log(`\nrows: ${fmt(ROWS)}, runs: ${RUNS} (medians)`);
    console.log(
      `mapping only (name parts, email trim+lower, phone copied): ${fmt(rate('mapping'))} rows/s, peak RSS ${rss('mapping')} MB`,
    );
    console.log(
      `cleaning (names, email rule, phone E.164, required, lengths), main thread only: ${fmt(rate('mainThread'))} rows/s, peak RSS ${rss('mainThread')} MB`,
    );
    if (BASELINE)
      console.log(
        `the same, by the baseline checkout (${path.basename(BASELINE)}): ${fmt(rate('baseline'))} rows/s, peak RSS ${rss('baseline')} MB; this / baseline: ${(rate('mainThread') / rate('baseline')).toFixed(2)}`,
      );
    console.log(
      `cleaning, workers: auto: ${fmt(rate('cleaning'))} rows/s, peak RSS ${rss('cleaning')} MB (target >= 150,000 rows/s)`,
    );
    console.log(
      `ratio cleaning / mapping only: ${(rate('cleaning') / rate('mapping')).toFixed(2)}; auto / main thread: ${(rate('cleaning') / rate('mainThread')).toFixed(2)}`,
    );
    console.log(
      `heavy cleaning (phones formatted international by libphonenumber-js), main thread only: ${fmt(rate('heavyMainThread'))} rows/s, peak RSS ${rss('heavyMainThread')} MB`,
    );
    console.log(
      `heavy cleaning, workers: auto: ${fmt(rate('heavy'))} rows/s, peak RSS ${rss('heavy')} MB; auto / main thread: ${(rate('heavy') / rate('heavyMainThread')).toFixed(2)}`,
    );
  });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
