import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { compileRowExpression, expressionColumns } from '../src/mapping/expressions.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import type { Value } from '../src/values.js';
import { tempDir } from './helpers/databases.js';

// Expressions for what legacy schemas needed views for, with SQL's NULL: arithmetic on NULL is NULL, never 0.

const evaluate = (expression: string, row: Record<string, Value>) => {
  const compiled = compileRowExpression(expression);
  if ('error' in compiled) throw new Error(compiled.error);
  return compiled.evaluate((c) => (Object.hasOwn(row, c) ? (row[c] ?? null) : null));
};

describe('expressions', () => {
  it.each([
    ['amount * 1000000', { amount: 12.5 }, 12_500_000],
    ['amount * 1000000', { amount: null }, null],
    ['-amount', { amount: 3 }, -3],
    ['(price - discount) / 2', { price: 10, discount: 4 }, 3],
    ['if stage == "Closed Won" then "won" else "open"', { stage: 'Closed Won' }, 'won'],
    ['if stage == "Closed Won" then "won" else "open"', { stage: null }, 'open'],
    ['if score < 10 then "low" else "high"', { score: null }, 'high'],
    ['if deleted == 1 then "yes" else "no"', { deleted: '1' }, 'yes'],
    ['"Imported: " + subject', { subject: 'Call back' }, 'Imported: Call back'],
    ['"Imported: " + subject', { subject: null }, null],
    ['first + " " + last', { first: 'Ann', last: 'Lee' }, 'Ann Lee'],
    ['coalesce(mobile, phone, "none")', { mobile: '  ', phone: '555-0100' }, '555-0100'],
    ['coalesce(mobile, phone, "none")', { mobile: null, phone: '' }, 'none'],
    ['coalesce(birthday, created)', { birthday: '0000-00-00', created: '2019-04-01' }, '2019-04-01'],
    ['blank(birthday)', { birthday: '0000-00-00 00:00:00' }, true],
    ['year(created)', { created: '2019-04-01 10:00:00' }, 2019],
    ['month(created) * 100 + day(created)', { created: '2019-04-07' }, 407],
    ['regex_replace(phone, "[^0-9+]", "")', { phone: '+1 (415) 555-2671' }, '+14155552671'],
    ['domain(website)', { website: 'https://www.Acme.com/about' }, 'acme.com'],
    ['domain(website)', { website: 'acme.co.uk/contact' }, 'acme.co.uk'],
    ['domain(website)', { website: null }, null],
    ['lower(trim(email))', { email: ' Ann@Acme.COM ' }, 'ann@acme.com'],
    ['number(amount) * 2', { amount: '21' }, 42],
    ['number(amount)', { amount: 'n/a' }, null],
  ] as [string, Record<string, Value>, unknown][])('%s with %j is %j', (expression, row, expected) => {
    expect(evaluate(expression, row)).toEqual(expected);
  });

  it('names the columns it reads, not its keywords, functions or text', () => {
    expect(expressionColumns('if stage == "Closed Won" then coalesce(amount, fallback) * 2 else lower(name)')).toEqual([
      'stage',
      'amount',
      'fallback',
      'name',
    ]);
  });

  it('reaches nothing but the row', () => {
    expect(evaluate('constructor', {})).toBeNull();
    expect(evaluate('toString', {})).toBeNull();
    expect('error' in compileRowExpression('amount *')).toBe(true);
    expect('error' in compileRowExpression('process.exit(1)')).toBe(true);
  });
});

describe('expressions in a plan', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
    const db = new Database(path.join(tmp.dir, 'legacy.db'));
    db.exec(
      "CREATE TABLE deals (id INTEGER PRIMARY KEY, amount REAL, stage TEXT, subject TEXT); INSERT INTO deals VALUES (1, 12.5, 'Closed Won', 'Renewal'), (2, NULL, 'Prospecting', NULL)",
    );
    db.close();
  });
  afterEach(() => tmp.remove());

  const PLAN = (fields: string) => `version: 1
name: expr
source: sqlite:./legacy.db
target: sqlite:./crm.db
entities:
  deals:
    from: deals
    into: crm_lead
    key: id
    fields:
      id: id
${fields}`;

  it('writes what the expressions make, NULL where a column is NULL, and verifies equal', async () => {
    const file = path.join(tmp.dir, 'plan.yaml');
    const plan = parsePlan(
      PLAN(
        '      micros: { expr: "amount * 1000000", type: bigint }\n      won: { expr: \'if stage == "Closed Won" then 1 else 0\', type: integer }\n      title: { expr: \'"Imported: " + coalesce(subject, "(no subject)")\' }\n',
      ),
      file,
    );
    const summary = await runPlan(plan);
    expect(summary.entities.deals).toMatchObject({ read: 2, written: 2 });
    const db = new Database(path.join(tmp.dir, 'crm.db'));
    expect(db.prepare('SELECT id, micros, won, title FROM crm_lead ORDER BY id').all()).toEqual([
      { id: 1, micros: 12_500_000, won: 1, title: 'Imported: Renewal' },
      { id: 2, micros: null, won: 0, title: 'Imported: (no subject)' },
    ]);
    db.close();
    expect((await verifyPlan(plan)).equal).toBe(true);
  });

  it('refuses a broken expression when the plan loads, and a column the table lacks before anything is written', async () => {
    expect(() => parsePlan(PLAN('      micros: { expr: "amount *" }\n'), path.join(tmp.dir, 'plan.yaml'))).toThrow(
      /plan\.yaml:12:7: error: entities\.deals\.fields\.micros.*not a valid expression: Parse error/,
    );
    await expect(
      runPlan(parsePlan(PLAN('      micros: { expr: "amont * 1000000" }\n'), path.join(tmp.dir, 'plan.yaml'))),
    ).rejects.toThrow(/reads column "amont", which source table deals does not have \(did you mean "amount"\?\)/);
  });
});
