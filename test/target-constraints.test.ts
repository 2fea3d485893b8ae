import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineStep, ok } from '../src/mapping/steps.js';
import type { Value } from '../src/values.js';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { previewPlan } from '../src/engine/preview.js';
import { listQuarantine } from '../src/engine/quarantine/quarantine.js';
import { retryQuarantine } from '../src/engine/quarantine/retry.js';
import { scratchMigration, type ScratchDatabase, type ScratchMigration } from './helpers/sql-databases.js';

// A new CRM's tables say no in their own ways: a unique email, an enum, a key that is there already, a
// trigger, a number its float column cannot hold. Each such row is quarantined with the target's reason and
// the run goes on; nothing else is lost, nothing already in the table is touched.

const PLAN = (source: string, target: string) => `version: 1
name: constraints
source: "${source}"
target: "${target}"
batch_size: 4
entities:
  contacts:
    from: contacts
    into: people
    key: id
    fields:
      id: id
      email: email
      stage: stage
      score: score
      note: note
`;

/** The target table per kind, with what it refuses: [DDL statements, codes expected per source key]. */
function targetSchema(kind: ScratchDatabase['kind']): { ddl: string[]; refused: [string, string][] } {
  const common: [string, string][] = [
    ['5', 'key_exists'],
    ['8', 'unique_violation'],
    ['21', 'rejected_by_target'],
    ['25', 'unique_violation'],
    ['26', 'unique_violation'],
  ];
  if (kind === 'postgres') {
    return {
      ddl: [
        "CREATE TYPE stage AS ENUM ('lead', 'customer')",
        'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT CONSTRAINT people_email_key UNIQUE, stage stage, score REAL, note TEXT)',
        "CREATE FUNCTION no_spam() RETURNS trigger AS $$ BEGIN IF NEW.note = 'spam' THEN RAISE EXCEPTION 'spam from %', NEW.email; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        'CREATE TRIGGER no_spam BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION no_spam()',
      ],
      refused: [...common, ['12', 'not_in_enum'], ['17', 'out_of_range']],
    };
  }
  if (kind === 'mysql') {
    return {
      ddl: [
        "CREATE TABLE people (id INTEGER PRIMARY KEY, email VARCHAR(200), stage ENUM('lead', 'customer'), score FLOAT, note TEXT, CONSTRAINT people_email_key UNIQUE (email))",
        "CREATE TRIGGER no_spam BEFORE INSERT ON people FOR EACH ROW BEGIN IF NEW.note = 'spam' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'spam'; END IF; END",
      ],
      refused: [...common, ['12', 'not_in_enum'], ['17', 'out_of_range']],
    };
  }
  return {
    ddl: [
      "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT UNIQUE, stage TEXT CHECK (stage IN ('lead', 'customer')), score REAL, note TEXT)",
      "CREATE TRIGGER no_spam BEFORE INSERT ON people WHEN NEW.note = 'spam' BEGIN SELECT RAISE(ABORT, 'spam'); END",
    ],
    // SQLite has no enum (a CHECK stands in) and its REAL holds any double.
    refused: [...common, ['12', 'check_violation']],
  };
}

describe.each(['postgres', 'mysql', 'sqlite'] as const)('target constraints, sqlite -> %s', (targetKind) => {
  let m: ScratchMigration;
  const schema = targetSchema(targetKind);

  beforeEach(async () => {
    m = await scratchMigration('sqlite', targetKind);
    await m.source.run('CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, stage TEXT, score REAL, note TEXT)');
    for (let id = 1; id <= 30; id++) {
      const email = id === 8 ? 'e3@example.org' : id === 25 || id === 26 ? 'e24@example.org' : `e${id}@example.org`;
      await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?)', [
        id,
        email,
        id === 12 ? 'prospect' : 'lead',
        id === 17 ? 1.7e308 : 1.5,
        id === 21 ? 'spam' : 'ok',
      ]);
    }
    for (const sql of schema.ddl) await m.target.run(sql);
    // A record the new CRM has already, under a key the legacy one uses too.
    await m.target.run(
      "INSERT INTO people (id, email, stage, score, note) VALUES (5, 'kept@example.org', 'customer', 9, 'there before')",
    );
  });
  afterEach(() => m.drop());

  it('quarantines each refused row with the reason the target gave, and writes every other row', async () => {
    const summary = await runPlan(parsePlan(PLAN(m.source.url, m.target.url), 'plan.yaml'));
    expect(summary.status).toBe('done');
    const refusedKeys = schema.refused.map(([key]) => key);
    expect(summary.entities.contacts).toMatchObject({
      read: 30,
      written: 30 - refusedKeys.length,
      quarantined: refusedKeys.length,
    });
    // An enum label or a float's range is known from the schema: checked before writing (rule target), the rest
    // the database refused (rule target:<its code>).
    for (const r of summary.reasons)
      expect(r.rule).toMatch(
        ['not_in_enum', 'out_of_range'].includes(r.code) && targetKind !== 'sqlite' ? /^target$/ : /^target:/,
      );
    const byKey = summary.reasons.flatMap((r) => r.sampleKeys.map((k): [string, string] => [k, r.code]));
    const numerically = (a: [string, string], b: [string, string]) => Number(a[0]) - Number(b[0]);
    expect(byKey.sort(numerically)).toEqual([...schema.refused].sort(numerically));
    // Sample keys as people sort them: 8 before 25.
    expect(summary.reasons.find((r) => r.code === 'unique_violation')?.sampleKeys).toEqual(['8', '25', '26']);
    const ids = (await m.target.rows<{ id: number }>('SELECT id FROM people ORDER BY id')).map((r) => Number(r.id));
    expect(ids).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1).filter((id) => id === 5 || !refusedKeys.includes(String(id))),
    );
    // The record that was there before is untouched; of two rows with one email, the first one read is written.
    expect(await m.target.rows('SELECT email, note FROM people WHERE id IN (3, 5, 24) ORDER BY id')).toEqual([
      { email: 'e3@example.org', note: 'ok' },
      { email: 'kept@example.org', note: 'there before' },
      { email: 'e24@example.org', note: 'ok' },
    ]);
  });

  it('predicts in plan what the schema tells: an enum label, a float out of range, a unique value seen earlier', async () => {
    const preview = await previewPlan(parsePlan(PLAN(m.source.url, m.target.url), 'plan.yaml'), { sample: 30 });
    const predicted = (preview.entities[0]?.samples ?? [])
      .filter((s) => s.after === null)
      .map((s) => [s.sourceKey, s.reasons.map((r) => r.code).join()]);
    const fromSchema: [string, string][] =
      targetKind === 'sqlite'
        ? []
        : [
            ['12', 'not_in_enum'],
            ['17', 'out_of_range'],
          ];
    const numerically = (a: string[], b: string[]) => Number(a[0]) - Number(b[0]);
    expect(predicted.sort(numerically)).toEqual(
      [['8', 'unique_violation'], ...fromSchema, ['25', 'unique_violation'], ['26', 'unique_violation']].sort(
        numerically,
      ),
    );
    // Only the database knows what a trigger refuses, and which keys it holds already: those are found by the run.
    expect(await m.target.rows('SELECT id FROM people')).toEqual([{ id: 5 }]);
  });
});

describe('a retried row the target refuses', () => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration('sqlite', 'postgres');
    await m.source.run('CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, stage TEXT, score REAL, note TEXT)');
    for (let id = 1; id <= 4; id++)
      await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?)', [
        id,
        id === 2 ? 'not an email' : `e${id}@example.org`,
        'lead',
        1,
        'ok',
      ]);
    await m.target.run(
      'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT UNIQUE, stage TEXT, score REAL, note TEXT)',
    );
  });
  afterEach(() => m.drop());

  it('stays in quarantine with the reason the target gave, and the rest of the retry is written', async () => {
    const plan = PLAN(m.source.url, m.target.url).replace('email: email', 'email: { from: email, clean: email }');
    const first = await runPlan(parsePlan(plan, 'plan.yaml'));
    expect(first.entities.contacts).toMatchObject({ written: 3, quarantined: 1 });
    // Fixed to an address another contact holds already.
    async function* fixed() {
      yield {
        entity: 'contacts',
        source_key: '2',
        id: '2',
        email: 'e3@example.org',
        stage: 'lead',
        score: '1',
        note: 'ok',
      };
    }
    const retried = await retryQuarantine(parsePlan(plan, 'plan.yaml'), fixed());
    expect(retried.entities.contacts).toMatchObject({ retried: 1, written: 0, quarantined: 1 });
    expect(retried.runs[0]?.counts.contacts).toMatchObject({ read: 4, written: 3, quarantined: 1 });
    const open: string[] = [];
    await listQuarantine(parsePlan(plan, 'plan.yaml'), {
      each: (row) => void open.push(`${row.sourceKey}:${row.reasons.map((r) => r.code).join()}`),
    });
    expect(open).toEqual(['2:unique_violation']);
    expect((await m.target.rows<{ id: number }>('SELECT id FROM people ORDER BY id')).map((r) => r.id)).toEqual([
      1, 3, 4,
    ]);
  });
});

describe('a refused batch read again from a source that changed', () => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration('postgres');
    await m.source.run('CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, stage TEXT, score REAL, note TEXT)');
    for (let id = 1; id <= 8; id++)
      await m.source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?)', [
        id,
        id === 3 ? 'e2@example.org' : `e${id}@example.org`,
        'lead',
        1,
        'ok',
      ]);
    await m.target.run(
      'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT UNIQUE, stage TEXT, score REAL, note TEXT)',
    );
  });
  afterEach(() => m.drop());

  it('fails the load rather than write other rows than it read, and the next run resumes exactly', async () => {
    // The legacy CRM is live: row 1 is deleted after the load has read it, before the refused batch is read again.
    let deleted = false;
    defineStep({
      name: 'test.delete_row_1_once',
      kind: 'clean',
      takes: 'one',
      create: () => (v) => {
        if (!deleted && v === 'e4@example.org') {
          deleted = true;
          execFileSync('psql', [m.source.url, '-q', '-c', 'DELETE FROM contacts WHERE id = 1']);
        }
        return ok(v as Value);
      },
    });
    const plan = PLAN(m.source.url, m.target.url).replace(
      'email: email',
      'email: { from: email, clean: test.delete_row_1_once }',
    );
    await expect(runPlan(parsePlan(plan, 'plan.yaml'))).rejects.toMatchObject({
      code: 'E_SOURCE',
      message: expect.stringMatching(/contacts changed while a batch/) as unknown,
    });
    expect(await m.target.rows('SELECT id FROM people')).toEqual([]);
    const summary = await runPlan(parsePlan(plan, 'plan.yaml'));
    expect(summary.entities.contacts).toMatchObject({ read: 7, written: 6, quarantined: 1 });
    expect((await m.target.rows<{ id: number }>('SELECT id FROM people ORDER BY id')).map((r) => r.id)).toEqual([
      2, 4, 5, 6, 7, 8,
    ]);
  });
});
