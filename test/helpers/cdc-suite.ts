import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CrmMigrateError, followPlan, runPlan } from '../../src/index.js';
import { cdcFixture, killedTenTimes, randomWriter, type CdcFixture, type FollowedSource } from './cdc-fixture.js';

/** What the shared scenarios need of a database server of the test's own. */
export interface FollowedServer {
  restart(): Promise<void>;
}

export const people = (f: CdcFixture) =>
  f.target.query<{ id: number; first_name: string; email: string | null }>(
    'SELECT id, first_name, email FROM people ORDER BY id',
  );

/**
 * The scenarios every change-capture source must pass, each ending with verify equal: the snapshot and the
 * stream through the mapping, writes during the snapshot, a transaction of 100,000 rows, a source restart, a
 * DDL change, and ten SIGKILLs of sync --follow. `extra` adds the database's own (slots, purged binlogs).
 */
export function changeCaptureSuite(
  label: string,
  server: () => FollowedServer,
  makeSource: (name: string) => Promise<FollowedSource>,
  extra: (
    fixture: (options?: { rows?: number; batchSize?: number; parallel?: number }) => Promise<CdcFixture>,
  ) => void = () => undefined,
): void {
  describe(`strategy: cdc from ${label}`, () => {
    let f: CdcFixture;
    const fixture = async (options: { rows?: number; batchSize?: number; parallel?: number } = {}) => {
      f = await cdcFixture(makeSource, options);
      return f;
    };
    afterEach(() => f?.drop(), 30_000);

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

    it('a child moved to a parent made after the parents were read ends pointing at it', async () => {
      await fixture({ rows: 20_000, batchSize: 200 });
      await f.setup();
      // While the contacts are being read, and so before the notes are: a contact the read does not see, and a
      // note moved to it. The note's snapshot finds no contact to point at; the stream must put that right.
      let meanwhile: Promise<void> | undefined;
      await runPlan(f.plan(), {
        onProgress: (p) => {
          if (p.entity === 'contacts' && p.counts.read >= 1000 && !meanwhile)
            meanwhile = f.source.exec(
              `INSERT INTO contacts VALUES (0, 'Early', 'Comer', 'early@example.org', 0)`,
              `UPDATE notes SET contact_id = 0 WHERE id = 1`,
            );
        },
      });
      await meanwhile;
      await f.source.exec(`INSERT INTO contacts VALUES (999999, 'Last', 'One', 'last@example.org', 0)`);
      await f.followUntil(() => f.arrived(999_999));
      expect(await f.target.query('SELECT person_id FROM notes WHERE id = 1')).toEqual([{ person_id: 0 }]);
      expect(await f.equal()).toBe(true);
    }, 120_000);

    /** The snapshot of the default fixture with a second note on contact 7 (notes 6 and 300). */
    const snapshotWithTwoNotesOn7 = async () => {
      await fixture();
      await f.source.exec(`INSERT INTO notes VALUES (300, 7, 'a second note on contact 7')`);
      await f.setup();
      await runPlan(f.plan());
    };

    it('a parent removed for good leaves its children by their orphan policy, not pointing at nothing', async () => {
      await snapshotWithTwoNotesOn7();
      // Notes 6 and 300 are on contact 7, note 7 on 8, note 8 on 9, note 9 on 10. The legacy CRM keeps notes
      // whose contact is gone; in the new one they must not point at a record that is not there.
      await f.source.exec(
        `DELETE FROM contacts WHERE id = 7`,
        `UPDATE contacts SET deleted = 1 WHERE id = 8`,
        `UPDATE contacts SET id = 9009 WHERE id = 9`,
        `INSERT INTO contacts VALUES (999999, 'Last', 'One', 'last@example.org', 0)`,
      );
      await f.followUntil(() => f.arrived(999_999));
      expect(await f.target.query('SELECT id, person_id FROM notes WHERE id IN (6, 7, 8, 9, 300) ORDER BY id')).toEqual(
        [
          { id: 6, person_id: null },
          { id: 7, person_id: null },
          { id: 8, person_id: null },
          { id: 9, person_id: 10 },
          { id: 300, person_id: null },
        ],
      );
      expect(await f.equal()).toBe(true);
    }, 60_000);

    it('a parent restored from the recycle bin gets its children back', async () => {
      await snapshotWithTwoNotesOn7();
      const notesOf7 = () => f.target.query('SELECT id, person_id FROM notes WHERE id IN (6, 300) ORDER BY id');
      await f.source.exec(`UPDATE contacts SET deleted = 1 WHERE id = 7`);
      await f.followUntil(async () => !(await f.arrived(7)));
      expect(await notesOf7()).toEqual([
        { id: 6, person_id: null },
        { id: 300, person_id: null },
      ]);
      expect(await f.equal()).toBe(true);
      // Restored in the legacy CRM: the contact comes back, and its notes point at it again.
      await f.source.exec(`UPDATE contacts SET deleted = 0 WHERE id = 7`);
      await f.followUntil(() => f.arrived(7));
      expect(await notesOf7()).toEqual([
        { id: 6, person_id: 7 },
        { id: 300, person_id: 7 },
      ]);
      expect(await f.equal()).toBe(true);
    }, 60_000);

    it('a snapshot in chunks on two workers, written to meanwhile, loses and doubles nothing', async () => {
      await fixture({ rows: 62_000, batchSize: 2000, parallel: 2 });
      await f.setup();
      const writer = randomWriter(f.source, 62_001);
      const summary = await runPlan(f.plan());
      const made = await writer.stop();
      expect(made).toBeGreaterThan(5);
      // Less what the writer deleted before its chunk was read; 62,000 rows so that it stays three chunks of 20,000.
      expect(summary.entities.contacts?.read).toBeGreaterThan(61_000);
      expect(
        await f.target.query("SELECT 1 FROM _crm_migrate.checkpoints WHERE entity = 'contacts#chunk-2'"),
      ).toHaveLength(1);
      await f.source.exec(`INSERT INTO contacts VALUES (999999, 'Last', 'One', 'last@example.org', 0)`);
      await f.followUntil(() => f.arrived(999_999));
      expect(await f.equal()).toBe(true);
    }, 120_000);

    it('a run stopped while storing the stream starts gives the rest the start it stored', async () => {
      await fixture({ rows: 20_000, batchSize: 200 });
      await f.setup();
      const stop = new AbortController();
      const stopped = await runPlan(f.plan(), {
        signal: stop.signal,
        onProgress: (p) => {
          if (p.entity === 'contacts') stop.abort();
        },
      });
      expect(stopped.status).toBe('interrupted');
      const starts = "SELECT entity, last_key FROM _crm_migrate.checkpoints WHERE entity LIKE '%#changes' ORDER BY 1";
      const [contacts] = await f.target.query<{ entity: string; last_key: unknown }>(starts);
      // As if the process died between storing the contacts' start and the notes'.
      await f.target.query("DELETE FROM _crm_migrate.checkpoints WHERE entity = 'notes#changes'");
      await f.source.exec(`UPDATE contacts SET first_name = 'Meanwhile' WHERE id = 3`);
      expect((await runPlan(f.plan())).resumed).toBe(true);
      expect(await f.target.query(starts)).toEqual([contacts, { ...contacts, entity: 'notes#changes' }]);
      await f.source.exec(`INSERT INTO contacts VALUES (999999, 'Last', 'One', 'last@example.org', 0)`);
      await f.followUntil(() => f.arrived(999_999));
      expect(await f.equal()).toBe(true);
    }, 120_000);

    it('a chunked snapshot stopped and resumed keeps the stream start it stored first', async () => {
      await fixture({ rows: 62_000, batchSize: 2000, parallel: 2 });
      await f.setup();
      const writer = randomWriter(f.source, 62_001);
      const stop = new AbortController();
      const stopped = await runPlan(f.plan(), {
        signal: stop.signal,
        onProgress: (p) => {
          if (p.entity === 'contacts' && p.counts.read > 10_000) stop.abort();
        },
      });
      expect(stopped.status).toBe('interrupted');
      const start = await f.target.query(
        "SELECT last_key FROM _crm_migrate.checkpoints WHERE entity = 'contacts#changes'",
      );
      expect((await runPlan(f.plan())).resumed).toBe(true);
      await writer.stop();
      // The position the snapshot started from, not a later one: what changed meanwhile is replayed, not lost.
      expect(
        await f.target.query("SELECT last_key FROM _crm_migrate.checkpoints WHERE entity = 'contacts#changes'"),
      ).toEqual(start);
      await f.source.exec(`INSERT INTO contacts VALUES (999999, 'Last', 'One', 'last@example.org', 0)`);
      await f.followUntil(() => f.arrived(999_999));
      expect(await f.equal()).toBe(true);
    }, 120_000);

    it('applies a transaction of 100,000 rows, committing it in batches', async () => {
      await fixture();
      await f.setup();
      await runPlan(f.plan());
      await f.source.exec(f.source.bulkInsert(10_001, 110_000));
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
      // Restarted once the follower follows: a restart while it is still connecting, as a loaded machine can make
      // it, tests its start instead (which fails, as it should, with the source down).
      const caughtUp = Date.now() + 30_000;
      while (Date.now() < caughtUp && (await people(f)).find((r) => r.id === 1)?.first_name !== 'Before')
        await sleep(50);
      await server().restart();
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

    it("never writes over a record the new CRM made: the change is quarantined as someone else's key", async () => {
      await fixture();
      await f.setup();
      await runPlan(f.plan());
      // The new CRM, live beside the old one, hands out id 5000 to a record of its own.
      await f.target.query(
        "INSERT INTO people (id, first_name, last_name, email) VALUES (5000, 'Theirs', 'Own', NULL)",
      );
      await f.source.exec(
        `INSERT INTO contacts VALUES (5000, 'Legacy', 'Row', 'legacy@example.org', 0)`,
        `INSERT INTO contacts VALUES (5001, 'After', 'It', 'after@example.org', 0)`,
      );
      await f.followUntil(() => f.arrived(5001));
      expect((await people(f)).find((r) => r.id === 5000)?.first_name).toBe('Theirs');
      const open = await f.target.query<{ source_key: string; reasons: string }>(
        "SELECT source_key, reasons::text AS reasons FROM _crm_migrate.quarantine WHERE entity = 'contacts'",
      );
      expect(open.map((q) => q.source_key)).toEqual(['5000']);
      expect(open[0]?.reasons).toMatch(/key_exists/);
    }, 60_000);

    it('stops on a TRUNCATE of a followed table rather than empty the target', async () => {
      await fixture();
      await f.setup();
      await runPlan(f.plan());
      const following = followPlan(f.plan(), { signal: new AbortController().signal, maxWaitMs: 20 });
      following.catch(() => undefined);
      await f.source.exec('TRUNCATE TABLE notes');
      const error = await following.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CrmMigrateError);
      expect((error as CrmMigrateError).code).toBe('E_STATE');
      expect((error as CrmMigrateError).message).toMatch(/notes was emptied in the source \(TRUNCATE\)/);
      expect(Number((await f.target.query<{ n: string }>('SELECT count(*) AS n FROM notes'))[0]?.n)).toBe(250);
    }, 60_000);

    it('a sync --follow killed with SIGKILL ten times at random ends equal to the source', async () => {
      await fixture({ rows: 2000 });
      await f.setup();
      await runPlan(f.plan());
      const last = await killedTenTimes(f, 2001);
      expect(last.code).toBe(0);
      expect(await f.equal()).toBe(true);
      // The session's report: at least the last row's insert, and its lag charted or said too short to chart.
      expect(Number(/data-count="insert">([\d,]+)</.exec(last.report)?.[1]?.replace(/,/g, ''))).toBeGreaterThanOrEqual(
        1,
      );
      expect(last.report).toMatch(/data-chart="(lag|empty)"/);
    }, 180_000);

    extra(fixture);
  });
}
