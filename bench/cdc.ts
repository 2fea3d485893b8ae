import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import ZongJi, { type BinlogEvent as ZongJiEvent } from '@vlasky/zongji';
import mysql from 'mysql2/promise';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { startOwnMariadb, BINLOG } from '../scripts/servers/own-mariadb.js';
import { LOGICAL_REPLICATION, startOwnPostgres } from '../scripts/servers/own-postgres.js';
import { CUSTOMER_FIELDS, fmt, withClient, withScratchDatabase } from './common.js';
import { crmPeople } from './crm-people.js';

/**
 * npm run bench:cdc [-- --rows N --changes C --rate R --seconds S --source postgres|mariadb|both]
 * Change capture as a user runs it, on servers of the benchmark's own (PostgreSQL with wal_level=logical,
 * MariaDB with the binlog), into PostgreSQL: `cdc setup`, `run` (the snapshot of N varied customers), then
 *  - saturation: C changes written while no follower runs (60 % updates, 30 % inserts, 10 % deletes, in
 *    transactions of 100), then `sync --follow` until the last one has landed: changes applied per second;
 *  - latency: `sync --follow` while a writer commits R changes a second for S seconds: p50/p99 from source
 *    commit to the change readable in the target (polled every 10 ms), and the follower's own figures;
 *  - `verify`, which must say equal.
 * Baselines from the same run: the snapshot's rows per second (the same mapping, loaded in bulk) and the
 * database's own log decoding of the same changes with nothing applied. Targets: >= 20,000 changes/s,
 * p99 <= 1 s at 1,000 changes/s.
 */
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    changes: { type: 'string', default: '200000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    source: { type: 'string', default: 'both' },
  },
});
const ROWS = Number(values.rows);
const CHANGES = Number(values.changes);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../../bin/crm-migrate.js');
const DOMAINS = [
  'gmail.com',
  'yahoo.com',
  'outlook.com',
  'acme-corp.com',
  'web.de',
  'orange.fr',
  'example.org',
  'uni-koeln.de',
];

const PLAN = (name: string, source: string, target: string) => `version: 1
name: ${name}
source: "${source}"
target: "${target}"
entities:
  customers:
    from: customers
    where: { deleted: 0 }
    into: people
    key: id
    strategy: cdc
    deletes: hard
    fields:
${CUSTOMER_FIELDS}      version: version
`;

/** What one source kind needs: SQL for the writer, a bulk load, and its own log decoding as the baseline. */
interface Kind {
  readonly label: string;
  readonly url: string;
  exec(sql: string): Promise<void>;
  /** Loads the customers from a tab-separated file. */
  load(file: string): Promise<void>;
  /** One transaction of changes: rows `from`…`from + n - 1` updated (version v), inserted or deleted. */
  update(from: number, n: number, version: number): string;
  /** One transaction inserting these customers (ids past the table's end), with version v. */
  insert(rows: readonly Customer[], version: number): Promise<void>;
  remove(from: number, n: number): string;
  /** Notes where the log ends now: the changes written after it are what `decodeOnly` reads. */
  mark(): Promise<void>;
  /** Seconds it takes to read and decode the log since the mark with nothing applied (the baseline). */
  decodeOnly(): Promise<number>;
  stop(): Promise<void>;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

/** `sync --follow` in the background, stopped with SIGTERM: its JSON lines when it has exited. */
function follow(plan: string) {
  // CRM_MIGRATE_PROFILE=DIR: a CPU profile of each follower into DIR.
  const profile = process.env.CRM_MIGRATE_PROFILE
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.CRM_MIGRATE_PROFILE]
    : [];
  const child = spawn(process.execPath, [...profile, BIN, 'sync', plan, '--follow', '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { applied: Record<string, number>; latency: { p50Ms: number; p99Ms: number } });
    },
  };
}

/** A customer as the source table holds it. */
interface Customer {
  readonly id: number;
  readonly first_name: string | null;
  readonly last_name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly birth_date: string;
  readonly city: string;
}

const CITIES = ['Springfield', 'Köln', 'Lyon', 'Austin', 'Toronto', 'Leeds', 'Porto', 'São Paulo', 'Osaka', 'Kraków'];
const pad = (n: number) => String(n).padStart(2, '0');
/**
 * The customers of the snapshot (ids 1…N) and those the changes insert after them: bench/crm-people.ts's
 * long-tailed names, mail providers' and companies' addresses, and phones that exist, written the ways CRMs
 * hold them (not one domain or one phone layout, which would measure a cache).
 */
const PEOPLE: readonly Customer[] = crmPeople(ROWS + CHANGES, 2026).map((p, i) => ({
  id: i + 1,
  first_name: p.first_name,
  last_name: p.last_name,
  email: p.email,
  phone: p.phone,
  birth_date: `19${40 + (i % 60)}-${pad(1 + (i % 12))}-${pad(1 + ((i * 7) % 28))}`,
  city: CITIES[i % CITIES.length] ?? '',
}));

function writeTsv(file: string): void {
  const text = (v: string | null) => (v === null ? '\\N' : v.replace(/[\\\t\n]/g, ' '));
  const lines = PEOPLE.slice(0, ROWS).map((c) =>
    [c.id, text(c.first_name), text(c.last_name), text(c.email), text(c.phone), c.birth_date, c.city, 0, 0].join('\t'),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
}

const TABLE = `CREATE TABLE customers (id integer PRIMARY KEY, first_name varchar(80), last_name varchar(80), email varchar(200),
  phone varchar(40), birth_date varchar(20), city varchar(80), deleted smallint NOT NULL DEFAULT 0, version integer NOT NULL)`;

async function postgresKind(): Promise<Kind> {
  const server = await startOwnPostgres([...LOGICAL_REPLICATION, 'shared_buffers=512MB', 'max_wal_size=4GB']);
  await withClient(server.url(), (c) => c.query('CREATE DATABASE bench_cdc_source'));
  const url = server.url('bench_cdc_source');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    label: 'PostgreSQL',
    url,
    exec: async (sql) => void (await client.query(sql)),
    load: async (file) => {
      await client.query(TABLE);
      await pipeline(createReadStream(file), client.query(pgCopy.from('COPY customers FROM STDIN')));
      await client.query('VACUUM ANALYZE customers');
    },
    update: (from, n, v) =>
      `UPDATE customers SET email = 'changed.' || id || '@' || (ARRAY[${DOMAINS.map((d) => `'${d}'`).join(',')}])[1 + id % ${DOMAINS.length}], city = 'Moved ' || (id % 97), version = ${v} WHERE id BETWEEN ${from} AND ${from + n - 1}`,
    insert: async (rows, v) => {
      const column = (f: (c: Customer) => unknown) => rows.map(f);
      await client.query(
        'INSERT INTO customers SELECT *, 0, $8::int FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])',
        [
          column((c) => c.id),
          column((c) => c.first_name),
          column((c) => c.last_name),
          column((c) => c.email),
          column((c) => c.phone),
          column((c) => c.birth_date),
          column((c) => c.city),
          v,
        ],
      );
    },
    remove: (from, n) => `DELETE FROM customers WHERE id BETWEEN ${from} AND ${from + n - 1}`,
    mark: async () => undefined,
    decodeOnly: async () => {
      // The server's own pgoutput decoding of the changes waiting in a copy of the slot's position: nothing applied.
      await client.query("SELECT pg_copy_logical_replication_slot('crm_migrate_bench_cdc_postgresql', 'bench_peek')");
      const started = performance.now();
      await client.query(
        "SELECT count(*) FROM pg_logical_slot_get_binary_changes('bench_peek', NULL, NULL, 'proto_version', '1', 'publication_names', 'crm_migrate_bench_cdc_postgresql')",
      );
      const seconds = (performance.now() - started) / 1000;
      await client.query("SELECT pg_drop_replication_slot('bench_peek')");
      return seconds;
    },
    stop: async () => {
      await client.end();
      await server.stop();
    },
  };
}

async function mariadbKind(): Promise<Kind> {
  const server = await startOwnMariadb([
    ...BINLOG,
    '--local-infile=1',
    '--innodb-buffer-pool-size=1G',
    '--max-binlog-size=1G',
  ]);
  const admin = await mysql.createConnection(server.url());
  await admin.query('CREATE DATABASE bench_cdc_source');
  await admin.end();
  const url = server.url('bench_cdc_source');
  const file = { path: '' };
  const client = await mysql.createConnection({ uri: url, infileStreamFactory: () => createReadStream(file.path) });
  let mark: { filename: string; position: number } | undefined;
  return {
    label: 'MariaDB',
    url,
    exec: async (sql) => void (await client.query(sql)),
    load: async (path) => {
      file.path = path;
      await client.query(TABLE);
      await client.query("LOAD DATA LOCAL INFILE 'customers.tsv' INTO TABLE customers");
    },
    update: (from, n, v) =>
      `UPDATE customers SET email = CONCAT('changed.', id, '@', ELT(1 + id % ${DOMAINS.length}, ${DOMAINS.map((d) => `'${d}'`).join(',')})), city = CONCAT('Moved ', id % 97), version = ${v} WHERE id BETWEEN ${from} AND ${from + n - 1}`,
    insert: async (rows, v) => {
      await client.query('INSERT INTO customers VALUES ?', [
        rows.map((c) => [c.id, c.first_name, c.last_name, c.email, c.phone, c.birth_date, c.city, 0, v]),
      ]);
    },
    remove: (from, n) => `DELETE FROM customers WHERE id BETWEEN ${from} AND ${from + n - 1}`,
    mark: async () => {
      const [rows] = await client.query('SHOW MASTER STATUS');
      const at = (rows as { File: string; Position: number }[])[0];
      mark = at ? { filename: at.File, position: at.Position } : undefined;
    },
    decodeOnly: async () => {
      // The binlog's row events since the mark, read and decoded by zongji, applied nowhere.
      const started = performance.now();
      const zongji = new ZongJi({
        host: '127.0.0.1',
        port: server.port,
        user: 'root',
        password: '',
        dateStrings: true,
      });
      let rows = 0;
      await new Promise<void>((resolve, reject) => {
        zongji.on('binlog', (event: ZongJiEvent) => {
          rows += (event as { rows?: unknown[] }).rows?.length ?? 0;
          if (rows >= CHANGES) resolve();
        });
        zongji.on('error', reject);
        zongji.start({
          serverId: 424242,
          ...mark,
          includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
        });
      });
      zongji.stop();
      return (performance.now() - started) / 1000;
    },
    stop: async () => {
      await client.end();
      await server.stop();
    },
  };
}

/** The changes of the saturation phase: transactions of 100 rows, updates above, inserts past the end, some deletes. */
async function writeChanges(kind: Kind, first: number): Promise<number> {
  // New customers as varied as the snapshot's, numbered past its end.
  let next = ROWS;
  let made = 0;
  let v = first;
  for (let t = 0; made < CHANGES; t++) {
    const r = t % 10;
    const at = 1 + ((t * 100) % (ROWS - 100));
    if (r >= 6 && r < 9) {
      await kind.insert(PEOPLE.slice(next, next + 100), v);
      next += 100;
    } else await kind.exec(r < 6 ? kind.update(at, 100, v) : kind.remove(at + 50_000 > ROWS ? at : at + 50_000, 100));
    made += 100;
    v += 1;
  }
  // The last transaction updates rows, so the target's newest version says when everything has landed.
  await kind.exec(kind.update(1, 100, v));
  return v + 1;
}

async function benchSource(kind: Kind): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-migrate-cdc-'));
  try {
    const tsv = path.join(dir, 'customers.tsv');
    writeTsv(tsv);
    await kind.load(tsv);
    await withScratchDatabase(`bench_cdc_${kind.label.toLowerCase()}`, async (target) => {
      const planFile = path.join(dir, 'plan.yaml');
      writeFileSync(planFile, PLAN(`bench_cdc_${kind.label.toLowerCase()}`, kind.url, target));
      if ((await cli(['cdc', 'setup', planFile])).code !== 0) throw new Error('cdc setup failed');
      let started = performance.now();
      if ((await cli(['run', planFile])).code !== 0) throw new Error('the snapshot failed');
      const snapshotRate = ROWS / ((performance.now() - started) / 1000);
      // Saturation: the changes wait in the log, then one follower takes them all.
      await kind.mark();
      let version = await writeChanges(kind, 1);
      const decodeSeconds = await kind.decodeOnly();
      const last = version - 1;
      const landed = () =>
        withClient(target, async (c) =>
          Number((await c.query<{ v: number | null }>('SELECT max(version) AS v FROM people')).rows[0]?.v ?? 0),
        );
      started = performance.now();
      let follower = follow(planFile);
      // Start-up (the process, the plan's checks, the stream's start) until the first transaction lands, apart.
      while ((await landed()) < 1) await sleep(20);
      const firstAt = performance.now();
      while ((await landed()) < last) await sleep(50);
      const saturationSeconds = (performance.now() - started) / 1000;
      const steadySeconds = (performance.now() - firstAt) / 1000;
      await follower.stop();
      // Latency: a writer at a fixed rate, one transaction of rate/10 updates every 100 ms.
      follower = follow(planFile);
      await sleep(2000);
      const committed = new Map<number, number>();
      const seen: number[] = [];
      let polling = true;
      const poller = (async () => {
        let high = version - 1;
        while (polling) {
          const now = await landed();
          const at = performance.now();
          for (let v = high + 1; v <= now; v++) seen.push(at - (committed.get(v) ?? at));
          high = Math.max(high, now);
          await sleep(10);
        }
      })();
      const per = Math.max(1, Math.round(RATE / 10));
      const until = performance.now() + SECONDS * 1000;
      for (let t = 0; performance.now() < until; t++) {
        const tick = performance.now();
        await kind.exec(kind.update(1 + ((t * per) % (ROWS - per)), per, version));
        committed.set(version, performance.now());
        version += 1;
        await sleep(Math.max(0, 100 - (performance.now() - tick)));
      }
      while ((await landed()) < version - 1) await sleep(20);
      await sleep(50);
      polling = false;
      await poller;
      const lines = await follower.stop();
      const own = lines.at(-1)?.latency;
      const sorted = [...seen].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
      const verified = await cli(['verify', planFile]);
      console.log(`\n${kind.label} → PostgreSQL, ${fmt(ROWS)} customers`);
      console.log(`  snapshot (run):                     ${fmt(snapshotRate)} rows/s`);
      console.log(
        `  saturation, ${fmt(CHANGES)} changes waiting: ${fmt((CHANGES - 100) / steadySeconds)} changes/s once streaming (${steadySeconds.toFixed(1)} s), ${fmt(CHANGES / saturationSeconds)} changes/s with start-up (${(saturationSeconds - steadySeconds).toFixed(1)} s)`,
      );
      console.log(
        `  baseline, log decoded, nothing applied: ${fmt(CHANGES / decodeSeconds)} changes/s (${decodeSeconds.toFixed(1)} s)`,
      );
      console.log(
        `  latency at ${fmt(RATE)} changes/s, commit to readable in target: p50 ${fmt(q(0.5))} ms, p99 ${fmt(q(0.99))} ms (${fmt(seen.length)} transactions)`,
      );
      if (own)
        console.log(
          `  the follower's own figures (source commit time to target commit): p50 ${fmt(own.p50Ms)} ms, p99 ${fmt(own.p99Ms)} ms`,
        );
      console.log(`  verify: ${verified.code === 0 ? 'equal' : `DIFFERENT (exit ${verified.code})`}`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const make of values.source === 'both'
  ? [postgresKind, mariadbKind]
  : values.source === 'mariadb'
    ? [mariadbKind]
    : [postgresKind]) {
  const kind = await make();
  try {
    await benchSource(kind);
  } finally {
    await kind.stop();
  }
}
