import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmPeople, type CrmPerson } from '../bench/crm-people.js';
import { baselineClusters, planClusters, scoreClusters } from '../bench/dedupe-score.js';
import { previewPlan } from '../src/engine/preview.js';
import { formatPlanIssue } from '../src/errors.js';
import { parsePlan } from '../src/plan/load.js';
import { runPlan } from '../src/engine/run.js';
import { tempDir } from './helpers/databases.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// Dedupe where records carry only a name, an email and a phone, with the traps of CRM data: common names,
// name-derived emails at other domains, spouses on one phone or email, father and son, switchboard numbers.
// A wrong merge destroys a customer: precision first, at the defaults a user gets (a plan with only `on:`).

describe('dedupe on CRM-like people, through a plan with only dedupe.on', () => {
  it('merges with pair precision of at least 0.995, and beats the hand-written rule on F1', async () => {
    const records = crmPeople(4000, 7);
    const tmp = tempDir();
    try {
      const { clusters } = await planClusters(records, tmp.dir);
      const truth = records.map((r) => r.person);
      const score = scoreClusters(truth, clusters);
      const baseline = scoreClusters(truth, baselineClusters(records));
      expect(score.precision).toBeGreaterThanOrEqual(0.995);
      expect(score.f1).toBeGreaterThanOrEqual(baseline.f1 + 0.05);
    } finally {
      tmp.remove();
    }
  }, 60_000);
});

describe('dedupe on a source column the new CRM has no field for', () => {
  it('compares source.phone as read, and finds the duplicates that only the phone shows', async () => {
    const records = crmPeople(3000, 5);
    const truth = records.map((r) => r.person);
    const tmp = tempDir();
    try {
      const without = scoreClusters(
        truth,
        (await planClusters(records, path.join(tmp.dir), 'on: [email, first_name, last_name]')).clusters,
      );
      const dir = path.join(tmp.dir, 'with');
      (await import('node:fs')).mkdirSync(dir);
      const withPhone = scoreClusters(
        truth,
        (await planClusters(records, dir, 'on: [email, first_name, last_name, source.phone]')).clusters,
      );
      expect(withPhone.precision).toBeGreaterThanOrEqual(0.995);
      expect(withPhone.recall).toBeGreaterThan(without.recall + 0.05);
    } finally {
      tmp.remove();
    }
  }, 60_000);

  it('refuses a source column the table does not have, with a suggestion', async () => {
    const tmp = tempDir();
    try {
      await expect(planClusters(crmPeople(50, 1), tmp.dir, 'on: [email, source.phon]')).rejects.toThrow(
        /source table people has no column "phon" to compare/,
      );
    } finally {
      tmp.remove();
    }
  });
});

describe('dedupe keeps apart the people CRMs confuse', () => {
  // Each case: two records; `same` says whether they are one person. Put among generated people, so the
  // model is trained on a table of realistic size, as in a real run.
  const CASES: [string, boolean, Omit<CrmPerson, 'person'>, Omit<CrmPerson, 'person'>][] = [
    [
      'spouses on one family email and phone',
      false,
      { first_name: 'Jennifer', last_name: 'Robinson', email: 'robinsons@gmail.com', phone: '(734) 562-1325' },
      { first_name: 'Michael', last_name: 'Robinson', email: 'robinsons@gmail.com', phone: '734-562-1325' },
    ],
    [
      'spouses with similar first names',
      false,
      { first_name: 'Jessica', last_name: 'Moore', email: 'moorefamily@aol.com', phone: '(312) 555-0182' },
      { first_name: 'Jennifer', last_name: 'Moore', email: 'moorefamily@aol.com', phone: '312.555.0182' },
    ],
    [
      'father and son at one home phone',
      false,
      { first_name: 'John', last_name: 'Carter Sr.', email: 'jcarter.sr@gmail.com', phone: '(404) 555-0143' },
      { first_name: 'John', last_name: 'Carter Jr.', email: 'john.carter@hooli.com', phone: '404-555-0143' },
    ],
    [
      'colleagues behind one switchboard',
      false,
      { first_name: 'James', last_name: 'Lee', email: 'james.lee@initech.com', phone: '(212) 555-0100' },
      { first_name: 'James', last_name: 'Ng', email: 'james.ng@initech.com', phone: '(212) 555-0100' },
    ],
    [
      'one name-derived local part at two providers',
      false,
      { first_name: 'James', last_name: 'Ramirez', email: 'jramirez@gmail.com', phone: null },
      { first_name: 'Jessica', last_name: 'Ramirez', email: 'jramirez@mail.co.uk', phone: null },
    ],
    [
      'a nickname and a reformatted phone',
      true,
      { first_name: 'William', last_name: 'Okafor', email: 'w.okafor@gmail.com', phone: '(415) 555-2671' },
      { first_name: 'Bill', last_name: 'Okafor', email: null, phone: '+1 415 555 2671' },
    ],
    [
      'spouses one letter apart (Mark and Mary) on one email and phone',
      false,
      { first_name: 'Mark', last_name: 'Dordorha', email: 'dordorhas@gmail.com', phone: '(617) 555-0134' },
      { first_name: 'Mary', last_name: 'Dordorha', email: 'dordorhas@gmail.com', phone: '617-555-0134' },
    ],
    [
      'colleagues with close names at one company domain and switchboard',
      false,
      { first_name: 'Michael', last_name: 'Brownlee', email: 'mbrownlee@wayne.com', phone: '(713) 555-0100' },
      { first_name: 'Michaela', last_name: 'Brownlee', email: 'michaela.brownlee@wayne.com', phone: '(713) 555-0100' },
    ],
    [
      'the same rare name and nothing else in common (reviewed, not merged)',
      false,
      { first_name: 'Leyro', last_name: 'Bergosson', email: 'leyrob@hotmail.com', phone: '(659) 584-0577' },
      { first_name: 'Leyro', last_name: 'Bergosson', email: 'john_bergosson@gmx.de', phone: null },
    ],
    [
      'a nickname against a typo of the formal name, on one address',
      true,
      { first_name: 'Tom', last_name: 'Garciaford', email: 'thomas.garciaford@massive.com', phone: null },
      { first_name: 'Tohmas', last_name: 'Garciaford', email: 'thomas.garciaford@massive.com', phone: null },
    ],
    [
      'a slip early in the name (Kraen), on one phone',
      true,
      { first_name: 'Karen', last_name: 'Mercorgo', email: 'karenm@yahoo.com', phone: '+1 610 445 0631' },
      { first_name: 'Kraen', last_name: 'Mercorgo', email: 'karen_mercorgo@globex.com', phone: '(610) 445-0631' },
    ],
    [
      'a title in the first name still meets its twin, on one phone',
      true,
      { first_name: 'Dr. Wickfordus', last_name: 'Moore', email: null, phone: '+1 212 736 0177' },
      { first_name: 'Wickfordus', last_name: 'Moore', email: null, phone: '212-736-0177' },
    ],
    [
      'a phone the cleaning rule nulled (British, written without its country), compared as the old CRM held it',
      true,
      {
        first_name: 'Anthony',
        last_name: 'Carterholm',
        email: 'anthony_carterholm@btinternet.com',
        phone: '07357 774067',
      },
      {
        first_name: 'Anthony',
        last_name: 'Carterholm',
        email: 'anthony_carterholm@hooli.com',
        phone: '+44 7357 774067',
      },
    ],
    [
      'two spellings of one given name (Matthew, Mathew) on one address and phone',
      true,
      { first_name: 'Matthew', last_name: 'Holmanby', email: 'mholmanby@gmail.com', phone: '(503) 555-0161' },
      { first_name: 'Mathew', last_name: 'Holmanby', email: 'mholmanby@gmail.com', phone: '503-555-0161' },
    ],
    [
      'sisters with two real names two letters swapped (Elise, Elsie) on one family address and phone',
      false,
      { first_name: 'Elise', last_name: 'Dorvanta', email: 'dorvantas@gmail.com', phone: '(503) 555-0177' },
      { first_name: 'Elsie', last_name: 'Dorvanta', email: 'dorvantas@gmail.com', phone: '503-555-0177' },
    ],
    [
      'two customers who both typed a placeholder phone',
      false,
      { first_name: 'James', last_name: 'Garcia', email: 'james_garcia@icloud.com', phone: '000-000-0000' },
      { first_name: 'James', last_name: 'Garcia', email: 'james_garcia@gmail.com', phone: '000-000-0000' },
    ],
    [
      'a rare name, one record with nothing else to compare',
      true,
      { first_name: 'Kasonen', last_name: 'Rivoldarby', email: null, phone: '+49 156 58181826' },
      { first_name: 'KASONEN', last_name: ' rivoldarby ', email: null, phone: null },
    ],
    [
      'a title and case on one address',
      true,
      { first_name: 'Dr. Mary', last_name: 'Schneider', email: 'mary.schneider@web.de', phone: null },
      { first_name: 'MARY', last_name: 'schneider', email: ' Mary.Schneider@web.de', phone: null },
    ],
  ];
  let clusterOf: Map<number, number>;
  let base: number;
  beforeAll(async () => {
    const records: CrmPerson[] = crmPeople(3000, 11);
    base = records.length;
    const people = records.reduce((max, r) => Math.max(max, r.person), 0) + 1;
    CASES.forEach(([, same, a, b], i) =>
      records.push({ person: people + 2 * i, ...a }, { person: people + 2 * i + (same ? 0 : 1), ...b }),
    );
    const tmp = tempDir();
    try {
      const { clusters } = await planClusters(records, tmp.dir);
      clusterOf = new Map(clusters.flatMap((c, n) => c.map((i) => [i, n] as [number, number])));
    } finally {
      tmp.remove();
    }
  }, 60_000);

  it.each(CASES.map(([name, same], i) => [name, same, i] as const))('%s: merged %s', (_name, same, i) => {
    const a = clusterOf.get(base + 2 * i);
    const b = clusterOf.get(base + 2 * i + 1);
    expect(a !== undefined && a === b).toBe(same);
  });
});

describe('dedupe joins one customer recorded three times with a different typo each time', () => {
  it('merges the typos Corvis and Covius through the record they both come from', async () => {
    const records: CrmPerson[] = crmPeople(3000, 13);
    const base = records.length;
    const person = records.reduce((max, r) => Math.max(max, r.person), 0) + 1;
    const one = { last_name: 'Dorsonda', email: 'corviusd@stark.com' };
    records.push(
      { person, first_name: 'Corvius', ...one, phone: '+1 878 617 7970' },
      { person, first_name: 'Corvis', ...one, phone: '878-617-7970' },
      { person, first_name: 'COVIUS', ...one, phone: '(878) 617-7970' },
    );
    const tmp = tempDir();
    try {
      const { clusters } = await planClusters(records, tmp.dir);
      expect(clusters.find((c) => c.includes(base))).toEqual([base, base + 1, base + 2]);
    } finally {
      tmp.remove();
    }
  }, 60_000);
});

describe('dedupe on a bookkeeping column', () => {
  it('warns that when the old CRM touched a row says nothing about who the customer is', async () => {
    const tmp = tempDir();
    try {
      const db = new Database(path.join(tmp.dir, 'legacy.db'));
      db.exec(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, last_name TEXT, last_update TEXT); INSERT INTO people VALUES (1, 'Lee', '2026-01-01'), (2, 'Ng', '2026-01-01')",
      );
      db.close();
      const plan = parsePlan(
        'version: 1\nname: p\nsource: sqlite:./legacy.db\ntarget: sqlite:./crm.db\nentities:\n  people:\n    from: people\n    into: people\n    key: id\n    fields:\n      id: id\n      last_name: last_name\n      last_update: last_update\n    dedupe:\n      on: [last_name, last_update]\n',
        path.join(tmp.dir, 'plan.yaml'),
      );
      const preview = await previewPlan(plan, { sample: 0 });
      expect(preview.warnings.map(formatPlanIssue).join('\n')).toMatch(
        /plan\.yaml:15:\d+: warning: entities\.people\.dedupe\.on\.1: "last_update" records when or by whom the old CRM changed a row/,
      );
    } finally {
      tmp.remove();
    }
  });
});

describe('dedupe into a target whose email is unique', () => {
  // Most modern CRMs hold one contact per email. Two legacy records of one person with one address: dedupe
  // merges them and the target takes one; without dedupe the second is refused by the unique index and
  // quarantined (unique_violation), never lost silently.
  const PLAN = (m: ScratchMigration, dedupe: boolean) => `version: 1
name: unique-email
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  people:
    from: people
    into: people
    key: id
    fields:
      id: id
      first_name: first_name
      last_name: last_name
      email: { from: email, clean: email }
${dedupe ? '    dedupe:\n      on: [email, first_name, last_name]\n' : ''}`;
  let m: ScratchMigration;
  beforeAll(async () => {
    m = await scratchMigration('sqlite', 'postgres');
  });
  afterAll(() => m.drop());

  it('merges the two records of one person instead of refusing one, and quarantines the second without dedupe', async () => {
    await m.source.run('CREATE TABLE people (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT)');
    const records = crmPeople(400, 5).filter(
      (r, i, all) =>
        r.email && all.findIndex((o) => o.email?.trim().toLowerCase() === r.email?.trim().toLowerCase()) === i,
    );
    for (const [i, r] of records.entries())
      await m.source.run('INSERT INTO people VALUES (?, ?, ?, ?)', [i + 1, r.first_name, r.last_name, r.email]);
    await m.source.run(
      "INSERT INTO people VALUES (1000, 'Ann', 'Okafor', 'ann.okafor@gmail.com'), (1001, 'ANN', 'okafor', ' Ann.Okafor@gmail.com ')",
    );
    await m.target.run(
      'CREATE TABLE people (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT UNIQUE)',
    );
    const plain = await runPlan(parsePlan(PLAN(m, false), 'plan.yaml'));
    expect(plain.reasons.filter((r) => r.code === 'unique_violation').map((r) => r.sampleKeys)).toEqual([['1001']]);
    await m.target.run('DROP TABLE people');
    await m.target.run(
      'CREATE TABLE people (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT UNIQUE)',
    );
    const merged = await runPlan(parsePlan(PLAN(m, true), 'plan.yaml'), { fresh: true });
    expect(merged.entities.people).toMatchObject({ merged: 1, quarantined: 0 });
    expect(await m.target.rows("SELECT id FROM people WHERE email = 'ann.okafor@gmail.com'")).toEqual([{ id: 1000 }]);
  }, 60_000);
});
