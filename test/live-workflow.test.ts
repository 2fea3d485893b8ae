import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditHistory } from '../src/engine/audit.js';
import { openPlanTarget } from '../src/engine/connections.js';
import type { CrmMigrateError } from '../src/errors.js';
import { runPlan, type RunSummary } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchDatabase, type ScratchMigration } from './helpers/sql-databases.js';

// Day two of a live migration: the same plan run again and again while the legacy CRM keeps changing, a full
// and an incremental entity side by side, target tables that reference each other and carry a unique email,
// then a changed mapping and a fresh start. Every run must exit cleanly and leave the target exact.

const PLAN = (source: string, target: string, extra = '') => `version: 1
name: live
source: "${source}"
target: "${target}"
batch_size: 4
entities:
  companies:
    from: companies
    into: organisations
    key: id
    fields:
      id: id
      name: name
  contacts:
    from: contacts
    into: people
    key: id
    strategy: incremental
    cursor: updated_at
    fields:
      id: id
      full_name: name${extra}
      email: { from: email, clean: email }
      company_id: { from: company_id, ref: companies }
`;

const T0 = '2026-01-01 10:00:00';
const T1 = '2026-01-02 10:00:00';

/** Target tables as a new CRM has them: people reference organisations, and an email is unique. */
async function createTargetSchema(target: ScratchDatabase): Promise<void> {
  const text = target.kind === 'mysql' ? 'VARCHAR(200)' : 'TEXT';
  await target.run(`CREATE TABLE organisations (id INTEGER PRIMARY KEY, name ${text})`);
  await target.run(
    `CREATE TABLE people (id INTEGER PRIMARY KEY, full_name ${text}, email ${text}, company_id INTEGER REFERENCES organisations (id), CONSTRAINT people_email_key UNIQUE (email))`,
  );
  if (target.kind === 'mysql')
    await target.run(
      'ALTER TABLE people ADD CONSTRAINT people_company_fk FOREIGN KEY (company_id) REFERENCES organisations (id)',
    );
}

describe.each([
  ['sqlite', 'postgres'],
  ['sqlite', 'mysql'],
  ['postgres', 'sqlite'],
] as const)('the live workflow, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  const run = (options: { fresh?: boolean; extra?: string } = {}) =>
    runPlan(parsePlan(PLAN(m.source.url, m.target.url, options.extra), 'plan.yaml'), { fresh: options.fresh });
  const people = async () =>
    (
      await m.target.rows<{ id: number; full_name: string; email: string | null }>(
        'SELECT id, full_name, email FROM people ORDER BY id',
      )
    ).map((r) => [Number(r.id), r.full_name, r.email]);

  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT)');
    await m.source.run(
      'CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, email TEXT, company_id INTEGER, updated_at TIMESTAMP NOT NULL)',
    );
    await m.source.run("INSERT INTO companies VALUES (1, 'Acme'), (2, 'Globex')");
    for (let id = 1; id <= 9; id++)
      await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?)', [
        id,
        `Person ${id}`,
        `p${id}@example.org`,
        1 + (id % 2),
        T0,
      ]);
    // A second contact with person 3's email: the target's unique index rejects it.
    await m.source.run('INSERT INTO contacts VALUES (10, ?, ?, 1, ?)', ['Person Ten', 'P3@example.org', T0]);
    await createTargetSchema(m.target);
  });
  afterEach(() => m.drop());

  const expectExact = async () => {
    expect(await people()).toEqual(
      (
        await m.source.rows<{ id: number; name: string; email: string }>(
          'SELECT id, name, email FROM contacts WHERE id <> 10 ORDER BY id',
        )
      ).map((r) => [Number(r.id), r.name, r.email.toLowerCase()]),
    );
  };

  it('runs five times unchanged, then after a change, with the unique violation quarantined and the target exact', async () => {
    const first = await run();
    expect(first.status).toBe('done');
    expect(first.entities.contacts).toMatchObject({ read: 10, written: 9, quarantined: 1 });
    expect(first.reasons.map((r) => [r.entity, r.code, r.sampleKeys])).toEqual([
      ['contacts', 'unique_violation', ['10']],
    ]);
    await expectExact();
    const later: RunSummary[] = [];
    for (let i = 0; i < 4; i++) later.push(await run());
    for (const s of later) {
      expect(s.status).toBe('done');
      expect(s.entities.companies).toMatchObject({ read: 0, written: 0 });
      expect(s.entities.contacts).toMatchObject({ read: 0, written: 0 });
    }
    await m.source.run('UPDATE contacts SET name = ?, updated_at = ? WHERE id = 4', ['Person Four', T1]);
    const changed = await run();
    expect(changed.entities.contacts).toMatchObject({ read: 1, written: 1 });
    expect(changed.entities.companies).toMatchObject({ read: 0 });
    await expectExact();
    expect(
      (await m.target.rows<{ n: number }>('SELECT count(*) AS n FROM organisations')).map((r) => Number(r.n)),
    ).toEqual([2]);
    // verify agrees: the refused contact is expected in quarantine, not missing.
    const verified = await verifyPlan(parsePlan(PLAN(m.source.url, m.target.url), 'plan.yaml'));
    expect(verified.entities.map((e) => [e.entity, e.equal, e.missing, e.extra, e.changed, e.quarantined])).toEqual([
      ['companies', 2, 0, 0, 0, 0],
      ['contacts', 9, 0, 0, 0, 1],
    ]);
  });

  it('refuses a changed mapping after a finished run, and --fresh empties tables that reference each other', async () => {
    await run();
    await run();
    // A comment is not a change of mapping; a cleaning rule is, and a finished run must not pretend to be current.
    await expect(run({ extra: '\n      # the email is cleaned below' })).resolves.toMatchObject({ status: 'done' });
    const edited = () =>
      parsePlan(
        PLAN(m.source.url, m.target.url).replace('full_name: name', 'full_name: { from: name, clean: trim }'),
        'plan.yaml',
      );
    await expect(runPlan(edited())).rejects.toThrow(/mapping changed.*/);
    const fresh = await runPlan(edited(), { fresh: true });
    expect(fresh.status).toBe('done');
    expect(fresh.entities.contacts).toMatchObject({ read: 10, written: 9, quarantined: 1 });
    await expectExact();
  });
});

describe.each(['sqlite', 'postgres', 'mysql', 'csv'] as const)(
  'one run of a plan at a time, on a %s target',
  (targetKind) => {
    let m: ScratchMigration;
    let targetUrl: string;

    beforeEach(async () => {
      m = await scratchMigration('sqlite', targetKind === 'csv' ? 'sqlite' : targetKind);
      targetUrl = targetKind === 'csv' ? `csv:${m.dir}/out` : m.target.url;
      await m.source.run('CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT)');
      for (let id = 1; id <= 40; id++) await m.source.run('INSERT INTO companies VALUES (?, ?)', [id, `Company ${id}`]);
    });
    afterEach(() => m.drop());

    // A table without a primary key: two runs at once would each write every row.
    const plan = () =>
      parsePlan(
        `version: 1\nname: once\nsource: "${m.source.url}"\ntarget: "${targetUrl}"\nbatch_size: 5\nentities:\n  companies:\n    from: companies\n    into: orgs\n    key: id\n    fields:\n      id: id\n      name: name\n`,
        'plan.yaml',
      );
    const rows = async () => {
      if (targetKind !== 'csv')
        return (await m.target.rows<{ n: number }>('SELECT count(*) AS n FROM orgs')).map((r) => Number(r.n))[0];
      const file = `${m.dir}/out/orgs.csv`;
      return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').length - 1 : undefined;
    };

    it('refuses a run while another holds the target, naming it, and waits for it with --wait', async () => {
      if (targetKind !== 'csv') await m.target.run('CREATE TABLE orgs (id INTEGER, name TEXT)');
      // Another run, as the target sees it: it holds the plan's lock.
      const other = await openPlanTarget(plan());
      await other.prepare();
      expect(
        await other.lockRun('once', { host: 'crm-host', pid: 4242, startedAt: '2026-12-01T06:00:00.000Z' }, false),
      ).toBeUndefined();
      const refused = await runPlan(plan()).then(
        () => undefined,
        (e: unknown) => e as CrmMigrateError,
      );
      expect(refused?.code).toBe('E_LOCKED');
      expect(refused?.exitCode).toBe(1);
      expect(refused?.message).toMatch(
        /another run of plan once is writing to .*: process 4242 on crm-host, started 2026-12-01T06:00:00.000Z/,
      );
      expect(await rows()).toBe(targetKind === 'csv' ? undefined : 0);
      // With --wait, the run starts once the other one is done.
      const waiting = runPlan(plan(), { wait: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await other.close();
      expect((await waiting).entities.companies).toMatchObject({ read: 40, written: 40 });
      expect(await rows()).toBe(40);
    });

    it('is not blocked by a run that was killed, and records that run as failed before resuming it', async () => {
      // A process that takes the lock, starts a run, and is killed while it holds the lock.
      const script = `import { openTarget } from './dist/src/connectors/index.js';
const t = await openTarget(${JSON.stringify(targetUrl)}, { baseDir: '.' });
await t.prepare();
await t.lockRun('once', { host: (await import('node:os')).hostname(), pid: process.pid, startedAt: new Date().toISOString() }, false);
await t.state.startRun({ runId: 'killed-run', plan: 'once', planHash: ${JSON.stringify(plan().hash)}, status: 'running', startedAt: new Date().toISOString(), finishedAt: null });
console.log('locked');
setInterval(() => undefined, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: path.resolve(import.meta.dirname, '..'),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) =>
        child.stdout.on('data', (d: Buffer) => (String(d).includes('locked') ? resolve() : undefined)),
      );
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
      const summary = await runPlan(plan());
      expect(summary).toMatchObject({ runId: 'killed-run', resumed: true, status: 'done' });
      expect(summary.entities.companies).toMatchObject({ read: 40, written: 40 });
      const trail = await auditHistory(plan());
      expect(trail.map((e) => [e.runId, e.outcome, (e.details as { code?: string } | null)?.code])).toEqual([
        ['killed-run', 'failed', 'E_ABANDONED'],
        ['killed-run', 'done', undefined],
      ]);
    });
  },
);
