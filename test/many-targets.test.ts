import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { runPlan } from '../src/engine/run.js';
import { CrmMigrateError, PlanError } from '../src/errors.js';
import { newUuid } from '../src/mapping/identity.js';
import { parsePlan } from '../src/plan/load.js';
import { tempDir } from './helpers/databases.js';
import { captureIo } from './helpers/io.js';
import { scratchDatabase, type ScratchDatabase } from './helpers/sql-databases.js';

// One plan, two targets: the new CRM (PostgreSQL) and an archive of the raw contacts (a CSV folder). Each
// target is a part of its own: its state lives beside its data, and each resumes and verifies on its own.
const PLAN = (crm: string, archiveField = 'email: email') => `version: 1
name: two-targets
source: sqlite:./old.db
targets:
  crm: "${crm}"
  archive: csv:./archive
entities:
  companies:
    target: crm
    from: companies
    into: accounts
    key: id
    fields:
      id: { new_id: uuid }
      name: name
  contacts:
    target: crm
    from: contacts
    into: people
    key: id
    fields:
      id: { new_id: uuid }
      email: { from: email, clean: email }
      company_id: { from: company_id, ref: companies }
  contacts_archive:
    target: archive
    from: contacts
    into: contacts
    key: id
    fields:
      id: id
      ${archiveField}
`;

describe('several targets in one plan', () => {
  let tmp: ReturnType<typeof tempDir>;
  let crm: ScratchDatabase;
  let planFile: string;
  beforeEach(async () => {
    tmp = tempDir();
    crm = await scratchDatabase('postgres');
    const db = new Database(path.join(tmp.dir, 'old.db'));
    db.exec(
      "CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO companies VALUES (1, 'Acme'), (2, 'Globex')",
    );
    db.exec(
      "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, company_id INTEGER); INSERT INTO contacts VALUES (10, 'ANN@acme.example.com', 1), (11, 'bo at globex.example.com', 2), (12, 'broken', 2)",
    );
    db.close();
    planFile = path.join(tmp.dir, 'plan.yaml');
    writeFileSync(planFile, PLAN(crm.url));
  });
  afterEach(async () => {
    await crm.drop();
    tmp.remove();
  });

  it('runs and verifies each target as a part of its own, and a change to one part leaves the other resumable', async () => {
    const run = captureIo();
    expect(await main(['run', planFile, '--json', '--quiet', '--no-report'], run)).toBe(0);
    expect(run.stderr).toEqual(['target crm:', 'target archive:']);
    const [crmRun, archiveRun] = run.stdout.map(
      (l) => JSON.parse(l) as { plan: string; status: string; entities: Record<string, unknown> },
    );
    expect(crmRun).toMatchObject({
      plan: 'two-targets.crm',
      status: 'done',
      entities: { companies: { read: 2, written: 2 }, contacts: { read: 3, written: 2, quarantined: 1 } },
    });
    expect(Object.keys(crmRun?.entities ?? {})).toEqual(['companies', 'contacts']);
    expect(archiveRun).toMatchObject({
      plan: 'two-targets.archive',
      status: 'done',
      entities: { contacts_archive: { read: 3, written: 3 } },
    });

    const people = await crm.rows<{ email: string; company_id: string }>(
      'SELECT email, company_id FROM people ORDER BY email',
    );
    expect(people).toEqual([
      { email: 'ann@acme.example.com', company_id: newUuid('companies', '1') },
      { email: 'bo@globex.example.com', company_id: newUuid('companies', '2') },
    ]);
    expect(readFileSync(path.join(tmp.dir, 'archive', 'contacts.csv'), 'utf8')).toBe(
      'id,email\n10,ANN@acme.example.com\n11,bo at globex.example.com\n12,broken\n',
    );
    // Each part's state is in its own target: the CRM's runs are not in the archive's and the other way round.
    expect(
      (await crm.rows<{ plan: string }>('SELECT DISTINCT plan FROM _crm_migrate.runs')).map((r) => r.plan),
    ).toEqual(['two-targets.crm']);

    const verify = captureIo();
    expect(await main(['verify', planFile, '--no-report'], verify)).toBe(0);
    expect(verify.stdout.filter((l) => l.includes('source and target agree'))).toHaveLength(2);

    // The archive's mapping changes: each part's hash covers its own entities, so the CRM part's runs still
    // belong to it (an unfinished one would resume); the archive is loaded again with --fresh.
    const changedPlan = PLAN(crm.url, 'email: { from: email, clean: email }');
    expect(parsePlan(changedPlan, planFile, { target: 'crm' }).hash).toBe(
      parsePlan(PLAN(crm.url), planFile, { target: 'crm' }).hash,
    );
    expect(parsePlan(changedPlan, planFile, { target: 'archive' }).hash).not.toBe(
      parsePlan(PLAN(crm.url), planFile, { target: 'archive' }).hash,
    );
    writeFileSync(planFile, changedPlan);
    const again = captureIo();
    expect(await main(['run', planFile, '--target', 'crm', '--quiet', '--no-report'], again)).toBe(0);
    expect(again.stdout.join('\n')).toContain('had already finished');
    const fresh = captureIo();
    expect(await main(['run', planFile, '--target', 'archive', '--fresh', '--quiet', '--no-report'], fresh)).toBe(0);
    expect(readFileSync(path.join(tmp.dir, 'archive', 'contacts.csv'), 'utf8')).toBe(
      'id,email\n10,ann@acme.example.com\n11,bo@globex.example.com\n',
    );
    expect(await crm.rows('SELECT id FROM people')).toHaveLength(2);
  }, 60_000);

  it('refuses what cannot work across targets, before anything is written', async () => {
    const crossing = PLAN(crm.url).replace(
      '      id: id\n      email: email',
      '      id: id\n      company_id: { from: company_id, ref: companies }',
    );
    expect(() => parsePlan(crossing, planFile)).toThrow(PlanError);
    expect(() => parsePlan(crossing, planFile)).toThrow(
      /companies is written to target crm, contacts_archive to archive: a ref cannot cross targets/,
    );
    const unnamed = PLAN(crm.url).replace('    target: archive\n', '');
    expect(() => parsePlan(unnamed, planFile)).toThrow(
      /the plan has several targets: say which one this entity writes/,
    );
    const misspelt = PLAN(crm.url).replace('target: archive\n', 'target: archiv\n');
    expect(() => parsePlan(misspelt, planFile)).toThrow(/no target named "archiv"[^]*archive/);
    expect(() => parsePlan(PLAN(crm.url), planFile, { target: 'crn' })).toThrow(CrmMigrateError);
    // The library runs one part at a time; the whole plan is refused with the way to do it.
    await expect(runPlan(parsePlan(PLAN(crm.url), planFile))).rejects.toThrow(
      /several targets \(crm, archive\): each is run as a part of its own/,
    );
    const sync = captureIo();
    expect(await main(['sync', planFile], sync)).toBe(2);
    expect(sync.stderr.join('\n')).toMatch(/several targets.*\n.*--target crm/);
    expect(await crm.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).toEqual(
      [],
    );
  });
});
