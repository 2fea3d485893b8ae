import path from 'node:path';
import { followPlan, LagSamples, renderFollowReport, writeReport, type FollowProgress, type Plan } from '../index.js';
import { int } from './format.js';
import type { Io } from './main.js';
import type { SyncCommandOptions } from './sync-command.js';
import { withResumeHint } from './resume-hint.js';
import { stopOnSignals } from './signals.js';

/** How often the lag line is printed while following. */
const REPORT_EVERY_MS = 5000;

/** One line of lag: changes applied by kind, how far behind the source, and the latency so far. */
export function followLine(progress: FollowProgress): string {
  const { applied, latency } = progress;
  return `${new Date().toISOString()} follow: applied ${int(applied.insert)} inserts, ${int(applied.update)} updates, ${int(applied.delete)} deletes; behind ${progress.behindSeconds.toFixed(1)} s; latency p50 ${int(latency.p50Ms)} ms, p99 ${int(latency.p99Ms)} ms`;
}

/**
 * `sync --follow`: the snapshot (first time) or the run's remaining work, then the change stream until SIGINT
 * or SIGTERM, which let the batch in flight commit: exit 0, the target at its last stored position.
 */
export async function followCommand(file: string, plan: Plan, options: SyncCommandOptions, io: Io): Promise<number> {
  const stop = stopOnSignals((line) => io.err(line));
  let reportedAt = 0;
  const startedAt = new Date();
  const lag = new LagSamples();
  let ends = { source: '', target: '' };
  const report = (progress: FollowProgress) =>
    io.out(options.json ? JSON.stringify({ at: new Date().toISOString(), ...progress }) : followLine(progress));
  try {
    const last = await followPlan(plan, {
      signal: stop.signal,
      wait: options.wait,
      onRun: (summary) => {
        ends = { source: summary.source, target: summary.target };
        io.err(
          `${summary.runId}: ${summary.status}${Object.entries(summary.entities)
            .map(
              ([name, c]) =>
                ` | ${name}: read ${int(c.read)}, written ${int(c.written)}, quarantined ${int(c.quarantined)}`,
            )
            .join('')}`,
        );
      },
      onRetry: (error, failures, max) =>
        io.err(
          `${new Date().toISOString()} follow failed (${failures} of ${max} in a row), retrying: ${error.message}`,
        ),
      onWarning: (message) => io.err(`warning: ${message}`),
      onBatch: (progress) => {
        const { insert, update, delete: deleted } = progress.applied;
        lag.add({
          ms: Date.now() - startedAt.getTime(),
          behindSeconds: progress.behindSeconds,
          applied: insert + update + deleted,
        });
        if (Date.now() - reportedAt < REPORT_EVERY_MS) return;
        reportedAt = Date.now();
        report(progress);
      },
    });
    if (last) report(last);
    if (last && options.report !== false) {
      const html = renderFollowReport({
        plan: plan.name,
        ...ends,
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
        progress: last,
        samples: lag.samples,
      });
      const id = `follow-${startedAt.toISOString().replace(/[:.]/g, '-')}`;
      const to = typeof options.report === 'string' ? options.report : undefined;
      const written = writeReport(html, { planFile: file, plan: plan.name, id, to });
      io.err(`report: ${path.relative(process.cwd(), written) || written}`);
    }
  } catch (error) {
    throw withResumeHint(error, `crm-migrate sync ${file} --follow`);
  } finally {
    stop.dispose();
  }
  io.err('follow stopped; the target holds every change up to its last stored position');
  return 0;
}
