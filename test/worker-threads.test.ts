import Database from 'better-sqlite3';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLegacyCrm } from '../examples/legacy-crm/generate.js';
import { adaptiveMapper } from '../src/engine/map/adaptive-mapper.js';
import { inlineMapper, type ChunkMapper, type MappedChunk } from '../src/engine/map/chunk-mapper.js';
import { QualityTally } from '../src/engine/map/quality.js';
import type { Row } from '../src/values.js';
import { runPlan } from '../src/engine/run.js';
import { defineStep, ok } from '../src/mapping/steps.js';
import { loadPlan } from '../src/plan/load.js';
import { tempDir } from './helpers/databases.js';
import { boundEntity } from './helpers/plans.js';

const EXAMPLE = path.resolve(import.meta.dirname, '../examples/legacy-crm');

/**
 * Mapping on worker threads must change nothing but the speed: the same target rows in the same order, the
 * same quarantine, the same accounting and the same quality report as on the main thread. The `auto` case
 * is large enough for the engine to measure both ways and switch mid-load (see src/engine/map/adaptive-mapper.ts).
 */
describe('mapping on worker threads', () => {
  const tmp = tempDir();
  const legacy = path.join(tmp.dir, 'legacy.db');

  beforeAll(() => generateLegacyCrm(legacy, { customers: 80_000, seed: 11 }));
  afterAll(() => tmp.remove());

  async function migrate(
    workers: string,
    extraField = '',
  ): Promise<{ summary: Awaited<ReturnType<typeof runPlan>>; rows: unknown[]; quarantine: unknown[] }> {
    const dir = path.join(tmp.dir, `w-${workers}-${extraField ? 'custom' : 'plain'}`);
    const planFile = `${dir}.yaml`;
    copyFileSync(legacy, `${dir}-legacy.db`);
    const target = new Database(`${dir}-new.db`);
    target.exec(readFileSync(path.join(EXAMPLE, 'new-crm-schema.sql'), 'utf8'));
    target.close();
    const plan = readFileSync(path.join(EXAMPLE, 'plan.yaml'), 'utf8')
      .replace('sqlite:./legacy.db', `sqlite:./${path.basename(dir)}-legacy.db`)
      .replace('sqlite:./out/new-crm.db', `sqlite:./${path.basename(dir)}-new.db`)
      .replace('batch_size: 2000', `batch_size: 7000\nworkers: ${workers}`)
      .replace('      source_system: { value: legacy-crm }', `      source_system: { value: legacy-crm${extraField} }`)
      // Mapping threads are the subject here; the demo's dedupe block is tested in test/dedupe.test.ts.
      .replace(/\n {4}dedupe:[\s\S]*$/, '\n');
    writeFileSync(planFile, plan);
    const summary = await runPlan(await loadPlan(planFile));
    const db = new Database(`${dir}-new.db`, { readonly: true });
    const rows = db.prepare('SELECT * FROM new_crm_customers ORDER BY rowid').all();
    const quarantine = db
      .prepare('SELECT entity, source_key, row_data, reasons FROM _crm_migrate_quarantine ORDER BY rowid')
      .all();
    db.close();
    return { summary, rows, quarantine };
  }

  let mainThread: Awaited<ReturnType<typeof migrate>>;
  beforeAll(async () => {
    mainThread = await migrate('0');
  });

  it.each(['2', 'auto'])('workers: %s writes exactly what the main thread writes', async (workers) => {
    const threads = await migrate(workers);
    expect(threads.summary.entities).toEqual(mainThread.summary.entities);
    expect(threads.summary.entities.customers?.read).toBe(80_000);
    expect(threads.summary.quality).toEqual(mainThread.summary.quality);
    expect(threads.rows).toEqual(mainThread.rows);
    expect(threads.quarantine).toEqual(mainThread.quarantine);
  });

  it('keeps an entity with a step defined from TypeScript on the main thread, where the step exists', async () => {
    defineStep({
      name: 'test.shout',
      kind: 'clean',
      takes: 'one',
      create: () => (v) => ok(typeof v === 'string' ? v.toUpperCase() : (v as null)),
    });
    const custom = await migrate('2', ', clean: test.shout');
    expect(custom.summary.entities).toEqual(mainThread.summary.entities);
    expect((custom.rows as { source_system: string }[]).every((r) => r.source_system === 'LEGACY-CRM')).toBe(true);
  });
});

describe('workers: auto on a heavy plan', () => {
  // Phones formatted international skip the fast path: the kind of plan auto tries threads for.
  const entity = boundEntity(
    `      id: id
      phone: { from: phone, clean: { phone: { country: US, format: international } }, invalid: null }
`,
    ['id', 'phone'],
    (target) => (target === 'id' ? { nullable: false } : {}),
  );
  const chunks: Row[][] = Array.from({ length: 160 }, (_, c) =>
    Array.from({ length: 500 }, (_, i) => {
      const id = c * 500 + i;
      return [
        id,
        id % 9 === 0 ? 'N/A' : `(${200 + (id % 800)}) ${200 + ((id * 7) % 800)}-${String(id % 10000).padStart(4, '0')}`,
      ];
    }),
  );

  /** Maps every chunk as the load does: up to `depth` in flight, accounted in order. */
  async function mapAll(mapper: ChunkMapper): Promise<{ values: unknown[]; quality: unknown }> {
    const tally = new QualityTally(['id', 'phone']);
    const values: unknown[] = [];
    const pending: (MappedChunk | Promise<MappedChunk>)[] = [];
    const account = (chunk: MappedChunk) => {
      tally.merge(chunk.quality);
      values.push(...chunk.values);
    };
    for (const chunk of chunks) {
      pending.push(mapper.map(chunk));
      while (pending.length >= mapper.depth) account(await (pending.shift() as MappedChunk | Promise<MappedChunk>));
    }
    while (pending.length > 0) account(await (pending.shift() as MappedChunk | Promise<MappedChunk>));
    await mapper.close();
    return { values, quality: tally.snapshot() };
  }

  it('tries threads mid-load and still returns every row in order with the same quality counts', async () => {
    const inline = await mapAll(inlineMapper(entity));
    // Whatever this machine measures, threads are tried (and kept or dropped, depending on the clock).
    const adaptive = adaptiveMapper(entity, 2, {
      warmUpChunks: 2,
      windowChunks: 30,
      margin: 1.1,
      tryThreadsAboveUsPerRow: 0,
    });
    const auto = await mapAll(adaptive);
    expect(adaptive.triedThreads).toBe(true);
    expect(auto.values.length).toBe(80_000);
    expect(auto.values).toEqual(inline.values);
    expect(auto.quality).toEqual(inline.quality);
  });
});

describe('quality tally', () => {
  it('adds up chunks counted apart to what one tally counts', () => {
    const whole = new QualityTally(['email', 'phone']);
    const parts = [new QualityTally(['email', 'phone']), new QualityTally(['email', 'phone'])];
    const events: [number, number, string, string, 'corrected' | 'nulled' | 'flagged', string | undefined][] = [
      [0, 2, 'email', 'normalized', 'corrected', undefined],
      [1, 4, 'phone', 'not_a_phone', 'nulled', undefined],
      [0, 1, 'picklist', 'unmapped_value', 'flagged', 'X'],
      [0, 2, 'email', 'normalized', 'corrected', undefined],
    ];
    events.forEach(([field, outcome, rule, code, kind, detail], i) => {
      for (const tally of [whole, parts[i % 2]]) {
        tally.row(field, outcome);
        tally.finding(field, rule, code, kind, detail);
      }
    });
    const sum = new QualityTally(['email', 'phone']);
    for (const part of parts) sum.merge(part.snapshot());
    expect(sum.snapshot()).toEqual(whole.snapshot());
    expect(whole.snapshot().email?.findings).toEqual([
      { rule: 'email', code: 'normalized', outcome: 'corrected', count: 2 },
      { rule: 'picklist', code: 'unmapped_value', outcome: 'flagged', count: 1, detail: 'X' },
    ]);
  });
});
