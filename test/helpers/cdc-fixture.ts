import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { followPlan, parsePlan, verifyPlan, withChangeFeed, type FollowProgress, type Plan } from '../../src/index.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from './databases.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/crm-migrate.js');

/** A source database on a server of the test's own, with its change log on (PostgreSQL or MariaDB). */
export interface FollowedSource {
  readonly url: string;
  /** Runs statements, one call each, in order (each its own transaction unless it says otherwise). */
  exec(...sql: string[]): Promise<void>;
  count(sql: string): Promise<number>;
  /** `n` contacts and `n / 2` notes, as the fixture's plan expects. */
  seed(n: number): Promise<void>;
  /** One statement inserting the contacts with ids `from` to `to`: one transaction of many rows. */
  bulkInsert(from: number, to: number): string;
  drop(): Promise<void>;
}

/**
 * A test's session on a source it restarts: made when first needed, and made again, once, when a statement finds
 * it dropped (`dropped` matches the driver's words for that). Statements run one call each, in order.
 */
export function reconnecting<S>(
  connect: () => Promise<S>,
  dropped: RegExp,
  run: (session: S, sql: string) => Promise<unknown>,
): { session(): Promise<S>; exec(...sql: string[]): Promise<void>; opened(): Promise<S> | undefined } {
  let current: Promise<S> | undefined;
  const session = () => (current ??= connect());
  return {
    session,
    opened: () => current,
    exec: async (...sql) => {
      for (const s of sql) {
        try {
          await run(await session(), s);
        } catch (error) {
          if (!dropped.test(String(error))) throw error;
          current = undefined;
          await run(await session(), s);
        }
      }
    },
  };
}

/**
 * A source shaped like a legacy CRM (a deleted flag, emails typed by hand, notes pointing at contacts), a
 * target database, and the plan that follows the source into the target.
 */
export interface CdcFixture {
  readonly source: FollowedSource;
  readonly target: TestPostgres;
  readonly text: string;
  plan(): Plan;
  setup(): Promise<void>;
  /** Follows in the background until `until` holds (30 s at most), then stops and returns what it did. */
  followUntil(until: () => Promise<boolean>): Promise<FollowProgress | undefined>;
  /** A contact with this id has reached the target. */
  arrived(id: number): Promise<boolean>;
  equal(): Promise<boolean>;
  drop(): Promise<void>;
}

export function planText(name: string, source: string, target: string, batchSize = 500, parallel = 1): string {
  return `version: 1
name: ${name}
source: "${source}"
target: "${target}"
batch_size: ${batchSize}
parallel: ${parallel}
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
}

export async function cdcFixture(
  makeSource: (name: string) => Promise<FollowedSource>,
  options: { rows?: number; batchSize?: number; parallel?: number } = {},
): Promise<CdcFixture> {
  const name = `cdc_${randomBytes(5).toString('hex')}`;
  const source = await makeSource(name);
  await source.seed(options.rows ?? 500);
  const target = await createPostgresDatabase();
  const text = planText(name, source.url, target.url, options.batchSize, options.parallel);
  const plan = () => parsePlan(text, 'plan.yaml');
  return {
    source,
    target,
    text,
    plan,
    setup: () => withChangeFeed(plan(), (feed, stream) => feed.setup(stream)),
    followUntil: async (until) => {
      const stop = new AbortController();
      const following = followPlan(plan(), { signal: stop.signal, maxWaitMs: 20, retryMs: 200 });
      following.catch(() => undefined);
      const deadline = Date.now() + 30_000;
      try {
        while (Date.now() < deadline && !(await until())) await sleep(50);
      } finally {
        stop.abort();
      }
      return following;
    },
    arrived: async (id) => (await target.query('SELECT 1 FROM people WHERE id = $1', [id])).length > 0,
    // When not equal, say how (counts and the keys that differ, test data only): a failure under load must be
    // told apart from a late follower at once, not rerun until it passes.
    equal: async () => {
      const summary = await verifyPlan(plan(), { showValues: true });
      if (!summary.equal)
        for (const e of summary.entities.filter((x) => x.equal !== x.targetRows || x.missing + x.extra + x.changed > 0))
          console.error(
            `verify ${e.entity}: source ${e.sourceRows}, target ${e.targetRows}, missing ${e.missing}, extra ${e.extra}, changed ${e.changed}, stale ${e.stale}`,
            JSON.stringify(e.differences.slice(0, 5)),
          );
      return summary.equal;
    },
    drop: async () => {
      await withChangeFeed(plan(), (feed, stream) => feed.teardown(stream)).catch(() => undefined);
      await target.drop();
      await source.drop();
    },
  };
}

/**
 * Random changes of every kind, in small transactions, until stopped: inserts (ids from `nextId` up), updates,
 * key changes, deletes, rows marked deleted, and notes moved between contacts. Resolves to the changes made.
 */
export function randomWriter(source: FollowedSource, nextId: number): { stop(): Promise<number> } {
  let running = true;
  let made = 0;
  let id = nextId;
  const pick = () => 1 + Math.floor(Math.random() * (id - 1));
  const loop = (async () => {
    while (running) {
      const r = Math.random();
      if (r < 0.3)
        await source.exec(
          `INSERT INTO contacts (id, first_name, last_name, email, deleted) VALUES (${id++}, 'New', 'Person', 'new${id}@example.org', 0)`,
        );
      else if (r < 0.55) await source.exec(`UPDATE contacts SET first_name = 'Upd${made}' WHERE id = ${pick()}`);
      else if (r < 0.6) await source.exec(`UPDATE contacts SET id = ${id++} WHERE id = ${pick()}`);
      else if (r < 0.7) await source.exec(`DELETE FROM contacts WHERE id = ${pick()}`);
      else if (r < 0.75) await source.exec(`UPDATE contacts SET deleted = 1 WHERE id = ${pick()}`);
      else if (r < 0.9)
        await source.exec(`UPDATE notes SET contact_id = ${pick()} WHERE id = ${1 + Math.floor(Math.random() * 100)}`);
      else
        await source.exec(
          `INSERT INTO notes (id, contact_id, body) VALUES (${100_000 + made}, ${pick()}, 'later note')`,
        );
      made += 1;
      await sleep(2);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return made;
    },
  };
}

/**
 * `crm-migrate sync PLAN --follow` killed with SIGKILL ten times at random moments while a writer changes the
 * source, then run once more until a last row arrives and stopped with SIGTERM: resolves to that run's exit
 * code and the HTML report it wrote.
 */
export async function killedTenTimes(f: CdcFixture, nextId: number): Promise<{ code: number | null; report: string }> {
  const tmp = tempDir();
  const file = path.join(tmp.dir, 'plan.yaml');
  writeFileSync(file, f.text);
  try {
    const writer = randomWriter(f.source, nextId);
    for (let i = 0; i < 10; i++) {
      const child = spawn(process.execPath, [BIN, 'sync', file, '--follow'], { stdio: 'ignore' });
      await sleep(300 + Math.random() * 1200);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
    }
    await writer.stop();
    await f.source.exec(`INSERT INTO contacts VALUES (999999, 'Last', 'One', 'last@example.org', 0)`);
    const child = spawn(process.execPath, [BIN, 'sync', file, '--follow'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await f.arrived(999_999))) await sleep(100);
    child.kill('SIGTERM');
    const code = await exited;
    const reports = path.join(tmp.dir, 'reports');
    const written = readdirSync(reports).filter((name) => name.includes('-follow-'));
    return { code, report: written.length === 1 ? readFileSync(path.join(reports, written[0]), 'utf8') : '' };
  } finally {
    tmp.remove();
  }
}
