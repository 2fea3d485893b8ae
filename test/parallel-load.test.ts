import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlan, runPlan } from '../src/index.js';
import { fillLegacyCrm, outcome, PEOPLE, pgContent, planText } from './helpers/chunk-fixture.js';
import {
  createMysqlDatabase,
  createPostgresDatabase,
  tempDir,
  type TestMysql,
  type TestPostgres,
} from './helpers/databases.js';

// Chunked and parallel loads (src/engine/scale/) against a load in one piece, row for row, on every kind
// of target: the same rows, the same quarantine, the same accounting.

const run = (source: string, target: string, parallel: number, dir: string) =>
  runPlan(parsePlan(planText(source, target, parallel), path.join(dir, 'plan.yaml')));

describe('chunked and parallel loads', () => {
  let source: TestPostgres;
  let tmp: ReturnType<typeof tempDir>;
  const dropped: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    source = await createPostgresDatabase();
    await fillLegacyCrm(source);
    tmp = tempDir();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(dropped.map((drop) => drop()));
    await source?.drop();
    tmp?.remove();
  });

  async function postgresPair() {
    const [one, two] = await Promise.all([createPostgresDatabase(), createPostgresDatabase()]);
    dropped.push(one.drop, two.drop);
    return [one, two] as const;
  }

  it('PostgreSQL: two workers load what one does, row for row, with the same accounting', async () => {
    const [one, two] = await postgresPair();
    const single = await run(source.url, one.url, 1, tmp.dir);
    const parallel = await run(source.url, two.url, 2, tmp.dir);
    expect(outcome(parallel)).toEqual(outcome(single));
    expect(single.entities.customers?.read).toBe(PEOPLE);
    // The 150 orphans, and the orders of customers filtered out or quarantined.
    expect(single.entities.orders?.quarantined).toBeGreaterThan(150);
    const [a, b] = [await pgContent(one), await pgContent(two)];
    expect(b.customers.length).toBeGreaterThan(60_000);
    expect(b).toEqual(a);
    // It really ran as chunks: each entity's chunk checkpoints, summed into its own.
    const chunks = await two.query<{ entity: string }>(
      "SELECT entity FROM _crm_migrate.checkpoints WHERE entity LIKE 'customers#chunk-%'",
    );
    expect(chunks.length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('MariaDB: two workers load what one does, row for row', async () => {
    const [one, two] = await Promise.all([createMysqlDatabase(), createMysqlDatabase()]);
    dropped.push(one.drop, two.drop);
    const single = await run(source.url, one.url, 1, tmp.dir);
    const parallel = await run(source.url, two.url, 2, tmp.dir);
    expect(outcome(parallel)).toEqual(outcome(single));
    const rows = async (db: TestMysql) => {
      const connection = await mysql.createConnection(db.url);
      try {
        const query = async (sql: string) => (await connection.query(sql))[0];
        return {
          accounts: await query('SELECT * FROM accounts ORDER BY CAST(code AS BINARY)'),
          customers: await query('SELECT * FROM customers ORDER BY id'),
          orders: await query('SELECT * FROM orders ORDER BY id'),
        };
      } finally {
        await connection.end();
      }
    };
    expect(await rows(two)).toEqual(await rows(one));
  }, 120_000);

  it('SQLite and CSV: chunks one after another, and the same rows in the same order', async () => {
    const notes: string[] = [];
    for (const kind of ['sqlite', 'csv'] as const) {
      const url = (name: string) => (kind === 'sqlite' ? `sqlite:./${name}.db` : `csv:./${name}`);
      const plan = (name: string, parallel: number) =>
        parsePlan(planText(source.url, url(name), parallel), path.join(tmp.dir, `${name}.yaml`));
      const single = await runPlan(plan(`${kind}-one`, 1));
      const parallel = await runPlan(plan(`${kind}-two`, 2), { onNote: (m) => notes.push(m) });
      expect(outcome(parallel)).toEqual(outcome(single));
      if (kind === 'sqlite') {
        const rows = (name: string) => {
          const db = new Database(path.join(tmp.dir, `${name}.db`), { readonly: true });
          try {
            return ['accounts', 'customers', 'orders'].map((t) =>
              db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all(),
            );
          } finally {
            db.close();
          }
        };
        expect(rows('sqlite-two')).toEqual(rows('sqlite-one'));
      } else {
        for (const table of ['accounts', 'customers', 'orders'])
          expect(readFileSync(path.join(tmp.dir, 'csv-two', `${table}.csv`), 'utf8')).toBe(
            readFileSync(path.join(tmp.dir, 'csv-one', `${table}.csv`), 'utf8'),
          );
      }
    }
    expect(notes.some((n) => /one after another: .*one writer at a time/.test(n))).toBe(true);
  }, 180_000);

  it('a parallel run stopped mid-way resumes each chunk where it stood, and ends equal', async () => {
    const [one, two] = await postgresPair();
    const single = await run(source.url, one.url, 1, tmp.dir);
    const stop = new AbortController();
    const plan = parsePlan(planText(source.url, two.url, 2), path.join(tmp.dir, 'plan.yaml'));
    const stopped = await runPlan(plan, {
      signal: stop.signal,
      onProgress: (p) => {
        if (p.entity === 'customers' && p.counts.read > 20_000) stop.abort();
      },
    });
    expect(stopped.status).toBe('interrupted');
    const partial = await two.query<{ entity: string; done: boolean }>(
      "SELECT entity, done FROM _crm_migrate.checkpoints WHERE entity LIKE 'customers#chunk-%'",
    );
    expect(partial.some((c) => !c.done)).toBe(true);
    const resumed = await runPlan(plan);
    expect(resumed.resumed).toBe(true);
    // The whole accounting, the counts of each filter clause and quality finding too, as if never stopped.
    expect(outcome(resumed)).toEqual(outcome(single));
    expect(resumed.entities.customers?.read).toBe(PEOPLE);
    expect(await pgContent(two)).toEqual(await pgContent(one));
  }, 120_000);

  it('a key column that may hold NULL is loaded in one piece, with a note saying why', async () => {
    await source.query('CREATE TABLE old_leads (code TEXT, name TEXT)');
    await source.query(`INSERT INTO old_leads SELECT 'L' || g, 'Lead ' || g FROM generate_series(1, 50000) g`);
    const [target] = await postgresPair();
    const text = `version: 1
name: leads
source: ${source.url}
target: ${target.url}
parallel: 2
entities:
  leads:
    from: old_leads
    into: leads
    key: code
    fields:
      code: code
      name: name
`;
    const notes: string[] = [];
    const summary = await runPlan(parsePlan(text, path.join(tmp.dir, 'leads.yaml')), { onNote: (n) => notes.push(n) });
    expect(summary.entities.leads?.written).toBe(50_000);
    expect(notes).toEqual([
      'leads is loaded by one worker: its key column code may hold NULL, which no key range holds',
    ]);
    const chunks = await target.query("SELECT entity FROM _crm_migrate.checkpoints WHERE entity LIKE 'leads#chunk%'");
    expect(chunks).toEqual([]);
  }, 60_000);

  it('a NULL key, where the schema allows one (a SQLite text key), keeps the table in one piece', async () => {
    const file = path.join(tmp.dir, 'legacy.db');
    const db = new Database(file);
    db.exec('CREATE TABLE contacts (code TEXT PRIMARY KEY, name TEXT)');
    const insert = db.prepare('INSERT INTO contacts VALUES (?, ?)');
    db.transaction(() => {
      insert.run(null, 'no code');
      for (let i = 1; i <= 50_000; i++) insert.run(`C${i}`, `Contact ${i}`);
    })();
    db.close();
    const text = `version: 1
name: contacts
source: sqlite:./legacy.db
target: sqlite:./contacts-out.db
parallel: 2
entities:
  contacts:
    from: contacts
    into: contacts
    key: code
    fields:
      code: code
      name: name
`;
    const summary = await runPlan(parsePlan(text, path.join(tmp.dir, 'contacts.yaml')));
    expect(summary.entities.contacts?.read).toBe(50_001);
    const out = new Database(path.join(tmp.dir, 'contacts-out.db'), { readonly: true });
    try {
      expect(
        out.prepare("SELECT count(*) AS n FROM _crm_migrate_checkpoints WHERE entity LIKE 'contacts#chunk%'").get(),
      ).toEqual({ n: 0 });
      // The NULL key goes where it goes in one piece (the target's key column refuses it: quarantined, counted).
      expect(out.prepare('SELECT count(*) AS n FROM contacts').get()).toEqual({
        n: summary.entities.contacts?.written,
      });
      expect((summary.entities.contacts?.written ?? 0) + (summary.entities.contacts?.quarantined ?? 0)).toBe(50_001);
    } finally {
      out.close();
    }
  }, 60_000);

  it('a composite key splits into ranges of both columns, and loads what one piece does', async () => {
    await source.query('CREATE TABLE old_links (account INT, code TEXT, note TEXT, PRIMARY KEY (account, code))');
    // Few accounts, many codes each: chunk ends fall inside an account, so the second column decides.
    await source.query(`INSERT INTO old_links
      SELECT g % 7, (ARRAY['a', 'B', 'é', 'z'])[1 + g % 4] || g, 'note ' || g FROM generate_series(1, 60000) g`);
    const [one, two] = await postgresPair();
    const text = (target: string, parallel: number) => `version: 1
name: links
source: ${source.url}
target: ${target}
parallel: ${parallel}
entities:
  links:
    from: old_links
    into: links
    key: [account, code]
    fields:
      account: account
      code: code
      note: note
`;
    const single = await runPlan(parsePlan(text(one.url, 1), path.join(tmp.dir, 'links.yaml')));
    const parallel = await runPlan(parsePlan(text(two.url, 2), path.join(tmp.dir, 'links.yaml')));
    expect(parallel.entities).toEqual(single.entities);
    expect(single.entities.links?.written).toBe(60_000);
    const rows = (db: TestPostgres) => db.query('SELECT * FROM links ORDER BY account, code COLLATE "C"');
    expect(await rows(two)).toEqual(await rows(one));
    const chunks = await two.query("SELECT entity FROM _crm_migrate.checkpoints WHERE entity LIKE 'links#chunk-%'");
    expect(chunks.length).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
