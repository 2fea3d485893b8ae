import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { captureIo } from './helpers/io.js';
import { tempDir } from './helpers/databases.js';
import { seedPlan } from './helpers/plans.js';

const capture = captureIo;

const PLAN = seedPlan({ source: 'sqlite:./old.db', target: 'sqlite:./new.db' });

describe('crm-migrate CLI', () => {
  let tmp: ReturnType<typeof tempDir>;
  let plan: string;

  beforeEach(() => {
    tmp = tempDir();
    plan = path.join(tmp.dir, 'plan.yaml');
    writeFileSync(plan, PLAN);
    const db = new Database(path.join(tmp.dir, 'old.db'));
    db.exec(`CREATE TABLE old_crm_customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
      INSERT INTO old_crm_customers VALUES (1, 'Scott, Michael C.', 'michael@example.com'),
        (2, 'Secret Person', 'secret.person(at)example.com'), (3, 'Jane Doe', NULL);`);
    db.close();
  });
  afterEach(() => tmp.remove());

  it('run --json prints the summary and nothing else on stdout', async () => {
    const io = capture();
    expect(await main(['run', plan, '--json'], io)).toBe(0);
    expect(io.stdout.length).toBe(1);
    const summary = JSON.parse(io.stdout[0] ?? '') as Record<string, unknown>;
    expect(summary.entities).toEqual({
      customers: { read: 3, written: 2, merged: 0, quarantined: 1, filtered: 0, deleted: 0 },
    });
    expect(typeof summary.durationMs).toBe('number');
  });

  it.each([
    [['--max-quarantined', '1'], 0],
    [['--max-quarantined', '0'], 1],
    [['--max-quarantined', '34%'], 0],
    [['--max-quarantined', '33%'], 1],
  ] as const)('run %j exits %i (one of three rows quarantined)', async (flags, code) => {
    const io = capture();
    expect(await main(['run', plan, '--quiet', '--no-report', ...flags], io)).toBe(code);
    if (code === 1)
      expect(io.stderr.join('\n')).toMatch(
        /error: (1 row was quarantined, more than the limit of 0|33\.33% of the rows read were quarantined \(1 of 3\), more than the limit of 33%)\nhint: see why with crm-migrate quarantine/,
      );
  });

  it('takes the quarantine limit from the plan, and refuses a limit that is none', async () => {
    writeFileSync(plan, PLAN.replace('batch_size:', 'max_quarantined: 10%\nbatch_size:'));
    expect(await main(['run', plan, '--quiet', '--no-report'], capture())).toBe(1);
    const io = capture();
    expect(await main(['run', plan, '--quiet', '--no-report', '--max-quarantined', 'lots'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/--max-quarantined "lots" is not a limit/);
  });

  it('review --decide refuses a decision that is neither same nor different, even an Object member name', async () => {
    const csv = path.join(tmp.dir, 'decisions.csv');
    for (const decision of ['constructor', '__proto__', 'maybe']) {
      writeFileSync(csv, `entity_a,key_a,entity_b,key_b,decision\ncustomers,1,customers,2,${decision}\n`);
      const io = capture();
      expect(await main(['review', plan, '--decide', csv], io)).not.toBe(0);
      expect(io.stderr.join('\n')).toContain(`decision "${decision}" is neither same nor different`);
    }
  });

  it('the terminal summary shows the accounting and reasons, never a customer value', async () => {
    const io = capture();
    expect(await main(['run', plan, '--quiet'], io)).toBe(0);
    const out = io.stdout.join('\n') + io.stderr.join('\n');
    expect(out).toMatch(/customers\s+3\s+2\s+0\s+1\s+0\s+ok/);
    expect(out).toContain('invalid_email');
    expect(out).not.toMatch(/secret|Secret|Michael|example\.com/);
  });

  it('quarantine lists keys and reasons; values only with --show-values', async () => {
    await main(['run', plan, '--quiet'], capture());
    const plain = capture();
    expect(await main(['quarantine', plan, '--csv'], plain)).toBe(0);
    expect(plain.stdout).toEqual(['entity,source_key,reasons', 'customers,2,email:email/invalid_email']);
    const json = capture();
    await main(['quarantine', plan, '--json', '--show-values'], json);
    expect(JSON.parse(json.stdout[0] ?? '')).toEqual({
      entity: 'customers',
      sourceKey: '2',
      reasons: [{ field: 'email', rule: 'email', code: 'invalid_email' }],
      row: { id: 2, name: 'Secret Person', email: 'secret.person(at)example.com' },
    });
  });

  it('plan shows before -> after and writes nothing', async () => {
    const io = capture();
    expect(await main(['plan', plan, '--sample', '2'], io)).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toContain('name="Scott, Michael C."');
    expect(out).toContain('first_name="Michael"  last_name="Scott"');
    expect(out).toContain('QUARANTINED: email email/invalid_email');
    expect(out).toContain('new_crm_customers does not exist: run will create it');
    const { existsSync } = await import('node:fs');
    expect(existsSync(path.join(tmp.dir, 'new.db'))).toBe(false);
  });

  it.each([
    [
      'a bad plan',
      ['run', 'PLAN'],
      'inot',
      2,
      /plan\.yaml:9:5: error: entities\.customers\.inot: unknown key "inot" \(did you mean "into"\?\)/,
    ],
    ['a missing plan file', ['run', 'nope.yaml'], null, 2, /cannot read plan file nope\.yaml: no such file/],
    ['an unknown command', ['frobnicate'], null, 2, /unknown command/],
    ['a bad --sample', ['plan', 'PLAN', '--sample', 'x'], null, 2, /--sample takes a whole number/],
    ['a missing source database', ['run', 'PLAN'], 'gone', 1, /SQLite database not found: gone\.db/],
  ] as [string, string[], string | null, number, RegExp][])(
    'exits %s with a clear message and no stack trace',
    async (_what, args, edit, code, message) => {
      if (edit === 'inot') writeFileSync(plan, PLAN.replace('    into:', '    inot:'));
      if (edit === 'gone') writeFileSync(plan, PLAN.replace('old.db', 'gone.db'));
      const io = capture();
      expect(
        await main(
          args.map((a) => (a === 'PLAN' ? plan : a)),
          io,
        ),
      ).toBe(code);
      const err = io.stderr.join('\n');
      expect(err).toMatch(message);
      expect(err).not.toMatch(/\n\s+at /);
    },
  );

  it('the installed bin runs', () => {
    const bin = path.resolve(import.meta.dirname, '../bin/crm-migrate.js');
    expect(execFileSync(process.execPath, [bin, '--help']).toString()).toContain('Usage: crm-migrate');
  });
});
