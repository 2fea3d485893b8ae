import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { newUuid } from '../src/mapping/identity.js';
import { parsePlan } from '../src/plan/load.js';
import { createPostgresDatabase, tempDir, type TestPostgres } from './helpers/databases.js';

// Two old systems into one new CRM: the legacy CRM (SQLite) and a web shop's CSV export both hold customers,
// with keys that collide (both have a customer 1). Each source's records get keys of their own.

describe('several sources in one plan', () => {
  let tmp: ReturnType<typeof tempDir>;
  let target: TestPostgres;
  beforeEach(async () => {
    tmp = tempDir();
    target = await createPostgresDatabase();
    const crm = new Database(path.join(tmp.dir, 'crm.db'));
    crm.exec(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT); INSERT INTO customers VALUES (1, 'Ann Lee', 'ann@example.com'), (2, 'Bo Day', 'bo@example.com');",
    );
    crm.close();
    mkdirSync(path.join(tmp.dir, 'shop'));
    writeFileSync(
      path.join(tmp.dir, 'shop', 'buyers.csv'),
      'buyer_id,full_name,mail\n1,Cy Young,CY@EXAMPLE.COM\n2,Di Fox,not-an-email\n3,Ed Ma,ed@example.com\n',
    );
  });
  afterEach(async () => {
    await target.drop();
    tmp.remove();
  });

  const plan = (extra = '') => `version: 1
name: two-systems
sources:
  crm: sqlite:./crm.db
  shop: csv:./shop
target: ${target.url}
entities:
  crm_customers:
    source: crm
    from: customers
    into: people
    key: id
    fields:
      id: { new_id: uuid }
      origin: { value: crm }
      legacy_id: id
      full_name: name
      email: { from: email, clean: email }
  shop_customers:
    source: shop${extra}
    from: buyers
    into: people
    key: buyer_id
    fields:
      id: { new_id: uuid }
      origin: { value: shop }
      legacy_id: { from: buyer_id, transform: { cast: integer } }
      full_name: full_name
      email: { from: mail, clean: email }
`;

  it('loads both into one table, colliding source keys kept apart by their entity', async () => {
    const summary = await runPlan(parsePlan(plan(), path.join(tmp.dir, 'plan.yaml')));
    expect(summary.entities).toMatchObject({
      crm_customers: { read: 2, written: 2 },
      shop_customers: { read: 3, written: 2, quarantined: 1 },
    });
    expect(summary.source).toBe('crm=sqlite:./crm.db, shop=csv:./shop');
    const rows = await target.query<{ id: string; origin: string; legacy_id: number; email: string }>(
      'SELECT id, origin, legacy_id, email FROM people ORDER BY origin, legacy_id',
    );
    expect(rows).toEqual([
      { id: newUuid('crm_customers', '1'), origin: 'crm', legacy_id: 1, email: 'ann@example.com' },
      { id: newUuid('crm_customers', '2'), origin: 'crm', legacy_id: 2, email: 'bo@example.com' },
      { id: newUuid('shop_customers', '1'), origin: 'shop', legacy_id: 1, email: 'cy@example.com' },
      { id: newUuid('shop_customers', '3'), origin: 'shop', legacy_id: 3, email: 'ed@example.com' },
    ]);
    expect(summary.reasons.map((r) => [r.entity, r.field, r.code, r.sampleKeys])).toEqual([
      ['shop_customers', 'email', 'invalid_email', ['2']],
    ]);
  });

  it('refuses an entity that names no source of the plan, or none when there are several', () => {
    expect(() => parsePlan(plan().replace('source: shop', 'source: shopp'), path.join(tmp.dir, 'plan.yaml'))).toThrow(
      /plan\.yaml:\d+:\d+: error: entities\.shop_customers\.source: no source named "shopp" \(did you mean "shop"\?\)/,
    );
    expect(() => parsePlan(plan().replace('    source: shop\n', ''), path.join(tmp.dir, 'plan.yaml'))).toThrow(
      /the plan has several sources: say which one this entity reads \(sources: crm, shop\)/,
    );
    expect(() =>
      parsePlan(plan().replace('sources:', 'source: sqlite:./x.db\nsources:'), path.join(tmp.dir, 'plan.yaml')),
    ).toThrow(/a plan needs either source: \(one URL\) or sources: \(several, by name\)/);
  });
});
