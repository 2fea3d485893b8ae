import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dataPath } from '../helpers/data.js';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runPlan } from '../../src/engine/run.js';
import { verifyPlan } from '../../src/verify/verify.js';
import { newUuid } from '../../src/mapping/identity.js';
import { parsePlan } from '../../src/plan/load.js';
import { PlanError } from '../../src/errors.js';
import { captureIo } from '../helpers/io.js';
import { tempDir } from '../helpers/databases.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/sql-databases.js';

// FEBRL dataset1: 1,000 people records, 500 of them a second record of another one (typos, swapped fields,
// missing values). The ground truth (rec-N) stays in the test; the plan never sees it.
const FEBRL = dataPath('febrl/dataset1.csv');
const records = parse<Record<string, string>>(readFileSync(FEBRL), {
  columns: (h: string[]) => h.map((c) => c.trim()),
  trim: true,
}).map((r, i) => ({
  id: i + 1,
  truth: /^rec-(\d+)/.exec(r.rec_id ?? '')?.[1] ?? '',
  duplicate: (r.rec_id ?? '').includes('-dup-'),
  given: r.given_name || null,
  surname: r.surname || null,
  dob: r.date_of_birth || null,
  ssn: r.soc_sec_id || null,
  postcode: r.postcode || null,
  street: [r.street_number, r.address_1].filter(Boolean).join(' ') || null,
  suburb: r.suburb || null,
}));
// The duplicate records were entered later: the recency survivorship rule has something to go by.
const updatedAt = (r: (typeof records)[number]) => (r.duplicate ? '2024-01-01' : '2020-01-01');

const PLAN = (source: string, target: string, dedupe = '') => `version: 1
name: dedupe-test
source: "${source}"
target: "${target}"
batch_size: 97
entities:
  people:
    from: people
    into: contacts
    key: id
    fields:
      id: { new_id: uuid }
      legacy_id: id
      first_name: given
      last_name: surname
      birth_date: dob
      ssn: ssn
      postcode: postcode
      street: street
      suburb: suburb
      updated_at: updated
    dedupe:
      on: [first_name, last_name, birth_date, ssn, postcode, street, suburb]
      survivor: most_recent
      recency: updated_at
      fields: { street: longest }
${dedupe}
  orders:
    from: orders
    into: orders
    key: id
    fields:
      id: id
      contact_id: { from: person_id, ref: people }
      amount: amount
`;

describe.each([
  ['sqlite', 'postgres'],
  ['postgres', 'mysql'],
] as const)('dedupe inside the load, %s -> %s', (sourceKind, targetKind) => {
  let source: ScratchDatabase;
  let target: ScratchDatabase;
  const state = (table: string) => (targetKind === 'postgres' ? `_crm_migrate.${table}` : `_crm_migrate_${table}`);

  beforeEach(async () => {
    [source, target] = await Promise.all([scratchDatabase(sourceKind), scratchDatabase(targetKind)]);
    await source.run(
      'CREATE TABLE people (id INTEGER PRIMARY KEY, given TEXT, surname TEXT, dob TEXT, ssn TEXT, postcode TEXT, street TEXT, suburb TEXT, updated TEXT)',
    );
    await source.run('CREATE TABLE orders (id INTEGER PRIMARY KEY, person_id INTEGER, amount INTEGER)');
    for (let at = 0; at < records.length; at += 250) {
      const chunk = records.slice(at, at + 250);
      await source.run(
        `INSERT INTO people VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((r) => [r.id, r.given, r.surname, r.dob, r.ssn, r.postcode, r.street, r.suburb, updatedAt(r)]),
      );
    }
    // One order per person record: half of them point at a record that is a duplicate.
    await source.run(
      `INSERT INTO orders VALUES ${records.map(() => '(?, ?, ?)').join(', ')}`,
      records.flatMap((r) => [r.id, r.id, r.id * 10]),
    );
  });
  afterEach(async () => {
    await Promise.all([source.drop(), target.drop()]);
  });

  it('merges the duplicates by survivorship, stores the merge map, and re-points the orders to the survivors', async () => {
    const summary = await runPlan(parsePlan(PLAN(source.url, target.url), 'plan.yaml'));
    const people = summary.entities.people;
    expect(people).toMatchObject({ read: 1000, quarantined: 0 });
    expect((people?.written ?? 0) + (people?.merged ?? 0)).toBe(1000);
    expect(summary.dedupe?.people).toMatchObject({ records: 1000, merged: people?.merged });

    // The merge map: every merged record is truly the same person as its survivor (pair precision 1), and
    // at least 98 % of the 500 duplicates were found.
    const merges = await target.rows<{ source_key: string; survivor_key: string; probability: number; why: string }>(
      `SELECT source_key, survivor_key, probability, why FROM ${state('merges')} ORDER BY source_key`,
    );
    expect(merges.length).toBe(people?.merged);
    expect(merges.length).toBeGreaterThanOrEqual(490);
    const truth = new Map(records.map((r) => [String(r.id), r.truth]));
    expect(merges.filter((m) => truth.get(m.source_key) !== truth.get(m.survivor_key))).toEqual([]);
    expect(
      merges.every((m) => Number(m.probability) >= 0.9 && /first_name \S+/.test(m.why) && !/[0-9]{7}/.test(m.why)),
    ).toBe(true);

    // survivor: most_recent — the survivor is the later (duplicate) record; street: longest of the two.
    const contacts = await target.rows<{ id: string; legacy_id: number; street: string | null }>(
      'SELECT id, legacy_id, street FROM contacts',
    );
    expect(contacts.length).toBe(people?.written);
    const byLegacy = new Map(contacts.map((c) => [String(c.legacy_id), c]));
    for (const m of merges) {
      expect(byLegacy.has(m.source_key)).toBe(false);
      const survivor = records[Number(m.survivor_key) - 1];
      const loser = records[Number(m.source_key) - 1];
      expect(survivor.duplicate).toBe(true);
      const longest = [survivor.street, loser.street].sort((a, b) => (b ?? '').length - (a ?? '').length)[0];
      expect(byLegacy.get(m.survivor_key)?.street).toBe(longest);
      expect(byLegacy.get(m.survivor_key)?.id).toBe(newUuid('people', m.survivor_key));
    }

    // Orders of a merged record now belong to its survivor; none is lost or orphaned.
    const orders = await target.rows<{ id: number; legacy_id: number | null }>(
      'SELECT o.id, c.legacy_id FROM orders o LEFT JOIN contacts c ON c.id = o.contact_id ORDER BY o.id',
    );
    expect(orders.length).toBe(1000);
    const survivorOf = new Map(merges.map((m) => [m.source_key, m.survivor_key]));
    for (const o of orders) expect(String(o.legacy_id)).toBe(survivorOf.get(String(o.id)) ?? String(o.id));

    // verify plans the same merges from the source: merged rows expected absent, survivors as merged.
    const verified = await verifyPlan(parsePlan(PLAN(source.url, target.url), 'plan.yaml'));
    expect(verified.entities.map((e) => [e.entity, e.missing, e.extra, e.changed, e.stale])).toEqual([
      ['people', 0, 0, 0, 0],
      ['orders', 0, 0, 0, 0],
    ]);
    expect(verified.equal).toBe(true);

    // The merge map for anyone to score: one CSV line per merged record.
    const io = captureIo();
    expect(await main(['merges', '--csv', '--', planFile(PLAN(source.url, target.url))], io)).toBe(0);
    const lines = io.stdout.join('\n').trim().split('\n');
    expect(lines[0]).toBe('entity,source_key,survivor_entity,survivor_key,probability,why');
    expect(lines.length).toBe(merges.length + 1);
  }, 120_000);
});

describe('dedupe and resume', () => {
  it('a run stopped after a committed batch resumes to the same merges and rows as one uninterrupted run', async () => {
    const dbs = await Promise.all([scratchDatabase('sqlite'), scratchDatabase('sqlite'), scratchDatabase('sqlite')]);
    const [source, once, twice] = dbs;
    try {
      await source.run(
        'CREATE TABLE people (id INTEGER PRIMARY KEY, given TEXT, surname TEXT, dob TEXT, ssn TEXT, postcode TEXT, street TEXT, suburb TEXT, updated TEXT)',
      );
      await source.run('CREATE TABLE orders (id INTEGER PRIMARY KEY, person_id INTEGER, amount INTEGER)');
      await source.run(
        `INSERT INTO people VALUES ${records.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        records.flatMap((r) => [r.id, r.given, r.surname, r.dob, r.ssn, r.postcode, r.street, r.suburb, updatedAt(r)]),
      );
      await source.run(
        `INSERT INTO orders VALUES ${records.map(() => '(?, ?, ?)').join(', ')}`,
        records.flatMap((r) => [r.id, r.id, r.id * 10]),
      );
      const whole = await runPlan(parsePlan(PLAN(source.url, once.url), 'plan.yaml'));
      const controller = new AbortController();
      const first = await runPlan(parsePlan(PLAN(source.url, twice.url), 'plan.yaml'), {
        signal: controller.signal,
        onProgress: (p) => (p.entity === 'people' && p.counts.read >= 300 ? controller.abort() : undefined),
      });
      expect(first.status).toBe('interrupted');
      const second = await runPlan(parsePlan(PLAN(source.url, twice.url), 'plan.yaml'));
      expect(second).toMatchObject({ status: 'done', resumed: true, runId: first.runId });
      expect(second.entities).toEqual(whole.entities);
      const contents = async (db: ScratchDatabase) => ({
        merges: await db.rows(
          'SELECT entity, source_key, survivor_key, probability FROM _crm_migrate_merges ORDER BY entity, source_key',
        ),
        contacts: await db.rows('SELECT * FROM contacts ORDER BY legacy_id'),
        orders: await db.rows('SELECT * FROM orders ORDER BY id'),
      });
      expect(await contents(twice)).toEqual(await contents(once));
    } finally {
      await Promise.all(dbs.map((d) => d.drop()));
    }
  }, 120_000);
});

let planDir: ReturnType<typeof tempDir> | undefined;
function planFile(text: string): string {
  planDir ??= tempDir();
  const file = path.join(planDir.dir, 'plan.yaml');
  writeFileSync(file, text);
  return file;
}

describe('review band and decisions', () => {
  let source: ScratchDatabase;
  let target: ScratchDatabase;
  beforeEach(async () => {
    [source, target] = await Promise.all([scratchDatabase('sqlite'), scratchDatabase('sqlite')]);
    await source.run(
      'CREATE TABLE people (id INTEGER PRIMARY KEY, given TEXT, surname TEXT, dob TEXT, ssn TEXT, postcode TEXT, street TEXT, suburb TEXT, updated TEXT)',
    );
    await source.run('CREATE TABLE orders (id INTEGER PRIMARY KEY, person_id INTEGER, amount INTEGER)');
    const some = records.slice(0, 1000);
    await source.run(
      `INSERT INTO people VALUES ${some.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      some.flatMap((r) => [r.id, r.given, r.surname, r.dob, r.ssn, r.postcode, r.street, r.suburb, updatedAt(r)]),
    );
  });
  afterEach(async () => {
    await Promise.all([source.drop(), target.drop()]);
  });

  it('sets the band aside without merging, exports it, and honours same/different decisions on the next run', async () => {
    // Names and postcode only, and a high threshold: the pairs the model is less sure of land in the band.
    const text = PLAN(source.url, target.url, '      threshold: 0.999\n      review: 0.01\n').replace(
      'on: [first_name, last_name, birth_date, ssn, postcode, street, suburb]',
      'on: [first_name, last_name, postcode]',
    );
    const file = planFile(text);
    const first = await runPlan(parsePlan(text, file));
    const merged0 = first.entities.people?.merged ?? 0;
    expect(first.entities.people).toMatchObject({ read: 1000, written: 1000 - merged0 });
    const io = captureIo();
    const csv = path.join(path.dirname(file), 'review.csv');
    expect(await main(['review', file, '--csv', csv], io)).toBe(0);
    const rows = parse<Record<string, string>>(readFileSync(csv), { columns: true });
    expect(rows.length).toBe(first.dedupe?.people?.review);
    expect(rows.length).toBeGreaterThan(10);
    // Decide: the first pair is different, the second the same, the rest left open.
    rows[0] = { ...rows[0], decision: 'different' };
    rows[1] = { ...rows[1], decision: 'same' };
    // And a pair the first run merged, said to be two people: the next run must keep them apart.
    const [wrong] = await target.rows<{ source_key: string; survivor_key: string }>(
      'SELECT source_key, survivor_key FROM _crm_migrate_merges ORDER BY source_key LIMIT 1',
    );
    const lines = rows.map((r) => [r.entity_a, r.key_a, r.entity_b, r.key_b, r.probability, `"${r.why}"`, r.decision]);
    lines.push(['people', String(wrong?.source_key), 'people', String(wrong?.survivor_key), '1', '', 'different']);
    writeFileSync(
      csv,
      ['entity_a,key_a,entity_b,key_b,probability,why,decision', ...lines.map((l) => l.join(','))].join('\n'),
    );
    expect(await main(['review', file, '--decide', csv], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/recorded 3 decisions \(1 same, 2 different\); \d+ left undecided/);

    const second = await runPlan(parsePlan(text, file), { fresh: true });
    expect(second.entities.people).toMatchObject({ read: 1000, written: 1000 - merged0, merged: merged0 });
    const merged = await target.rows<{ source_key: string; survivor_key: string }>(
      'SELECT source_key, survivor_key FROM _crm_migrate_merges',
    );
    const pairs = merged.map((m) => [m.source_key, m.survivor_key].sort().join('-'));
    expect(pairs).toContain([rows[1]?.key_a, rows[1]?.key_b].sort().join('-'));
    expect(pairs).not.toContain([rows[0]?.key_a, rows[0]?.key_b].sort().join('-'));
    expect(pairs).not.toContain([wrong?.source_key, wrong?.survivor_key].sort().join('-'));
    const stillReviewed = await target.rows<{ n: number }>('SELECT count(*) AS n FROM _crm_migrate_review');
    expect(Number(stillReviewed[0]?.n)).toBe(rows.length - 2);
  }, 120_000);

  it('refuses a bad dedupe block before anything is written, with a suggestion', () => {
    const bad = PLAN(source.url, target.url).replace(
      'on: [first_name, last_name, birth_date, ssn, postcode, street, suburb]',
      'on: [first_nme, last_name]\n      blocking: ["soundex(last_name)"]',
    );
    const error = (() => {
      try {
        parsePlan(bad, 'plan.yaml');
      } catch (e) {
        return e as PlanError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PlanError);
    const messages = error?.issues.map((i) => `${i.location?.line}: ${i.message} (${i.hint ?? ''})`) ?? [];
    expect(messages.some((m) => /"first_nme" is not a field of people \(did you mean "?first_name/.test(m))).toBe(true);
    expect(messages.some((m) => /unknown key function soundex/.test(m))).toBe(true);
    const rule = PLAN(source.url, target.url).replace('fields: { street: longest }', 'fields: { street: longst }');
    expect(() => parsePlan(rule, 'plan.yaml')).toThrow(PlanError);
    try {
      parsePlan(rule, 'plan.yaml');
    } catch (e) {
      expect((e as PlanError).issues.map((i) => `${i.message} (${i.hint ?? ''})`)).toEqual([
        expect.stringMatching(/unknown survivorship rule "longst" \(did you mean "?longest/),
      ]);
    }
  });
});

describe('linkage across two sources into one table', () => {
  let crm: ScratchDatabase;
  let target: ScratchDatabase;
  let shop: ReturnType<typeof tempDir>;
  const febrl4 = (file: string) =>
    parse<Record<string, string>>(readFileSync(dataPath('febrl', file)), {
      columns: (h: string[]) => h.map((c) => c.trim()),
      trim: true,
    }).map((r) => ({
      key: r.rec_id,
      truth: /^rec-(\d+)/.exec(r.rec_id ?? '')?.[1] ?? '',
      values: [r.given_name, r.surname, r.date_of_birth, r.soc_sec_id, r.postcode, r.suburb].map((v) => v || null),
    }));
  const a = febrl4('dataset4a.csv');
  const b = febrl4('dataset4b.csv');
  beforeEach(async () => {
    [crm, target] = await Promise.all([scratchDatabase('sqlite'), scratchDatabase('postgres')]);
    shop = tempDir();
    await crm.run(
      'CREATE TABLE people (rec_id TEXT PRIMARY KEY, given TEXT, surname TEXT, dob TEXT, ssn TEXT, postcode TEXT, suburb TEXT)',
    );
    for (let at = 0; at < a.length; at += 500) {
      const chunk = a.slice(at, at + 500);
      await crm.run(
        `INSERT INTO people VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((r) => [r.key, ...r.values]),
      );
    }
    const quote = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);
    writeFileSync(
      path.join(shop.dir, 'buyers.csv'),
      ['rec_id,given,surname,dob,ssn,postcode,suburb', ...b.map((r) => [r.key, ...r.values].map(quote).join(','))].join(
        '\n',
      ),
    );
  });
  afterEach(async () => {
    shop.remove();
    await Promise.all([crm.drop(), target.drop()]);
  });

  it('links the shop export to the CRM (FEBRL 4a × 4b): one contact per person, the CRM record surviving', async () => {
    // The two entities differ only in their source and table: the same record, the same fields.
    const entity = (source: string, table: string) => `    source: ${source}
    from: ${table}
    into: contacts
    key: rec_id
    fields:
      id: { new_id: uuid }
      legacy_id: rec_id
      first_name: given
      last_name: surname
      birth_date: dob
      ssn: ssn
      postcode: postcode
      suburb: suburb`;
    const text = `version: 1
name: link-test
sources: { crm: "${crm.url}", shop: "csv:${shop.dir}" }
target: "${target.url}"
entities:
  crm_people:
${entity('crm', 'people')}
    dedupe:
      on: [first_name, last_name, birth_date, ssn, postcode, suburb]
      with: [shop_people]
      link_only: true
      survivor: source_priority
  shop_people:
${entity('shop', 'buyers')}
`;
    const summary = await runPlan(parsePlan(text, 'plan.yaml'));
    expect(summary.entities.crm_people).toMatchObject({ read: 5000, written: 5000, merged: 0 });
    const shopCounts = summary.entities.shop_people;
    expect(shopCounts?.read).toBe(5000);
    expect(shopCounts?.merged).toBeGreaterThanOrEqual(4900); // fewer fields than bench/febrl.ts compares: 98.8 % today
    const merges = await target.rows<{
      entity: string;
      source_key: string;
      survivor_entity: string;
      survivor_key: string;
    }>('SELECT entity, source_key, survivor_entity, survivor_key FROM _crm_migrate.merges');
    const truthA = new Map(a.map((r) => [r.key, r.truth]));
    const truthB = new Map(b.map((r) => [r.key, r.truth]));
    expect(merges.every((m) => m.entity === 'shop_people' && m.survivor_entity === 'crm_people')).toBe(true);
    expect(merges.filter((m) => truthB.get(m.source_key) !== truthA.get(m.survivor_key))).toEqual([]);
    const [count] = await target.rows<{ n: string }>('SELECT count(*) AS n FROM contacts');
    expect(Number(count?.n)).toBe(10_000 - (shopCounts?.merged ?? 0));
  }, 120_000);
});
