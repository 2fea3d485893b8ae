import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLegacyCrm } from '../examples/legacy-crm/generate.js';
import { tempDir } from './helpers/databases.js';

// The demo, run through the command line as a user would, with a list of every customer value it holds:
// none of them may appear in stdout, stderr, the report or the exported quarantine when values are not asked for.

const BIN = path.resolve(import.meta.dirname, '../bin/crm-migrate.js');
const DEMO = path.resolve(import.meta.dirname, '../examples/legacy-crm');

describe('no customer value leaks', () => {
  let tmp: ReturnType<typeof tempDir>;
  let values: string[];

  beforeAll(() => {
    tmp = tempDir();
    copyFileSync(path.join(DEMO, 'plan.yaml'), path.join(tmp.dir, 'plan.yaml'));
    generateLegacyCrm(path.join(tmp.dir, 'legacy.db'), { customers: 3000 });
    mkdirSync(path.join(tmp.dir, 'out'));
    const target = new Database(path.join(tmp.dir, 'out', 'new-crm.db'));
    target.exec(readFileSync(path.join(DEMO, 'new-crm-schema.sql'), 'utf8'));
    target.close();
    const legacy = new Database(path.join(tmp.dir, 'legacy.db'), { readonly: true });
    const cells = legacy.prepare('SELECT name, email, phone, street FROM old_crm_customers').raw(true).all() as (string | null)[][];
    legacy.close();
    // Whole cell values, and the forms the rules turn them into; short ones ("Wei") could match any word.
    values = [...new Set(cells.flat().flatMap((v) => (v ? [v.trim(), v.trim().toLowerCase()] : [])).filter((v) => v.length >= 8))];
  }, 60_000);
  afterAll(() => tmp?.remove());

  it('through run, quarantine, verify and history', () => {
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp.dir, encoding: 'utf8' });
      return `${r.stdout}\n${r.stderr}`;
    };
    const output = [
      cli('run', 'plan.yaml'),
      cli('run', 'plan.yaml', '--json'),
      cli('quarantine', 'plan.yaml'),
      cli('quarantine', 'plan.yaml', '--json'),
      cli('quarantine', 'plan.yaml', '--csv', 'refused.csv'),
      cli('verify', 'plan.yaml'),
      cli('history', 'plan.yaml'),
      cli('run', 'missing.yaml'),
    ].join('\n');
    expect(output).toContain('read = sum');
    expect(output).toContain('quarantined rows in run');
    const reports = readdirSync(path.join(tmp.dir, 'reports')).map((f) => readFileSync(path.join(tmp.dir, 'reports', f), 'utf8'));
    expect(reports.length).toBe(2);
    const everything = [output, ...reports, readFileSync(path.join(tmp.dir, 'refused.csv'), 'utf8')].join('\n');
    expect(values.length).toBeGreaterThan(3000);
    const leaked = values.filter((v) => everything.includes(v));
    expect(leaked).toEqual([]);
    // The check can fail: with values asked for, they are there.
    expect(values.some((v) => cli('quarantine', 'plan.yaml', '--show-values').includes(v))).toBe(true);
  }, 120_000);
});
