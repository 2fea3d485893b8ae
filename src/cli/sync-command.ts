import { setTimeout as sleep } from 'node:timers/promises';
import { runPlan, type RunSummary } from '../engine/run.js';
import { CrmMigrateError } from '../errors.js';
import { DURATION_HINT, parseDuration } from '../plan/duration.js';
import { loadPlan } from '../plan/load.js';
import { balanced, formatIssues, int } from './format.js';
import type { Io } from './main.js';
import { stopOnSignals } from './signals.js';

export interface SyncCommandOptions {
  every?: string;
  json?: boolean;
  showValues?: boolean;
}

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
  const plan = await loadPlan(file);
  if (!plan.entities.some((e) => e.strategy === 'incremental')) {
    throw new CrmMigrateError('E_USAGE', 'sync runs increments, but no entity of the plan is incremental', { hint: 'add strategy: incremental and cursor: <column> to an entity' });
  }
  const every = parseDuration(options.every ?? '30s');
  if (every === undefined) throw new CrmMigrateError('E_USAGE', `--every "${options.every ?? ''}" is not a duration`, { hint: DURATION_HINT });
  const stop = stopOnSignals((line) => io.err(line));
  let warned = false;
  try {
    while (!stop.signal.aborted) {
      const summary = await runPlan(plan, {
        signal: stop.signal,
        lag: true,
        onWarnings: (warnings) => {
          if (!warned) io.err(formatIssues(warnings));
          warned = true;
        },
      });
      io.out(options.json ? JSON.stringify({ at: new Date().toISOString(), runId: summary.runId, status: summary.status, entities: summary.entities, lag: summary.lag }) : incrementLine(summary));
      if (!Object.values(summary.entities).every(balanced)) return 1;
      await sleep(every, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    stop.dispose();
  }
  io.err('sync stopped; the target holds everything up to its last checkpoint');
  return 0;
}
