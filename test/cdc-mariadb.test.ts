import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CrmMigrateError } from '../src/index.js';
import { followPlan, runPlan } from '../src/index.js';
import { changeCaptureSuite } from './helpers/cdc-suite.js';
import { followedMariadb } from './helpers/followed-mariadb.js';
import { startOwnMariadb, type OwnMariadb } from '../scripts/servers/own-mariadb.js';

// Change capture from MariaDB through its binlog (row format, whole row images), on a server of the test's
// own: the shared scenarios (helpers/cdc-suite.ts), then a binlog purged while the follower was away.

let server: OwnMariadb;
beforeAll(async () => {
  server = await startOwnMariadb();
}, 60_000);
afterAll(() => server?.stop());

changeCaptureSuite(
  'MariaDB',
  () => server,
  (name) => followedMariadb(server, name),
  (fixture) => {
    it('refuses to go on when the binlog it needs was purged: a new snapshot is needed', async () => {
      const f = await fixture();
      await f.setup();
      await runPlan(f.plan());
      // MariaDB keeps a binlog until InnoDB has flushed what it logged (its binlog checkpoint): purge until it goes.
      const admin = await mysql.createConnection(server.url());
      const logs = async () =>
        ((await admin.query('SHOW BINARY LOGS'))[0] as { Log_name: string }[]).map((r) => r.Log_name);
      // The file the snapshot's position is in, whichever it is, goes: only the new one is left.
      const current = async () => ((await admin.query('SHOW MASTER STATUS'))[0] as { File: string }[])[0]?.File;
      const snapshotFile = await current();
      await admin.query('FLUSH BINARY LOGS');
      for (let i = 0; i < 50 && (await logs()).length > 1; i++) {
        await sleep(200);
        await admin.query('PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 DAY');
      }
      expect(await logs()).not.toContain(snapshotFile);
      await admin.end();
      const error = await followPlan(f.plan(), { signal: new AbortController().signal }).catch((e: unknown) => e);
      expect((error as CrmMigrateError).code).toBe('E_STATE');
      expect((error as CrmMigrateError).message).toMatch(/has been purged/);
    }, 60_000);
  },
);
