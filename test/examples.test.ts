import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { loadPlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { createPostgresDatabase, type TestPostgres } from './helpers/databases.js';

// The examples, end to end on their public data sets (../shared/data), as the README says to run them.

const EXAMPLES = path.resolve(import.meta.dirname, '../examples');
const DATA = path.resolve(import.meta.dirname, '../../shared/data');

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
    const env = { ...process.env, CRM_EXPORT_DIR: path.join(DATA, 'crm-sales-opportunities'), CRM_EXPORT_TARGET: db.url };
    const plan = await loadPlan(path.join(EXAMPLES, 'crm-export/plan.yaml'), { env });
    const summary = await runPlan(plan);
    expect(summary.entities.organisations).toMatchObject({ read: 85, written: 85, quarantined: 0 });
    expect(summary.entities.products).toMatchObject({ read: 7, written: 7 });
    expect(summary.entities.sales_agents).toMatchObject({ read: 35, written: 35 });
    expect(summary.entities.deals).toMatchObject({ read: 8800, written: 7320, quarantined: 1480 });
    for (const c of Object.values(summary.entities)) expect(c.read).toBe(c.written + c.quarantined + c.merged + c.filtered);
    // The dirt, visible: GTXPro deals are orphans, "technolgy" was corrected, prospecting deals have no account.
    expect(summary.reasons.map((r) => [r.entity, r.field, r.rule, r.code, r.count])).toEqual([['deals', 'product_id', 'ref', 'orphan', 1480]]);
    const sectors = await db.query<{ sector: string; n: string }>("SELECT sector, count(*) AS n FROM organisations WHERE sector LIKE 'techn%' GROUP BY sector");
    expect(sectors.map((r) => [r.sector, Number(r.n)])).toEqual([['technology', 12]]);
    const [orphaned] = await db.query<{ n: string }>('SELECT count(*) AS n FROM deals WHERE organisation_id IS NULL');
    expect(Number(orphaned?.n)).toBeGreaterThan(1000);
    // Every reference points at a migrated record (the target's foreign keys hold), joined back by name.
    const won = await db.query<{ org: string; product: string; agent: string; value: number }>(
      `SELECT o.name AS org, p.name AS product, a.name AS agent, d.value FROM deals d JOIN organisations o ON o.id = d.organisation_id
       JOIN products p ON p.id = d.product_id JOIN sales_agents a ON a.id = d.agent_id WHERE d.id = '1C1I7A6R'`,
    );
    expect(won).toEqual([{ org: 'Cancity', product: 'GTX Plus Basic', agent: 'Moses Frase', value: 1054 }]);
    // verify covers the entities keyed as the source is (deals); those with new ids are not verified yet.
    await expect(verifyPlan(plan)).rejects.toThrow(/verify of an entity with a new_id is not supported yet/);
  }, 60_000);
});
