import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

/**
 * npm run chaos [-- --kills N --rows R]
 * Kills crm-migrate with SIGKILL at random moments — half of the kills during a full load, half during an
 * incremental run — runs it again each time until it finishes, and compares the final target with one loaded
 * by uninterrupted runs: rows lost, rows doubled, rows that differ, quarantine rows, accounting.
 */

const SERVER = process.env.CRM_MIGRATE_TEST_PG ?? process.env.CRM_MIGRATE_BENCH_PG ?? 'postgres://root@127.0.0.1:5432';
/** The command, found from this file whether it runs from scripts/ (tests) or dist/scripts/ (npm run chaos). */
const here = path.dirname(fileURLToPath(import.meta.url));
const BIN =
  [path.resolve(here, '../bin/crm-migrate.js'), path.resolve(here, '../../bin/crm-migrate.js')].find((f) =>
    existsSync(f),
  ) ?? 'bin/crm-migrate.js';

export interface ChaosResult {
  readonly kills: number;
  /** Kills planned for the full load that came after it had finished (they were spent on increments instead). */
  readonly finishedFirst: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly differing: number;
  readonly quarantineDiffers: boolean;
  readonly accountingDiffers: boolean;
}

const PLAN = (url: string) => `version: 1
name: chaos
source: ${url}
target: ${url.replace(/\/([^/]+)$/, '/$1_target')}
batch_size: 2000
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
      email: { from: email, clean: email }
      updated_at: updated_at
`;

async function sql<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

/** One `run`; killed with SIGKILL after `killAfterMs` unless it ends first. */
function run(plan: string, killAfterMs?: number): Promise<{ killed: boolean; code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', plan, '--quiet', '--no-report', '--json'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code, stdout });
    });
  });
}

/** Runs until one run finishes, killing the first `kills` attempts at random moments within `spanMs`. */
async function runThroughKills(
  plan: string,
  kills: number,
  spanMs: number,
  random: () => number,
): Promise<{ kills: number; finishedFirst: number }> {
  let done = 0;
  let finishedFirst = 0;
  for (;;) {
    const attempt = await run(plan, done < kills ? Math.floor(random() * spanMs * 0.5) : undefined);
    if (attempt.killed) {
      done += 1;
      continue;
    }
    if (attempt.code !== 0) throw new Error(`crm-migrate exited with ${attempt.code}`);
    if (done < kills) finishedFirst += kills - done;
    return { kills: done, finishedFirst };
  }
}

async function database(name: string): Promise<string> {
  await sql(`${SERVER}/postgres`, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await sql(`${SERVER}/postgres`, `CREATE DATABASE ${name}`);
  return `${SERVER}/${name}`;
}

export async function chaos(options: { kills: number; rows: number; seed?: number }): Promise<ChaosResult> {
  let state = options.seed ?? 20261125;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const id = `${process.pid}_${Math.floor(random() * 1e6)}`;
  const tmp = mkdtempSync(path.join(tmpdir(), 'crm-chaos-'));
  const names = [`chaos_calm_${id}`, `chaos_calm_${id}_target`, `chaos_wild_${id}`, `chaos_wild_${id}_target`];
  try {
    const [calm, , wild] = (await Promise.all(names.map(database))) as [string, string, string, string];
    for (const url of [calm, wild]) {
      await sql(
        url,
        `CREATE TABLE customers (id int PRIMARY KEY, name text, email text, updated_at timestamptz NOT NULL);
        CREATE INDEX ON customers (updated_at, id);
        INSERT INTO customers SELECT g, 'First' || g || ' Last' || (g % 97), CASE WHEN g % 89 = 0 THEN 'broken' || g ELSE 'user' || g || '@example.com' END,
          timestamptz '2026-01-01' + (g / 50) * interval '1 second' FROM generate_series(1, ${options.rows}) g`,
      );
    }
    const calmPlan = path.join(tmp, 'calm.yaml');
    const wildPlan = path.join(tmp, 'wild.yaml');
    writeFileSync(calmPlan, PLAN(calm));
    writeFileSync(wildPlan, PLAN(wild));

    const started = Date.now();
    await run(calmPlan);
    const span = Date.now() - started;
    const half = Math.ceil(options.kills / 2);
    const full = await runThroughKills(wildPlan, half, span, random);

    // Increments until every kill is spent: a run that ends before its kill leaves that kill to the next one.
    // Each round changes both sources alike, with fixed timestamps (not now(): they are changed a moment apart).
    let kills = full.kills;
    for (let round = 1; kills < options.kills || round === 1; round++) {
      if (round > options.kills * 4) break;
      const change = `UPDATE customers SET name = 'Changed${round}_' || id || ' Person', updated_at = timestamptz '2026-06-01' + interval '${round} day' WHERE id % ${2 + (round % 5)} = 0;
        INSERT INTO customers SELECT g, 'New' || g || ' Person', 'new' || g || '@example.com', timestamptz '2026-06-01' + interval '${round} day'
          FROM generate_series(${options.rows * 2 + round * 1000}, ${options.rows * 2 + round * 1000 + 999}) g;
        DELETE FROM customers WHERE id % ${101 + round} = 0`;
      for (const url of [calm, wild]) await sql(url, change);
      const incStarted = Date.now();
      await run(calmPlan);
      const inc = await runThroughKills(wildPlan, Math.max(0, options.kills - kills), Date.now() - incStarted, random);
      kills += inc.kills;
    }

    const rows = (url: string) =>
      sql<{ id: number; h: string }>(
        url.replace(/\/([^/]+)$/, '/$1_target'),
        'SELECT id, md5(people::text) AS h FROM people ORDER BY id',
      );
    const [a, b] = await Promise.all([rows(calm), rows(wild)]);
    const byId = new Map(a.map((r) => [r.id, r.h]));
    const seen = new Map<number, number>();
    for (const r of b) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    const lost = a.filter((r) => !seen.has(r.id)).length;
    const duplicated = [...seen.values()].filter((n) => n > 1).length + b.filter((r) => !byId.has(r.id)).length;
    const differing = b.filter((r) => byId.has(r.id) && byId.get(r.id) !== r.h).length;
    const quarantine = (url: string) =>
      sql(
        url.replace(/\/([^/]+)$/, '/$1_target'),
        "SELECT entity, source_key, row_data::text, reasons::text FROM _crm_migrate.quarantine q JOIN _crm_migrate.runs r USING (run_id) WHERE r.status = 'done' ORDER BY 1, 2, 3",
      );
    const quarantineDiffers = JSON.stringify(await quarantine(calm)) !== JSON.stringify(await quarantine(wild));
    // The accounting over every finished run. A killed run, resumed, counts its attempts as one run; a run
    // killed after it had finished is followed by an empty increment: either way the totals are the calm ones.
    const totals = (url: string) =>
      sql(
        url.replace(/\/([^/]+)$/, '/$1_target'),
        "SELECT sum(read_rows)::int AS read, sum(written)::int AS written, sum(quarantined)::int AS quarantined, sum(deleted)::int AS deleted FROM _crm_migrate.checkpoints JOIN _crm_migrate.runs USING (run_id) WHERE status = 'done'",
      );
    const accountingDiffers = JSON.stringify(await totals(calm)) !== JSON.stringify(await totals(wild));
    return {
      kills,
      finishedFirst: full.finishedFirst,
      lost,
      duplicated,
      differing,
      quarantineDiffers,
      accountingDiffers,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await Promise.all(
      names.map((n) => sql(`${SERVER}/postgres`, `DROP DATABASE IF EXISTS ${n} WITH (FORCE)`).catch(() => undefined)),
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: { kills: { type: 'string', default: '20' }, rows: { type: 'string', default: '100000' } },
  });
  const result = await chaos({ kills: Number(values.kills), rows: Number(values.rows) });
  const inFull = Math.ceil(Number(values.kills) / 2) - result.finishedFirst;
  console.log(
    `chaos: ${result.kills} SIGKILLs (${inFull} during the full load, ${result.kills - inFull} during incremental runs) over ${Number(values.rows).toLocaleString('en-US')} customers`,
  );
  console.log(
    `  lost ${result.lost}, duplicated ${result.duplicated}, differing ${result.differing}; quarantine ${result.quarantineDiffers ? 'DIFFERS' : 'equal'}; accounting ${result.accountingDiffers ? 'DIFFERS' : 'equal'}`,
  );
  const clean =
    result.lost + result.duplicated + result.differing === 0 && !result.quarantineDiffers && !result.accountingDiffers;
  console.log(clean ? 'result: the interrupted target equals the uninterrupted one' : 'result: FAILED');
  process.exitCode = clean ? 0 : 1;
}
