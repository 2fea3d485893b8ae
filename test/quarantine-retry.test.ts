import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { captureIo } from './helpers/io.js';
import { scratchMigration, type ScratchMigration } from './helpers/sql-databases.js';

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
  let m: ScratchMigration;

  beforeEach(async () => {
    m = await scratchMigration(kind);
    writeFileSync(m.planFile, plan(m.source.url, m.target.url));
    await m.source.run('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, score TEXT)');
    const rows: [number, string | null, string, string][] = [
      [1, 'Ann Lee', 'ann@example.com', '10'],
      [2, 'Bo "Bobby" Day, Jr.', ' BO@example.com', '20'],
      [3, null, 'cy@example.com', '30'],
      [4, 'Di Fox', 'di@@example.com', '40'],
      [5, 'Ed Ma', 'ed@example', 'x50'],
      [6, 'Flo\nLine', 'flo at example', '60'],
    ];
    for (const r of rows) await m.source.run('INSERT INTO customers VALUES (?, ?, ?, ?)', r);
  });
  afterEach(() => m.drop());

  it('exports with values, retries the fixed rows, and keeps the accounting balanced', async () => {
    const run = capture();
    expect(await main(['run', m.planFile, '--json', '--quiet', '--no-report'], run)).toBe(0);
    expect(JSON.parse(run.stdout[0] ?? '').entities.customers).toMatchObject({ read: 6, written: 3, quarantined: 3 });

    const file = path.join(m.dir, 'quarantine.csv');
    const exported = capture();
    expect(await main(['quarantine', m.planFile, '--csv', file, '--show-values'], exported)).toBe(0);
    expect(exported.stderr.join('\n')).toContain('3 quarantined rows');
    const csv = readFileSync(file, 'utf8');
    expect(csv.split('\n')[0]).toBe('entity,source_key,reasons,id,name,email,score');
    expect(csv).toContain('customers,3,full_name:required/required,3,,cy@example.com,30');
    expect(csv).toContain('customers,6,email:email/invalid_email,6,"Flo\nLine",flo at example,60');

    // Fix row 3 (a name) and row 5 (email and score), leave row 6 broken in a new way, and edit row 6's key
    // in a second copy (that one must be skipped, not written under a new key).
    const fixed = csv
      .replace(
        'customers,3,full_name:required/required,3,,cy@example.com,30',
        'customers,3,full_name:required/required,3,Cy Young,cy@example.com,30',
      )
      .replace('5,Ed Ma,ed@example,x50', '5,Ed Ma,ED@Example.com,50')
      .replace('flo at example,60', 'flo at example,sixty')
      .concat('customers,6,email:email/invalid_email,66,Flo,flo@example.com,60\n');
    const fixedFile = path.join(m.dir, 'fixed.csv');
    writeFileSync(fixedFile, fixed);
    const retried = capture();
    expect(await main(['quarantine', m.planFile, '--retry', fixedFile], retried)).toBe(0);
    expect(retried.stdout.join('\n')).toMatch(/customers\s+3\s+2\s+1\s+1/);
    expect(retried.stdout.join('\n')).toMatch(/customers\s+6\s+5\s+0\s+1\s+0\s+ok/);

    const people = await m.target.rows<{ id: number; full_name: string; email: string; score: number }>(
      'SELECT id, full_name, email, score FROM people ORDER BY id',
    );
    expect(people.map((p) => [Number(p.id), p.full_name, p.email, Number(p.score)])).toEqual([
      [1, 'Ann Lee', 'ann@example.com', 10],
      [2, 'Bo "Bobby" Day, Jr.', 'bo@example.com', 20],
      [3, 'Cy Young', 'cy@example.com', 30],
      [4, 'Di Fox', 'di@example.com', 40],
      [5, 'Ed Ma', 'ed@example.com', 50],
    ]);
    const left = capture();
    await main(['quarantine', m.planFile, '--json', '--show-values'], left);
    expect(left.stdout.map((l) => JSON.parse(l))).toEqual([
      {
        entity: 'customers',
        sourceKey: '6',
        reasons: [
          { field: 'email', rule: 'email', code: 'invalid_email' },
          { field: 'score', rule: 'cast', code: 'cast_failed' },
        ],
        row: { id: 6, name: 'Flo\nLine', email: 'flo at example', score: 'sixty' },
      },
    ]);

    // The quality report moved with the rows: the fixed fields count as their fixed values now.
    const summary = capture();
    expect(await main(['run', m.planFile, '--json', '--quiet', '--no-report'], summary)).toBe(0);
    const quality = JSON.parse(summary.stdout[0] ?? '').quality.customers;
    expect([quality.full_name.quarantined, quality.email.quarantined, quality.score.quarantined]).toEqual([0, 1, 0]);
    expect([quality.full_name.checked, quality.email.checked, quality.score.checked]).toEqual([6, 6, 6]);

    // The same file again: nothing left to retry for the rows that passed.
    const again = capture();
    expect(await main(['quarantine', m.planFile, '--retry', fixedFile], again)).toBe(0);
    expect(again.stdout.join('\n')).toMatch(/customers\s+1\s+0\s+1\s+3/);

    // The source still holds the broken rows: verify expects the two retried records without comparing their
    // fixed values, and the one still quarantined stays away.
    const verified = capture();
    expect(await main(['verify', m.planFile, '--json', '--no-report'], verified)).toBe(0);
    expect(JSON.parse(verified.stdout[0] ?? '').entities[0]).toMatchObject({
      sourceRows: 6,
      equal: 3,
      quarantined: 1,
      retried: 2,
      stale: 0,
      missing: 0,
    });
    const table = capture();
    expect(await main(['verify', m.planFile, '--no-report'], table)).toBe(0);
    expect(table.stdout.join('\n')).toMatch(
      /changed\s+stale\s+retried\n.*customers\s+6\s+1\s+5\s+3\s+0\s+0\s+0\s+0\s+2/,
    );
  });

  it('refuses a file without the values, saying how to export them', async () => {
    await main(['run', m.planFile, '--quiet', '--no-report'], capture());
    const file = path.join(m.dir, 'keys-only.csv');
    await main(['quarantine', m.planFile, '--csv', file], capture());
    const io = capture();
    expect(await main(['quarantine', m.planFile, '--retry', file], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(
      /the file has no column "id", "name", "email", "score" for entity customers[\s\S]*--show-values/,
    );
  });

  it('refuses a missing or malformed file with a message and exit 2, never a stack trace or a cell value', async () => {
    await main(['run', m.planFile, '--quiet', '--no-report'], capture());
    const missing = capture();
    expect(await main(['quarantine', m.planFile, '--retry', path.join(m.dir, 'nowhere.csv')], missing)).toBe(2);
    expect(missing.stderr.join('\n')).toMatch(/cannot read .*nowhere\.csv: no such file/);
    const broken = path.join(m.dir, 'broken.csv');
    writeFileSync(broken, 'entity,source_key,id,name,email,score\ncustomers,3,3,Cy "Secret" Young,cy@example.com,30\n');
    const malformed = capture();
    expect(await main(['quarantine', m.planFile, '--retry', broken], malformed)).toBe(2);
    const said = [...malformed.stdout, ...malformed.stderr].join('\n');
    expect(said).toMatch(/broken\.csv is not a valid CSV file: .*line 2/);
    expect(said).not.toMatch(/Secret| {4}at /);
  });
});

// A sync runs an increment every few seconds, each a run of its own: the quarantine it leaves must not vanish
// from view with the next increment. The open quarantine lists what the runs since the last fresh start
// quarantined and nothing wrote since, once per row; a retry goes back into the run that quarantined the row.
describe.each(['sqlite', 'postgres', 'mysql'] as const)('the open quarantine of increments on %s', (kind) => {
  let m: ScratchMigration;

  beforeEach(async () => {
    m = await scratchMigration(kind);
    writeFileSync(
      m.planFile,
      `version: 1
name: open-quarantine
source: "${m.source.url}"
target: "${m.target.url}"
entities:
  contacts:
    from: contacts
    into: people
    key: id
    strategy: incremental
    cursor: changed
    fields:
      id: id
      email: { from: email, clean: email }
      changed: changed
`,
    );
    await m.source.run('CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, changed INTEGER NOT NULL)');
    await m.source.run("INSERT INTO contacts VALUES (1, 'ann@example.com', 1), (2, 'bo at', 1), (3, 'cy@', 1)");
    await m.target.run('CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, changed INTEGER)');
  });
  afterEach(() => m.drop());

  const run = async () => {
    const io = capture();
    expect(await main(['run', m.planFile, '--json', '--quiet', '--no-report'], io)).toBe(0);
    return JSON.parse(io.stdout[0] ?? '') as { runId: string; entities: { contacts: Record<string, number> } };
  };
  const listed = async () => {
    const json = capture();
    expect(await main(['quarantine', m.planFile, '--json'], json)).toBe(0);
    const text = capture();
    expect(await main(['quarantine', m.planFile], text)).toBe(0);
    return {
      keys: json.stdout.map((l) => (JSON.parse(l) as { sourceKey: string }).sourceKey),
      message: text.stderr.join('\n'),
    };
  };

  it('lists every row still quarantined once, whichever increment quarantined it, and retries it into that run', async () => {
    const first = await run();
    expect(first.entities.contacts).toMatchObject({ read: 3, written: 1, quarantined: 2 });
    // Row 2 is fixed at the source and written by the next increment; row 4 arrives broken.
    await m.source.run("UPDATE contacts SET email = 'bo@example.com', changed = 2 WHERE id = 2");
    await m.source.run("INSERT INTO contacts VALUES (4, 'di@@', 2)");
    const second = await run();
    expect(second.entities.contacts).toMatchObject({ read: 2, written: 1, quarantined: 1 });
    expect(await listed()).toEqual({
      keys: ['3', '4'],
      message: `2 quarantined rows from 2 runs since the last fresh start (the latest ${second.runId})`,
    });
    // Row 3 changes and is still broken: its newer entry is the one listed, once.
    await m.source.run("UPDATE contacts SET email = 'cy at', changed = 3 WHERE id = 3");
    const third = await run();
    expect(third.entities.contacts).toMatchObject({ read: 1, written: 0, quarantined: 1 });
    expect((await listed()).keys).toEqual(['3', '4']);

    const file = path.join(m.dir, 'fixed.csv');
    expect(await main(['quarantine', m.planFile, '--csv', file, '--show-values'], capture())).toBe(0);
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace(/,cy at$/m, ',cy@example.com')
        .replace(/,di@@$/m, ',di@example.com'),
    );
    const retried = capture();
    expect(await main(['quarantine', m.planFile, '--retry', file], retried)).toBe(0);
    const out = retried.stdout.join('\n');
    expect(out).toContain(`retried into run ${[second.runId, third.runId].sort().join(', run ')}:`);
    expect(out).toMatch(/contacts\s+2\s+2\s+0\s+0/);
    // Each run's accounting moves with its own row: increment 2 read 2 and now wrote both, increment 3 read 1 and wrote it.
    expect(out).toContain(`accounting of run ${second.runId} now:`);
    expect(out).toMatch(new RegExp(`run ${second.runId} now:\\n.*\\ncontacts\\s+2\\s+2\\s+0\\s+0\\s+0\\s+ok`));
    expect(out).toMatch(new RegExp(`run ${third.runId} now:\\n.*\\ncontacts\\s+1\\s+1\\s+0\\s+0\\s+0\\s+ok`));
    expect((await listed()).keys).toEqual([]);
    const people = await m.target.rows<{ id: number; email: string }>('SELECT id, email FROM people ORDER BY id');
    expect(people.map((p) => [Number(p.id), p.email])).toEqual([
      [1, 'ann@example.com'],
      [2, 'bo@example.com'],
      [3, 'cy@example.com'],
      [4, 'di@example.com'],
    ]);
  }, 60_000);

  it('closes the entry of a quarantined row deleted at the source, where the entity detects deletes', async () => {
    writeFileSync(
      m.planFile,
      readFileSync(m.planFile, 'utf8').replace('    cursor: changed\n', '    cursor: changed\n    deletes: hard\n'),
    );
    await run();
    expect((await listed()).keys).toEqual(['2', '3']);
    await m.source.run('DELETE FROM contacts WHERE id IN (1, 2)');
    const increment = await run();
    expect(increment.entities.contacts).toMatchObject({ read: 0, deleted: 1 });
    expect((await listed()).keys).toEqual(['3']);
  }, 60_000);
});
