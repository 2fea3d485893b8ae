import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatSummary } from '../src/cli/format.js';
import { PlanError } from '../src/errors.js';
import { renderRunReport } from '../src/report/report.js';
import { withPlanTarget } from '../src/engine/connections.js';
import { retryQuarantine, type FixedRecord } from '../src/engine/quarantine/retry.js';
import { runPlan } from '../src/engine/run.js';
import { newUuid } from '../src/mapping/identity.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { tempDir } from './helpers/databases.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// Orders refer to companies. Company 3 is quarantined (its email is broken) and companies 7 and 8 were never
// in the source: with orphans: placeholder, each gets a placeholder record and its orders still land.
const PLAN = (
  source: string,
  target: string,
  placeholder = '    placeholder: { name: "(unknown company)", status: placeholder }\n',
) => `version: 1
name: placeholders
source: "${source}"
target: "${target}"
batch_size: 2
entities:
  companies:
    from: companies
    into: accounts
    key: id
    fields:
      id: { new_id: uuid }
      name: name
      email: { from: email, clean: email }
      status: { value: migrated }
${placeholder}  orders:
    from: orders
    into: orders
    key: id
    fields:
      id: id
      company_id: { from: company_id, ref: companies, orphans: placeholder }
      amount: amount
`;

describe.each([
  ['sqlite', 'postgres'],
  ['postgres', 'mysql'],
] as const)('orphan refs with placeholders, %s -> %s', (sourceKind, targetKind) => {
  let m: ScratchMigration;
  beforeEach(async () => {
    m = await scratchMigration(sourceKind, targetKind);
    await m.source.run('CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT, email TEXT)');
    await m.source.run('CREATE TABLE orders (id INTEGER PRIMARY KEY, company_id INTEGER, amount INTEGER)');
    await m.source.run(
      "INSERT INTO companies VALUES (1, 'Acme', 'sales@acme.example.com'), (2, 'Globex', NULL), (3, 'Initech', 'bill at initech')",
    );
    await m.source.run(
      'INSERT INTO orders VALUES (100, 1, 10), (101, 3, 20), (102, 7, 30), (103, 7, 40), (104, NULL, 50), (105, 8, 60), (106, 2, 70)',
    );
    await m.target.run(
      'CREATE TABLE accounts (id VARCHAR(36) PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(100), status VARCHAR(20) NOT NULL)',
    );
  });
  afterEach(() => m.drop());

  it('makes one placeholder per missing or quarantined record, re-points the orders to it, and verify counts it', async () => {
    const text = PLAN(m.source.url, m.target.url);
    const controller = new AbortController();
    // Stopped once the companies are loaded, before the placeholders: the rerun resumes there.
    const first = await runPlan(parsePlan(text, 'plan.yaml'), {
      signal: controller.signal,
      onProgress: (p) => (p.entity === 'companies' && p.done ? controller.abort() : undefined),
    });
    expect(first.status).toBe('interrupted');
    const summary = await runPlan(parsePlan(text, 'plan.yaml'));
    expect(summary.status).toBe('done');
    expect(summary.entities.companies).toMatchObject({ read: 3, written: 2, quarantined: 1 });
    expect(summary.entities.orders).toMatchObject({ read: 7, written: 7, quarantined: 0 });
    expect(summary.placeholders).toEqual({ companies: 3 });
    expect(formatSummary(summary)).toContain(
      'placeholder records made for orphan refs (rows besides the written ones): companies 3',
    );
    expect(renderRunReport({ summary, throughput: [] })).toMatch(
      /data-section="placeholders">.*companies <span data-count="placeholders">3<\/span>/,
    );

    const accounts = await m.target.rows<{ id: string; name: string; email: string | null; status: string }>(
      'SELECT id, name, email, status FROM accounts ORDER BY name, id',
    );
    const placeholder = (key: string) => [newUuid('companies', key), '(unknown company)', null, 'placeholder'];
    expect(accounts.map((a) => [a.id, a.name, a.email, a.status])).toEqual(
      [
        placeholder('3'),
        placeholder('7'),
        placeholder('8'),
        [newUuid('companies', '1'), 'Acme', 'sales@acme.example.com', 'migrated'],
        [newUuid('companies', '2'), 'Globex', null, 'migrated'],
      ].sort((a, b) => `${a[1]}${a[0]}`.localeCompare(`${b[1]}${b[0]}`)),
    );
    const orders = await m.target.rows<{ id: number; company_id: string | null }>(
      'SELECT id, company_id FROM orders ORDER BY id',
    );
    expect(orders.map((o) => [Number(o.id), o.company_id])).toEqual([
      [100, newUuid('companies', '1')],
      [101, newUuid('companies', '3')],
      [102, newUuid('companies', '7')],
      [103, newUuid('companies', '7')],
      [104, null],
      [105, newUuid('companies', '8')],
      [106, newUuid('companies', '2')],
    ]);

    const verified = await verifyPlan(parsePlan(text, 'plan.yaml'));
    expect(verified.equal).toBe(true);
    expect(verified.entities.find((e) => e.entity === 'companies')).toMatchObject({
      equal: 2,
      quarantined: 1,
      placeholders: 3,
      extra: 0,
      stale: 0,
    });

    // The quarantined company, fixed and retried, replaces its placeholder; its order now points at the real record.
    const fixed: FixedRecord = {
      entity: 'companies',
      source_key: '3',
      id: '3',
      name: 'Initech',
      email: 'bill@initech.example.com',
    };
    const retried = await retryQuarantine(
      parsePlan(text, 'plan.yaml'),
      (async function* () {
        yield fixed;
      })(),
    );
    expect(retried.entities.companies).toMatchObject({ retried: 1, written: 1 });
    const initech = await m.target.rows<{ name: string; email: string; status: string }>(
      `SELECT name, email, status FROM accounts WHERE id = '${newUuid('companies', '3')}'`,
    );
    expect(initech).toEqual([{ name: 'Initech', email: 'bill@initech.example.com', status: 'migrated' }]);
    // No longer a placeholder, but a retried record: the source still holds the broken email, so verify
    // expects the record there without comparing its values.
    const again = await verifyPlan(parsePlan(text, 'plan.yaml'));
    expect(again.equal).toBe(true);
    expect(again.entities.find((e) => e.entity === 'companies')).toMatchObject({
      equal: 2,
      quarantined: 0,
      retried: 1,
      placeholders: 2,
      stale: 0,
      extra: 0,
    });
  }, 60_000);

  it('leaves out a placeholder the target refuses, and quarantines the rows referring to it as orphans', async () => {
    // The new CRM takes no record with that status: every placeholder is refused.
    await m.target.run('DROP TABLE accounts');
    await m.target.run(
      "CREATE TABLE accounts (id VARCHAR(36) PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(100), status VARCHAR(20) NOT NULL, CONSTRAINT no_placeholders CHECK (status <> 'placeholder'))",
    );
    const summary = await runPlan(parsePlan(PLAN(m.source.url, m.target.url), 'plan.yaml'));
    expect(summary.status).toBe('done');
    expect(summary.placeholders?.companies ?? 0).toBe(0);
    expect(summary.entities.orders).toMatchObject({ read: 7, written: 3, quarantined: 4 });
    expect(summary.reasons.filter((r) => r.entity === 'orders').map((r) => [r.code, r.count])).toEqual([['orphan', 4]]);
    expect((await m.target.rows<{ id: number }>('SELECT id FROM orders ORDER BY id')).map((o) => Number(o.id))).toEqual(
      [100, 104, 106],
    );
  });

  it('refuses a plan whose placeholder would leave a NOT NULL column empty, before writing anything', async () => {
    const text = PLAN(
      m.source.url,
      m.target.url,
      '    placeholder: { name: "(unknown company)", sttaus: placeholder }\n',
    );
    const error = await runPlan(parsePlan(text, 'plan.yaml')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlanError);
    const messages = (error as PlanError).issues.map((i) => `${i.location?.line ?? '?'}: ${i.message} ${i.hint ?? ''}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^16: target table accounts has no column "sttaus" .*status/),
        expect.stringMatching(
          /^23: a placeholder record of companies leaves accounts.status empty, but it is NOT NULL add placeholder: \{ status: … \}/,
        ),
      ]),
    );
    expect(await m.target.rows('SELECT id FROM accounts')).toEqual([]);
    // Deletes would remove the placeholders (they have no source row): refused too.
    const deleting = PLAN(m.source.url, m.target.url).replace(
      '    key: id\n    fields:\n      id: { new_id: uuid }',
      '    key: id\n    strategy: incremental\n    cursor: id\n    deletes: hard\n    fields:\n      id: { new_id: uuid }',
    );
    await expect(runPlan(parsePlan(deleting, 'plan.yaml'))).rejects.toThrow(
      /companies removes target rows whose source row is gone, which would remove its placeholder records/,
    );
  });

  it('keeps a copied key as it is, quarantines an orphan whose key cannot be one, and makes placeholders for each increment', async () => {
    await m.source.run('CREATE TABLE tickets (id INTEGER PRIMARY KEY, company TEXT, changed INTEGER)');
    await m.source.run("INSERT INTO tickets VALUES (1, '1', 1), (2, '5', 1), (3, 'x9', 1), (4, '5', 2)");
    const text = `version: 1
name: copied-keys
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  companies:
    from: companies
    into: firms
    key: id
    fields:
      id: id
      name: name
  tickets:
    from: tickets
    into: tickets
    key: id
    strategy: incremental
    cursor: changed
    fields:
      id: id
      firm_id: { from: company, ref: companies, orphans: placeholder }
`;
    const first = await runPlan(parsePlan(text, 'plan.yaml'));
    expect(first.placeholders).toEqual({ companies: 1 });
    expect(first.entities.tickets).toMatchObject({ read: 4, written: 3, quarantined: 1 });
    expect(first.reasons).toEqual([
      expect.objectContaining({ entity: 'tickets', field: 'firm_id', code: 'orphan', sampleKeys: ['3'] }),
    ]);
    await m.source.run("INSERT INTO tickets VALUES (5, '6', 3), (6, '5', 3)");
    const increment = await runPlan(parsePlan(text, 'plan.yaml'));
    expect(increment.placeholders).toEqual({ companies: 1 });
    expect(increment.entities.tickets).toMatchObject({ read: 2, written: 2 });
    const firms = await m.target.rows<{ id: number; name: string | null }>('SELECT id, name FROM firms ORDER BY id');
    expect(firms.map((f) => [Number(f.id), f.name])).toEqual([
      [1, 'Acme'],
      [2, 'Globex'],
      [3, 'Initech'],
      [5, null],
      [6, null],
    ]);
    const tickets = await m.target.rows<{ id: number; firm_id: number }>('SELECT id, firm_id FROM tickets ORDER BY id');
    expect(tickets.map((t) => [Number(t.id), Number(t.firm_id)])).toEqual([
      [1, 1],
      [2, 5],
      [4, 5],
      [5, 6],
      [6, 5],
    ]);
    expect(
      (await verifyPlan(parsePlan(text, 'plan.yaml'))).entities.find((e) => e.entity === 'companies'),
    ).toMatchObject({ equal: 3, placeholders: 2, extra: 0 });
  }, 60_000);

  it('stops counting a placeholder once an increment brings its real record', async () => {
    await m.source.run('CREATE TABLE firms (id INTEGER PRIMARY KEY, name TEXT, changed INTEGER NOT NULL)');
    await m.source.run("INSERT INTO firms VALUES (1, 'Acme', 1)");
    await m.source.run('CREATE TABLE calls (id INTEGER PRIMARY KEY, firm INTEGER, changed INTEGER NOT NULL)');
    await m.source.run('INSERT INTO calls VALUES (1, 1, 1), (2, 5, 1)');
    const text = `version: 1
name: realized
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  firms:
    from: firms
    into: firms
    key: id
    strategy: incremental
    cursor: changed
    placeholder: { name: "(unknown)" }
    fields:
      id: id
      name: name
  calls:
    from: calls
    into: calls
    key: id
    strategy: incremental
    cursor: changed
    fields:
      id: id
      firm_id: { from: firm, ref: firms, orphans: placeholder }
`;
    expect((await runPlan(parsePlan(text, 'plan.yaml'))).placeholders).toEqual({ firms: 1 });
    const verify = async () =>
      (await verifyPlan(parsePlan(text, 'plan.yaml'))).entities.find((e) => e.entity === 'firms');
    expect(await verify()).toMatchObject({ equal: 1, placeholders: 1, extra: 0 });
    await m.source.run("INSERT INTO firms VALUES (5, 'Globex', 2)");
    expect((await runPlan(parsePlan(text, 'plan.yaml'))).placeholders).toEqual({ firms: 0 });
    const firms = await m.target.rows<{ id: number; name: string }>('SELECT id, name FROM firms ORDER BY id');
    expect(firms.map((f) => [Number(f.id), f.name])).toEqual([
      [1, 'Acme'],
      [5, 'Globex'],
    ]);
    expect(await verify()).toMatchObject({ equal: 2, placeholders: 0, extra: 0 });
    // The state no longer lists firm 5 as a placeholder.
    const stored = await withPlanTarget(parsePlan(text, 'plan.yaml'), true, async (t) => {
      const keys = [];
      for await (const p of t.state.placeholders('realized', 'firms')) keys.push(p.sourceKey);
      return keys;
    });
    expect(stored).toEqual([]);
  }, 60_000);
});

describe('placeholders and cycles on a CSV folder target', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
    const db = new Database(path.join(tmp.dir, 'old.db'));
    db.exec(
      "CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT, boss INTEGER); INSERT INTO companies VALUES (1, 'Acme', NULL)",
    );
    db.exec(
      'CREATE TABLE orders (id INTEGER PRIMARY KEY, company_id INTEGER); INSERT INTO orders VALUES (1, 1), (2, 5), (3, 5)',
    );
    db.close();
  });
  afterEach(() => tmp.remove());

  const plan = (companyFields: string) => `version: 1
name: files
source: sqlite:./old.db
target: csv:./out
entities:
  companies:
    from: companies
    into: companies
    key: id
    placeholder: { name: "(unknown)" }
    fields:
      id: id
      name: name
${companyFields}  orders:
    from: orders
    into: orders
    key: id
    fields:
      id: id
      company_id: { from: company_id, ref: companies, orphans: placeholder }
`;

  it('appends the placeholders to the referenced file, and verify finds them there on later calls', async () => {
    const file = path.join(tmp.dir, 'plan.yaml');
    const summary = await runPlan(parsePlan(plan(''), file));
    expect(summary.placeholders).toEqual({ companies: 1 });
    expect(readFileSync(path.join(tmp.dir, 'out', 'companies.csv'), 'utf8')).toBe('id,name\n1,Acme\n5,(unknown)\n');
    expect(readFileSync(path.join(tmp.dir, 'out', 'orders.csv'), 'utf8')).toBe('id,company_id\n1,1\n2,5\n3,5\n');
    // A file has no primary key to check: the existing file is accepted as the placeholders' table.
    const verified = await verifyPlan(parsePlan(plan(''), file));
    expect(verified.equal).toBe(true);
    expect(verified.entities[0]).toMatchObject({ entity: 'companies', equal: 1, placeholders: 1 });
  });

  it('refuses a cycle before anything is written: its second pass would update rows, and a file only appends', async () => {
    const cycle = plan('      boss_order: { from: boss, ref: orders, orphans: null }\n');
    await expect(runPlan(parsePlan(cycle, path.join(tmp.dir, 'plan.yaml')))).rejects.toThrow(
      /filled in by a second pass that updates rows: this target only appends/,
    );
    expect(existsSync(path.join(tmp.dir, 'out', 'companies.csv'))).toBe(false);
  });
});
