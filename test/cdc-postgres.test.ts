import { afterAll, beforeAll, expect, it } from 'vitest';
import { CrmMigrateError, followPlan, runPlan, withChangeFeed } from '../src/index.js';
import type { CdcFixture } from './helpers/cdc-fixture.js';
import { changeCaptureSuite } from './helpers/cdc-suite.js';
import { followedPostgres } from './helpers/followed-postgres.js';
import { LOGICAL_REPLICATION, startOwnPostgres, type OwnPostgres } from './helpers/own-postgres.js';

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
