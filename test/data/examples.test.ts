import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dataPath } from '../helpers/data.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../../src/engine/run.js';
import { loadPlan } from '../../src/plan/load.js';
import { verifyPlan } from '../../src/verify/verify.js';
import {
  createMysqlDatabase,
  createPostgresDatabase,
  MYSQL_SERVER,
  type TestMysql,
  type TestPostgres,
} from '../helpers/databases.js';

// The examples, end to end on their public data sets, as the README says to run them.

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');
const DATA = dataPath();

describe('examples/crm-export: CSV exports into a CRM with UUID keys', () => {
  let db: TestPostgres;
  beforeAll(async () => {
    db = await createPostgresDatabase();
    await db.query(readFileSync(path.join(EXAMPLES, 'crm-export/schema.sql'), 'utf8'));
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('migrates every row or says why not, and the relations hold', async () => {
    const env = {
      ...process.env,
      CRM_EXPORT_DIR: path.join(DATA, 'crm-sales-opportunities'),
      CRM_EXPORT_TARGET: db.url,
    };
    const plan = await loadPlan(path.join(EXAMPLES, 'crm-export/plan.yaml'), { env });
    const summary = await runPlan(plan);
    expect(summary.entities.organisations).toMatchObject({ read: 85, written: 85, quarantined: 0 });
    expect(summary.entities.products).toMatchObject({ read: 7, written: 7 });
    expect(summary.entities.sales_agents).toMatchObject({ read: 35, written: 35 });
    expect(summary.entities.deals).toMatchObject({ read: 8800, written: 7320, quarantined: 1480 });
    for (const c of Object.values(summary.entities))
      expect(c.read).toBe(c.written + c.quarantined + c.merged + c.filtered);
    // The dirt, visible: GTXPro deals are orphans, "technolgy" was corrected, prospecting deals have no account.
    expect(summary.reasons.map((r) => [r.entity, r.field, r.rule, r.code, r.count])).toEqual([
      ['deals', 'product_id', 'ref', 'orphan', 1480],
    ]);
    const sectors = await db.query<{ sector: string; n: string }>(
      "SELECT sector, count(*) AS n FROM organisations WHERE sector LIKE 'techn%' GROUP BY sector",
    );
    expect(sectors.map((r) => [r.sector, Number(r.n)])).toEqual([['technology', 12]]);
    const [orphaned] = await db.query<{ n: string }>('SELECT count(*) AS n FROM deals WHERE organisation_id IS NULL');
    expect(Number(orphaned?.n)).toBeGreaterThan(1000);
    // Every reference points at a migrated record (the target's foreign keys hold), joined back by name.
    const won = await db.query<{ org: string; product: string; agent: string; value: number }>(
      `SELECT o.name AS org, p.name AS product, a.name AS agent, d.value FROM deals d JOIN organisations o ON o.id = d.organisation_id
       JOIN products p ON p.id = d.product_id JOIN sales_agents a ON a.id = d.agent_id WHERE d.id = '1C1I7A6R'`,
    );
    expect(won).toEqual([{ org: 'Cancity', product: 'GTX Plus Basic', agent: 'Moses Frase', value: 1054 }]);
    // verify recomputes all four through the plan (new keys, re-pointed references) and finds the target equal.
    const verified = await verifyPlan(plan);
    expect(verified.entities.map((e) => [e.entity, e.equal, e.quarantined])).toEqual([
      ['organisations', 85, 0],
      ['products', 7, 0],
      ['sales_agents', 35, 0],
      ['deals', 7320, 1480],
    ]);
    expect(verified.equal).toBe(true);
  }, 60_000);
});

describe('examples/sakila-to-crm: MariaDB into a CRM with UUID keys', () => {
  let source: TestMysql;
  let target: TestPostgres;
  beforeAll(async () => {
    [source, target] = await Promise.all([createMysqlDatabase(), createPostgresDatabase()]);
    // The official files create a database named sakila: loaded here under the test database's own name.
    for (const file of ['sakila-schema.sql', 'sakila-data.sql']) {
      const sql = readFileSync(path.join(DATA, 'sakila/mysql', file), 'utf8').replace(/\bsakila\b/g, source.name);
      const url = new URL(MYSQL_SERVER);
      execFileSync('mariadb', ['-u', url.username || 'root', '-h', url.hostname, '-P', url.port || '3306'], {
        input: sql,
        stdio: ['pipe', 'ignore', 'inherit'],
        maxBuffer: 64 * 1024 * 1024,
      });
    }
    await target.query(readFileSync(path.join(EXAMPLES, 'sakila-to-crm/schema.sql'), 'utf8'));
  }, 120_000);
  afterAll(async () => {
    await Promise.all([source?.drop(), target?.drop()]);
  });

  it('migrates customers, addresses, payments and rentals with every reference re-pointed', async () => {
    const env = { ...process.env, SAKILA_SOURCE: source.url, SAKILA_TARGET: target.url };
    const plan = await loadPlan(path.join(EXAMPLES, 'sakila-to-crm/plan.yaml'), { env });
    const summary = await runPlan(plan);
    expect(Object.keys(summary.entities)).toEqual(['addresses', 'people', 'orders', 'activities']);
    expect(summary.entities.addresses).toMatchObject({ read: 603, written: 603 });
    expect(summary.entities.people).toMatchObject({ read: 599, written: 599, quarantined: 0 });
    expect(summary.entities.orders).toMatchObject({ read: 16_044, written: 16_044 });
    expect(summary.entities.activities).toMatchObject({ read: 16_044, written: 16_044 });
    expect(summary.quality.people?.first_name).toMatchObject({ corrected: 599 });
    const [mary] = await target.query<{
      first_name: string;
      last_name: string;
      email: string;
      active: boolean;
      orders: string;
      spent: string;
    }>(
      `SELECT p.first_name, p.last_name, p.email, p.active, count(o.id) AS orders, sum(o.amount) AS spent
       FROM people p JOIN orders o ON o.person_id = p.id WHERE p.legacy_id = 1 GROUP BY p.id`,
    );
    expect(mary).toEqual({
      first_name: 'Mary',
      last_name: 'Smith',
      email: 'mary.smith@sakilacustomer.org',
      active: true,
      orders: '32',
      spent: '118.68',
    });
    const [linked] = await target.query<{ n: string }>(
      'SELECT count(*) AS n FROM activities a JOIN people p ON p.id = a.person_id JOIN addresses d ON d.id = p.address_id',
    );
    expect(Number(linked?.n)).toBe(16_044);
  }, 120_000);
});
