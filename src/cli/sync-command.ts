import { setTimeout as sleep } from 'node:timers/promises';
import { runPlan, type RunSummary } from '../index.js';
import { CrmMigrateError } from '../index.js';
import { DURATION_HINT, parseDuration } from '../index.js';
import { balanced, formatIssues, int } from './format.js';
import type { Io } from './main.js';
import { commandPlan, overQuarantineLimit, type PlanOptions, type WriteOptions } from './plan-options.js';
import { withResumeHint } from './resume-hint.js';
import { stopOnSignals } from './signals.js';

export interface SyncCommandOptions extends PlanOptions, WriteOptions {
  every?: string;
  json?: boolean;
  showValues?: boolean;
}

/** Failures a later increment may get past: the database was unreachable, or a read or write broke off. */
const TRANSIENT: readonly string[] = ['E_CONNECT', 'E_SOURCE', 'E_TARGET'];
const MAX_FAILURES = 5;

/** One line per increment: what each incremental entity applied, and how much is still pending (the lag). */
function incrementLine(summary: RunSummary): string {
  const parts = Object.entries(summary.lag ?? {}).map(([name, lag]) => {
    const c = summary.entities[name];
    const applied = c ? `read ${int(c.read)}, written ${int(c.written)}, quarantined ${int(c.quarantined)}, deleted ${int(c.deleted)}` : '';
    const newest = lag.lastApplied === null ? 'nothing applied yet' : `newest change applied ${String(lag.lastApplied)}`;
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
  if (!plan.entities.some((e) => e.strategy === 'incremental')) {
    throw new CrmMigrateError('E_USAGE', 'sync runs increments, but no entity of the plan is incremental', { hint: 'add strategy: incremental and cursor: <column> to an entity' });
  }
  const every = parseDuration(options.every ?? '30s');
  if (every === undefined) throw new CrmMigrateError('E_USAGE', `--every "${options.every ?? ''}" is not a duration`, { hint: DURATION_HINT });
  const stop = stopOnSignals((line) => io.err(line));
  let warned = false;
  let failures = 0;
  try {
    while (!stop.signal.aborted) {
      let summary: RunSummary;
      try {
        summary = await runPlan(plan, {
          signal: stop.signal,
          wait: options.wait,
          lag: true,
          command: 'sync',
          onWarnings: (warnings) => {
            if (!warned) io.err(formatIssues(warnings));
            warned = true;
          },
        });
        failures = 0;
      } catch (error) {
        // A dropped connection or a database away for maintenance should not end a sync that runs for weeks:
        // the failed increment is resumed by the next one. A bad plan, or too many failures in a row, end it.
        const transient = error instanceof CrmMigrateError && TRANSIENT.includes(error.code);
        if (!transient || ++failures >= MAX_FAILURES) throw withResumeHint(error, `crm-migrate sync ${file}`);
        io.err(`${new Date().toISOString()} increment failed (${failures} of ${MAX_FAILURES} in a row), retrying in ${options.every ?? '30s'}: ${error.message}`);
        await sleep(every, undefined, { signal: stop.signal }).catch(() => undefined);
        continue;
      }
      io.out(options.json ? JSON.stringify({ at: new Date().toISOString(), runId: summary.runId, status: summary.status, entities: summary.entities, lag: summary.lag }) : incrementLine(summary));
      if (!Object.values(summary.entities).every(balanced)) return 1;
      const over = overQuarantineLimit(plan, options, summary.entities);
      if (over) {
        io.err(`error: increment ${summary.runId}: ${over}\nhint: see why with crm-migrate quarantine ${file}; sync stopped so the quarantine does not keep growing`);
        return 1;
      }
      await sleep(every, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    stop.dispose();
  }
  io.err('sync stopped; the target holds everything up to its last checkpoint');
  return 0;
}
