import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../src/cli/main.js';
import { CrmMigrateError, followPlan, previewPlan, runPlan, streamOf, withChangeFeed } from '../src/index.js';
import { captureIo } from './helpers/io.js';
import type { CdcFixture } from './helpers/cdc-fixture.js';
import { changeCaptureSuite } from './helpers/cdc-suite.js';
import { followedPostgres } from './helpers/followed-postgres.js';
import { LOGICAL_REPLICATION, startOwnPostgres, type OwnPostgres } from '../scripts/servers/own-postgres.js';

// Change capture from PostgreSQL through logical replication, on a server of the test's own started with
// wal_level=logical: the shared scenarios (helpers/cdc-suite.ts), then what is PostgreSQL's own — the
// publication and slot cdc setup makes, a slot dropped and made again, a slot kept moving while idle.

let server: OwnPostgres;
beforeAll(async () => {
  server = await startOwnPostgres(LOGICAL_REPLICATION);
}, 60_000);
afterAll(() => server?.stop());

changeCaptureSuite(
  'PostgreSQL',
  () => server,
  (name) => followedPostgres(server, name),
  (fixture) => {
    let f: CdcFixture;
    it('refuses to start before cdc setup, naming what is missing, and writes nothing', async () => {
      f = await fixture();
      await expect(runPlan(f.plan())).rejects.toThrow(/publication .* has contacts[\s\S]*replication slot/);
      expect(await f.target.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'people'")).toEqual([]);
      // `plan` says the same, as warnings at the entity's strategy line.
      const { warnings } = await previewPlan(f.plan(), { sample: 0 });
      expect(warnings.map((w) => w.message)).toContain(
        `change capture needs: publication ${streamOf(f.plan(), [{ from: 'contacts' }]).name} has contacts`,
      );
      expect(warnings[0]?.location?.line).toBe(f.text.split('\n').findIndex((l) => l.includes('strategy: cdc')) + 1);
    });

    it('cdc setup --print, setup, status and teardown from the command line', async () => {
      f = await fixture();
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'cdc-cli-')), 'plan.yaml');
      writeFileSync(file, f.text);
      const name = streamOf(f.plan(), []).name;
      let io = captureIo();
      expect(await main(['cdc', 'setup', file, '--print'], io)).toBe(0);
      expect(io.stdout).toEqual([
        `CREATE PUBLICATION "${name}" FOR TABLE "contacts", "notes";`,
        `SELECT pg_create_logical_replication_slot('${name}', 'pgoutput');`,
      ]);
      io = captureIo();
      expect(await main(['cdc', 'status', file], io)).toBe(1);
      expect(io.stdout.join('\n')).toMatch(/MISSING replication slot/);
      expect(await main(['cdc', 'setup', file], captureIo())).toBe(0);
      io = captureIo();
      expect(await main(['cdc', 'status', file, '--json'], io)).toBe(0);
      const status = JSON.parse(io.stdout.join('')) as { stream: { exists: boolean; active: boolean } };
      expect(status.stream).toMatchObject({ exists: true, active: false });
      expect(await main(['cdc', 'teardown', file], captureIo())).toBe(0);
      expect(await f.source.count(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = '${name}'`)).toBe(
        0,
      );
    });

    it('refuses a slot made again after a drop: the changes in between are gone, a new snapshot is needed', async () => {
      f = await fixture();
      await f.setup();
      await runPlan(f.plan());
      await f.followUntil(async () => true);
      await f.source.exec(`UPDATE contacts SET first_name = 'Unseen' WHERE id = 1`);
      await withChangeFeed(f.plan(), (feed, stream) => feed.teardown(stream));
      await f.setup();
      const error = await followPlan(f.plan(), { signal: new AbortController().signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CrmMigrateError);
      expect((error as CrmMigrateError).code).toBe('E_STATE');
      expect(String((error as CrmMigrateError).hint)).toMatch(/new snapshot/);
    }, 60_000);

    it('lets the slot move on while the followed tables are idle and others change', async () => {
      f = await fixture();
      await f.setup();
      await runPlan(f.plan());
      await f.source.exec('CREATE TABLE other (id serial PRIMARY KEY, v text)');
      await f.source.exec(`INSERT INTO other (v) SELECT 'x' FROM generate_series(1, 5000)`);
      const status = () => withChangeFeed(f.plan(), (feed, stream) => feed.status(stream));
      const written = (await status()).current ?? '';
      const lsn = (text: string) => {
        const [hi = '0', lo = '0'] = text.split('/');
        return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
      };
      await f.followUntil(async () => lsn((await status()).confirmed ?? '0/0') >= lsn(written));
      expect(lsn((await status()).confirmed ?? '0/0')).toBeGreaterThanOrEqual(lsn(written));
    }, 60_000);
  },
);
