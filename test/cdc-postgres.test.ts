import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { followPlan, parsePlan, runPlan, verifyPlan, withChangeFeed, type FollowProgress } from '../src/index.js';
import { createPostgresDatabase, type TestPostgres } from './helpers/databases.js';
import { LOGICAL_REPLICATION, startOwnPostgres, type OwnPostgres } from './helpers/own-postgres.js';

// Change capture from PostgreSQL through logical replication, on a server of the test's own started with
// wal_level=logical: the snapshot, then inserts, updates, deletes and key changes streamed through the mapping.

let server: OwnPostgres;
beforeAll(async () => {
  server = await startOwnPostgres(LOGICAL_REPLICATION);
}, 60_000);
afterAll(() => server?.stop());

interface Fixture {
  source: pg.Client;
  sourceUrl: string;
  target: TestPostgres;
  plan: string;
  drop(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const name = `cdc_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const sourceUrl = server.url(name);
  const source = new pg.Client({ connectionString: sourceUrl });
  await source.connect();
  // Shaped like a legacy CRM: a deleted flag, emails typed by hand, notes pointing at contacts.
  await source.query(
    `CREATE TABLE contacts (id integer PRIMARY KEY, first_name text, last_name text, email text, deleted smallint NOT NULL DEFAULT 0)`,
  );
  await source.query(`CREATE TABLE notes (id integer PRIMARY KEY, contact_id integer, body text)`);
  await source.query(
    `INSERT INTO contacts SELECT g, 'First' || g, 'Last' || g, 'person' || g || '@Example.COM', 0 FROM generate_series(1, 500) g`,
  );
  await source.query(`INSERT INTO notes SELECT g, 1 + g % 500, 'note ' || g FROM generate_series(1, 300) g`);
  const target = await createPostgresDatabase();
  const plan = `version: 1
name: ${name}
source: "${sourceUrl}"
target: "${target.url}"
entities:
  contacts:
    from: contacts
    where: { deleted: 0 }
    into: people
    key: id
    strategy: cdc
    deletes: hard
    fields:
      id: id
      first_name: first_name
      last_name: last_name
      email: { from: email, clean: email }
  notes:
    from: notes
    into: notes
    key: id
    strategy: cdc
    deletes: hard
    fields:
      id: id
      person_id: { ref: contacts, from: contact_id, orphans: null }
      body: body
`;
  return {
    source,
    sourceUrl,
    target,
    plan,
    drop: async () => {
      await withChangeFeed(parsePlan(plan, 'plan.yaml'), (feed, stream) => feed.teardown(stream)).catch(
        () => undefined,
      );
      await source.end();
      await target.drop();
      const a = new pg.Client({ connectionString: server.url() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Follows in the background until `until` holds (or 30 s pass), then stops it and returns its last progress. */
async function followUntil(f: Fixture, until: () => Promise<boolean>): Promise<FollowProgress | undefined> {
  const stop = new AbortController();
  const following = followPlan(parsePlan(f.plan, 'plan.yaml'), { signal: stop.signal, maxWaitMs: 20 });
  following.catch(() => undefined);
  const deadline = Date.now() + 30_000;
  try {
    while (Date.now() < deadline && !(await until())) await new Promise((r) => setTimeout(r, 50));
  } finally {
    stop.abort();
  }
  return following;
}

const people = (f: Fixture) =>
  f.target.query<{ id: number; first_name: string; email: string | null }>(
    'SELECT id, first_name, email FROM people ORDER BY id',
  );

describe('strategy: cdc from PostgreSQL', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  }, 30_000);
  afterEach(() => f.drop(), 30_000);

  it('refuses to start before cdc setup, naming what is missing, and writes nothing', async () => {
    await expect(runPlan(parsePlan(f.plan, 'plan.yaml'))).rejects.toThrow(
      /publication .* has contacts[\s\S]*replication slot/,
    );
    expect(await f.target.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'people'")).toEqual([]);
  });

  it('snapshots, then streams inserts, updates, deletes and a key change through the mapping', async () => {
    const plan = parsePlan(f.plan, 'plan.yaml');
    await withChangeFeed(plan, (feed, stream) => feed.setup(stream));
    const summary = await runPlan(plan);
    expect(summary.entities.contacts?.written).toBe(500);
    await f.source.query(`INSERT INTO contacts VALUES (501, 'Neu', 'Person', ' New@Example.com ', 0)`);
    await f.source.query(`UPDATE contacts SET first_name = 'Changed' WHERE id = 2`);
    await f.source.query(`UPDATE contacts SET deleted = 1 WHERE id = 3`);
    await f.source.query(`DELETE FROM notes WHERE id = 10`);
    await f.source.query(`DELETE FROM contacts WHERE id = 4`);
    await f.source.query(`UPDATE contacts SET id = 1000 WHERE id = 5`);
    await f.source.query(`INSERT INTO notes VALUES (301, 501, 'about the new one')`);
    const progress = await followUntil(
      f,
      async () => (await f.target.query('SELECT 1 FROM notes WHERE id = 301')).length > 0,
    );
    const rows = await people(f);
    expect(rows.find((r) => r.id === 501)?.email).toBe('new@example.com');
    expect(rows.find((r) => r.id === 2)?.first_name).toBe('Changed');
    expect(rows.map((r) => r.id)).not.toContain(3);
    expect(rows.map((r) => r.id)).not.toContain(4);
    expect(rows.map((r) => r.id)).not.toContain(5);
    expect(rows.map((r) => r.id)).toContain(1000);
    expect(await f.target.query('SELECT id FROM notes WHERE id = 10')).toEqual([]);
    const [note] = await f.target.query<{ person_id: number }>('SELECT person_id FROM notes WHERE id = 301');
    expect(note?.person_id).toBe(501);
    expect(progress?.applied).toEqual({ insert: 2, update: 3, delete: 2 });
    expect((await verifyPlan(plan)).equal).toBe(true);
  }, 60_000);
});
