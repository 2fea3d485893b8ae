import { CrmMigrateError, DURATION_HINT, parseDuration, syncPlan, type RunSummary } from '../index.js';
import { followCommand } from './follow-command.js';
import { balanced, formatIssues, int } from './format.js';
import type { Io } from './main.js';
import {
  commandPlan,
  maxQuarantinedFlag,
  overQuarantineLimit,
  planCommandOf,
  waitFlag,
  type PlanOptions,
  type WriteOptions,
} from './plan-options.js';
import { withResumeHint } from './resume-hint.js';
import { stopOnSignals } from './signals.js';

export interface SyncCommandOptions extends PlanOptions, WriteOptions {
  every?: string;
  follow?: boolean;
  /** With --follow: a path, or false for none; true or absent: reports/<plan>-follow-<start>.html beside the plan. */
  report?: string | boolean;
  json?: boolean;
  showValues?: boolean;
}

/** One line per increment: what each incremental entity applied, and how much is still pending (the lag). */
function incrementLine(summary: RunSummary): string {
  const parts = Object.entries(summary.lag ?? {}).map(([name, lag]) => {
    const c = summary.entities[name];
    const applied = c
      ? `read ${int(c.read)}, written ${int(c.written)}, quarantined ${int(c.quarantined)}, deleted ${int(c.deleted)}`
      : '';
    const newest =
      lag.lastApplied === null ? 'nothing applied yet' : `newest change applied ${String(lag.lastApplied)}`;
    return `${name}: ${applied}; lag ${int(lag.pending)} pending (${newest})`;
  });
  return `${new Date().toISOString()} ${summary.runId}${summary.status === 'interrupted' ? ' (stopped)' : ''} ${parts.join(' | ')}`;
}

/**
 * Runs increments of PLAN every `--every` until SIGINT or SIGTERM, which let the batch in progress commit and
 * then end the command with exit code 0: the target is then exactly at its last checkpoint.
 */
export async function syncCommand(file: string, options: SyncCommandOptions, io: Io): Promise<number> {
  const plan = await commandPlan(file, options);
  if (options.follow) return followCommand(file, plan, options, io);
  const every = parseDuration(options.every ?? '30s');
  if (every === undefined)
    throw new CrmMigrateError('E_USAGE', `--every "${options.every ?? ''}" is not a duration`, { hint: DURATION_HINT });
  const stop = stopOnSignals((line) => io.err(line));
  let code = 0;
  try {
    await syncPlan(plan, {
      everyMs: every,
      signal: stop.signal,
      wait: options.wait,
      onWarnings: (warnings) => io.err(formatIssues(warnings)),
      onRetry: (error, failures, max) =>
        io.err(
          `${new Date().toISOString()} increment failed (${failures} of ${max} in a row), retrying in ${options.every ?? '30s'}: ${error.message}`,
        ),
      onIncrement: (summary) => {
        io.out(
          options.json
            ? JSON.stringify({
                at: new Date().toISOString(),
                runId: summary.runId,
                status: summary.status,
                entities: summary.entities,
                lag: summary.lag,
              })
            : incrementLine(summary),
        );
        if (!Object.values(summary.entities).every(balanced)) {
          code = 1;
          return false;
        }
        const over = overQuarantineLimit(plan, options, summary.entities);
        if (over) {
          io.err(
            `error: increment ${summary.runId}: ${over}\nhint: see why with crm-migrate quarantine ${file}; sync stopped so the quarantine does not keep growing`,
          );
          code = 1;
          return false;
        }
        return true;
      },
    });
  } catch (error) {
    throw withResumeHint(error, `crm-migrate sync ${file}`);
  } finally {
    stop.dispose();
  }
  if (code === 0) io.err('sync stopped; the target holds everything up to its last checkpoint');
  return code;
}

export const sync = planCommandOf({
  name: 'sync',
  description:
    "keep the target in step: run increments of PLAN's incremental entities every --every, or with --follow stream its cdc entities' change log, until SIGINT/SIGTERM",
  flags: (c) =>
    maxQuarantinedFlag(
      waitFlag(
        c
          .option('--every <DURATION>', 'time between increments: 30s, 5m, 1h', '30s')
          .option(
            '--follow',
            "stream the change log of PLAN's strategy: cdc entities (after their snapshot) until SIGINT/SIGTERM",
          )
          .option('--json', 'one JSON line per increment on stdout')
          .option(
            '--report <FILE>',
            'with --follow: where to write the HTML report of the session, lag charted (default: reports/<plan>-follow-<start>.html beside the plan)',
          )
          .option('--no-report', 'with --follow: write no HTML report')
          .option(
            '--show-values',
            "on failure, also print the database's own error detail (it can quote customer values)",
          ),
      ),
    ),
  oneTarget: true,
  run: syncCommand,
});
