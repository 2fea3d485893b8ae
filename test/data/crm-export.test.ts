import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../../src/engine/run.js';
import { parsePlan } from '../../src/plan/load.js';
import { verifyPlan } from '../../src/verify/verify.js';
import { dataPath } from '../helpers/data.js';
import { tempDir } from '../helpers/databases.js';

// A public CRM export (the sales-opportunities CSVs) read as the old CRM.
const EXPORT = dataPath('crm-sales-opportunities');

describe('a CRM export as the source', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp?.remove());

  it('migrates the sales pipeline export into SQLite, every row accounted for, and verifies it', async () => {
    const text = `version: 1
source: "csv:${EXPORT}"
target: "sqlite:${path.join(tmp.dir, 'crm.db')}"
entities:
  deals:
    from: sales_pipeline
    into: deals
    key: opportunity_id
    fields:
      id: opportunity_id
      agent: sales_agent
      product: product
      account: account
      stage: { from: deal_stage, clean: { picklist: [Prospecting, Engaging, Won, Lost] } }
      engaged: { from: engage_date, clean: date, invalid: null }
      value: { from: close_value, transform: { cast: integer }, invalid: null }
`;
    const plan = parsePlan(text, path.join(tmp.dir, 'plan.yaml'));
    const summary = await runPlan(plan);
    expect(summary.entities.deals).toMatchObject({ read: 8800, written: 8800, quarantined: 0 });
    const db = new Database(path.join(tmp.dir, 'crm.db'), { readonly: true });
    expect(
      db.prepare("SELECT id, agent, product, account, stage, engaged, value FROM deals WHERE id = '1C1I7A6R'").get(),
    ).toEqual({
      id: '1C1I7A6R',
      agent: 'Moses Frase',
      product: 'GTX Plus Basic',
      account: 'Cancity',
      stage: 'Won',
      engaged: '2016-10-20',
      value: 1054,
    });
    // The export's own dirt: pipeline rows with no account (empty cells read as NULL).
    expect(
      (db.prepare('SELECT count(*) AS n FROM deals WHERE account IS NULL').get() as { n: number }).n,
    ).toBeGreaterThan(1000);
    db.close();
    expect((await verifyPlan(plan)).equal).toBe(true);
  });
});
