import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

// Legacy CRMs on MariaDB/MySQL install utf8mb3 tables with char(36) keys (SugarCRM, SuiteCRM, vtiger), and
// older ones latin1, with case-insensitive collations that sort 'a' before 'Z': every one must be read in code-point order, resumed after any key, and verified.

const KEYS = ['a', 'Z', 'y', 'é', '€', 'Ω', '0b6f1e9c-2f7a-4c1e-9d7a-1b2c3d4e5f60', 'ß'];

describe.each(['utf8mb3', 'latin1', 'utf8mb4'] as const)('a %s text key on MariaDB', (charset) => {
  let m: ScratchMigration;
  const keys = charset === 'latin1' ? KEYS.filter((k) => k !== 'Ω') : KEYS; // latin1 has no Ω

  beforeEach(async () => {
    m = await scratchMigration('mysql', 'sqlite');
    await m.source.run(`CREATE TABLE accounts (id CHAR(36) PRIMARY KEY, name VARCHAR(100)) CHARACTER SET ${charset}`);
    for (const k of keys) await m.source.run('INSERT INTO accounts VALUES (?, ?)', [k, `Account ${k}`]);
  });
  afterEach(() => m.drop());

  it('is read in code-point order, resumed after each batch, and verified equal', async () => {
    const plan = () =>
      parsePlan(
        `version: 1\nname: charsets\nsource: "${m.source.url}"\ntarget: "${m.target.url}"\nbatch_size: 2\nentities:\n  accounts:\n    from: accounts\n    into: accounts\n    key: id\n    fields:\n      id: id\n      name: name\n`,
        'plan.yaml',
      );
    const summary = await runPlan(plan());
    expect(summary.entities.accounts).toMatchObject({ read: keys.length, written: keys.length });
    const rows = await m.target.rows<{ id: string; name: string }>('SELECT id, name FROM accounts ORDER BY id');
    const byCodePoint = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(rows).toEqual(byCodePoint.map((k) => ({ id: k, name: `Account ${k}` })));
    const verified = await verifyPlan(plan());
    expect(verified.equal).toBe(true);
  });
});
