import path from 'node:path';
import type { QuarantinedRow } from '../index.js';
import { listQuarantine } from '../index.js';
import { CrmMigrateError, queueAddress, runPlan, withPlanSettings } from '../index.js';
import { renderRunReport, writeReport, type ThroughputSample } from '../index.js';
import { matchEvidence } from '../index.js';
import { balanced, formatIssues, formatSummary } from './format.js';
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
import { progressView } from './progress.js';
import { withResumeHint } from './resume-hint.js';
import { stopOnSignals } from './signals.js';

export interface RunCommandOptions extends PlanOptions, WriteOptions {
  fresh?: boolean;
  /** A path, or false for none; true or absent: reports/<plan>-<run>.html beside the plan. */
  report?: string | boolean;
  json?: boolean;
  quiet?: boolean;
  showValues?: boolean;
  /** Chunk workers for full loads, over the plan's `parallel:` (checked when the command line is parsed). */
  parallel?: string;
  /** A Redis URL: chunks go to `crm-migrate worker` processes through BullMQ. */
  queue?: string;
}

/** `--parallel N`: a whole number of workers from 1 to 64. */
function parallelOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new CrmMigrateError('E_USAGE', `--parallel "${text}" is not a number of workers`, {
      hint: 'give a whole number from 1 to 64: --parallel 2 uses both cores of a two-core machine',
    });
  return n;
}

export async function runCommand(file: string, options: RunCommandOptions, io: Io): Promise<number> {
  const parallel = parallelOf(options.parallel);
  // Refused before anything is opened: a URL that is not Redis's.
  if (options.queue !== undefined) queueAddress(options.queue);
  const plan = withPlanSettings(await commandPlan(file, options), { parallel });
  const view = progressView({
    quiet: options.quiet === true,
    write: (line) => io.err(line),
    terminal: io.terminal === true,
  });
  const stop = stopOnSignals((line) => io.err(line));
  // performance.now(): a short run is a few milliseconds, which Date.now() counts as none.
  const started = performance.now();
  const throughput: ThroughputSample[] = [];
  let summary;
  try {
    summary = await runPlan(plan, {
      fresh: options.fresh,
      wait: options.wait,
      signal: stop.signal,
      onProgress: (p) => {
        throughput.push({ entity: p.entity, ms: performance.now() - started, read: p.counts.read });
        view?.update(p);
      },
      onWarnings: (warnings) => io.err(formatIssues(warnings)),
      onNote: (message) => io.err(`note: ${message}`),
      queue: options.queue,
    });
  } catch (error) {
    throw withResumeHint(error, `crm-migrate run ${file}`);
  } finally {
    view?.stop();
    stop.dispose();
  }
  let report: string | undefined;
  if (options.report !== false && summary.status !== 'already-done') {
    const samples: QuarantinedRow[] = [];
    if (options.showValues) await listQuarantine(plan, { limit: 10, each: (row) => void samples.push(row) });
    const evidence = plan.entities.some((e) => e.dedupe) ? await matchEvidence(plan) : undefined;
    const html = renderRunReport({ summary, throughput, samples, evidence });
    report = writeReport(html, {
      planFile: file,
      plan: plan.name,
      id: summary.runId,
      to: typeof options.report === 'string' ? options.report : undefined,
    });
    io.err(`report: ${path.relative(process.cwd(), report) || report}`);
  }
  if (options.json) {
    io.out(
      JSON.stringify({
        plan: summary.plan,
        runId: summary.runId,
        status: summary.status,
        previousRunId: summary.previousRunId,
        entities: summary.entities,
        dedupe: summary.dedupe,
        quality: summary.quality,
        durationMs: summary.durationMs,
        report,
      }),
    );
  } else {
    io.out(formatSummary(summary));
  }
  // Every source row must be accounted for; if the sums ever disagree, that is a failure, loudly.
  if (!Object.values(summary.entities).every(balanced)) return 1;
  const over = overQuarantineLimit(plan, options, summary.entities);
  if (over) {
    io.err(
      `error: ${over}\nhint: see why with crm-migrate quarantine ${file}; fix the plan or the source, then run again (or raise max_quarantined)`,
    );
    return 1;
  }
  return summary.status === 'interrupted' ? 130 : 0;
}

export const run = planCommandOf({
  name: 'run',
  description:
    'run PLAN: a full load (then, for incremental entities, the changes since the last run), resumed from its checkpoint if a run did not finish',
  flags: (c) =>
    maxQuarantinedFlag(
      waitFlag(
        c
          .option(
            '--fresh',
            'start over: empty the target tables of the plan and forget its checkpoints and quarantine',
          )
          .option('--json', 'print only the JSON summary on stdout')
          .option(
            '--queue <URL>',
            "hand each full entity's chunks to crm-migrate worker processes through BullMQ on this Redis (redis://host:6379?queue=NAME), and wait for them",
          )
          .option(
            '--parallel <N>',
            "load each full entity as key-range chunks on N worker threads, each with its own connections (over the plan's parallel:)",
          )
          .option('--quiet', 'no progress output')
          .option(
            '--report <FILE>',
            'where to write the HTML report (default: reports/<plan>-<run>.html beside the plan)',
          )
          .option('--no-report', 'write no HTML report')
          .option(
            '--show-values',
            "on failure, also print the database's own error detail, and put a few quarantined rows with their values in the report (customer data)",
          ),
      ),
    ),
  run: runCommand,
});
