import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CrmMigrateError } from '../index.js';
import { draftPlan, planNameOf } from '../index.js';
import type { Io } from './main.js';

export interface InitCommandOptions {
  source?: string;
  target?: string;
  output?: string;
  force?: boolean;
}

/** Drafts a plan from two live schemas, into -o FILE (never over an existing one without --force) or stdout. */
export async function initCommand(options: InitCommandOptions, io: Io): Promise<number> {
  if (!options.source || !options.target)
    throw new CrmMigrateError('E_USAGE', 'init needs --source URL and --target URL');
  const out = options.output;
  if (out && existsSync(out) && !options.force)
    throw new CrmMigrateError('E_USAGE', `${out} exists`, {
      hint: 'choose another -o file, or add --force to replace it',
    });
  const result = await draftPlan({
    source: options.source,
    target: options.target,
    name: out ? planNameOf(out) : undefined,
    planDir: out ? path.dirname(path.resolve(out)) : undefined,
  });
  if (out) writeFileSync(out, result.text);
  else io.out(result.text);
  for (const e of result.entities) {
    const risks =
      e.fields.reduce((n, f) => n + f.risks.length + (f.impossible ? 1 : 0), 0) +
      e.unfilled.filter((c) => !c.nullable && !c.hasDefault).length;
    io.err(
      `  ${e.source.name} -> ${e.target.name}: ${e.fields.filter((f) => !f.impossible).length} fields${risks > 0 ? `, ${risks} risk${risks === 1 ? '' : 's'} to read` : ''}`,
    );
  }
  if (result.entities.length === 0) io.err('no source table resembles a target table: the draft has no entities');
  if (result.variables.length > 0)
    io.err(
      `the plan reads passwords from ${result.variables.join(' and ')}: set ${result.variables.length === 1 ? 'it' : 'them'} before running`,
    );
  if (out) io.err(`drafted ${out}; next: crm-migrate plan ${out}`);
  return 0;
}
