import { runPlan } from '../engine/run.js';
import { loadPlan } from '../plan/load.js';
import { balanced, formatIssues, formatSummary } from './format.js';
import type { Io } from './main.js';
import { progressView } from './progress.js';
import { stopOnSignals } from './signals.js';

export interface RunCommandOptions {
  fresh?: boolean;
  json?: boolean;
  quiet?: boolean;
  showValues?: boolean;
}

export async function runCommand(file: string, options: RunCommandOptions, io: Io): Promise<number> {
  const plan = await loadPlan(file);
  const view = progressView({ quiet: options.quiet === true, write: (line) => io.err(line), terminal: io.terminal === true });
  const stop = stopOnSignals((line) => io.err(line));
  let summary;
  try {
    summary = await runPlan(plan, {
      fresh: options.fresh,
      signal: stop.signal,
      onProgress: view && ((p) => view.update(p)),
      onWarnings: (warnings) => io.err(formatIssues(warnings)),
    });
  } finally {
    view?.stop();
    stop.dispose();
  }
  if (options.json) {
    io.out(JSON.stringify({ runId: summary.runId, status: summary.status, previousRunId: summary.previousRunId, entities: summary.entities, quality: summary.quality, durationMs: summary.durationMs }));
  } else {
    io.out(formatSummary(summary));
  }
  // Every source row must be accounted for; if the sums ever disagree, that is a failure, loudly.
  if (!Object.values(summary.entities).every(balanced)) return 1;
  return summary.status === 'interrupted' ? 130 : 0;
}
