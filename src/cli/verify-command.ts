import path from 'node:path';
import { renderVerifyReport, writeReport } from '../index.js';
import { verifyColumns, verifyPlan } from '../index.js';
import { int, table } from './format.js';
import type { Io } from './main.js';
import { commandPlan, planCommandOf, positiveInt, type PlanOptions } from './plan-options.js';

export interface VerifyCommandOptions extends PlanOptions {
  report?: string | boolean;
  json?: boolean;
  limit?: number;
  showValues?: boolean;
}

/** Exit code when source and target differ (0: equal; 1 and 2 keep their usual meanings). */
export const DIFFERENT = 3;

export async function verifyCommand(file: string, options: VerifyCommandOptions, io: Io): Promise<number> {
  const plan = await commandPlan(file, options);
  const summary = await verifyPlan(plan, { limit: options.limit, showValues: options.showValues });
  if (options.report !== false) {
    const id = `verify-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const report = writeReport(renderVerifyReport(summary), {
      planFile: file,
      plan: plan.name,
      id,
      to: typeof options.report === 'string' ? options.report : undefined,
    });
    io.err(`report: ${path.relative(process.cwd(), report) || report}`);
  }
  if (options.json) {
    io.out(JSON.stringify(summary));
    return summary.equal ? 0 : DIFFERENT;
  }
  const columns = verifyColumns(summary.entities);
  const rows = summary.entities.map((e) => [e.entity, ...columns.counts(e).map(int)]);
  const lines = [
    `verify ${summary.source} -> ${summary.target} (${(summary.durationMs / 1000).toFixed(1)} s)`,
    '',
    table(['entity', ...columns.names], rows),
  ];
  const differing = summary.entities.filter((e) => e.differences.length > 0);
  if (differing.length > 0) {
    lines.push(
      '',
      `differences (the first ${options.limit ?? 20} per entity${options.showValues ? '' : '; values hidden, --show-values shows them'}):`,
    );
    const explain = {
      missing: 'in the source, not in the target',
      extra: 'in the target, not in the source',
      stale: 'quarantined now; the target holds an older version',
      changed: '',
    };
    for (const e of differing) {
      for (const d of e.differences) {
        lines.push(
          `  ${e.entity}  key ${d.key}  ${d.kind}  ${d.kind === 'changed' ? d.columns.join(', ') : explain[d.kind]}`,
        );
        for (const v of d.values ?? [])
          lines.push(`      ${v.column}: expected ${JSON.stringify(v.expected)}, found ${JSON.stringify(v.actual)}`);
      }
    }
  }
  lines.push('', summary.equal ? 'source and target agree' : `source and target DIFFER (exit code ${DIFFERENT})`);
  io.out(lines.join('\n'));
  return summary.equal ? 0 : DIFFERENT;
}

export const verify = planCommandOf({
  name: 'verify',
  description: `compare the target with what PLAN says it should hold; exit 0 when equal, ${DIFFERENT} when not`,
  flags: (c) =>
    c
      .option('--limit <N>', 'differences listed per entity (all are counted)', (v) => positiveInt(v, '--limit'), 20)
      .option('--json', 'print the result as JSON on stdout')
      .option(
        '--report <FILE>',
        'where to write the HTML report (default: reports/<plan>-verify-<time>.html beside the plan)',
      )
      .option('--no-report', 'write no HTML report')
      .option('--show-values', 'show the differing values (customer data)'),
  run: verifyCommand,
});
