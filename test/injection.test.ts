import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSource } from '../src/connectors/index.js';
import { runPlan } from '../src/engine/run.js';
import { verifyPlan } from '../src/verify/verify.js';
import { parsePlan } from '../src/plan/load.js';
import type { Row } from '../src/values.js';
import { scratchDatabase, type ScratchDatabase } from './helpers/sql-databases.js';

// Names from plans and schemas are quoted by each connector, values are always bound or escaped: hostile
// table names, column names, values and resume keys arrive as data, and the canary table survives.

const TABLE = 'cust"omers; DROP TABLE canary; --';
const COLUMNS = { key: "k'ey", name: 'na"me', note: 'select' };
const HOSTILE = [
  "'); DROP TABLE canary; --",
  '"; DROP TABLE canary; --',
  'back\\slash\\N\ttab\nnewline',
  '$1 $$ dollar-quoted $$',
  "Robert'); DELETE FROM canary WHERE ('1'='1",
];

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const yamlKey = (name: string) => JSON.stringify(name);

describe.each(['sqlite', 'postgres', 'mysql'] as const)('hostile names and values on %s', (kind) => {
  let db: ScratchDatabase;
  let target: ScratchDatabase;

  beforeEach(async () => {
    [db, target] = await Promise.all([scratchDatabase(kind), scratchDatabase(kind)]);
    for (const d of [db, target]) {
      await d.run('CREATE TABLE canary (n INTEGER)');
      await d.run('INSERT INTO canary VALUES (1)');
    }
    // MySQL cannot index plain TEXT.
    const keyType = kind === 'mysql' ? 'VARCHAR(200)' : 'TEXT';
    await db.run(
      `CREATE TABLE ${q(TABLE)} (${q(COLUMNS.key)} ${keyType} PRIMARY KEY, ${q(COLUMNS.name)} TEXT, ${q(COLUMNS.note)} TEXT)`,
    );
    for (const [i, v] of HOSTILE.entries())
      await db.run(`INSERT INTO ${q(TABLE)} VALUES (?, ?, ?)`, [`${v} #${i}`, v, v]);
  });
  afterEach(async () => {
    await Promise.all([db.drop(), target.drop()]);
  });

  it('migrates and verifies them as data, and the canary survives', async () => {
    const text = `version: 1
source: "${db.url}"
target: "${target.url}"
batch_size: 2
entities:
  hostile:
    from: ${yamlKey(TABLE)}
    into: ${yamlKey(`${TABLE} copy`)}
    key: ${yamlKey(COLUMNS.key)}
    fields:
      ${yamlKey(COLUMNS.key)}: ${yamlKey(COLUMNS.key)}
      ${yamlKey(`${COLUMNS.name} 2`)}: ${yamlKey(COLUMNS.name)}
      ${yamlKey(COLUMNS.note)}: ${yamlKey(COLUMNS.note)}
`;
    const summary = await runPlan(parsePlan(text, 'plan.yaml'));
    expect(summary.entities.hostile).toMatchObject({ read: HOSTILE.length, written: HOSTILE.length });
    const rows = await target.rows<Record<string, string>>(
      `SELECT * FROM ${q(`${TABLE} copy`)} ORDER BY ${q(COLUMNS.key)}`,
    );
    expect(rows.map((r) => [r[COLUMNS.key], r[`${COLUMNS.name} 2`], r[COLUMNS.note]]).sort()).toEqual(
      HOSTILE.map((v, i) => [`${v} #${i}`, v, v]).sort(),
    );
    expect((await verifyPlan(parsePlan(text, 'plan.yaml'))).equal).toBe(true);
    for (const d of [db, target]) expect(await d.rows('SELECT n FROM canary')).toEqual([{ n: 1 }]);
  });

  it('resumes after hostile key values, counting and reading exactly what follows them', async () => {
    const source = await openSource(db.url, { baseDir: '.' });
    try {
      const keys = HOSTILE.map((v, i) => `${v} #${i}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const [i, after] of keys.entries()) {
        const rows: Row[] = [];
        for await (const batch of source.read({
          table: TABLE,
          columns: [COLUMNS.key],
          key: [COLUMNS.key],
          after: [after],
          batchSize: 10,
        }))
          rows.push(...batch);
        expect(rows.map((r) => r[0])).toEqual(keys.slice(i + 1));
        expect(await source.count(TABLE, { key: [COLUMNS.key], after: [after] })).toBe(keys.length - i - 1);
      }
    } finally {
      await source.close();
    }
    expect(await db.rows('SELECT n FROM canary')).toEqual([{ n: 1 }]);
  });
});
