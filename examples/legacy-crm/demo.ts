import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { generateLegacyCrm } from './generate.js';

// Compiled to dist/examples/legacy-crm/; the plan and its data live beside the sources.
const here = fileURLToPath(new URL('../../../examples/legacy-crm/', import.meta.url));
const legacy = path.join(here, 'legacy.db');
const target = path.join(here, 'out', 'new-crm.db');
const plan = path.join(here, 'plan.yaml');

if (!existsSync(legacy)) {
  const n = generateLegacyCrm(legacy);
  console.log(`built the legacy CRM: ${n.toLocaleString('en-US')} customers in examples/legacy-crm/legacy.db`);
}
// Every demo starts from the new CRM's empty schema, as a vendor would hand it over.
rmSync(path.dirname(target), { recursive: true, force: true });
mkdirSync(path.dirname(target), { recursive: true });
const db = new Database(target);
db.exec(readFileSync(path.join(here, 'new-crm-schema.sql'), 'utf8'));
db.close();

const code = await main(['run', plan]);
if (code === 0) {
  console.log(`\nthe new CRM is in examples/legacy-crm/out/new-crm.db (table new_crm_customers)`);
  console.log('see why rows were quarantined: npx crm-migrate quarantine examples/legacy-crm/plan.yaml');
  console.log('preview the mapping on sample rows: npx crm-migrate plan examples/legacy-crm/plan.yaml --sample 5');
}
process.exitCode = code;
