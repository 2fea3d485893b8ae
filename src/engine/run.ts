import { randomBytes } from 'node:crypto';
import { openSource, openTarget } from '../connectors/index.js';
import type { Counts, Reason, RunRecord, Source, Target } from '../connectors/contract.js';
import { CrmMigrateError, type PlanIssue } from '../errors.js';
import type { Plan } from '../plan/load.js';
import { loadEntity, zeroCounts, type EntityProgress } from './load-entity.js';
import type { EntityQuality } from './quality.js';
import { checkAgainstSchemas } from './schema-check.js';

export interface RunOptions {
  /** Start over: empty the plan's target tables and forget its earlier checkpoints and quarantine. */
  readonly fresh?: boolean | undefined;
  readonly onProgress?: ((progress: EntityProgress) => void) | undefined;
  /** Warnings from checking the plan against the live schemas, before anything is written. */
  readonly onWarnings?: ((warnings: readonly PlanIssue[]) => void) | undefined;
}

export interface ReasonCount extends Reason {
  readonly entity: string;
  readonly count: number;
}

export interface RunSummary {
  readonly runId: string;
  readonly plan: string;
  /** `done`: this call finished the run; `already-done`: the run had finished before, nothing was written. */
  readonly status: 'done' | 'already-done';
  /** Whether this call picked up an unfinished run from its checkpoints. */
  readonly resumed: boolean;
  readonly source: string;
  readonly target: string;
  /** Per entity; `read = written + merged + quarantined + filtered`, over the whole run. */
  readonly entities: Readonly<Record<string, Counts>>;
  /** Quarantine reasons over the whole run, most frequent first. */
  readonly reasons: readonly ReasonCount[];
  /** The cleaning quality report per entity and field, over the whole run. */
  readonly quality: Readonly<Record<string, EntityQuality>>;
  readonly durationMs: number;
}

const newRunId = (): string => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

async function reasonCounts(target: Target, runId: string): Promise<ReasonCount[]> {
  const counts = new Map<string, ReasonCount>();
  for await (const row of target.state.quarantined(runId)) {
    for (const r of row.reasons) {
      const key = `${row.entity}\0${r.field}\0${r.rule}\0${r.code}`;
      const seen = counts.get(key);
      counts.set(key, { entity: row.entity, field: r.field, rule: r.rule, code: r.code, count: (seen?.count ?? 0) + 1 });
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}

async function withConnections<T>(plan: Plan, readOnly: boolean, work: (source: Source, target: Target) => Promise<T>): Promise<T> {
  const source = await openSource(plan.source, { baseDir: plan.baseDir });
  try {
    const target = await openTarget(plan.target, { baseDir: plan.baseDir, readOnly });
    try {
      return await work(source, target);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

export { withConnections };

/**
 * Runs a plan: a full load of every entity, exactly once. An unfinished run of the same plan is resumed
 * from its checkpoints; a finished one is left alone (`already-done`) unless `fresh` is set.
 */
export async function runPlan(plan: Plan, options: RunOptions = {}): Promise<RunSummary> {
  const started = Date.now();
  return withConnections(plan, false, async (source, target) => {
    const { entities, warnings } = await checkAgainstSchemas(plan, source, target);
    if (warnings.length > 0) options.onWarnings?.(warnings);
    await target.prepare();
    if (options.fresh) await target.reset(plan.name, plan.entities.map((e) => e.into));
    let run: RunRecord | undefined = await target.state.latestRun(plan.name);
    if (run?.status === 'superseded') run = undefined;
    const summary = async (status: RunSummary['status'], resumed: boolean, runId: string): Promise<RunSummary> => {
      const checkpoints = await target.state.checkpoints(runId);
      const of = (name: string) => checkpoints.find((c) => c.entity === name);
      const counts = Object.fromEntries(plan.entities.map((e) => [e.name, of(e.name)?.counts ?? zeroCounts()]));
      const quality = Object.fromEntries(plan.entities.map((e) => [e.name, (of(e.name)?.quality ?? {}) as EntityQuality]));
      return { runId, plan: plan.name, status, resumed, source: source.display, target: target.display, entities: counts, reasons: await reasonCounts(target, runId), quality, durationMs: Date.now() - started };
    };
    if (run?.status === 'done') return summary('already-done', false, run.runId);
    if (run && run.planHash !== plan.hash) {
      throw new CrmMigrateError('E_PLAN', `the plan's mapping changed since run ${run.runId} started, so it cannot be resumed`, {
        hint: 'run with --fresh to empty the target tables and start over',
      });
    }
    const resumed = run !== undefined;
    if (!run) {
      run = { runId: newRunId(), plan: plan.name, planHash: plan.hash, status: 'running', startedAt: new Date().toISOString(), finishedAt: null };
      await target.state.startRun(run);
    }
    const runId = run.runId;
    try {
      const checkpoints = await target.state.checkpoints(runId);
      for (const entity of entities) {
        const from = checkpoints.find((c) => c.entity === entity.plan.name);
        if (from?.done) continue;
        if (entity.create && !(await target.describe(entity.plan.into))) await target.createTable(entity.create);
        await loadEntity({ source, target, runId, entity, from, onProgress: options.onProgress });
      }
      await target.state.finishRun(runId, 'done');
    } catch (error) {
      await target.state.finishRun(runId, 'failed').catch(() => undefined);
      throw error;
    }
    return summary('done', resumed, runId);
  });
}
