import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crmPeople } from '../bench/crm-people.js';
import { PEOPLE_FIELDS } from '../bench/dedupe-score.js';
import { listMerges, reviewPairs } from '../src/engine/dedupe/merge-map.js';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchDatabase, type ScratchDatabase } from './helpers/sql-databases.js';

// Dedupe on an incremental entity, against real databases: the first run merges as a full load does; each
// increment matches its new and changed records against all the others, folds a new duplicate into the
// survivor already written (its orders re-pointed there), keeps apart what the rules keep apart, and
// `verify` finds the target equal after every run.

const plan = (source: string, target: string, batchSize = 200) => `
version: 1
name: dedupe-sync
source: "${source}"
target: "${target}"
entities:
  contacts:
    from: contacts
    into: contacts
    key: id
    strategy: incremental
    cursor: updated_at
    batch_size: ${batchSize}
${PEOPLE_FIELDS}    dedupe:
      on: [email, phone, first_name, last_name]
      fields: { phone: first_non_null }
  orders:
    from: orders
    into: orders
    key: id
    strategy: incremental
    cursor: updated_at
    fields:
      id: id
      contact_id: { ref: contacts, from: contact_id }
      total: total
`;

const T0 = '2026-01-01 10:00:00';
const T1 = '2026-01-02 10:00:00';
const T2 = '2026-01-03 10:00:00';

/** Records around the generated people, by id: what each run adds or changes. */
const ANN = 100_001; // Ann Okafor, no phone: the survivor of the first run's pair
const ANN_AGAIN = 100_002; // the same address in capitals: merged in the first run
const MARY = 100_003; // Mary Dordorha, on a family email and phone
const ANN_NEW = 100_010; // the increment's new duplicate of Ann, with her phone
const MARK = 100_011; // Mark Dordorha, on Mary's email and phone: her husband
const LONE = 100_012; // a new record that matches nothing

describe.each([
  ['SQLite -> SQLite', 'sqlite', 'sqlite'],
  ['MariaDB -> PostgreSQL', 'mysql', 'postgres'],
] as const)('dedupe during incremental sync, %s', (_name, sourceKind, targetKind) => {
  let source: ScratchDatabase;
  let target: ScratchDatabase;
  const text = (batchSize?: number) => plan(source.url, target.url, batchSize);
  const run = () => runPlan(parsePlan(text(), 'plan.yaml', {}));
  const contact = (id: number, first: string, last: string, email: string | null, phone: string | null, at: string) =>
    source.run('INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)', [id, first, last, email, phone, at]);

  beforeEach(async () => {
    source = await scratchDatabase(sourceKind);
    target = await scratchDatabase(targetKind);
    await source.run(
      'CREATE TABLE contacts (id INTEGER PRIMARY KEY, first_name VARCHAR(80), last_name VARCHAR(80), email VARCHAR(120), phone VARCHAR(40), updated_at TIMESTAMP NOT NULL)',
    );
    await source.run(
      'CREATE TABLE orders (id INTEGER PRIMARY KEY, contact_id INTEGER, total INTEGER, updated_at TIMESTAMP NOT NULL)',
    );
    // A table of realistic size, so the model trains as in a real run; one multi-row insert per 500.
    const people = crmPeople(1500, 3);
    for (let i = 0; i < people.length; i += 500) {
      const chunk = people.slice(i, i + 500);
      await source.run(
        `INSERT INTO contacts VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((p, k) => [i + k + 1, p.first_name, p.last_name, p.email, p.phone, T0]),
      );
    }
    await contact(ANN, 'Ann', 'Okafor', 'ann.okafor@gmail.com', null, T0);
    await contact(ANN_AGAIN, 'ANN', 'OKAFOR', ' Ann.Okafor@Gmail.com', null, T0);
    await contact(MARY, 'Mary', 'Dordorha', 'dordorhas@gmail.com', '(617) 734-0134', T0);
    await source.run('INSERT INTO orders VALUES (1, ?, 10, ?), (2, ?, 20, ?)', [ANN, T0, ANN_AGAIN, T0]);
  }, 60_000);
  afterEach(async () => {
    await source.drop();
    await target.drop();
  });

  const merges = async () => {
    const map = new Map<string, string>();
    await listMerges(parsePlan(text(), 'plan.yaml', {}), (m) => void map.set(m.sourceKey, m.survivorKey));
    return map;
  };
  const row = async (id: number) =>
    (
      await target.rows<{ id: number; first_name: string; email: string | null; phone: string | null }>(
        'SELECT id, first_name, email, phone FROM contacts WHERE id = ?',
        [id],
      )
    )[0];
  const orderContacts = async () =>
    (await target.rows<{ id: number; contact_id: number }>('SELECT id, contact_id FROM orders ORDER BY id')).map(
      (r) => [Number(r.id), Number(r.contact_id)],
    );

  it('folds a new duplicate into the written survivor, keeps spouses apart, and verifies equal', async () => {
    const first = await run();
    expect(first.entities.contacts?.merged).toBeGreaterThan(0);
    expect((await merges()).get(String(ANN_AGAIN))).toBe(String(ANN));
    expect(await row(ANN_AGAIN)).toBeUndefined();
    expect(await orderContacts()).toEqual([
      [1, ANN],
      [2, ANN],
    ]);
    expect((await verifyPlan(parsePlan(text(), 'plan.yaml', {}))).equal).toBe(true);

    // The increment: Ann again with her phone, Mary's husband on her email and phone, a stranger, an order of
    // the new Ann record.
    await contact(ANN_NEW, 'Ann', 'Okafor', 'ann.okafor@gmail.com', '+1 415 734 2671', T1);
    await contact(MARK, 'Mark', 'Dordorha', 'dordorhas@gmail.com', '617-734-0134', T1);
    await contact(LONE, 'Priya', 'Sennholm', 'priya@sennholm.example.org', null, T1);
    await source.run('INSERT INTO orders VALUES (3, ?, 30, ?)', [ANN_NEW, T1]);
    const increment = await run();
    expect(increment.previousRunId).toBe(first.runId);
    expect(increment.entities.contacts).toMatchObject({ read: 3, written: 2, merged: 1, quarantined: 0 });

    // Ann's new record is merged into the survivor the first run wrote, which takes her phone (first_non_null).
    expect((await merges()).get(String(ANN_NEW))).toBe(String(ANN));
    expect(await row(ANN_NEW)).toBeUndefined();
    expect(await row(ANN)).toMatchObject({ first_name: 'Ann', email: 'ann.okafor@gmail.com', phone: '+14157342671' });
    expect(await orderContacts()).toEqual([
      [1, ANN],
      [2, ANN],
      [3, ANN],
    ]);
    // Mark and Mary share an email and a phone; a man's and a woman's name are two people.
    expect(await row(MARK)).toMatchObject({ first_name: 'Mark' });
    expect(await row(MARY)).toMatchObject({ first_name: 'Mary' });
    expect((await merges()).has(String(MARK))).toBe(false);
    expect(await row(LONE)).toMatchObject({ first_name: 'Priya' });
    expect((await verifyPlan(parsePlan(text(), 'plan.yaml', {}))).equal).toBe(true);

    // A change to a merged record keeps it merged; an idle increment changes nothing.
    await source.run('UPDATE contacts SET first_name = ?, updated_at = ? WHERE id = ?', ['Anne', T2, ANN_NEW]);
    const again = await run();
    expect(again.entities.contacts).toMatchObject({ read: 1, written: 0, merged: 1 });
    expect((await merges()).get(String(ANN_NEW))).toBe(String(ANN));
    const idle = await run();
    expect(idle.entities.contacts).toMatchObject({ read: 0, written: 0, merged: 0 });
    expect((await verifyPlan(parsePlan(text(), 'plan.yaml', {}))).equal).toBe(true);
  }, 120_000);

  it('resumes an increment stopped after its first batch, merging and writing each record once', async () => {
    await run();
    await contact(ANN_NEW, 'Ann', 'Okafor', 'ann.okafor@gmail.com', '+1 415 734 2671', T1);
    await contact(MARK, 'Mark', 'Dordorha', 'dordorhas@gmail.com', '617-734-0134', T1);
    await contact(LONE, 'Priya', 'Sennholm', 'priya@sennholm.example.org', null, T1);
    const stop = new AbortController();
    const stopped = await runPlan(parsePlan(text(1), 'plan.yaml', {}), {
      signal: stop.signal,
      onProgress: (p) => (p.entity === 'contacts' && p.counts.read > 0 ? stop.abort() : undefined),
    });
    expect(stopped.status).toBe('interrupted');
    const resumed = await runPlan(parsePlan(text(1), 'plan.yaml', {}));
    expect(resumed.runId).toBe(stopped.runId);
    expect(resumed.entities.contacts).toMatchObject({ read: 3, written: 2, merged: 1, quarantined: 0 });
    expect((await merges()).get(String(ANN_NEW))).toBe(String(ANN));
    expect(await row(ANN)).toMatchObject({ phone: '+14157342671' });
    expect(await target.rows('SELECT id FROM contacts WHERE id IN (?, ?, ?)', [ANN_NEW, MARK, LONE])).toHaveLength(2);
    expect((await verifyPlan(parsePlan(text(), 'plan.yaml', {}))).equal).toBe(true);
  }, 120_000);

  it('never folds one written record into another: a new record matching two goes to review', async () => {
    await run();
    // Two written people, one email each; the new record carries the first's email and the second's phone.
    await contact(100_020, 'Lena', 'Vifaal', 'lena.vifaal@gmail.com', null, T1);
    await contact(100_021, 'Lena', 'Vifaal', 'lvifaal@hooli.com', '(312) 734-0188', T1);
    const second = await run();
    expect(second.entities.contacts).toMatchObject({ read: 2, written: 2, merged: 0 });
    await contact(100_022, 'Lena', 'Vifaal', 'lena.vifaal@gmail.com', '312-734-0188', T2);
    const third = await run();
    expect(third.entities.contacts).toMatchObject({ read: 1, written: 1, merged: 0 });
    const pairs = await reviewPairs(parsePlan(text(), 'plan.yaml', {}));
    const keys = pairs.map((p) => [p.keyA, p.keyB].sort().join('-'));
    expect(keys).toContain('100020-100022');
    expect(keys).toContain('100021-100022');
    expect((await verifyPlan(parsePlan(text(), 'plan.yaml', {}))).equal).toBe(true);
  }, 120_000);
});
