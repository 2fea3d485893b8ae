import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';

// crm-migrate cannot change the old CRM, not even through a bug or a view that writes: the source is read in
// read-only transactions (PostgreSQL) or opened read-only (SQLite).

const plan = (source: string, target: string, table: string) => `version: 1
source: "${source}"
target: "${target}"
entities:
  customers:
    from: ${table}
    into: people
    key: id
    fields: { id: id, name: name }
`;

describe('read-only sources', () => {
  let db: TestPostgres;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    db = await createPostgresDatabase();
    tmp = tempDir();
  });
  afterEach(async () => {
    await db.drop();
    tmp.remove();
  });

  it('PostgreSQL: a view whose function writes fails the read, and nothing is written to the source', async () => {
    await db.query('CREATE TABLE customers (id int PRIMARY KEY, name text)');
    await db.query("INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bo')");
    await db.query('CREATE TABLE side_effects (n int)');
    await db.query(
      `CREATE FUNCTION sneaky(i int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$ BEGIN INSERT INTO side_effects VALUES (i); RETURN i; END $$`,
    );
    await db.query('CREATE VIEW customers_v AS SELECT sneaky(id) AS id, name FROM customers');
    const target = `sqlite:${path.join(tmp.dir, 'new.db')}`;
    await expect(runPlan(parsePlan(plan(db.url, target, 'customers_v'), 'plan.yaml'))).rejects.toThrow(
      /cannot execute INSERT in a read-only transaction \[25006/,
    );
    expect(await db.query('SELECT count(*)::int AS n FROM side_effects')).toEqual([{ n: 0 }]);
    // The plain table reads fine through the same read-only path.
    const summary = await runPlan(
      parsePlan(plan(db.url, `sqlite:${path.join(tmp.dir, 'other.db')}`, 'customers'), 'plan.yaml'),
    );
    expect(summary.entities.customers).toMatchObject({ read: 2, written: 2 });
  });

  it('SQLite: the source file is byte for byte the same after a run', async () => {
    const file = path.join(tmp.dir, 'old.db');
    const source = new Database(file);
    source.exec(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bo');",
    );
    source.close();
    const digest = () => createHash('sha256').update(readFileSync(file)).digest('hex');
    const before = digest();
    const summary = await runPlan(
      parsePlan(plan(`sqlite:${file}`, `sqlite:${path.join(tmp.dir, 'new.db')}`, 'customers'), 'plan.yaml'),
    );
    expect(summary.entities.customers).toMatchObject({ read: 2, written: 2 });
    expect(digest()).toBe(before);
  });
});
