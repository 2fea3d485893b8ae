import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CrmMigrateError, followPlan, runPlan } from '../src/index.js';
import { cdcFixture, randomWriter, type CdcFixture } from './helpers/cdc-fixture.js';
import { tempDir } from './helpers/databases.js';
import { followedPostgres } from './helpers/followed-postgres.js';
import { LOGICAL_REPLICATION, startOwnPostgres, type OwnPostgres } from './helpers/own-postgres.js';

// Change capture from PostgreSQL through logical replication, on a server of the test's own started with
// wal_level=logical: the snapshot, then the changes streamed through the mapping; and the ways it can break.

const BIN = path.resolve(import.meta.dirname, '../bin/crm-migrate.js');

let server: OwnPostgres;
beforeAll(async () => {
  server = await startOwnPostgres(LOGICAL_REPLICATION);
}, 60_000);
afterAll(() => server?.stop());

const people = (f: CdcFixture) =>
  f.target.query<{ id: number; first_name: string; email: string | null }>(
    'SELECT id, first_name, email FROM people ORDER BY id',
  );

describe('strategy: cdc from PostgreSQL', () => {
  let f: CdcFixture;
  const fixture = async (options: { rows?: number; batchSize?: number } = {}) => {
    f = await cdcFixture((name) => followedPostgres(server, name), options);
    return f;
  };
  afterEach(() => f?.drop(), 30_000);

  it('refuses to start before cdc setup, naming what is missing, and writes nothing', async () => {
    await fixture();
    await expect(runPlan(f.plan())).rejects.toThrow(/publication .* has contacts[\s\S]*replication slot/);
    expect(await f.target.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'people'")).toEqual([]);
  });

  it('snapshots, then streams inserts, updates, deletes and a key change through the mapping', async () => {
    await fixture();
    await f.setup();
    expect((await runPlan(f.plan())).entities.contacts?.written).toBe(500);
    await f.source.exec(
      `INSERT INTO contacts VALUES (501, 'Neu', 'Person', ' New@Example.com ', 0)`,
      `UPDATE contacts SET first_name = 'Changed' WHERE id = 2`,
      `UPDATE contacts SET deleted = 1 WHERE id = 3`,
      `DELETE FROM notes WHERE id = 10`,
      `DELETE FROM contacts WHERE id = 4`,
      `UPDATE contacts SET id = 1000 WHERE id = 5`,
      `INSERT INTO notes VALUES (301, 501, 'about the new one')`,
    );
    const progress = await f.followUntil(
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
    expect(await f.equal()).toBe(true);
  }, 60_000);

  it('loses and doubles nothing written while the snapshot is being read', async () => {
    await fixture({ rows: 30_000, batchSize: 500 });
    await f.setup();
    const writer = randomWriter(f.source, 30_001);
    await runPlan(f.plan());
    const made = await writer.stop();
    expect(made).toBeGreaterThan(20);
    await f.source.exec(`INSERT INTO contacts VALUES (999999, 'Last', 'One', 'last@example.org', 0)`);
    await f.followUntil(() => f.arrived(999_999));
    expect(await f.equal()).toBe(true);
  }, 120_000);

  it('applies a transaction of 100,000 rows, committing it in batches', async () => {
    await fixture();
    await f.setup();
    await runPlan(f.plan());
    await f.source.exec(
      `INSERT INTO contacts SELECT g, 'Bulk', 'Row' || g, 'bulk' || g || '@example.net', 0 FROM generate_series(10001, 110000) g`,
    );
    const progress = await f.followUntil(() => f.arrived(110_000));
    expect(progress?.applied.insert).toBe(100_000);
    expect(Number((await f.target.query<{ n: string }>('SELECT count(*) AS n FROM people'))[0]?.n)).toBe(100_500);
    expect(await f.equal()).toBe(true);
  }, 120_000);

  it('rides out a source restart and goes on from its stored position', async () => {
    await fixture();
    await f.setup();
    await runPlan(f.plan());
    const stop = new AbortController();
    const following = followPlan(f.plan(), { signal: stop.signal, maxWaitMs: 20, retryMs: 300 });
    following.catch(() => undefined);
    await f.source.exec(`UPDATE contacts SET first_name = 'Before' WHERE id = 1`);
    await sleep(500);
    await server.restart();
    await f.source.exec(
      `UPDATE contacts SET first_name = 'After' WHERE id = 2`,
      `INSERT INTO contacts VALUES (777, 'A', 'B', 'ab@example.org', 0)`,
    );
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !(await f.arrived(777))) await sleep(100);
    stop.abort();
    await following;
    const rows = await people(f);
    expect(rows.find((r) => r.id === 1)?.first_name).toBe('Before');
    expect(rows.find((r) => r.id === 2)?.first_name).toBe('After');
    expect(await f.equal()).toBe(true);
  }, 90_000);

  it('refuses a slot made again after a drop: the changes in between are gone, a new snapshot is needed', async () => {
    await fixture();
    await f.setup();
    await runPlan(f.plan());
    await f.followUntil(async () => true);
    await f.source.exec(`UPDATE contacts SET first_name = 'Unseen' WHERE id = 1`);
    const { withChangeFeed } = await import('../src/index.js');
    await withChangeFeed(f.plan(), (feed, stream) => feed.teardown(stream));
    await f.setup();
    const error = await followPlan(f.plan(), { signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmMigrateError);
    expect((error as CrmMigrateError).code).toBe('E_STATE');
    expect(String((error as CrmMigrateError).hint)).toMatch(/new snapshot/);
  }, 60_000);

  it('tolerates a new column it does not map, and stops on a dropped one before writing its changes', async () => {
    await fixture();
    await f.setup();
    await runPlan(f.plan());
    const following = followPlan(f.plan(), { signal: new AbortController().signal, maxWaitMs: 20 });
    following.catch(() => undefined);
    await f.source.exec(
      'ALTER TABLE contacts ADD COLUMN nickname text',
      `UPDATE contacts SET first_name = 'Seen', nickname = 'x' WHERE id = 7`,
    );
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await people(f)).find((r) => r.id === 7)?.first_name !== 'Seen') await sleep(50);
    expect((await people(f)).find((r) => r.id === 7)?.first_name).toBe('Seen');
    await f.source.exec(
      'ALTER TABLE contacts DROP COLUMN email',
      `UPDATE contacts SET first_name = 'Never' WHERE id = 8`,
    );
    const error = await following.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmMigrateError);
    expect((error as CrmMigrateError).message).toMatch(
      /columns of contacts changed in the source \(email gone or renamed\)/,
    );
    expect((await people(f)).find((r) => r.id === 8)?.first_name).toBe('First8');
  }, 60_000);

  it('lets the slot move on while the followed tables are idle and others change', async () => {
    await fixture();
    await f.setup();
    await runPlan(f.plan());
    await f.source.exec('CREATE TABLE other (id serial PRIMARY KEY, v text)');
    await f.source.exec(`INSERT INTO other (v) SELECT 'x' FROM generate_series(1, 5000)`);
    const { withChangeFeed } = await import('../src/index.js');
    const status = () => withChangeFeed(f.plan(), (feed, stream) => feed.status(stream));
    const written = (await status()).current ?? '';
    const lsn = (text: string) => {
      const [hi = '0', lo = '0'] = text.split('/');
      return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
    };
    await f.followUntil(async () => lsn((await status()).confirmed ?? '0/0') >= lsn(written));
    expect(lsn((await status()).confirmed ?? '0/0')).toBeGreaterThanOrEqual(lsn(written));
  }, 60_000);

  it('a sync --follow killed with SIGKILL ten times at random ends equal to the source', async () => {
    await fixture({ rows: 2000 });
    await f.setup();
    const tmp = tempDir();
    const file = path.join(tmp.dir, 'plan.yaml');
    writeFileSync(file, f.text);
    await runPlan(f.plan());
    const writer = randomWriter(f.source, 2001);
    for (let i = 0; i < 10; i++) {
      const child = spawn(process.execPath, [BIN, 'sync', file, '--follow'], { stdio: 'ignore' });
      await sleep(300 + Math.random() * 1200);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
    }
    await writer.stop();
    await f.source.exec(`INSERT INTO contacts VALUES (999999, 'Last', 'One', 'last@example.org', 0)`);
    const child = spawn(process.execPath, [BIN, 'sync', file, '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await f.arrived(999_999))) await sleep(100);
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    expect(await f.equal()).toBe(true);
    tmp.remove();
  }, 180_000);
});
