import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pgCopy from 'pg-copy-streams';
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
 * npm run bench:sync [-- --rows N --runs R]
 * The live-migration loop on PostgreSQL: a full load of N customers (incremental entity, hard deletes), then
 * R rounds of "change 1 % of the source (½ updates, ⅓ inserts, ⅕ deletes), run an increment", then `verify`
 * over the whole table. Baselines from the same run: the full load for the increment, and a raw COPY read of
 * both tables (no mapping, no comparison) for verify. Targets: increment <= 3 s, verify <= 10 s on 1M rows.
 */
const { rows: ROWS, runs: RUNS } = benchArgs();
const UPDATES = Math.round(ROWS * 0.005);
const INSERTS = Math.round(ROWS * 0.003);
const DELETES = Math.round(ROWS * 0.002);

async function setup(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(
      'CREATE TABLE old_crm_customers (id INT PRIMARY KEY, name TEXT, email TEXT, phone TEXT, updated_at TIMESTAMPTZ NOT NULL)',
    );
    await c.query(`INSERT INTO old_crm_customers
      SELECT g, ${LEGACY_NAME_SQL}, '  User.' || g || '@Example.COM ', '+1 555 ' || lpad((g % 10000)::text, 4, '0'),
        timestamptz '2026-01-01' + (g / 100) * interval '1 second'
      FROM generate_series(1, ${ROWS}) g`);
    await c.query('CREATE INDEX old_crm_customers_cursor ON old_crm_customers (updated_at, id)');
    await c.query('VACUUM ANALYZE old_crm_customers');
  });
}

/** Round r changes 1 % of the rows: disjoint id sets per round, new ids above every existing one. */
async function change(url: string, round: number): Promise<void> {
  await withClient(url, async (c) => {
    const step = Math.floor(ROWS / UPDATES);
    await c.query(
      `UPDATE old_crm_customers SET email = 'changed.' || id || '@example.com', updated_at = now() WHERE id % ${step} = ${round} AND id <= ${ROWS}`,
    );
    const from = ROWS * 2 + round * INSERTS;
    await c.query(
      `INSERT INTO old_crm_customers SELECT g, 'New Person' || g, 'new' || g || '@example.com', NULL, now() FROM generate_series(${from + 1}, ${from + INSERTS}) g`,
    );
    const every = Math.floor(ROWS / DELETES);
    await c.query(
      `DELETE FROM old_crm_customers WHERE id % ${every} = ${Math.floor(every / 2) + round} AND id <= ${ROWS}`,
    );
  });
}

/** Reads both tables through COPY and throws the bytes away: what verify cannot go below. */
async function rawReadBoth(url: string): Promise<number> {
  const started = performance.now();
  for (const sql of [
    'COPY (SELECT id, name, email, phone FROM old_crm_customers ORDER BY id) TO STDOUT',
    'COPY (SELECT * FROM new_crm_customers ORDER BY id) TO STDOUT',
  ]) {
    await withClient(url, (c) =>
      pipeline(c.query(pgCopy.to(sql)), new Writable({ write: (_chunk, _enc, done) => done() })),
    );
  }
  return performance.now() - started;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'crm-bench-'));
const plan = path.join(tmp, 'sync.yaml');

try {
  await withScratchDatabase('crm_bench_sync', async (url) => {
    writeFileSync(
      plan,
      seedMappingPlan('bench-sync', url, '    strategy: incremental\n    cursor: updated_at\n    deletes: hard\n'),
    );
    console.log(`generating ${fmt(ROWS)} legacy customers in PostgreSQL…`);
    await setup(url);
    const full = crmMigrate(plan, 'run');
    console.log(
      `full load: ${fmt(full.rows)} rows in ${(full.ms / 1000).toFixed(2)} s (${fmt((full.rows * 1000) / full.ms)} rows/s, peak RSS ${full.maxRssMb.toFixed(0)} MB)`,
    );
    const increments: number[] = [];
    for (let round = 1; round <= RUNS; round++) {
      await change(url, round);
      const inc = crmMigrate(plan, 'increment');
      if (inc.rows !== UPDATES + INSERTS && inc.rows < UPDATES) throw new Error(`the increment read ${inc.rows} rows`);
      increments.push(inc.ms);
      console.log(
        `  increment ${round}: read ${fmt(inc.rows)}, written ${fmt(inc.written)}, deleted ${fmt(inc.deleted)} in ${(inc.ms / 1000).toFixed(2)} s, peak RSS ${inc.maxRssMb.toFixed(0)} MB`,
      );
    }
    const verifies: number[] = [];
    const raws: number[] = [];
    let verified = { rows: 0, equal: false, maxRssMb: 0 };
    for (let i = 0; i < RUNS; i++) {
      raws.push(await rawReadBoth(url));
      const v = crmMigrate(plan, 'verify');
      if (!v.equal) throw new Error('verify found differences after the increments');
      verifies.push(v.ms);
      verified = v;
    }
    const inc = median(increments);
    const ver = median(verifies);
    console.log(
      `\nsource rows: ${fmt(ROWS)}; each increment changes ${fmt(UPDATES)} updates + ${fmt(INSERTS)} inserts + ${fmt(DELETES)} deletes; runs: ${RUNS} (medians)`,
    );
    console.log(
      `increment: ${(inc / 1000).toFixed(2)} s (target <= 3 s); full load: ${(full.ms / 1000).toFixed(2)} s; ${(full.ms / inc).toFixed(1)}x faster than loading again`,
    );
    console.log(
      `verify of ${fmt(verified.rows)} rows: ${(ver / 1000).toFixed(2)} s (target <= 10 s), equal; raw COPY read of both tables: ${(median(raws) / 1000).toFixed(2)} s; ratio ${(ver / median(raws)).toFixed(1)}; peak RSS ${verified.maxRssMb.toFixed(0)} MB`,
    );
  });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
