import type { QuarantinedRow } from '../connectors/contract.js';
import { listQuarantine } from '../engine/quarantine.js';
import { loadPlan } from '../plan/load.js';
import type { Io } from './main.js';

export interface QuarantineOptions {
  entity?: string;
  json?: boolean;
  csv?: boolean;
  showValues?: boolean;
}

const csvCell = (text: string): string => (/[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
const reasonText = (row: QuarantinedRow): string => row.reasons.map((r) => `${r.field}:${r.rule}/${r.code}`).join('; ');

/** Lists quarantined rows: keys and reasons; the rows' values only with --show-values. */
export async function quarantineCommand(file: string, options: QuarantineOptions, io: Io): Promise<number> {
  const plan = await loadPlan(file);
  const values = options.showValues === true;
  if (options.csv) io.out(['entity', 'source_key', 'reasons', ...(values ? ['row'] : [])].join(','));
  const { run, count } = await listQuarantine(plan, {
    entity: options.entity,
    each: (row) => {
      if (options.json) {
        io.out(JSON.stringify({ entity: row.entity, sourceKey: row.sourceKey, reasons: row.reasons, ...(values ? { row: row.row } : {}) }));
      } else if (options.csv) {
        io.out([row.entity, row.sourceKey, reasonText(row), ...(values ? [JSON.stringify(row.row)] : [])].map(csvCell).join(','));
      } else {
        io.out(`${row.entity}  ${row.sourceKey}  ${reasonText(row)}${values ? `  ${JSON.stringify(row.row)}` : ''}`);
      }
    },
  });
  if (!options.json && !options.csv) {
    io.err(run ? `${count} quarantined row${count === 1 ? '' : 's'} in run ${run.runId}` : `plan ${plan.name} has not run against this target yet`);
  }
  return 0;
}
