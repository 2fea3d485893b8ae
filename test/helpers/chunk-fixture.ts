import type { RunSummary } from '../../src/index.js';
import type { TestPostgres } from './databases.js';

// A legacy CRM for the chunked, parallel and queued loads (test/parallel-load.test.ts, test/queue.test.ts),
// and what must agree between two loads of it.

/** Customers in the legacy CRM: enough for several chunks of MIN_CHUNK_ROWS. */
export const PEOPLE = 70_000;

/** Three entities, a text key, a filter, a cleaning rule that quarantines, and refs through the crosswalk. */
export const planText = (source: string, target: string, parallel: number) => `version: 1
name: chunks
source: ${source}
target: ${target}
batch_size: 2000
parallel: ${parallel}
entities:
  accounts:
    from: old_accounts
    into: accounts
    key: code
    fields:
      code: code
      name: { from: name, clean: trim }
  customers:
    from: old_customers
    into: customers
    key: id
    where: { deleted: 0 }
    fields:
      id: id
      first_name: { from: name, transform: name.first }
      last_name: { from: name, transform: name.last }
      email: { from: email, clean: email, invalid: quarantine }
  orders:
    from: old_orders
    into: orders
    key: id
    fields:
      id: id
      customer_id: { from: customer_id, ref: customers }
      total: { from: total, transform: { cast: decimal } }
`;

/** Rows shaped like a CRM's: varied names, broken emails, deleted flags, orphan refs, text keys in mixed case and scripts. */
export async function fillLegacyCrm(source: TestPostgres): Promise<void> {
  await source.query('CREATE TABLE old_accounts (code TEXT PRIMARY KEY, name TEXT)');
  await source.query(`INSERT INTO old_accounts
    SELECT (ARRAY['acc-', 'ACC-', 'Ärzte-', 'z-', '東京-'])[1 + g % 5] || g, '  Account ' || g || ' '
    FROM generate_series(1, 45000) g`);
  await source.query(
    'CREATE TABLE old_customers (id INT PRIMARY KEY, name TEXT, email TEXT, deleted INT NOT NULL DEFAULT 0)',
  );
  await source.query(`INSERT INTO old_customers
    SELECT g,
      CASE WHEN g % 7 = 0 THEN 'Last' || g || ', First' WHEN g % 11 = 0 THEN 'Dr. First' || g || ' van der Last'
           ELSE 'First' || g || ' Last' || (g % 97) END,
      CASE WHEN g % 97 = 0 THEN 'broken' || g || ' at example.com' ELSE 'user' || g || '@d' || (g % 3000) || '.example.org' END,
      CASE WHEN g % 50 = 0 THEN 1 ELSE 0 END
    FROM generate_series(1, ${PEOPLE}) g`);
  await source.query('CREATE TABLE old_orders (id INT PRIMARY KEY, customer_id INT, total TEXT)');
  await source.query(`INSERT INTO old_orders
    SELECT g, CASE WHEN g % 400 = 0 THEN ${PEOPLE} + g ELSE 1 + g % ${PEOPLE} END, (g % 1000) || '.' || lpad((g % 100)::text, 2, '0')
    FROM generate_series(1, 60000) g`);
}

/** What must agree between two runs of one plan: the accounting and the quarantine, per entity. */
export function outcome(summary: RunSummary) {
  return {
    status: summary.status,
    entities: summary.entities,
    reasons: summary.reasons.map((r) => [r.entity, r.field, r.code, r.count, r.sampleKeys]),
    quality: summary.quality,
    filtered: summary.filtered,
  };
}

/** Rows of the three target tables and the state beside them, in key order, for equality between two loads. */
export async function pgContent(db: TestPostgres) {
  return {
    accounts: await db.query('SELECT * FROM accounts ORDER BY code COLLATE "C"'),
    customers: await db.query('SELECT * FROM customers ORDER BY id'),
    orders: await db.query('SELECT * FROM orders ORDER BY id'),
    crosswalk: await db.query(
      'SELECT entity, source_key, new_key FROM _crm_migrate.crosswalk ORDER BY entity, source_key COLLATE "C"',
    ),
    quarantine: await db.query(
      'SELECT entity, source_key, reasons FROM _crm_migrate.quarantine ORDER BY entity, source_key COLLATE "C"',
    ),
  };
}
