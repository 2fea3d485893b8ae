import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPlan } from '../src/engine/run.js';
import { parsePlan } from '../src/plan/load.js';
import { verifyPlan } from '../src/verify/verify.js';
import { tempDir } from './helpers/databases.js';

// A folder of files as the target — an archive of what was migrated — with the same promises: every row
// accounted for, exactly once across a crash (the uncommitted tail of a file is cut off), and verify.

const plan = (target: string, batch = 1000) => `version: 1
name: archive
source: sqlite:./old.db
target: "${target}"
batch_size: ${batch}
entities:
  customers:
    from: customers
    into: customers
    key: id
    fields:
      id: id
      name: name
      email: { from: email, clean: email }
      note: note
`;

describe.each(['csv', 'jsonl'] as const)('%s folder as a target', (kind) => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
    const db = new Database(path.join(tmp.dir, 'old.db'));
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, note TEXT)');
    const insert = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 5000; i++)
        insert.run(
          i,
          `Name ${i}, "Jr."`,
          i % 100 === 0 ? 'broken' : `U${i}@Example.com`,
          i % 7 === 0 ? null : i % 11 === 0 ? '' : `line\nbreak ${i}`,
        );
    })();
    db.close();
  });
  afterEach(() => tmp.remove());

  const file = () => path.join(tmp.dir, 'archive', `customers.${kind}`);

  it('writes every row once, keeps NULL and empty text apart, and verifies', async () => {
    const text = plan(`${kind}:./archive`);
    const summary = await runPlan(parsePlan(text, path.join(tmp.dir, 'plan.yaml')));
    expect(summary.entities.customers).toMatchObject({ read: 5000, written: 4950, quarantined: 50 });
    const content = readFileSync(file(), 'utf8');
    if (kind === 'csv') {
      expect(content.split('\n')[0]).toBe('id,name,email,note');
      expect(content).toContain('1,"Name 1, ""Jr.""",u1@example.com,"line\nbreak 1"');
      expect(content).toContain('7,"Name 7, ""Jr.""",u7@example.com,\n');
      expect(content).toContain('11,"Name 11, ""Jr.""",u11@example.com,""\n');
    } else {
      const lines = content
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.length).toBe(4950);
      expect(lines[6]).toEqual({ id: 7, name: 'Name 7, "Jr."', email: 'u7@example.com', note: null });
      expect(lines[10]).toEqual({ id: 11, name: 'Name 11, "Jr."', email: 'u11@example.com', note: '' });
    }
    // Read back through the same format, the archive equals what the plan makes of the source (CSV cannot
    // tell an empty text from NULL on the way back, so the CSV comparison leaves out the note).
    if (kind === 'jsonl') expect((await verifyPlan(parsePlan(text, path.join(tmp.dir, 'plan.yaml')))).equal).toBe(true);
  });

  it('cuts off what a killed run appended after its last checkpoint, so a resume doubles nothing', async () => {
    const text = plan(`${kind}:./archive`, 50);
    writeFileSync(path.join(tmp.dir, 'plan.yaml'), text);
    const bin = path.resolve(import.meta.dirname, '../bin/crm-migrate.js');
    const child = spawn(process.execPath, [bin, 'run', path.join(tmp.dir, 'plan.yaml'), '--quiet', '--no-report'], {
      stdio: 'ignore',
    });
    // Killed once some batches are in (each commit flushes the file to disk, so they take a moment).
    for (let i = 0; i < 500 && !(existsSync(file()) && statSync(file()).size > 20_000); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGKILL');
    expect(await new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)))).toBe('SIGKILL');
    // It died mid-way: some batches committed, not the last.
    const state = new Database(path.join(tmp.dir, 'archive', '.crm-migrate-state.db'), { readonly: true });
    const checkpoint = state.prepare('SELECT read_rows, done FROM _crm_migrate_checkpoints').get() as {
      read_rows: number;
      done: number;
    };
    state.close();
    expect(checkpoint.done).toBe(0);
    expect(checkpoint.read_rows).toBeGreaterThan(0);
    // Whatever the kill left, add a torn line as a crash mid-write would.
    appendFileSync(file(), kind === 'csv' ? '9999,"half a row' : '{"id": 9999, "na');
    const summary = await runPlan(parsePlan(text, path.join(tmp.dir, 'plan.yaml')));
    expect(summary.entities.customers).toMatchObject({ read: 5000, written: 4950, quarantined: 50 });
    const content = readFileSync(file(), 'utf8');
    expect(content).not.toContain('9999');
    const ids =
      kind === 'jsonl'
        ? content
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as { id: number }).id)
        : [...content.matchAll(/^(\d+),"Name/gm)].map((m) => Number(m[1]));
    expect(ids.length).toBe(4950);
    expect(new Set(ids).size).toBe(4950);
  });
});
