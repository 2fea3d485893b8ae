import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { canonical } from '../src/verify/canonical.js';
import { scratchDatabase, type ScratchDatabase } from './helpers/sql-databases.js';

// verify recomputes the target from the source through the plan — here a plan that changes the shape
// (a full name split in two, a renamed column, cleaning, a cast) — and must find each kind of difference.

const plan = (source: string, target: string) => `
version: 1
name: verify-test
source: "${source}"
target: "${target}"
entities:
  customers:
    from: customers
    into: people
    key: id
    batch_size: 4
    fields:
      id: id
      first_name: { from: name, transform: name.first }
      last_name: { from: name, transform: name.last }
      email_address: { from: email, clean: email }
      balance: { from: balance, transform: { cast: decimal } }
      since: { from: created, transform: { cast: date }, invalid: null }
`;

const SEED: [number, string, string, string, string][] = [
  [1, 'Smith, John', 'John@Example.com', '10.50', '2020-01-31'],
  [2, 'Jane Doe', 'jane@example.com', '0', '31/12/2019'],
  [3, 'Bad Email', 'not-an-email', '1', '2021-05-05'],
  [4, 'Zoë Østergaard', ' zoe@example.dk ', '-3.25', 'never'],
  [5, 'Tab\tName', 'tab@example.com', '100', '2022-02-02'],
  [6, 'Six Person', 'six@example.com', '6', '2023-06-06'],
];

describe.each(['sqlite', 'postgres', 'mysql'] as const)('verify on %s', (kind) => {
  let source: ScratchDatabase;
  let target: ScratchDatabase;
  let text: string;

  beforeEach(async () => {
    source = await scratchDatabase(kind);
    target = await scratchDatabase(kind);
    await source.run(
      'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, balance TEXT, created TEXT)',
    );
    for (const row of SEED) await source.run('INSERT INTO customers VALUES (?, ?, ?, ?, ?)', row);
    text = plan(source.url, target.url);
    await runPlan(parsePlan(text, 'plan.yaml', {}));
  });
  afterEach(async () => {
    await source.drop();
    await target.drop();
  });

  const verify = (showValues = false) => verifyPlan(parsePlan(text, 'plan.yaml', {}), { showValues });

  it('finds a freshly migrated target equal, the quarantined row expected absent', async () => {
    const result = await verify();
    expect(result.equal).toBe(true);
    expect(result.entities[0]).toMatchObject({
      sourceRows: 6,
      quarantined: 1,
      targetRows: 5,
      equal: 5,
      missing: 0,
      extra: 0,
      changed: 0,
      stale: 0,
      differences: [],
    });
  });

  it('names a changed value, a missing row and an extra row by key and column, without values', async () => {
    await target.run('UPDATE people SET last_name = ? WHERE id = 2', ['Tampered']);
    await target.run('UPDATE people SET balance = ? WHERE id = 4', ['-3.26']);
    await target.run('DELETE FROM people WHERE id = 5');
    await target.run('INSERT INTO people (id, first_name, last_name) VALUES (?, ?, ?)', [99, 'Ghost', 'Row']);
    const result = await verify();
    expect(result.equal).toBe(false);
    expect(result.entities[0]).toMatchObject({
      sourceRows: 6,
      targetRows: 5,
      equal: 2,
      missing: 1,
      extra: 1,
      changed: 2,
    });
    expect(result.entities[0]?.differences).toEqual([
      { kind: 'changed', key: '2', columns: ['last_name'] },
      { kind: 'changed', key: '4', columns: ['balance'] },
      { kind: 'missing', key: '5', columns: [] },
      { kind: 'extra', key: '99', columns: [] },
    ]);
    expect(JSON.stringify(result)).not.toMatch(/Tampered|Ghost|3\.26/);
    const shown = await verify(true);
    expect(shown.entities[0]?.differences[0]?.values).toEqual([
      { column: 'last_name', expected: 'Doe', actual: 'Tampered' },
    ]);
  });

  it('calls a target row stale when its source row is quarantined now', async () => {
    await source.run('UPDATE customers SET email = ? WHERE id = 6', ['broken(at)example.com']);
    const result = await verify();
    expect(result.entities[0]).toMatchObject({
      quarantined: 2,
      stale: 1,
      differences: [{ kind: 'stale', key: '6', columns: [] }],
    });
  });

  it('reads state written before the retried and placeholders tables existed (verify creates nothing)', async () => {
    const table = (name: string) => (kind === 'postgres' ? `_crm_migrate.${name}` : `_crm_migrate_${name}`);
    for (const name of ['retried', 'placeholders']) await target.run(`DROP TABLE ${table(name)}`);
    const result = await verify();
    expect(result.equal).toBe(true);
    expect(result.entities[0]).toMatchObject({ equal: 5, quarantined: 1, retried: 0 });
  });
});

describe('canonical values', () => {
  it.each([
    ['integer', 42, '42', true],
    ['integer', '0042', 42, true],
    ['bigint', 9007199254740993n, '9007199254740993', true],
    ['decimal', '1.50', 1.5, true],
    ['decimal', '-0.0', '0', true],
    ['decimal', '10', '1', false],
    ['decimal', '1e3', '1000', true],
    ['decimal', '-1.5E-2', '-0.015', true],
    ['decimal', '12.5e1', '125', true],
    ['float', '0.1', 0.1, true],
    ['boolean', 't', true, true],
    ['boolean', 0, 'f', true],
    ['date', new Date('2020-01-31T00:00:00Z'), '2020-01-31', true],
    ['timestamp', '2026-01-01 10:00:00+00', '2026-01-01T10:00:00Z', true],
    ['timestamp', '2026-01-01 12:00:00+02', '2026-01-01T10:00:00.000Z', true],
    ['timestamp', '2026-01-01 10:00:00.123456', '2026-01-01 10:00:00.123457', false],
    ['json', '{"b":1,"a":[1,2]}', '{"a": [1, 2], "b": 1}', true],
    ['uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true],
    ['integer', 'abc', 0, false],
    ['text', 'a', 'a ', false],
  ] as const)('%s: %s vs %s equal=%s', (type, a, b, same) => {
    expect(canonical(a, type) === canonical(b, type)).toBe(same);
  });
});
