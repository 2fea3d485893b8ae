import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { captureIo } from './helpers/io.js';
import { tempDir } from './helpers/databases.js';
import { scratchDatabase, type ScratchDatabase } from './helpers/sql-databases.js';

// The quarantine workflow: export the refused rows with their values, fix them in the file, push them through
// the plan again — the fixed ones land, the rest stay with their new reasons, and the accounting follows.

const capture = captureIo;

const plan = (source: string, target: string) => `version: 1
name: retry-test
source: "${source}"
target: "${target}"
entities:
  customers:
    from: customers
    into: people
    key: id
    fields:
      id: id
      full_name: { from: name, clean: required }
      email: { from: email, clean: email }
      score: { from: score, transform: { cast: integer } }
`;

describe.each(['sqlite', 'postgres', 'mysql'] as const)('quarantine export and retry on %s', (kind) => {
  let source: ScratchDatabase;
  let target: ScratchDatabase;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;

  beforeEach(async () => {
    [source, target] = await Promise.all([scratchDatabase(kind), scratchDatabase(kind)]);
    tmp = tempDir();
    planFile = path.join(tmp.dir, 'plan.yaml');
    writeFileSync(planFile, plan(source.url, target.url));
    await source.run('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, score TEXT)');
    const rows: [number, string | null, string, string][] = [
      [1, 'Ann Lee', 'ann@example.com', '10'],
      [2, 'Bo "Bobby" Day, Jr.', ' BO@example.com', '20'],
      [3, null, 'cy@example.com', '30'],
      [4, 'Di Fox', 'di@@example.com', '40'],
      [5, 'Ed Ma', 'ed@example', 'x50'],
      [6, 'Flo\nLine', 'flo at example', '60'],
    ];
    for (const r of rows) await source.run('INSERT INTO customers VALUES (?, ?, ?, ?)', r);
  });
  afterEach(async () => {
    await Promise.all([source.drop(), target.drop()]);
    tmp.remove();
  });

  it('exports with values, retries the fixed rows, and keeps the accounting balanced', async () => {
    const run = capture();
    expect(await main(['run', planFile, '--json', '--quiet', '--no-report'], run)).toBe(0);
    expect(JSON.parse(run.stdout[0] ?? '').entities.customers).toMatchObject({ read: 6, written: 3, quarantined: 3 });

    const file = path.join(tmp.dir, 'quarantine.csv');
    const exported = capture();
    expect(await main(['quarantine', planFile, '--csv', file, '--show-values'], exported)).toBe(0);
    expect(exported.stderr.join('\n')).toContain('3 quarantined rows');
    const csv = readFileSync(file, 'utf8');
    expect(csv.split('\n')[0]).toBe('entity,source_key,reasons,id,name,email,score');
    expect(csv).toContain('customers,3,full_name:required/required,3,,cy@example.com,30');
    expect(csv).toContain('customers,6,email:email/invalid_email,6,"Flo\nLine",flo at example,60');

    // Fix row 3 (a name) and row 5 (email and score), leave row 6 broken in a new way, and edit row 6's key
    // in a second copy (that one must be skipped, not written under a new key).
    const fixed = csv
      .replace('customers,3,full_name:required/required,3,,cy@example.com,30', 'customers,3,full_name:required/required,3,Cy Young,cy@example.com,30')
      .replace('5,Ed Ma,ed@example,x50', '5,Ed Ma,ED@Example.com,50')
      .replace('flo at example,60', 'flo at example,sixty')
      .concat('customers,6,email:email/invalid_email,66,Flo,flo@example.com,60\n');
    const fixedFile = path.join(tmp.dir, 'fixed.csv');
    writeFileSync(fixedFile, fixed);
    const retried = capture();
    expect(await main(['quarantine', planFile, '--retry', fixedFile], retried)).toBe(0);
    expect(retried.stdout.join('\n')).toMatch(/customers\s+3\s+2\s+1\s+1/);
    expect(retried.stdout.join('\n')).toMatch(/customers\s+6\s+5\s+0\s+1\s+0\s+ok/);

    const people = await target.rows<{ id: number; full_name: string; email: string; score: number }>('SELECT id, full_name, email, score FROM people ORDER BY id');
    expect(people.map((p) => [Number(p.id), p.full_name, p.email, Number(p.score)])).toEqual([
      [1, 'Ann Lee', 'ann@example.com', 10],
      [2, 'Bo "Bobby" Day, Jr.', 'bo@example.com', 20],
      [3, 'Cy Young', 'cy@example.com', 30],
      [4, 'Di Fox', 'di@example.com', 40],
      [5, 'Ed Ma', 'ed@example.com', 50],
    ]);
    const left = capture();
    await main(['quarantine', planFile, '--json', '--show-values'], left);
    expect(left.stdout.map((l) => JSON.parse(l))).toEqual([
      { entity: 'customers', sourceKey: '6', reasons: [{ field: 'email', rule: 'email', code: 'invalid_email' }, { field: 'score', rule: 'cast', code: 'cast_failed' }], row: { id: 6, name: 'Flo\nLine', email: 'flo at example', score: 'sixty' } },
    ]);

    // The same file again: nothing left to retry for the rows that passed.
    const again = capture();
    expect(await main(['quarantine', planFile, '--retry', fixedFile], again)).toBe(0);
    expect(again.stdout.join('\n')).toMatch(/customers\s+1\s+0\s+1\s+3/);

    // The source still holds the broken rows: verify expects the two retried records without comparing their
    // fixed values, and the one still quarantined stays away.
    const verified = capture();
    expect(await main(['verify', planFile, '--json', '--no-report'], verified)).toBe(0);
    expect(JSON.parse(verified.stdout[0] ?? '').entities[0]).toMatchObject({ sourceRows: 6, equal: 3, quarantined: 1, retried: 2, stale: 0, missing: 0 });
    const table = capture();
    expect(await main(['verify', planFile, '--no-report'], table)).toBe(0);
    expect(table.stdout.join('\n')).toMatch(/changed\s+stale\s+retried\n.*customers\s+6\s+1\s+5\s+3\s+0\s+0\s+0\s+0\s+2/);
  });

  it('refuses a file without the values, saying how to export them', async () => {
    await main(['run', planFile, '--quiet', '--no-report'], capture());
    const file = path.join(tmp.dir, 'keys-only.csv');
    await main(['quarantine', planFile, '--csv', file], capture());
    const io = capture();
    expect(await main(['quarantine', planFile, '--retry', file], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/the file has no column "id", "name", "email", "score" for entity customers[\s\S]*--show-values/);
  });
});
