import type { ChangeBatch, Source, Target } from '../connectors/contract.js';
import { CrmMigrateError } from '../errors.js';
import type { Plan } from '../plan/load.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTransient } from './sync.js';
import { carryForward, lockPlan, newRunId, runPlan, withConnections, type RunSummary } from './run.js';
import { changeFeedOf, requireChangeCapture, retainedWarning, streamOf } from './strategies/change-stream.js';
import { checkAgainstSchemas, type BoundEntity } from './schema-check.js';
import { refResolver } from './relations/refs.js';
import { referencedEntities } from '../mapping/identity.js';
import { rowOwnership } from './write/foreign-rows.js';
import {
  commitChanges,
  prepareChanges,
  type PreparedChanges,
  changesCheckpoint,
  changesName,
  referringRows,
  removalsIn,
  type RefTargetChange,
  followedEntity,
  type ChangeKinds,
  type FollowedEntity,
} from './strategies/change-capture.js';
import { LatencyHistogram } from './strategies/latency.js';

/** How often positions of entities a batch did not touch are stored, so the source may be told to move on. */
const STAMP_EVERY_MS = 1000;

/** What `sync --follow` reports as it goes, and at the end. */
export interface FollowProgress {
  /** Changes applied in this session, by kind. */
  readonly applied: ChangeKinds;
  /** Changes read but not yet committed, and how old the newest applied change was at its commit (seconds). */
  readonly behindSeconds: number;
  /** Source commit to target commit, over the session. */
  readonly latency: { readonly p50Ms: number; readonly p99Ms: number; readonly count: number };
  readonly position: string;
}

export interface FollowOptions {
  readonly signal: AbortSignal;
  readonly batchSize?: number | undefined;
  readonly maxWaitMs?: number | undefined;
  readonly wait?: boolean | undefined;
  /** After each batch committed. */
  onBatch?(progress: FollowProgress): void;
  /** Something to tell the user that does not stop the stream (a slot keeping much WAL). */
  onWarning?(message: string): void;
}

/**
 * Streams the plan's change-capture entities from the source's log until the signal fires: each batch of
 * changes is applied per entity (in load order, parents first) in one target transaction with the entity's
 * new position; once every entity's stored position has passed a transaction's end, the source is told it
 * may forget the log up to there. A restart goes on from the earliest stored position and skips, per entity,
 * the changes at or before its own: nothing is lost and nothing applied twice. Expects the snapshot done
 * (runPlan first).
 */
export async function followChanges(plan: Plan, options: FollowOptions): Promise<FollowProgress> {
  return withConnections(plan, false, async (source, target, lookups) => {
    const { entities: bound } = await checkAgainstSchemas(plan, source, target);
    const feed = changeFeedOf(source);
    // The plan's entities come in load order: parents first, so a child's ref finds its parent's crosswalk line.
    const entities = bound.filter((e) => e.plan.strategy === 'cdc');
    const stream = streamOf(
      plan,
      entities.map((e) => e.plan),
    );
    await requireChangeCapture(feed, stream);
    const warning = retainedWarning(await feed.status(stream));
    if (warning) options.onWarning?.(warning);
    await lockPlan(plan, target, options.wait === true);
    // The newest run, whatever its end: a follow session that failed stored its positions as it went.
    const previous = await target.state.latestRun(plan.name);
    if (!previous)
      throw new CrmMigrateError('E_USAGE', `plan ${plan.name} has not loaded its snapshot yet`, {
        hint: 'crm-migrate sync PLAN --follow runs it first',
      });
    const before = await target.state.checkpoints(previous.runId);
    const runId = newRunId();
    await target.state.startRun({
      runId,
      plan: plan.name,
      planHash: plan.hash,
      status: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
    });
    // The new run carries every earlier checkpoint, so the run after it knows what is loaded and where each stream stands.
    for (const checkpoint of before) {
      const entity = bound.find((e) => checkpoint.entity.split('#')[0] === e.plan.name);
      if (entity) await carryForward(target, runId, entity, checkpoint);
    }
    const followed = entities.map((entity) => {
      const from = before.find((c) => c.entity === changesName(entity.plan.name));
      if (!from)
        throw new CrmMigrateError(
          'E_STATE',
          `entity ${entity.plan.name} has no log position: its snapshot was loaded without change capture`,
          { hint: 'run with --fresh to load it again' },
        );
      return followedEntity(
        entity,
        { ...from, counts: { ...from.counts } },
        refResolver(plan, entity, target.state, source, { lookups }),
        rowOwnership(plan.name, entity, target.state, lookups),
      );
    });
    const byTable = new Map<string, FollowedEntity[]>();
    for (const f of followed) byTable.set(f.entity.plan.from, [...(byTable.get(f.entity.plan.from) ?? []), f]);
    const session: FollowSession = {
      source,
      target,
      runId,
      planName: plan.name,
      followed,
      byTable,
      referenced: new Set(
        followed.flatMap((f) =>
          f.entity.plan.fields.flatMap((field) => (field.ref ? referencedEntities(field.ref) : [])),
        ),
      ),
    };
    const latency = new LatencyHistogram();
    const applied: ChangeKinds = { insert: 0, update: 0, delete: 0 };
    const stored = new Map(followed.map((f) => [f, f.position]));
    let stampedAt = Date.now();
    let behindSeconds = 0;
    let position = followed.reduce((min, f) => (f.position < min ? f.position : min), followed[0]?.position ?? '');
    const progress = (): FollowProgress => ({
      applied: { ...applied },
      behindSeconds,
      latency: latency.summary(),
      position,
    });
    /** After a batch committed: counts, latency, untouched entities' positions, and the source told. */
    const settle = async (batch: ChangeBatch, touched: ReadonlySet<FollowedEntity>): Promise<void> => {
      for (const f of touched) stored.set(f, f.position);
      const now = Date.now();
      for (const change of batch.changes) {
        applied[change.kind] += 1;
        latency.add(now - change.committedAt);
      }
      const newest = batch.changes[batch.changes.length - 1];
      behindSeconds = newest ? Math.max(0, (now - newest.committedAt) / 1000) : 0;
      position = batch.end;
      for (const f of followed) if (!touched.has(f) && f.position < batch.end) f.position = batch.end;
      if (batch.closesTransaction) {
        const behind = followed.filter((f) => (stored.get(f) ?? '') < batch.end);
        if (behind.length > 0 && now - stampedAt >= STAMP_EVERY_MS) {
          await stampPositions(target, runId, behind);
          for (const f of behind) stored.set(f, f.position);
          stampedAt = now;
        }
        if (followed.every((f) => (stored.get(f) ?? '') >= batch.end)) await feed.acknowledge(batch.end);
      }
      options.onBatch?.(progress());
    };
    // Two stages: a batch is read and mapped (CPU) while the one before it is written and committed (the
    // target's time), and batches commit strictly in order.
    let inflight: Promise<void> = Promise.resolve();
    try {
      for await (const batch of feed.follow(stream, position, {
        batchSize: Math.min(...entities.map((e) => e.plan.batchSize), options.batchSize ?? 5000),
        maxWaitMs: options.maxWaitMs ?? 100,
        signal: options.signal,
      })) {
        if (batch.schemaChange) {
          await inflight;
          refuseSchemaChange(entities, batch);
        }
        const prepared = await prepareBatch(session, batch);
        await inflight;
        inflight = (async () => settle(batch, await commitBatch(session, batch, prepared)))();
        inflight.catch(() => undefined);
      }
      await inflight;
      // Stopped: every entity's position is stored, so the next session starts where this one ended.
      await stampPositions(
        target,
        runId,
        followed.filter((f) => (stored.get(f) ?? '') < f.position),
      );
      await target.state.finishRun(runId, 'done');
    } catch (error) {
      await target.state.finishRun(runId, 'failed').catch(() => undefined);
      throw error;
    } finally {
      await feed.close();
    }
    return progress();
  });
}

/** What every batch of a follow session shares. */
interface FollowSession {
  readonly source: Source;
  readonly target: Target;
  readonly runId: string;
  readonly planName: string;
  /** In the plan's load order: parents first, so a child's ref finds its parent's crosswalk line. */
  readonly followed: readonly FollowedEntity[];
  readonly byTable: ReadonlyMap<string, readonly FollowedEntity[]>;
  /** The entities a followed entity's ref points at: only their removals and returns re-read children. */
  readonly referenced: ReadonlySet<string>;
}

/** Reads a batch's changes for each entity they reach, in the plan's load order (parents first). */
async function prepareBatch(session: FollowSession, batch: ChangeBatch): Promise<PreparedChanges[]> {
  const { source, followed, byTable, referenced } = session;
  const changes = new Map<FollowedEntity, ChangeBatch['changes'][number][]>();
  for (const change of batch.changes)
    for (const f of byTable.get(change.table) ?? []) {
      const list = changes.get(f) ?? [];
      list.push(change);
      changes.set(f, list);
    }
  // Records removed for good, by entity a followed child refers to: the children pointing at them are written
  // again after them.
  const removed = new Map<string, RefTargetChange[]>();
  for (const [f, own] of changes)
    if (referenced.has(f.entity.plan.name)) removed.set(f.entity.plan.name, removalsIn(f, own));
  const rereading = [...removed.values()].some((r) => r.length > 0);
  const prepared: PreparedChanges[] = [];
  for (const f of followed) {
    const reread = rereading ? await referringRows(source, f, removed) : [];
    if (!changes.has(f) && reread.length === 0) continue;
    prepared.push(await prepareChanges(source, f, changes.get(f) ?? [], batch.end, reread));
  }
  return prepared;
}

/**
 * Commits a prepared batch entity by entity, each in its own transaction; resolves to the entities changed. A
 * record that comes back (restored from the legacy CRM's recycle bin: updated, with no crosswalk line, as the
 * commit's own check of which rows are the entity's finds) has its followed children read again and written
 * after it, in this batch: they held the orphan policy's value while it was away.
 */
async function commitBatch(
  session: FollowSession,
  batch: ChangeBatch,
  prepared: readonly PreparedChanges[],
): Promise<Set<FollowedEntity>> {
  const { source, target, runId, planName, followed, referenced } = session;
  const back = new Map<string, RefTargetChange[]>();
  const committed = new Set<FollowedEntity>();
  for (const f of followed) {
    let p = prepared.find((q) => q.followed === f);
    const reread = back.size > 0 ? await referringRows(source, f, back) : [];
    if (reread.length > 0)
      p = await prepareChanges(source, f, p?.changes ?? [], batch.end, [...(p?.reread ?? []), ...reread]);
    if (!p) continue;
    const returned = await commitChanges({ target, runId, planName, prepared: p });
    committed.add(f);
    if (returned.length > 0 && referenced.has(f.entity.plan.name))
      back.set(
        f.entity.plan.name,
        returned.map((key) => ({ position: batch.end, key })),
      );
  }
  return committed;
}

/** Stores the positions of entities no change reached lately: a commit of no rows with each one's checkpoint. */
async function stampPositions(target: Target, runId: string, entities: readonly FollowedEntity[]): Promise<void> {
  for (const f of entities) await carryForward(target, runId, f.entity, changesCheckpoint(f));
}

/**
 * A followed table's columns changed: tolerated when every column the mapping reads is still there (a new
 * column the plan does not map); otherwise the stream stops before a wrong row is written.
 */
function refuseSchemaChange(entities: readonly BoundEntity[], batch: ChangeBatch): void {
  const change = batch.schemaChange;
  if (!change) return;
  for (const entity of entities.filter((e) => e.plan.from === change.table)) {
    const missing = entity.readColumns.filter((c) => !change.columns.includes(c));
    const retyped = entity.readColumns.filter((c) => change.retyped.includes(c));
    const what = [
      ...(missing.length > 0 ? [`${missing.join(', ')} gone or renamed`] : []),
      ...(retyped.length > 0 ? [`${retyped.join(', ')} of another type`] : []),
    ];
    if (what.length > 0)
      throw new CrmMigrateError(
        'E_STATE',
        `the columns of ${change.table} changed in the source (${what.join('; ')}), which entity ${entity.plan.name} maps: the stream stopped before applying a change of the new shape`,
        { hint: 'change the plan to the new columns, then run with --fresh to load the table again' },
      );
  }
}

/**
 * `sync --follow`: the snapshot (or whatever the plan's run still has to do), then the change stream until
 * the signal fires. A dropped connection or a source restarted for maintenance is retried from the stored
 * positions; a lost slot, a gap in the log or a schema change the mapping cannot take (E_STATE) is thrown.
 */
export async function followPlan(
  plan: Plan,
  options: FollowOptions & {
    readonly maxFailures?: number | undefined;
    readonly retryMs?: number | undefined;
    onRun?(summary: RunSummary): void;
    onRetry?(error: CrmMigrateError, failures: number, maxFailures: number): void;
  },
): Promise<FollowProgress | undefined> {
  const max = options.maxFailures ?? 5;
  let failures = 0;
  let ran = false;
  while (!options.signal.aborted) {
    try {
      if (!ran) {
        const summary = await runPlan(plan, { signal: options.signal, wait: options.wait, command: 'sync' });
        options.onRun?.(summary);
        if (summary.status === 'interrupted') return undefined;
        ran = true;
      }
      return await followChanges(plan, options);
    } catch (error) {
      if (!isTransient(error) || ++failures >= max) throw error;
      options.onRetry?.(error, failures, max);
      await sleep(options.retryMs ?? 2000, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
  return undefined;
}
