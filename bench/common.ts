import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { legacyCustomerLines } from './legacy-customers.js';

// What the benchmarks share: the server, a scratch database per benchmark, medians, and one crm-migrate run
// in its own process (so its peak RSS and CPU time are its own).

export const SERVER = process.env.CRM_MIGRATE_BENCH_PG ?? 'postgres://root@127.0.0.1:5432';
const here = path.dirname(fileURLToPath(import.meta.url));

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function withClient<T>(connection: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: connection });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The legacy table `old_crm_customers` (id, name, email, phone), filled with `rows` realistic legacy customers. */
export async function createLegacyCustomers(c: pg.Client, rows: number): Promise<void> {
  await c.query('CREATE TABLE old_crm_customers (id INT PRIMARY KEY, name TEXT, email TEXT, phone TEXT)');
  await pipeline(Readable.from(legacyCustomerLines(rows)), c.query(pgCopy.from('COPY old_crm_customers FROM STDIN')));
}

/** Creates a scratch database, hands its URL to `work`, and drops it afterwards whatever happens. */
export async function withScratchDatabase(prefix: string, work: (url: string) => Promise<void>): Promise<void> {
  const db = `${prefix}_${process.pid}`;
  await withClient(`${SERVER}/postgres`, (c) => c.query(`CREATE DATABASE ${db}`));
  try {
    await work(`${SERVER}/${db}`);
  } finally {
    await withClient(`${SERVER}/postgres`, (c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)).catch(
      () => undefined,
    );
  }
}

export interface RunFigures {
  readonly rows: number;
  readonly written: number;
  readonly deleted: number;
  readonly equal: boolean;
  readonly ms: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
}

/** Whether pgloader is installed (Debian's package): the benchmarks print it beside the raw pipe when it is. */
export function hasPgloader(): boolean {
  try {
    execFileSync('pgloader', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * One `run --fresh` of the plan file (or an increment, or a verify) in a child process; by the checkout at
 * `checkout` (built) instead of this one, for a figure beside an earlier commit's in the same run.
 */
export function crmMigrate(
  plan: string,
  mode: 'run' | 'increment' | 'verify' = 'run',
  checkout = path.join(here, '../..'),
): RunFigures {
  const runOnce = path.join(checkout, 'dist/bench/run-once.js');
  const out = execFileSync(process.execPath, [runOnce, plan, mode], { encoding: 'utf8' });
  return JSON.parse(out) as RunFigures;
}

/**
 * `--rows N --runs R --source postgres|mysql --baseline DIR` (defaults: 1,000,000 rows, 3 runs, PostgreSQL; no
 * baseline). DIR is another checkout of the project, built (`npm run build`), e.g. a `git worktree` of an earlier
 * commit: a benchmark that takes it runs its plans there too, alternating with this checkout's.
 */
export function benchArgs(): { rows: number; runs: number; source: string; baseline: string | undefined } {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
      source: { type: 'string', default: 'postgres' },
      baseline: { type: 'string' },
    },
  });
  return { rows: Number(values.rows), runs: Number(values.runs), source: values.source, baseline: values.baseline };
}

/**
 * Names in the shapes a legacy CRM holds, as SQL over a generate_series `g`: "First Last" mostly, "Last,
 * First M.", honorifics, suffixes, particles, some in ALL CAPS or lower case.
 */
export const LEGACY_NAME_SQL = `CASE g % 10
          WHEN 0 THEN (ARRAY['SMITH','Garcia','O''Brien','Nguyen','Müller'])[g % 5 + 1] || ', ' || (ARRAY['Michael','Ana','Wei','Zoë'])[g % 4 + 1] || ' C.'
          WHEN 1 THEN 'Dr. ' || (ARRAY['Jane','José','Priya'])[g % 3 + 1] || ' van der Berg'
          WHEN 2 THEN (ARRAY['john','MARY'])[g % 2 + 1] || ' smith Jr.'
          ELSE (ARRAY['James','Mary','Robert','Linda','Søren','Aisha','Jean-Luc'])[g % 7 + 1] || ' ' || (ARRAY['Johnson','Williams','Brown','Smith-Jones','Kowalski','Papadopoulos'])[g % 6 + 1]
        END`;

/**
 * The seed mapping as a plan on one PostgreSQL database (old_crm_customers -> new_crm_customers): name ->
 * first/last through the parser, email trimmed and lower-cased, phone copied. `entity` adds lines to the entity.
 */
export function seedMappingPlan(name: string, url: string, entity = ''): string {
  return `version: 1
name: ${name}
source: ${url}
target: ${url}
entities:
  customers:
    from: old_crm_customers
    into: new_crm_customers
    key: id
${entity}    fields:
      id: id
      first_name: { from: name, transform: name.first }
      last_name: { from: name, transform: name.last }
      email: { from: email, clean: email, invalid: keep }
      phone: phone
`;
}

/** A customer's fields as a plan cleans them (names, email, US phone, birth date): the benchmarks' shared mapping. */
export const CUSTOMER_FIELDS = `      id: id
      first_name: { from: first_name, clean: person_name }
      last_name: { from: last_name, clean: person_name }
      email: { from: email, clean: email, invalid: null }
      phone: { from: phone, clean: { phone: { country: US } }, invalid: null }
      birth_date: { from: birth_date, clean: date, invalid: null }
      city: city
`;

const BIN = path.join(here, '../../bin/crm-migrate.js');
/** The queue the benchmark's workers take chunks from: the machine's Redis, a queue of this run's own. */
const QUEUE = `${process.env.CRM_MIGRATE_BENCH_REDIS ?? 'redis://127.0.0.1:6379'}?queue=bench${process.pid}`;

/** Peak RSS of a process still running, from /proc (MB). */
const peakRss = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/**
 * `run --fresh --queue` with three `crm-migrate worker` processes on this machine: wall clock of the
 * coordinator's command, and the peak RSS of the coordinator and of the largest worker.
 */
export async function queued(
  file: string,
  workers: readonly ChildProcess[],
): Promise<{ wallMs: number; rss: number; workerRss: number }> {
  const started = performance.now();
  const coordinator = spawn(
    process.execPath,
    [BIN, 'run', file, '--fresh', '--queue', QUEUE, '--quiet', '--no-report'],
    {
      stdio: 'ignore',
    },
  );
  let rss = 0;
  const sampling = setInterval(() => (rss = Math.max(rss, peakRss(coordinator.pid ?? 0))), 100);
  const code = await new Promise<number | null>((resolve) => coordinator.on('exit', resolve));
  clearInterval(sampling);
  if (code !== 0) throw new Error(`run --queue exited with ${code}`);
  const wallMs = performance.now() - started;
  return { wallMs, rss, workerRss: Math.max(...workers.map((w) => peakRss(w.pid ?? 0))) };
}

/** `n` `crm-migrate worker` processes on this machine, taking chunks from QUEUE until killed. */
export function queueWorkers(n: number): ChildProcess[] {
  return Array.from({ length: n }, () =>
    spawn(process.execPath, [BIN, 'worker', '--queue', QUEUE], { stdio: 'ignore' }),
  );
}
