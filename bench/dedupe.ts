import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { fmt, withClient, withScratchDatabase } from './common.js';
import { customers } from './customers.js';
import { runFebrl } from './febrl.js';
import { crmPeople } from './crm-people.js';
import { baselineClusters, planClusters, scoreClusters } from './dedupe-score.js';

/**
 * npm run bench:dedupe [-- --rows N]
 * 1. Accuracy on FEBRL at the default threshold (0.9), no labels: pair precision, recall and F1 against the
 *    data sets' rec-N ground truth (which the matcher never sees), beside Splink's published figures for
 *    febrl3 and febrl4 (shared/data/febrl/PUBLISHED_FIGURES.md). Targets: febrl3 F1 >= 0.995, febrl4 >= 0.999.
 * 2. CRM-like people (bench/crm-people.ts) through a plan with only `on:`, beside the deterministic baseline
 *    computed on the same records in the same run. Target: precision >= 0.995.
 * 3. Scale: N generated customers (about 10 % duplicates) from SQLite into PostgreSQL with `dedupe:` in the
 *    plan, beside the same load without it, in the same run. Target: 1M in <= 60 s, peak RSS <= 2 GB.
 */
const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
const ROWS = Number(values.rows);
const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const FEBRL = path.join(DATA, 'febrl');

const SPLINK: Record<string, string> = {
  febrl3: 'P 0.99969 R 0.98623 F1 0.99292 (best over thresholds 0.99540)',
  febrl4: 'P 1.0000 R 0.9984 F1 0.99920 (best 0.9998)',
};
console.log('FEBRL, default threshold 0.9, no labels (pairs: every two records of one cluster):');
console.log(
  'set      mode    records  true pairs  compared   precision  recall   F1       seconds  Splink (published, threshold 0.5)',
);
for (const [name, files, link] of [
  ['febrl1', ['dataset1.csv'], false],
  ['febrl2', ['dataset2.csv'], false],
  ['febrl3', ['dataset3.csv'], false],
  ['febrl4', ['dataset4a.csv', 'dataset4b.csv'], true],
] as const) {
  const { score, result, seconds } = runFebrl(
    files.map((f) => path.join(FEBRL, f)),
    link,
    { threshold: 0.9 },
  );
  console.log(
    [
      name.padEnd(8),
      (link ? 'link' : 'dedupe').padEnd(7),
      fmt(link ? 10_000 : name === 'febrl1' ? 1000 : 5000).padStart(7),
      fmt(score.truePairs).padStart(10),
      fmt(result.compared).padStart(9),
      score.precision.toFixed(5).padStart(11),
      score.recall.toFixed(5).padStart(7),
      score.f1.toFixed(5).padStart(8),
      seconds.toFixed(2).padStart(8),
      ` ${SPLINK[name] ?? '-'}`,
    ].join(' '),
  );
}

// CRM-like people: names, emails and phones only, with households, father and son, switchboards and common names.
console.log(
  '\nCRM-like people (bench/crm-people.ts), a plan with only dedupe: { on: [email, phone, first_name, last_name] }:',
);
console.log(
  'records  true pairs  precision  recall   F1      seconds   | baseline (email equal, or phone + surname equal): precision  recall   F1',
);
for (const count of [20_000]) {
  const people = crmPeople(count, 2026);
  const scratch = mkdtempSync(path.join(tmpdir(), 'crm-migrate-crm-people-'));
  try {
    const { clusters, seconds } = await planClusters(people, scratch);
    const truth = people.map((p) => p.person);
    const score = scoreClusters(truth, clusters);
    const base = scoreClusters(truth, baselineClusters(people));
    const f = (x: number) => x.toFixed(4);
    console.log(
      `${fmt(count).padStart(7)}  ${fmt(score.truePairs).padStart(10)}  ${f(score.precision).padStart(9)}  ${f(score.recall)}  ${f(score.f1)}  ${seconds.toFixed(1).padStart(7)}   | ${f(base.precision).padStart(60)}  ${f(base.recall)}  ${f(base.f1)}`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const PLAN = (source: string, target: string, dedupe: boolean) => `version: 1
name: bench-dedupe
source: "${source}"
target: "${target}"
workers: 2          # fixed, so both loads map alike (auto decides per pass, from a noisy measurement)
entities:
  customers:
    from: customers
    into: customers
    key: id
    fields:
      id: id
      first_name: { from: first_name, clean: person_name }
      last_name: { from: last_name, clean: person_name }
      email: { from: email, clean: email, invalid: null }
      phone: { from: phone, clean: { phone: { country: US } }, invalid: null }
      birth_date: { from: birth_date, clean: date, invalid: null }
      city: city
${dedupe ? '    dedupe:\n      on: [email, phone, first_name, last_name, birth_date]\n' : ''}`;

console.log(`\nscale: ${fmt(ROWS)} generated customers, SQLite -> PostgreSQL`);
const dir = mkdtempSync(path.join(tmpdir(), 'crm-migrate-dedupe-'));
try {
  const file = path.join(dir, 'customers.db');
  const db = new Database(file);
  db.exec(
    'CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, birth_date TEXT, city TEXT, person INTEGER)',
  );
  const insert = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const truth = new Int32Array(ROWS + 1);
  db.transaction(() => {
    for (const c of customers(ROWS, DATA)) {
      insert.run(c.id, c.first_name, c.last_name, c.email, c.phone, c.birth_date, c.city, c.person);
      truth[c.id] = c.person;
    }
  })();
  db.close();
  const planFile = path.join(dir, 'plan.yaml');
  const timed = async (dedupe: boolean) => {
    let figures = {
      seconds: 0,
      merged: 0,
      dedupe: undefined as Awaited<ReturnType<typeof runPlan>>['dedupe'],
      merges: [] as [number, number][],
    };
    await withScratchDatabase('bench_dedupe', async (url) => {
      const text = PLAN(`sqlite:${file}`, url, dedupe);
      writeFileSync(planFile, text);
      const started = performance.now();
      const summary = await runPlan(parsePlan(text, planFile));
      const seconds = (performance.now() - started) / 1000;
      const merges = dedupe
        ? await withClient(url, async (c) =>
            (
              await c.query<{ s: string; v: string }>(
                'SELECT source_key AS s, survivor_key AS v FROM _crm_migrate.merges',
              )
            ).rows.map((r) => [Number(r.s), Number(r.v)] as [number, number]),
          )
        : [];
      figures = { seconds, merged: summary.entities.customers?.merged ?? 0, dedupe: summary.dedupe, merges };
    });
    return figures;
  };
  const plain = await timed(false);
  const deduped = await timed(true);
  const d = deduped.dedupe?.customers;
  // Pair scoring of the merge map against the generator's truth: a merge is right when both rows copy one person.
  let duplicates = 0;
  const people = new Map<number, number>();
  for (let id = 1; id <= ROWS; id++) people.set(truth[id], (people.get(truth[id]) ?? 0) + 1);
  for (const n of people.values()) duplicates += n - 1;
  const right = deduped.merges.filter(([a, b]) => truth[a] === truth[b]).length;
  console.log(`load without dedupe:  ${plain.seconds.toFixed(1)} s`);
  console.log(
    `load with dedupe:     ${deduped.seconds.toFixed(1)} s (matching ${d?.seconds.toFixed(1)} s of it; target <= 60 s)`,
  );
  console.log(
    `candidate pairs compared: ${fmt(d?.compared ?? 0)}; clusters ${fmt(d?.clusters ?? 0)}; merged ${fmt(deduped.merged)} of ${fmt(duplicates)} generated duplicates`,
  );
  console.log(
    `merges right: ${fmt(right)} of ${fmt(deduped.merges.length)} (precision ${(right / Math.max(deduped.merges.length, 1)).toFixed(4)}), recall of duplicates ${(right / Math.max(duplicates, 1)).toFixed(4)}`,
  );
  console.log(`peak RSS of this process: ${fmt(process.resourceUsage().maxRSS / 1024)} MB (target <= 2,048 MB)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
