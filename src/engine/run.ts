import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Checkpoint, Counts, Reason, RunRecord, Source, Target } from '../connectors/contract.js';
import { CrmMigrateError, type PlanIssue } from '../errors.js';
import type { Plan } from '../plan/load.js';
import type { Row } from '../values.js';
import { loadEntity, readOrder, secondPassName, zeroCounts, type EntityProgress } from './write/load-entity.js';
import { readStoredQuality, type EntityQuality, type FilterCounts } from './map/quality.js';
import { auditEntry, failureDetails } from './audit.js';
import { openPlanSource, openPlanTarget } from './connections.js';
import { shiftBack } from './strategies/cursor.js';
import { mergePlanner, refreshSurvivors, type DedupeSummary } from './dedupe/merge-plan.js';
import {
  makePlaceholders,
  placeholderStepName,
  placeholderTargets,
  type PlaceholderSpec,
} from './relations/placeholders.js';
import { foreignRowFinder } from './write/foreign-rows.js';
import { entitiesWithoutCrosswalk, refuseFreshOverOthersRows } from './strategies/fresh-start.js';
import { resyncLinkedChanges } from './strategies/linked-changes.js';
import { targetLookups, type TargetLookups } from './relations/target-lookups.js';
import { refResolver } from './relations/refs.js';
import { checkAgainstSchemas, type BoundEntity } from './schema-check.js';
import { changeFeedOf, followedEntities, readyForChangeCapture, streamOf } from './strategies/change-stream.js';
import { changesName } from './strategies/change-capture.js';
import { loadInChunks } from './scale/chunked-load.js';
import { carryForward } from './write/carry-forward.js';
import { chunkCounts } from './scale/chunk-plan.js';
import { checkQueue } from './scale/queue.js';

export interface RunOptions {
  /** Start over: empty the plan's target tables and forget its earlier checkpoints and quarantine. */
  readonly fresh?: boolean | undefined;
  readonly onProgress?: ((progress: EntityProgress) => void) | undefined;
  /** Warnings from checking the plan against the live schemas, before anything is written. */
  readonly onWarnings?: ((warnings: readonly PlanIssue[]) => void) | undefined;
  /** Stops the run after the batch in progress; the run is left `interrupted` and the next call resumes it. */
  readonly signal?: AbortSignal | undefined;
  /** Also count, per incremental entity, the source changes not yet applied when the run ends (`lag`). */
  readonly lag?: boolean | undefined;
  /** When another run of the plan holds the target, wait for it instead of refusing. */
  readonly wait?: boolean | undefined;
  /** The command named in the audit trail: `run` (default) or `sync`. */
  readonly command?: string | undefined;
  /** Something worth telling that changes nothing: why a load asked to run in parallel runs in one worker. */
  readonly onNote?: ((message: string) => void) | undefined;
  /**
   * A BullMQ queue on Redis (`redis://host:6379?queue=NAME`): full entities' chunks are enqueued for
   * `crm-migrate worker` processes on any machine, and this run waits for them (see src/engine/scale/queue.ts).
   */
  readonly queue?: string | undefined;
}

/** How far an incremental entity's target is behind its source. */
export interface Lag {
  /** Source rows changed after the last checkpoint: 0 when the target has caught up. */
  readonly pending: number;
  /** The cursor value of the newest change applied (JSON), or null before the first. */
  readonly lastApplied: unknown;
}

export interface ReasonCount extends Reason {
  readonly entity: string;
  readonly count: number;
  /** The source keys of the first few rows with this reason (keys, never values). */
  readonly sampleKeys: readonly string[];
}

const SAMPLE_KEYS = 5;
/** Rows an entity writes into its crosswalk before the database's statistics of it are refreshed. */
const STATISTICS_AFTER = 10_000;

export interface RunSummary {
  readonly runId: string;
  readonly plan: string;
  /**
   * `done`: this call finished the run; `already-done`: the run had finished before, nothing was written;
   * `interrupted`: stopped on request after a committed batch (the next call resumes).
   */
  readonly status: 'done' | 'already-done' | 'interrupted';
  /** Whether this call picked up an unfinished run from its checkpoints. */
  readonly resumed: boolean;
  /** The finished run this one continued from: set for increments of incremental entities. */
  readonly previousRunId: string | undefined;
  readonly source: string;
  readonly target: string;
  /** Per entity; `read = written + merged + quarantined + filtered`, over the whole run. */
  readonly entities: Readonly<Record<string, Counts>>;
  /** Quarantine reasons over the whole run, most frequent first. */
  readonly reasons: readonly ReasonCount[];
  /** The cleaning quality report per entity and field, over the whole run. */
  readonly quality: Readonly<Record<string, EntityQuality>>;
  /** Per incremental entity, when asked for (`RunOptions.lag`). */
  readonly lag?: Readonly<Record<string, Lag>> | undefined;
  /** What matching found, per entity with `dedupe:` planned in this call. */
  readonly dedupe?: Readonly<Record<string, DedupeSummary>> | undefined;
  /**
   * Placeholder records made for orphan refs (`orphans: placeholder`) over the whole run, per entity whose table
   * holds them: rows of its table besides the `written` ones, not source rows of its own.
   */
  readonly placeholders?: Readonly<Record<string, number>> | undefined;
  /**
   * Per entity with joined cursors, the records re-read because a joined row changed (src/engine/strategies/linked-changes.ts):
   * rows besides the entity's own accounting, which counts each record its own cursor brought once.
   */
  readonly resynced?: Readonly<Record<string, Counts>> | undefined;
  /** Rows each entity's `where:` filtered out, by the clause they failed (`deleted = 0`): the accounting's `filtered`, itemized. */
  readonly filtered?: Readonly<Record<string, FilterCounts>> | undefined;
  readonly durationMs: number;
}

export const newRunId = (): string => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

/** Keys as people sort them: runs of digits by their value (5 before 48, C-9 before C-10). */
const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

async function reasonCounts(target: Target, runId: string): Promise<ReasonCount[]> {
  const counts = new Map<string, { -readonly [K in keyof ReasonCount]: ReasonCount[K] } & { sampleKeys: string[] }>();
  for await (const row of target.state.quarantined(runId)) {
    for (const r of row.reasons) {
      const key = `${row.entity}\0${r.field}\0${r.rule}\0${r.code}`;
      const seen = counts.get(key) ?? {
        entity: row.entity,
        field: r.field,
        rule: r.rule,
        code: r.code,
        count: 0,
        sampleKeys: [],
      };
      seen.count += 1;
      // The lowest keys, numbers by value (the store lists keys as text: 48 before 5).
      if (seen.sampleKeys.length < SAMPLE_KEYS || naturalOrder(row.sourceKey, seen.sampleKeys.at(-1) as string) < 0) {
        seen.sampleKeys.push(row.sourceKey);
        seen.sampleKeys.sort(naturalOrder);
        if (seen.sampleKeys.length > SAMPLE_KEYS) seen.sampleKeys.pop();
      }
      counts.set(key, seen);
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}

/** The plan's source and target for one piece of work, with lookups in the target (`lookup:` fields), all closed after. */
async function withConnections<T>(
  plan: Plan,
  readOnly: boolean,
  work: (source: Source, target: Target, lookups: TargetLookups) => Promise<T>,
): Promise<T> {
  const source = await openPlanSource(plan);
  try {
    const target = await openPlanTarget(plan, readOnly);
    const lookups = targetLookups(plan);
    try {
      return await work(source, target, lookups);
    } finally {
      await lookups.close().catch(() => undefined);
      await target.close();
    }
  } finally {
    await source.close();
  }
}

export { withConnections };

async function lagOf(
  source: Source,
  entities: readonly BoundEntity[],
  checkpoints: readonly Checkpoint[],
): Promise<Record<string, Lag>> {
  const lag: Record<string, Lag> = {};
  for (const entity of entities) {
    if (entity.plan.strategy !== 'incremental') continue;
    const lastKey = checkpoints.find((c) => c.entity === entity.plan.name)?.lastKey ?? null;
    const pending = await source.count(
      entity.plan.from,
      lastKey ? { key: readOrder(entity), after: lastKey as Row } : undefined,
    );
    lag[entity.plan.name] = { pending, lastApplied: lastKey?.[0] ?? null };
  }
  return lag;
}

/**
 * Where an entity starts in a new run that follows a finished one: a full entity is already loaded; an
 * incremental one continues after its last checkpoint, `lookback` earlier when the plan asks for it.
 */
function continuation(entity: BoundEntity, previous: Checkpoint | undefined): Checkpoint | undefined {
  const { plan } = entity;
  if (!previous) return undefined;
  if (plan.strategy !== 'incremental')
    return { entity: previous.entity, lastKey: previous.lastKey, counts: zeroCounts(), done: true };
  let lastKey = previous.lastKey;
  if (lastKey && plan.lookback) lastKey = [shiftBack(lastKey[0], plan.lookback, `entity ${plan.name}`)];
  return { entity: previous.entity, lastKey, counts: zeroCounts(), done: false };
}

/**
 * Takes the plan's run lock on the target, or refuses the run naming the one that holds it: two runs of one
 * plan at once would write every row twice into a table without a key.
 */
export async function lockPlan(plan: Plan, target: Target, wait: boolean): Promise<void> {
  const holder = await target.lockRun(
    plan.name,
    { host: hostname(), pid: process.pid, startedAt: new Date().toISOString() },
    wait,
  );
  if (!holder) return;
  throw new CrmMigrateError(
    'E_LOCKED',
    `another run of plan ${plan.name} is writing to ${target.display}: process ${holder.pid} on ${holder.host}, started ${holder.startedAt}`,
    {
      hint: 'wait for it to finish, or run with --wait to start when it has',
    },
  );
}

export { carryForward } from './write/carry-forward.js';

/**
 * One step of a run, each with its own checkpoint: an entity's load; before it, the placeholders its orphan
 * refs need in a referenced entity's table; after all loads, the second pass filling in refs closing a cycle.
 */
type Step =
  | { readonly kind: 'load' | 'refs' | 'linked'; readonly entity: BoundEntity; readonly name: string }
  | {
      readonly kind: 'placeholders';
      readonly entity: BoundEntity;
      readonly referenced: BoundEntity;
      readonly spec: PlaceholderSpec;
      readonly name: string;
    };

/** The step that re-reads an entity's records whose joined rows changed (`cursor: [own, alias.column]`). */
const linkedStepName = (entity: string) => `${entity}#linked`;

function steps(entities: readonly BoundEntity[]): Step[] {
  const byName = new Map(entities.map((e) => [e.plan.name, e]));
  const loads = entities.flatMap((entity): Step[] => [
    ...placeholderTargets(entity.plan).flatMap((r): Step[] => {
      const referenced = byName.get(r);
      return referenced?.placeholder
        ? [
            {
              kind: 'placeholders',
              entity,
              referenced,
              spec: referenced.placeholder,
              name: placeholderStepName(entity.plan.name, r),
            },
          ]
        : [];
    }),
    // Before the entity's own load: on the first run it notes where the joined tables end, before any record is read.
    ...(entity.plan.strategy === 'incremental' && entity.plan.linkedCursors.length > 0
      ? [{ kind: 'linked' as const, entity, name: linkedStepName(entity.plan.name) }]
      : []),
    { kind: 'load', entity, name: entity.plan.name },
  ]);
  const refs = entities
    .filter((e) => (e.deferredRefs ?? []).length > 0)
    .map((entity): Step => ({ kind: 'refs', entity, name: secondPassName(entity.plan.name) }));
  return [...loads, ...refs];
}

/**
 * Runs a plan, exactly once. An unfinished run of the same plan is resumed from its checkpoints. After a
 * finished run, a plan with incremental entities starts a new run that reads only what changed since
 * (an increment); a plan of full loads only is left alone (`already-done`) unless `fresh` is set.
 */
export async function runPlan(plan: Plan, options: RunOptions = {}): Promise<RunSummary> {
  const started = Date.now();
  return withConnections(plan, false, async (source, target, lookups) => {
    const { entities: checked, warnings } = await checkAgainstSchemas(plan, source, target);
    const merging = mergePlanner(plan, checked, source, target.state, lookups);
    if (warnings.length > 0) options.onWarnings?.(warnings);
    // Before anything is written: a followed entity needs its source's change log ready (cdc setup).
    if (followedEntities(plan).length > 0) await readyForChangeCapture(plan, source);
    // And a queue's Redis must keep its jobs.
    if (options.queue) await checkQueue(options.queue, options.onNote);
    await target.prepare();
    await lockPlan(plan, target, options.wait === true);
    const { entities, legacy } = await ownRows(plan, checked, target, options);
    let run = await latestRun(plan, source, target, options);
    const previous = await target.state.latestRun(plan.name, 'done');
    const summary = (status: RunSummary['status'], resumed: boolean, runId: string) =>
      runSummary({ plan, source, target, entities, merging, previous, options, started }, status, resumed, runId);
    // Before anything else: a finished run's counts are no answer to a plan whose mapping has changed since.
    if (run && run.planHash !== plan.hash) {
      throw new CrmMigrateError(
        'E_PLAN',
        `the plan's mapping changed since run ${run.runId}${run.status === 'done' ? ' loaded the target' : ' started'}, so the target cannot be continued with it`,
        {
          hint: 'run with --fresh to empty the target tables and start over',
        },
      );
    }
    const incremental = plan.entities.some((e) => e.strategy === 'incremental');
    if (run?.status === 'done' && !incremental) {
      const done = await summary('already-done', false, run.runId);
      await target.state.audit(
        auditEntry(plan, {
          command: options.command ?? 'run',
          outcome: 'already-done',
          runId: run.runId,
          source: source.display,
          target: target.display,
          details: null,
        }),
      );
      return done;
    }
    if (run?.status === 'done') run = undefined;
    const resumed = run !== undefined;
    if (!run) {
      run = {
        runId: newRunId(),
        plan: plan.name,
        planHash: plan.hash,
        status: 'running',
        startedAt: new Date().toISOString(),
        finishedAt: null,
      };
      await target.state.startRun(run);
    }
    const runId = run.runId;
    let stopped = false;
    const trail = (outcome: string, details: unknown) =>
      auditEntry(plan, {
        command: options.command ?? 'run',
        outcome,
        runId,
        source: source.display,
        target: target.display,
        details,
      });
    try {
      const checkpoints = await target.state.checkpoints(runId);
      const before = previous ? await target.state.checkpoints(previous.runId) : [];
      const standing = (step: Step) => {
        const own = checkpoints.find((c) => c.entity === step.name);
        const earlier = before.find((c) => c.entity === step.name);
        // A linked step goes on from where the last run's stopped in each joined table (no lookback: it has no one cursor).
        const from =
          own ??
          (step.kind === 'linked'
            ? earlier && { ...earlier, counts: zeroCounts(), done: false }
            : continuation(step.entity, earlier));
        return { own, earlier, from };
      };
      // The change-capture entities whose snapshot this run takes and whose stream has no start yet: one start
      // for all of them, stored before the first snapshot reads a row (see recordStreamStart).
      const unstarted = new Set(
        steps(entities)
          .filter((step) => step.kind === 'load' && step.entity.plan.strategy === 'cdc')
          .filter((step) => {
            const { own, from } = standing(step);
            return !own && !from?.done && !checkpoints.some((c) => c.entity === changesName(step.entity.plan.name));
          })
          .map((step) => step.entity),
      );
      for (const step of steps(entities)) {
        const { entity } = step;
        const { own, earlier, from } = standing(step);
        if (from?.done) {
          // Carried into this run, so the run after it still knows the step is done (without it, the third
          // run of a plan with a full and an incremental entity loaded the full one again).
          if (!own) await carryForward(target, runId, entity, from);
          continue;
        }
        if (options.signal?.aborted) {
          stopped = true;
          break;
        }
        const result = await runStep(
          { plan, source, target, lookups, runId, legacy, merging, previous, options, checkpoints, unstarted },
          step,
          {
            from,
            own,
            earlier,
          },
        );
        // The entities after it look their refs up in its crosswalk, the next increment its own rows.
        if (entity.recordsCrosswalk && (result.counts?.written ?? 0) >= STATISTICS_AFTER)
          await target.state.refreshStatistics?.();
        if (result.stopped) {
          stopped = true;
          break;
        }
      }
      // A followed entity's log position goes on into every later run, whatever else the run did.
      for (const c of before)
        if (c.entity.endsWith('#changes') && !checkpoints.some((own) => own.entity === c.entity)) {
          const entity = entities.find((e) => changesName(e.plan.name) === c.entity);
          if (entity) await carryForward(target, runId, entity, c);
        }
      await target.state.finishRun(runId, stopped ? 'interrupted' : 'done');
    } catch (error) {
      await target.state.finishRun(runId, 'failed').catch(() => undefined);
      // Best effort: the failure may be the target itself going away.
      await target.state.audit(trail('failed', failureDetails(error))).catch(() => undefined);
      throw error;
    }
    const result = await summary(stopped ? 'interrupted' : 'done', resumed, runId);
    await target.state.audit(
      trail(result.status, { entities: result.entities, resumed, previousRunId: result.previousRunId ?? null }),
    );
    return result;
  });
}

/** What every step of one run shares. */
interface RunContext {
  readonly plan: Plan;
  readonly source: Source;
  readonly target: Target;
  readonly lookups: TargetLookups;
  readonly runId: string;
  /** Entities loaded by an earlier crm-migrate that kept no crosswalk (see fresh-start.ts). */
  readonly legacy: ReadonlySet<string>;
  readonly merging: ReturnType<typeof mergePlanner>;
  /** The finished run this one continues, for increments. */
  readonly previous: RunRecord | undefined;
  readonly options: RunOptions;
  /** This run's checkpoints as it started (a resumed run's): where a chunked load's chunks stand. */
  readonly checkpoints: readonly Checkpoint[];
  /** Change-capture entities whose snapshot is still to come and whose stream start is not stored yet. */
  readonly unstarted: Set<BoundEntity>;
}

/**
 * Runs one step from where it stands (`from`: this run's checkpoint, `own`, or where the previous run left it,
 * `earlier`): the re-sync of records whose joined rows changed, the placeholders an entity's orphan refs
 * need, an entity's load, or its second pass filling refs that close a cycle.
 */
async function runStep(
  ctx: RunContext,
  step: Step,
  at: { from: Checkpoint | undefined; own: Checkpoint | undefined; earlier: Checkpoint | undefined },
): Promise<{ stopped: boolean; counts?: { written: number } }> {
  const { plan, source, target, lookups, runId, options } = ctx;
  const { entity, name } = step;
  const { from } = at;
  const createTable = async () => {
    if (entity.create && !(await target.describe(entity.plan.into))) await target.createTable(entity.create);
  };
  if (step.kind === 'linked') {
    await createTable();
    return resyncLinkedChanges({
      source,
      target,
      runId,
      planName: plan.name,
      entity,
      stepName: name,
      from,
      resolve: refResolver(plan, entity, target.state, source, { lookups }),
      foreignRows: target.capabilities.updates ? foreignRowsOf(ctx, entity) : undefined,
      signal: options.signal,
    });
  }
  if (step.kind === 'placeholders') {
    return makePlaceholders({
      source,
      target,
      runId,
      planName: plan.name,
      entity,
      referenced: step.referenced,
      spec: step.spec,
      order: readOrder(entity),
      from,
      signal: options.signal,
    });
  }
  const secondPass = step.kind === 'refs';
  if (!secondPass) await createTable();
  // Where the entity's change stream starts, stored before its snapshot reads a row (change-capture.ts).
  // Once: a snapshot resumed in chunks has no checkpoint of its own yet, and its stream start stands.
  if (!secondPass && ctx.unstarted.has(entity)) await recordStreamStart(ctx);
  const incremental = entity.plan.strategy === 'incremental';
  // An increment's survivors whose clusters it changes are written first (see stable-clusters.ts).
  const since = ctx.previous && incremental ? continuation(entity, at.earlier)?.lastKey : undefined;
  const group = secondPass ? undefined : await ctx.merging.forEntity(entity, since);
  if (from && group?.merges && group.merges.refresh.length > 0)
    await refreshSurvivors(target, runId, entity, group.merges.refresh, from);
  const resolve = refResolver(plan, entity, target.state, source, { fillDeferred: secondPass, lookups });
  const chunked = secondPass
    ? undefined
    : await loadInChunks({
        plan,
        source,
        target,
        runId,
        entity,
        checkpoints: ctx.checkpoints,
        merging: group?.merges !== undefined,
        resolve,
        signal: options.signal,
        onProgress: options.onProgress,
        onNote: options.onNote,
        queue: options.queue,
      });
  if (chunked) return chunked;
  return loadEntity({
    source,
    target,
    runId,
    entity,
    from,
    planName: plan.name,
    resolve,
    signal: options.signal,
    onProgress: secondPass ? undefined : options.onProgress,
    merges: group?.merges,
    // Stored with the step's first batch: a resumed step has stored them already.
    review: group?.owner && !at.own ? group.plan.review : undefined,
    secondPass,
    closesEarlierQuarantine: ctx.previous !== undefined && incremental,
    foreignRows: incremental && target.capabilities.updates ? foreignRowsOf(ctx, entity) : undefined,
  });
}

/**
 * Stores the log position the change streams of the run's unstarted entities start from, before the first of
 * their snapshots: every change a snapshot could miss comes after it, and the ones it already saw are applied
 * again, to the same effect. One position for all of them: a child's snapshot is taken after its parent's, and
 * a change in between (a note moved to a contact made after the contacts were read) must be replayed after
 * the parent's, not skipped as seen, or the child keeps the ref it resolved before its parent arrived.
 */
async function recordStreamStart(ctx: RunContext): Promise<void> {
  // A run stopped while it stored them goes on from the earliest one it stored: a start before a snapshot
  // only replays more.
  const stored = ctx.checkpoints
    .filter((c) => c.entity.endsWith('#changes'))
    .map((c) => String(c.lastKey?.[0] ?? ''))
    .filter((p) => p !== '')
    .sort()[0];
  const position = stored ?? (await snapshotStart(ctx));
  for (const entity of ctx.unstarted)
    await carryForward(ctx.target, ctx.runId, entity, {
      entity: changesName(entity.plan.name),
      lastKey: [position],
      counts: zeroCounts(),
      done: false,
    });
  ctx.unstarted.clear();
}

/** The source's log position now, for a snapshot about to be read (the run checked its requirements already). */
async function snapshotStart(ctx: RunContext): Promise<string> {
  const feed = changeFeedOf(ctx.source);
  try {
    return await feed.snapshotStart(streamOf(ctx.plan, followedEntities(ctx.plan)));
  } finally {
    await feed.close();
  }
}

/** The check that an increment writes over no row the entity did not write; none for a legacy entity. */
function foreignRowsOf(ctx: RunContext, entity: BoundEntity) {
  return ctx.legacy.has(entity.plan.name)
    ? undefined
    : foreignRowFinder(ctx.plan.name, entity, ctx.target.state, ctx.lookups);
}

/** A run's summary, from its checkpoints: the counts, quarantine reasons, quality, dedupe and lag of each entity. */
async function runSummary(
  ctx: {
    readonly plan: Plan;
    readonly source: Source;
    readonly target: Target;
    readonly entities: readonly BoundEntity[];
    readonly merging: ReturnType<typeof mergePlanner>;
    readonly previous: RunRecord | undefined;
    readonly options: RunOptions;
    readonly started: number;
  },
  status: RunSummary['status'],
  resumed: boolean,
  runId: string,
): Promise<RunSummary> {
  const { plan, source, target, entities, previous, options } = ctx;
  const checkpoints = await target.state.checkpoints(runId);
  const of = (name: string) => checkpoints.find((c) => c.entity === name);
  const counts = Object.fromEntries(
    plan.entities.map((e) => [
      e.name,
      { ...zeroCounts(), ...(of(e.name)?.counts ?? chunkCounts(checkpoints, e.name)) },
    ]),
  );
  const stored = plan.entities.map((e) => [e.name, readStoredQuality(of(e.name)?.quality)] as const);
  const quality = Object.fromEntries(stored.map(([name, s]) => [name, s.quality]));
  const filtered = Object.fromEntries(
    stored.filter(([, s]) => Object.keys(s.filtered).length > 0).map(([name, s]) => [name, s.filtered]),
  );
  const previousRunId = previous && previous.runId !== runId ? previous.runId : undefined;
  const lag = options.lag ? await lagOf(source, entities, checkpoints) : undefined;
  const placeholders: Record<string, number> = {};
  const resynced: Record<string, Counts> = {};
  for (const step of steps(entities)) {
    if (step.kind === 'placeholders')
      placeholders[step.referenced.plan.name] =
        (placeholders[step.referenced.plan.name] ?? 0) + (of(step.name)?.counts.written ?? 0);
    const linked = step.kind === 'linked' ? of(step.name) : undefined;
    if (linked && linked.counts.read > 0) resynced[step.entity.plan.name] = { ...zeroCounts(), ...linked.counts };
  }
  return {
    runId,
    plan: plan.name,
    status,
    resumed,
    previousRunId,
    source: source.display,
    target: target.display,
    entities: counts,
    reasons: await reasonCounts(target, runId),
    quality,
    lag,
    dedupe: ctx.merging.summaries(),
    ...(Object.keys(placeholders).length > 0 ? { placeholders } : {}),
    ...(Object.keys(resynced).length > 0 ? { resynced } : {}),
    ...(Object.keys(filtered).length > 0 ? { filtered } : {}),
    durationMs: Date.now() - ctx.started,
  };
}

/**
 * The entities as this run loads them, and the ones an earlier crm-migrate loaded without a crosswalk
 * (`legacy`: warned about, and kept without one); with `fresh`, the target tables emptied first, unless they
 * hold rows the plan did not write.
 */
async function ownRows(
  plan: Plan,
  checked: readonly BoundEntity[],
  target: Target,
  options: RunOptions,
): Promise<{ entities: BoundEntity[]; legacy: ReadonlySet<string> }> {
  const legacy = await entitiesWithoutCrosswalk(plan.name, checked, target);
  // Such an entity keeps no crosswalk in this run either: a partial one would make its other rows look like others'.
  const entities = checked.map((e) => (legacy.has(e.plan.name) ? { ...e, recordsCrosswalk: false } : e));
  if (legacy.size > 0) {
    options.onWarnings?.(
      entities
        .filter((e) => legacy.has(e.plan.name))
        .map((e) => ({
          severity: 'warning' as const,
          path: e.plan.path,
          message: `${e.plan.name} was loaded by an earlier crm-migrate that kept no crosswalk for it: its increments upsert without checking which rows of ${e.plan.into} are its own`,
          hint: 'load it once more into a fresh copy of the target (or run --fresh where the table holds only its rows) to have them checked',
        })),
    );
  }
  if (options.fresh) {
    await refuseFreshOverOthersRows(plan.name, entities, target, legacy);
    await target.reset(plan.name, [...new Set(entities.map((e) => e.plan.into))]);
  }
  return { entities, legacy };
}

/**
 * The plan's latest run, to resume or to follow. One left `running` belongs to a process that is gone (we hold
 * the plan's lock: it was killed, or lost its connection): recorded as failed, in the trail too, then resumed.
 */
async function latestRun(
  plan: Plan,
  source: Source,
  target: Target,
  options: RunOptions,
): Promise<RunRecord | undefined> {
  const run = await target.state.latestRun(plan.name);
  if (run?.status === 'superseded') return undefined;
  if (run?.status !== 'running') return run;
  await target.state.finishRun(run.runId, 'failed');
  await target.state.audit(
    auditEntry(plan, {
      command: options.command ?? 'run',
      outcome: 'failed',
      runId: run.runId,
      source: source.display,
      target: target.display,
      details: {
        code: 'E_ABANDONED',
        message: 'the run ended without finishing: its process was killed or lost its connection',
      },
    }),
  );
  return { ...run, status: 'failed' };
}
