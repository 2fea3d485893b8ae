import { Option } from 'commander';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { QuarantinedRow } from '../index.js';
import { listQuarantine, quarantineColumns } from '../index.js';
import { retryQuarantine, type FixedRecord } from '../index.js';
import { CrmMigrateError } from '../index.js';
import type { Plan } from '../index.js';
import { balanced, int, table } from './format.js';
import type { Io } from './main.js';
import { commandPlan, planCommandOf, type PlanOptions } from './plan-options.js';

export interface QuarantineOptions extends PlanOptions {
  entity?: string;
  json?: boolean;
  /** true: CSV on stdout; a path: CSV into that file. */
  csv?: boolean | string;
  showValues?: boolean;
  /** A CSV of fixed rows to push through the plan again. */
  retry?: string;
}

const reasonText = (row: QuarantinedRow): string => row.reasons.map((r) => `${r.field}:${r.rule}/${r.code}`).join('; ');

/** A value as a CSV cell: NULL is an empty cell; objects (bytes) as JSON. */
const cell = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);

/**
 * Lists quarantined rows (keys and reasons; the rows' values only with --show-values), exports them as CSV —
 * one column per source column, so they can be fixed in a spreadsheet — or retries a fixed file.
 */
export async function quarantineCommand(file: string, options: QuarantineOptions, io: Io): Promise<number> {
  const plan = await commandPlan(file, options);
  if (options.retry) return retry(plan, options.retry, io);
  const values = options.showValues === true;
  const entities = plan.entities.filter((e) => !options.entity || e.name === options.entity);
  if (options.entity && entities.length === 0)
    throw new CrmMigrateError('E_USAGE', `the plan has no entity "${options.entity}"`, {
      hint: `entities: ${plan.entities.map((e) => e.name).join(', ')}`,
    });
  const columns = values ? quarantineColumns(entities) : [];
  const out = typeof options.csv === 'string' ? createWriteStream(options.csv) : undefined;
  const write = async (line: string) => {
    if (!out) return io.out(line.replace(/\r?\n$/, ''));
    if (!out.write(line)) await once(out, 'drain');
  };
  // The CSV packages are imported by the commands that write or read CSV, not at every command's start-up.
  const { stringify } = await import('csv-stringify/sync');
  if (options.csv) await write(stringify([['entity', 'source_key', 'reasons', ...columns]]));
  const { run, count, runs } = await listQuarantine(plan, {
    entity: options.entity,
    each: async (row) => {
      if (options.json) {
        io.out(
          JSON.stringify({
            entity: row.entity,
            sourceKey: row.sourceKey,
            reasons: row.reasons,
            ...(values ? { row: row.row } : {}),
          }),
        );
      } else if (options.csv) {
        await write(stringify([[row.entity, row.sourceKey, reasonText(row), ...columns.map((c) => cell(row.row[c]))]]));
      } else {
        io.out(`${row.entity}  ${row.sourceKey}  ${reasonText(row)}${values ? `  ${JSON.stringify(row.row)}` : ''}`);
      }
    },
  });
  if (out) {
    out.end();
    await finished(out);
  }
  if (!options.json && (!options.csv || out)) {
    const where = out
      ? ` written to ${options.csv as string}${values ? '' : ' (without values: add --show-values to export them for fixing)'}`
      : '';
    const from =
      runs.length > 1
        ? `from ${runs.length} runs since the last fresh start (the latest ${run?.runId ?? ''})`
        : `in run ${runs[0] ?? run?.runId ?? ''}`;
    io.err(
      run
        ? `${count} quarantined row${count === 1 ? '' : 's'} ${from}${where}`
        : `plan ${plan.name} has not run against this target yet`,
    );
  }
  return 0;
}

async function retry(plan: Plan, file: string, io: Io): Promise<number> {
  const { CsvError, parse } = await import('csv-parse');
  const parser = parse({ columns: true, bom: true, skip_empty_lines: true });
  // pipe() would leave the file's errors unhandled (a missing file); pipeline() ends the parser with them, and the
  // loop reading the parser throws them. Its callback has nothing left to do.
  pipeline(createReadStream(file), parser, () => undefined);
  let result;
  try {
    result = await retryQuarantine(plan, parser as AsyncIterable<FixedRecord>);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new CrmMigrateError('E_USAGE', `cannot read ${file}: no such file`, {
        hint: 'give the CSV that `crm-migrate quarantine PLAN --csv FILE --show-values` wrote, with the values fixed',
      });
    if (code === 'EACCES' || code === 'EISDIR')
      throw new CrmMigrateError(
        'E_USAGE',
        `cannot read ${file}: ${code === 'EACCES' ? 'permission denied' : 'it is a folder'}`,
      );
    // csv-parse quotes the cell it stopped at ("…, value is \"…\""): the message goes without it.
    if (error instanceof CsvError)
      throw new CrmMigrateError(
        'E_USAGE',
        `${file} is not a valid CSV file: ${error.message.replace(/,?\s*value is .*$/s, '')}`,
        { hint: 'check the quoting of the line it names; nothing was retried' },
      );
    throw error;
  }
  const rows = Object.entries(result.entities).map(([name, r]) => [
    name,
    int(r.retried),
    int(r.written),
    int(r.quarantined),
    int(r.skipped),
  ]);
  io.out(
    `retried into ${result.runs.map((r) => `run ${r.runId}`).join(', ')}:\n${table(['entity', 'retried', 'now written', 'still quarantined', 'skipped'], rows)}`,
  );
  for (const { runId, counts } of result.runs) {
    const accounting = Object.entries(counts).map(([name, c]) => [
      name,
      int(c.read),
      int(c.written),
      int(c.merged),
      int(c.quarantined),
      int(c.filtered),
      balanced(c) ? 'ok' : 'MISMATCH',
    ]);
    io.out(
      `\naccounting of run ${runId} now:\n${table(['entity', 'read', 'written', 'merged', 'quarantined', 'filtered', 'read = sum'], accounting)}`,
    );
  }
  if (Object.values(result.entities).some((r) => r.skipped > 0))
    io.err('skipped rows are no longer in quarantine (already retried), or their key columns were edited');
  return result.runs.every((r) => Object.values(r.counts).every(balanced)) ? 0 : 1;
}

export const quarantine = planCommandOf({
  name: 'quarantine',
  description:
    "list, export (--csv) or retry (--retry) the rows PLAN's runs left in quarantine since the last fresh start (every increment's), with their reasons",
  flags: (c) =>
    c
      .option('--entity <NAME>', 'only this entity')
      .addOption(new Option('--json', 'JSON lines, one row each').conflicts('csv'))
      .option(
        '--csv [FILE]',
        'CSV with a header row, on stdout or into FILE; with --show-values one column per source column, ready to fix',
      )
      .option('--show-values', 'include the source row values (customer data)')
      .addOption(
        new Option(
          '--retry <FILE>',
          'push the fixed rows of a CSV exported with --csv FILE --show-values through the plan again',
        ).conflicts(['csv', 'json']),
      ),
  run: quarantineCommand,
});
