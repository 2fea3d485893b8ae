import Database from 'better-sqlite3';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateLegacyCrm } from '../examples/legacy-crm/generate.js';
import { parsePersonName } from '../src/mapping/person-name.js';
import { properCaseName } from '../src/cleaning/person-name-rule.js';
import { loadPlan } from '../src/plan/load.js';
import { runPlan } from '../src/engine/run.js';
import { CrmMigrateError } from '../src/errors.js';
import { tempDir } from './helpers/databases.js';
import { main } from '../src/cli/main.js';
import { captureIo } from './helpers/io.js';

const EXAMPLE = path.resolve(import.meta.dirname, '../examples/legacy-crm');

describe('the demo plan on SQLite', () => {
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;

  beforeEach(() => {
    tmp = tempDir();
    generateLegacyCrm(path.join(tmp.dir, 'legacy.db'), { customers: 3000, seed: 7 });
    planFile = path.join(tmp.dir, 'plan.yaml');
    copyFileSync(path.join(EXAMPLE, 'plan.yaml'), planFile);
    const db = new Database(path.join(tmp.dir, 'new.db'));
    db.exec(readFileSync(path.join(EXAMPLE, 'new-crm-schema.sql'), 'utf8'));
    db.close();
    writeFileSync(planFile, readFileSync(planFile, 'utf8').replace('sqlite:./out/new-crm.db', 'sqlite:./new.db'));
  });
  afterEach(() => tmp.remove());

  const targetRows = () => {
    const db = new Database(path.join(tmp.dir, 'new.db'), { readonly: true });
    const rows = db.prepare('SELECT * FROM new_crm_customers ORDER BY id').all() as Record<string, unknown>[];
    const quarantined = db
      .prepare('SELECT source_key, reasons FROM _crm_migrate_quarantine ORDER BY CAST(source_key AS INTEGER)')
      .all() as { source_key: string; reasons: string }[];
    const merged = db.prepare('SELECT source_key, survivor_key FROM _crm_migrate_merges').all() as {
      source_key: string;
      survivor_key: string;
    }[];
    db.close();
    return { rows, quarantined, merged };
  };

  const cleanEmail = (raw: string | null | undefined) => {
    const email = raw
      ?.trim()
      .toLowerCase()
      .replace(/@@+/g, '@')
      .replace(/^([^@\s]+)\s+at\s+/, '$1@');
    return email ? email : null;
  };

  it('shows the weakest merges with their evidence in the report, and explains one, with no customer value', async () => {
    const report = path.join(tmp.dir, 'report.html');
    expect(await main(['run', planFile, '--quiet', '--report', report], captureIo())).toBe(0);
    const html = readFileSync(report, 'utf8');
    const { merged } = targetRows();
    const listed = [
      ...html.matchAll(/<tr><td>customers (\d+)<\/td><td>customers (\d+)<\/td><td[^>]*>([\d.]+)<\/td>/g),
    ].map((m) => [m[1], m[2], Number(m[3])]);
    // The 50 of lowest probability, lowest first, each a merge the target's merge map holds.
    expect(listed.length).toBe(Math.min(50, merged.length));
    expect(listed.map((l) => l[2])).toEqual([...listed.map((l) => l[2])].sort((a, b) => (a as number) - (b as number)));
    const map = new Map(merged.map((m) => [m.source_key, m.survivor_key]));
    for (const [key, survivor] of listed) expect(map.get(key as string)).toBe(survivor);
    expect(html).toMatch(/data-section="merges"/);
    expect(html).toMatch(/To review: <span data-count="review">\d+<\/span> pairs/);
    const legacy = new Database(path.join(tmp.dir, 'legacy.db'), { readonly: true });
    const emails = (
      legacy.prepare('SELECT email FROM old_crm_customers WHERE email LIKE ? LIMIT 200').all('%@%') as {
        email: string;
      }[]
    ).map((r) => r.email.trim().toLowerCase());
    legacy.close();
    for (const email of emails) expect(html.toLowerCase()).not.toContain(email);

    const io = captureIo();
    const [key, survivor] = listed[0] as [string, string, number];
    expect(await main(['merges', planFile, '--explain', key], io)).toBe(0);
    expect(io.stdout[0]).toMatch(
      new RegExp(`^customers ${key} was merged into customers ${survivor}, probability 0\\.\\d+:$`),
    );
    expect(io.stdout.slice(1).every((l) => /^ {2}(\w+ \S+ [+-]\d+\.\d|prior -?\d+\.\d)/.test(l))).toBe(true);
    expect(await main(['merges', planFile, '--explain', 'no-such-key'], captureIo())).toBe(1);
  });

  it('accounts for every source row, row for row', async () => {
    const summary = await runPlan(await loadPlan(planFile));
    const c = summary.entities.customers;
    expect(c?.read).toBe(3000);
    expect(c && c.written + c.quarantined + c.merged + c.filtered).toBe(3000);

    const source = new Database(path.join(tmp.dir, 'legacy.db'), { readonly: true });
    const legacy = source.prepare('SELECT * FROM old_crm_customers ORDER BY id').all() as Record<
      string,
      string | null
    >[];
    source.close();
    const { rows, quarantined, merged } = targetRows();
    expect(rows.length).toBe(c?.written);
    expect(quarantined.length).toBe(c?.quarantined);
    // The demo enters about 4 % of its customers again (same email, name in capitals): merged into one.
    expect(merged.length).toBe(c?.merged);
    expect(merged.length).toBeGreaterThan(50);

    // Each source id is in exactly one place: the target, the quarantine, or merged into a survivor that was written.
    const written = new Map(rows.map((r) => [Number(r.id), r]));
    const rejected = new Map(
      quarantined.map((q) => [Number(q.source_key), JSON.parse(q.reasons) as { code: string }[]]),
    );
    const mergedInto = new Map(merged.map((m) => [Number(m.source_key), Number(m.survivor_key)]));
    const survivors = new Set(mergedInto.values());
    for (const old of legacy) {
      const id = Number(old.id);
      expect([written.has(id), rejected.has(id), mergedInto.has(id)].filter(Boolean).length).toBe(1);
      if (mergedInto.has(id)) {
        // Merged on an equal cleaned email: the survivor's written row carries it.
        expect(written.get(mergedInto.get(id) as number)?.email).toBe(cleanEmail(old.email));
        continue;
      }
      const row = written.get(id);
      if (!row) continue;
      const name = parsePersonName(old.name);
      const proper = (part: string | null) => (part === null ? null : properCaseName(part));
      // A survivor's blank parts are filled from the records merged into it (survivorship): compare what it had.
      const survivor = survivors.has(id);
      const own = (value: unknown, expected: string | null) => (survivor && expected === null ? null : value);
      expect([
        own(row.first_name, proper(name.first)),
        own(row.last_name, proper(name.last)),
        own(row.honorific, name.honorific),
        own(row.suffix, name.suffix),
      ]).toEqual([proper(name.first), proper(name.last), name.honorific, name.suffix]);
      // The email rule trims, lower-cases and repairs " at " and "@@" (test/cleaning.test.ts has the rule's table).
      expect(row.email).toBe(cleanEmail(old.email));
      expect(row.source_system).toBe('legacy-crm');
      expect(['active', 'inactive', 'lead', 'unknown']).toContain(row.status);
    }
    // The seed's crash case and friends landed correctly.
    const reasons = [...rejected.values()].flat().map((r) => r.code);
    expect(reasons).toContain('invalid_email');
    expect(reasons).toContain('not_null');
  });

  it('leaves a finished run alone, and --fresh loads the same rows again', async () => {
    const first = await runPlan(await loadPlan(planFile));
    const before = targetRows();
    const again = await runPlan(await loadPlan(planFile));
    expect(again.status).toBe('already-done');
    expect(again.entities).toEqual(first.entities);
    expect(targetRows()).toEqual(before);

    const fresh = await runPlan(await loadPlan(planFile), { fresh: true });
    expect(fresh.status).toBe('done');
    expect(fresh.runId).not.toBe(first.runId);
    expect(fresh.entities).toEqual(first.entities);
    expect(targetRows()).toEqual(before);
  });

  it('refuses to resume an unfinished run with a changed mapping', async () => {
    await runPlan(await loadPlan(planFile));
    const db = new Database(path.join(tmp.dir, 'new.db'));
    db.exec(`UPDATE _crm_migrate_runs SET status = 'running'`);
    db.close();
    writeFileSync(planFile, readFileSync(planFile, 'utf8').replace('name.suffix', 'name.nickname'));
    const error = await runPlan(await loadPlan(planFile)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmMigrateError);
    expect((error as CrmMigrateError).exitCode).toBe(2);
    expect((error as CrmMigrateError).hint).toContain('--fresh');
  });
});
