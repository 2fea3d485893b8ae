import { Option } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import type { PairDecision } from '../index.js';
import { decidePairs, listMerges, reviewPairs } from '../index.js';
import { CrmMigrateError } from '../index.js';
import type { Plan } from '../index.js';
import { int, table } from './format.js';
import type { Io } from './main.js';
import { commandPlan, planCommandOf, type PlanOptions } from './plan-options.js';

export interface MergesCommandOptions extends PlanOptions {
  /** true: CSV on stdout; a path: CSV into that file. */
  csv?: boolean | string;
  showValues?: boolean;
  /** One merged record's source key: print its merge and the evidence, a field a line. */
  explain?: string;
}

export interface ReviewCommandOptions extends MergesCommandOptions {
  /** A review CSV with its `decision` column filled in (same / different). */
  decide?: string;
}

async function emit(lines: unknown[][], csv: boolean | string | undefined, io: Io, plain: () => void): Promise<void> {
  // The CSV packages are imported by the commands that write or read CSV, not at every command's start-up.
  const { stringify } = await import('csv-stringify/sync');
  if (typeof csv === 'string') await writeFile(csv, stringify(lines));
  else if (csv) io.out(stringify(lines).replace(/\n$/, ''));
  else plain();
}

/**
 * The merge map of the plan's target: one line per merged record — entity, its source key, the survivor's
 * entity and source key, the match probability and why — keys only, so it can be scored against any truth.
 */
export async function mergesCommand(file: string, options: MergesCommandOptions, io: Io): Promise<number> {
  const plan = await commandPlan(file, options);
  const lines: unknown[][] = [];
  await listMerges(plan, (m) => {
    if (options.explain === undefined || m.sourceKey === options.explain)
      lines.push([m.entity, m.sourceKey, m.survivorEntity, m.survivorKey, m.probability.toFixed(6), m.why]);
  });
  if (options.explain !== undefined) {
    if (lines.length === 0) {
      io.err(`plan ${plan.name} merged no record with source key ${options.explain}`);
      return 1;
    }
    for (const [entity, key, survivorEntity, survivorKey, probability, why] of lines) {
      io.out(
        `${String(entity)} ${String(key)} was merged into ${String(survivorEntity)} ${String(survivorKey)}, probability ${String(probability)}:`,
      );
      for (const part of String(why).split('; ')) io.out(`  ${part}`);
    }
    return 0;
  }
  await emit(
    [['entity', 'source_key', 'survivor_entity', 'survivor_key', 'probability', 'why'], ...lines],
    options.csv,
    io,
    () => {
      if (lines.length === 0) return io.err(`plan ${plan.name} merged no records on this target`);
      io.out(
        table(
          ['entity', 'merged key', 'survivor', 'probability', 'why'],
          lines.map((l) => [String(l[0]), String(l[1]), `${String(l[2])} ${String(l[3])}`, String(l[4]), String(l[5])]),
          99,
        ),
      );
      io.out(`\n${int(lines.length)} record${lines.length === 1 ? '' : 's'} merged`);
    },
  );
  return 0;
}

/** A Map: a decision cell is data, and "constructor" must be refused, not read as a decision. */
const DECISIONS = new Map(
  Object.entries({
    same: true,
    yes: true,
    match: true,
    different: false,
    no: false,
    distinct: false,
  }),
);

/**
 * Pairs in the review band: exported with an empty `decision` column (--csv), or read back with it filled
 * in (--decide FILE): `same` merges the pair on the next run, `different` keeps it apart for good.
 */
export async function reviewCommand(file: string, options: ReviewCommandOptions, io: Io): Promise<number> {
  const plan = await commandPlan(file, options);
  if (options.decide) return decide(plan, options.decide, io);
  const pairs = await reviewPairs(plan);
  const header = ['entity_a', 'key_a', 'entity_b', 'key_b', 'probability', 'why', 'decision'];
  await emit(
    [header, ...pairs.map((p) => [p.entityA, p.keyA, p.entityB, p.keyB, p.probability.toFixed(6), p.why, ''])],
    options.csv,
    io,
    () => {
      if (pairs.length === 0) return io.err(`plan ${plan.name} has no pairs awaiting review`);
      io.out(
        table(
          ['record a', 'record b', 'probability', 'why'],
          pairs.map((p) => [`${p.entityA} ${p.keyA}`, `${p.entityB} ${p.keyB}`, p.probability.toFixed(4), p.why]),
          99,
        ),
      );
      io.out(
        `\n${int(pairs.length)} pair${pairs.length === 1 ? '' : 's'} to review: export with --csv FILE, fill in decision (same / different), read back with --decide FILE`,
      );
    },
  );
  return 0;
}

async function decide(plan: Plan, file: string, io: Io): Promise<number> {
  const { parse } = await import('csv-parse/sync');
  let rows: Record<string, string>[];
  try {
    rows = parse<Record<string, string>>(await readFile(file), { columns: true, skip_empty_lines: true, bom: true });
  } catch (cause) {
    throw new CrmMigrateError('E_USAGE', `cannot read review decisions from ${file}: ${(cause as Error).message}`, {
      hint: 'export the pairs with crm-migrate review PLAN --csv FILE and fill in its decision column',
    });
  }
  const decisions: PairDecision[] = [];
  let undecided = 0;
  for (const [i, row] of rows.entries()) {
    const missing = ['entity_a', 'key_a', 'entity_b', 'key_b', 'decision'].filter((c) => row[c] === undefined);
    if (missing.length > 0)
      throw new CrmMigrateError('E_USAGE', `${file} has no column ${missing.join(', ')}`, {
        hint: 'use the file crm-migrate review PLAN --csv FILE wrote',
      });
    const verdict = (row.decision ?? '').trim().toLowerCase();
    if (verdict === '') {
      undecided += 1;
      continue;
    }
    const same = DECISIONS.get(verdict);
    if (same === undefined)
      throw new CrmMigrateError(
        'E_USAGE',
        `${file} line ${i + 2}: decision "${verdict}" is neither same nor different`,
        { hint: 'write same or different (or leave it empty to decide later)' },
      );
    decisions.push({ entityA: row.entity_a, keyA: row.key_a, entityB: row.entity_b, keyB: row.key_b, same });
  }
  await decidePairs(plan, decisions);
  const same = decisions.filter((d) => d.same).length;
  io.out(
    `recorded ${int(decisions.length)} decision${decisions.length === 1 ? '' : 's'} (${int(same)} same, ${int(decisions.length - same)} different)${undecided ? `; ${int(undecided)} left undecided` : ''}; the next run honours them (run --fresh to redo the merges)`,
  );
  return 0;
}

export const merges = planCommandOf({
  name: 'merges',
  description:
    'the merge map of PLAN on its target: each record merged into another, its survivor, the match probability and why (keys only)',
  flags: (c) =>
    c
      .option('--csv [FILE]', 'CSV with a header row, on stdout or into FILE')
      .addOption(
        new Option(
          '--explain <KEY>',
          'one merged record, by its source key: its survivor and the evidence, a field a line',
        ).conflicts('csv'),
      ),
  run: mergesCommand,
});

export const review = planCommandOf({
  name: 'review',
  description:
    'pairs of PLAN in the dedupe review band: list them, export them (--csv) or record decisions (--decide) that the next run honours',
  flags: (c) =>
    c
      .option('--csv [FILE]', 'CSV with an empty decision column, on stdout or into FILE')
      .addOption(
        new Option('--decide <FILE>', 'read a review CSV whose decision column says same or different').conflicts(
          'csv',
        ),
      ),
  run: reviewCommand,
});
