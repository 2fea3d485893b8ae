import type { AuditEntry } from '../index.js';
import { auditHistory } from '../index.js';
import { int, table } from './format.js';
import type { Io } from './main.js';
import { commandPlan, planCommandOf, type PlanOptions } from './plan-options.js';

export interface HistoryCommandOptions extends PlanOptions {
  showValues?: boolean;
  json?: boolean;
}

/** What an audit line's details say, in a few words: counts per entity, or the failure. */
function describe(entry: AuditEntry): string {
  const details = entry.details as {
    entities?: Record<string, Record<string, number>>;
    code?: string;
    message?: string;
  } | null;
  if (!details) return '';
  if (details.code) return `${details.code}: ${details.message ?? ''}`;
  return Object.entries(details.entities ?? {})
    .map(
      ([name, c]) =>
        `${name} ${
          Object.entries(c)
            .filter(([, n]) => typeof n === 'number' && n > 0)
            .map(([k, n]) => `${k} ${int(n)}`)
            .join(', ') || 'nothing'
        }`,
    )
    .join('; ');
}

/** The plan's audit trail: every run, sync increment, verify and retry against its target, oldest first. */
export async function historyCommand(file: string, options: HistoryCommandOptions, io: Io): Promise<number> {
  const plan = await commandPlan(file, options);
  const entries = await auditHistory(plan);
  if (options.json) {
    for (const e of entries) io.out(JSON.stringify(e));
    return 0;
  }
  if (entries.length === 0) {
    io.err(`plan ${plan.name} has no history on this target yet`);
    return 0;
  }
  io.out(
    table(
      ['when', 'command', 'outcome', 'run', 'user', 'version', 'plan hash', 'what'],
      entries.map((e) => [e.at, e.command, e.outcome, e.runId ?? '-', e.user, e.toolVersion, e.planHash, describe(e)]),
      99,
    ),
  );
  const last = entries.at(-1) as AuditEntry;
  io.out(`\n${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}; latest: ${last.source} -> ${last.target}`);
  return 0;
}

export const history = planCommandOf({
  name: 'history',
  description:
    'the audit trail of PLAN on its target: who ran what, when, with which tool version and plan, and how it ended',
  flags: (c) => c.option('--json', 'JSON lines, one entry each'),
  run: historyCommand,
});
