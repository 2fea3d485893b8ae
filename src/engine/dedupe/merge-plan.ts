import type { Checkpoint, PairDecision, ReviewPair, Source, StateStore, Target } from '../../connectors/contract.js';
import { comparison } from '../../dedupe/compare.js';
import { isPlaceholderNumber } from '../../cleaning/phone.js';
import { compareKeys } from '../../key-order.js';
import { findMatches, type Explanation, type MatchResult } from '../../dedupe/match.js';
import { PRIOR_FLOOR } from '../../dedupe/model.js';
import type { DedupePlan } from '../../dedupe/plan.js';
import { survive, type ClusterMember } from '../../dedupe/survivorship.js';
import { sourceKeyText, valueToJson, type Row, type Value } from '../../values.js';
import { mapInOrder } from '../map/chunk-mapper.js';
import { chooseMapper, readOrder } from '../write/load-entity.js';
import { stableClusters, type StoredClusters } from './stable-clusters.js';
import { refResolver, resolvedChunks, type RefResolver } from '../relations/refs.js';
import type { TargetLookups } from '../relations/target-lookups.js';
import type { Plan } from '../../plan/load.js';
import type { BoundEntity } from '../schema-check.js';

/** What becomes of one merged record: it is not written; its key points at the survivor's record. */
export interface MergeInfo {
  readonly survivorEntity: string;
  readonly survivorKey: string;
  /** The survivor's key in the target (as the crosswalk spells keys), for re-pointing references. */
  readonly survivorTargetKey: string;
  readonly probability: number;
  readonly why: string;
}

/** One entity's share of a merge plan, by source key. */
export interface EntityMerges {
  readonly losers: ReadonlyMap<string, MergeInfo>;
  /** The surviving records' merged values, in the entity's write-column order. */
  readonly survivors: ReadonlyMap<string, Row>;
  /**
   * An increment's survivors written before it reads its changes: records the increment does not read whose
   * cluster took a new record or a changed one, so their merged values are survivorship's again.
   */
  readonly refresh: readonly Row[];
}

/** What matching found, for the run summary and the report: counts and the model, never values. */
export interface DedupeSummary {
  readonly entities: readonly string[];
  readonly records: number;
  readonly compared: number;
  readonly clusters: number;
  readonly merged: number;
  readonly review: number;
  /** Blocks left unpaired because they exceeded max_block. */
  readonly skippedBlocks: number;
  readonly lambda: number;
  readonly iterations: number;
  readonly seconds: number;
  /** Signs the matching did not work as meant, for the summary (never values). */
  readonly warnings: readonly string[];
}

export interface MergePlan {
  readonly byEntity: ReadonlyMap<string, EntityMerges>;
  readonly review: readonly ReviewPair[];
  readonly summary: DedupeSummary;
}

interface Member {
  readonly entity: BoundEntity;
  readonly group: number;
  readonly sourceKey: string;
  /** Where the record stands in its entity's read order (an incremental entity's cursor and key). */
  readonly position: Row;
}

/** Why a pair matched, as text for the merge map and the review file: levels and weights, no values. */
export function describe(explanation: Explanation | undefined): string {
  if (!explanation) return 'joined through its cluster';
  const parts = explanation.fields.map(
    (f) => `${f.field} ${f.level} ${f.weight >= 0 ? '+' : ''}${f.weight.toFixed(1)}`,
  );
  return `${parts.join('; ')}; prior ${explanation.prior.toFixed(1)}`;
}

/**
 * Streams each entity through its mapping and hands every row that maps (quarantined rows take no part in
 * matching) to `take`, in key order — the same rows, in the same order, as the load will write.
 */
async function eachMapped(
  source: Source,
  entity: BoundEntity,
  resolve: RefResolver | undefined,
  take: (sourceKey: string, values: Row, read: Row) => void,
  only?: { has(key: string): boolean },
): Promise<void> {
  const mapper = chooseMapper(entity);
  const keyAt = entity.plan.key.map((k) => entity.sourceColumns.indexOf(k));
  const keyOf = (row: Row) => sourceKeyText(keyAt.map((k) => valueToJson(row[k] ?? null)));
  // The second pass maps only the rows it keeps.
  const chunks = resolvedChunks(source, entity, {
    key: readOrder(entity),
    resolve,
    keep: only && ((row) => only.has(keyOf(row))),
  });
  try {
    for await (const chunk of mapInOrder(mapper, chunks)) {
      chunk.rows.forEach((row, i) => {
        const values = chunk.values[i];
        if (values) take(keyOf(row), values, row);
      });
    }
  } finally {
    await mapper.close();
  }
}

/**
 * Plans the merges of a dedupe group (the entity with `dedupe:` and the entities it links with): reads and
 * maps every record once keeping only the compared fields, finds the clusters, then reads again keeping
 * the full records of cluster members only, and builds each cluster's surviving record. Memory holds the
 * compared fields of every record and the full values of duplicates, never the whole table.
 */
export async function planMerges(options: {
  planName: string;
  group: readonly BoundEntity[];
  dedupe: DedupePlan;
  source: Source;
  resolverFor: (entity: BoundEntity) => RefResolver | undefined;
  decisions: readonly PairDecision[];
  /**
   * For an incremental entity: its state, so clusters of earlier runs hold (see stable-clusters.ts), and
   * where the increment starts reading (absent: not an increment, nothing to refresh).
   */
  stable?: { state: StateStore; since: readonly unknown[] | null | undefined } | undefined;
}): Promise<MergePlan> {
  const started = performance.now();
  const { dedupe, group } = options;
  const fields = dedupe.on.map((f) => f.field);
  const members: Member[] = [];
  const columns = new Map<string, Value[]>(fields.map((f) => [f, []]));
  for (const [g, entity] of group.entries()) {
    // A target field from the mapped values; a `source.column` from the row as read (NULL where a linked
    // entity's table has no such column).
    const at = dedupe.on.map((f) =>
      f.column === undefined
        ? { mapped: true, i: entity.writeColumns.indexOf(f.field), raw: rawPhoneAt(entity, f) }
        : { mapped: false, i: entity.sourceColumns.indexOf(f.column), raw: -1 },
    );
    const orderAt = readOrder(entity).map((c) => entity.sourceColumns.indexOf(c));
    await eachMapped(options.source, entity, options.resolverFor(entity), (sourceKey, values, read) => {
      members.push({ entity, group: g, sourceKey, position: options.stable ? orderAt.map((i) => read[i]) : [] });
      fields.forEach((f, k) => {
        const { mapped, i, raw } = at[k];
        let value = i < 0 ? null : ((mapped ? values[i] : read[i]) ?? null);
        if (value === null && raw >= 0) value = phoneAsHeld(read[raw] ?? null);
        (columns.get(f) as Value[]).push(value);
      });
    });
  }
  const indexOf = new Map(members.map((m, i) => [`${m.entity.plan.name}\0${m.sourceKey}`, i]));
  const decisions = options.decisions.flatMap((d) => {
    const a = indexOf.get(`${d.entityA}\0${d.keyA}`);
    const b = indexOf.get(`${d.entityB}\0${d.keyB}`);
    return a === undefined || b === undefined ? [] : [{ a, b, same: d.same }];
  });
  const result = findMatches(
    { count: members.length, columns, group: Uint8Array.from(members, (m) => m.group) },
    {
      comparisons: dedupe.on.map((f) => comparison(f.field, f.kind)),
      blocking: dedupe.blocking,
      threshold: dedupe.threshold,
      review: dedupe.review,
      termFrequency: dedupe.termFrequency,
      maxBlock: dedupe.maxBlock,
      maxCluster: dedupe.maxCluster,
      linkOnly: dedupe.linkOnly,
    },
    decisions,
  );
  const stable = options.stable
    ? stableClusters(
        result.clusters,
        await storedClusters(options.stable.state, options.planName, members, indexOf, result.clusters),
        result,
      )
    : undefined;
  const clusters = stable?.clusters ?? result.clusters;
  const byEntity = await buildMerges(options, members, result, {
    clusters,
    anchors: stable?.anchors,
    changed: changedSince(members, group[0], options.stable?.since, stable?.joined),
  });
  const pairOf = (a: number, b: number) => {
    const x = members[a];
    const y = members[b];
    return { entityA: x.entity.plan.name, keyA: x.sourceKey, entityB: y.entity.plan.name, keyB: y.sourceKey };
  };
  // One line per pair: the stable clusters' doubts may name a pair the matching already set aside.
  const pairs = new Map([...result.review, ...(stable?.review ?? [])].map((p) => [`${p[0]},${p[1]}`, p]));
  const review = [...pairs.values()].map(([a, b, probability]) => ({
    ...pairOf(a, b),
    probability,
    why: describe(result.explain(a, b)),
  }));
  const merged = clusters.reduce((n, c) => n + c.length - 1, 0);
  return {
    byEntity,
    review,
    summary: {
      entities: group.map((e) => e.plan.name),
      records: members.length,
      compared: result.compared,
      clusters: clusters.length,
      merged,
      review: review.length,
      skippedBlocks: result.skipped.reduce((n, s) => n + s.blocks, 0),
      lambda: result.model.lambda,
      iterations: result.model.iterations,
      seconds: (performance.now() - started) / 1000,
      warnings: warningsOf(result, members.length),
    },
  };
}

/**
 * Whether a record is one the increment adds or changes: the owner entity's, read after `since` in its read
 * order, or one that joined a cluster in this run. Nothing is, outside an increment.
 */
function changedSince(
  members: readonly Member[],
  owner: BoundEntity | undefined,
  since: readonly unknown[] | null | undefined,
  joined: ReadonlySet<number> | undefined,
): (r: number) => boolean {
  if (since === undefined || since === null) return () => false;
  return (r) => {
    const m = members[r];
    return (
      m.entity === owner &&
      (joined?.has(r) === true || compareKeys(m.position.map(valueToJson) as Value[], since as Value[]) > 0)
    );
  };
}

/**
 * The source column of a phone field compared in `on:`, or -1: a phone the cleaning rule nulled (a number
 * written without its country, under a default country that is not its own) is still the number the customer
 * gave, so it is compared as the old CRM held it.
 */
function rawPhoneAt(entity: BoundEntity, on: DedupePlan['on'][number]): number {
  if (on.kind !== 'phone') return -1;
  const field = entity.plan.fields.find((f) => f.target === on.field);
  return field && field.from.length === 1 && field.steps.length > 0 ? entity.sourceColumns.indexOf(field.from[0]) : -1;
}

/** A phone as the old CRM held it, for comparing: its digits, unless there are none or they are a placeholder. */
function phoneAsHeld(value: Value): Value {
  const digits = value === null ? '' : String(value).replace(/\D/g, '');
  return digits.length >= 7 && !isPlaceholderNumber(digits) ? digits : null;
}

function warningsOf(result: MatchResult, records: number): string[] {
  const warnings: string[] = [];
  if (result.compared > 0 && result.model.lambda <= PRIOR_FLOOR * 10) {
    warnings.push(
      `the model found next to no matches among ${result.compared} candidate pairs, so nothing was merged: blocking rules that pair mostly different people (common names) starve the training; block on an email, phone or id field as well`,
    );
  }
  const skipped = result.skipped.reduce((n, s) => n + s.blocks, 0);
  if (records > 1 && result.compared === 0)
    warnings.push(
      `no pair of records was compared: ${skipped > 0 ? `the only blocks were over max_block (${skipped} skipped); add a field to the blocking rules` : 'no two records agreed on any blocking rule'}`,
    );
  return warnings;
}

/** Second pass: the cluster members' full records, then survivorship per cluster. */
async function buildMerges(
  options: Parameters<typeof planMerges>[0],
  members: readonly Member[],
  result: MatchResult,
  found: {
    clusters: readonly (readonly number[])[];
    /** Per cluster, the record that must stay its survivor (an incremental entity's). */
    anchors: readonly (number | undefined)[] | undefined;
    /** Whether a record is one an increment changed or added, so its cluster's survivor is written again. */
    changed: (r: number) => boolean;
  },
): Promise<Map<string, EntityMerges>> {
  // Per entity, the source keys of its cluster members, and which record each is.
  const wanted = new Map<BoundEntity, Map<string, number>>(options.group.map((e) => [e, new Map()]));
  for (const r of found.clusters.flat()) wanted.get(members[r].entity)?.set(members[r].sourceKey, r);
  const full = new Map<number, ReadonlyMap<string, Value>>();
  for (const [entity, keys] of wanted) {
    if (keys.size === 0) continue;
    await eachMapped(
      options.source,
      entity,
      options.resolverFor(entity),
      (sourceKey, values) => {
        const r = keys.get(sourceKey);
        if (r !== undefined) full.set(r, new Map(entity.plan.fields.map((f, i) => [f.target, values[i] ?? null])));
      },
      keys,
    );
  }
  // The columns a merged record always takes from its survivor: its key in the target and its new ids.
  const newIds = options.group.flatMap((e) => e.plan.fields.filter((f) => f.newId).map((f) => f.target));
  const keepOf = new Map(options.group.map((e) => [e, [...new Set([...e.targetKey, ...newIds])]]));
  const byEntity = new Map<string, { losers: Map<string, MergeInfo>; survivors: Map<string, Row>; refresh: Row[] }>(
    options.group.map((e) => [e.plan.name, { losers: new Map(), survivors: new Map(), refresh: [] }]),
  );
  for (const [c, cluster] of found.clusters.entries()) {
    const records: ClusterMember[] = cluster.map((r) => ({
      entity: members[r].entity.plan.name,
      sourceKey: members[r].sourceKey,
      values: full.get(r) ?? new Map(),
    }));
    const anchor = found.anchors?.[c];
    const { survivor, values } = survive(
      records,
      options.dedupe,
      keepOf.get(members[cluster[0]].entity) ?? [],
      anchor === undefined ? undefined : cluster.indexOf(anchor),
    );
    const s = members[cluster[survivor]];
    const row = s.entity.plan.fields.map((f) => values.get(f.target) ?? null);
    const own = byEntity.get(s.entity.plan.name) as { survivors: Map<string, Row>; refresh: Row[] };
    own.survivors.set(s.sourceKey, row);
    // A survivor the increment does not read is written beforehand when its cluster changed.
    if (anchor !== undefined && !found.changed(anchor) && cluster.some(found.changed)) own.refresh.push(row);
    const targetKey = sourceKeyText(s.entity.targetKey.map((k) => valueToJson(values.get(k) ?? null)));
    for (const r of cluster) {
      if (r === cluster[survivor]) continue;
      const m = members[r];
      const weight = result.weightOf(r, cluster[survivor]);
      const strongest =
        weight ?? Math.max(...cluster.filter((o) => o !== r).map((o) => result.weightOf(r, o) ?? -Infinity));
      (byEntity.get(m.entity.plan.name) as { losers: Map<string, MergeInfo> }).losers.set(m.sourceKey, {
        survivorEntity: s.entity.plan.name,
        survivorKey: s.sourceKey,
        survivorTargetKey: targetKey,
        probability: 1 / (1 + 2 ** -strongest),
        why: describe(weight === undefined ? undefined : result.explain(r, cluster[survivor])),
      });
    }
  }
  return byEntity;
}

/** An entity's part in its dedupe group: the group's merge plan, and whether the entity owns the `dedupe:` block. */
export interface GroupMerges {
  readonly plan: MergePlan;
  readonly owner: boolean;
  readonly merges: EntityMerges | undefined;
}

/**
 * Merge plans on demand, one per dedupe group, made when the group's first entity asks (the load and verify
 * ask per entity, in load order). Undefined for an entity in no group.
 */
export function mergePlanner(
  plan: Plan,
  entities: readonly BoundEntity[],
  source: Source,
  state: StateStore,
  lookups?: TargetLookups,
) {
  const plans = new Map<string, MergePlan>();
  /** `since`: where an increment of the entity starts reading (its survivors outside that are refreshed). */
  const forEntity = async (
    entity: BoundEntity,
    since?: readonly unknown[] | null,
  ): Promise<GroupMerges | undefined> => {
    const owner = entities.find(
      (e) => e.plan.dedupe && (e === entity || e.plan.dedupe.with.includes(entity.plan.name)),
    );
    const dedupe = owner?.plan.dedupe;
    if (!owner || !dedupe) return undefined;
    let merges = plans.get(owner.plan.name);
    if (!merges) {
      const group = [owner, ...dedupe.with.map((name) => entities.find((e) => e.plan.name === name) as BoundEntity)];
      merges = await planMerges({
        planName: plan.name,
        group,
        dedupe,
        source,
        resolverFor: (e) => refResolver(plan, e, state, source, { lookups }),
        decisions: await state.decisions(plan.name),
        stable: owner.plan.strategy === 'incremental' ? { state, since } : undefined,
      });
      plans.set(owner.plan.name, merges);
    }
    return { plan: merges, owner: owner === entity, merges: merges.byEntity.get(entity.plan.name) };
  };
  return {
    forEntity,
    summaries: () =>
      plans.size === 0 ? undefined : Object.fromEntries([...plans].map(([name, m]) => [name, m.summary])),
  };
}

/** Keys looked up in the crosswalk per query. */
const CROSSWALK_CHUNK = 5000;

/** Which records earlier runs merged (into which survivor) and which they wrote as their own, by record index. */
async function storedClusters(
  state: StateStore,
  planName: string,
  members: readonly Member[],
  indexOf: ReadonlyMap<string, number>,
  fresh: readonly (readonly number[])[],
): Promise<StoredClusters> {
  const survivorOf = new Map<number, number>();
  for await (const m of state.merges(planName)) {
    const loser = indexOf.get(`${m.entity}\0${m.sourceKey}`);
    const survivor = indexOf.get(`${m.survivorEntity}\0${m.survivorKey}`);
    if (loser !== undefined && survivor !== undefined) survivorOf.set(loser, survivor);
  }
  // Only the records a fresh cluster holds can be anchors: a record in none stays as it is anyway.
  const byEntity = new Map<string, number[]>();
  for (const r of fresh.flat()) {
    if (survivorOf.has(r)) continue;
    const name = members[r].entity.plan.name;
    const records = byEntity.get(name);
    if (records) records.push(r);
    else byEntity.set(name, [r]);
  }
  const written = new Set<number>();
  for (const [entity, records] of byEntity) {
    for (let i = 0; i < records.length; i += CROSSWALK_CHUNK) {
      const chunk = records.slice(i, i + CROSSWALK_CHUNK);
      const known = await state.crosswalk(
        planName,
        entity,
        chunk.map((r) => members[r].sourceKey),
      );
      for (const r of chunk) if (known.has(members[r].sourceKey)) written.add(r);
    }
  }
  return { survivorOf, written };
}

/**
 * Writes an increment's refreshed survivors (upserts: a row equal to the stored one is not written), in one
 * transaction that commits the step's checkpoint unchanged. Running it again writes the same values, so a crash
 * before the increment's first batch is repaired by the resume.
 */
export async function refreshSurvivors(
  target: Target,
  runId: string,
  entity: BoundEntity,
  rows: readonly Row[],
  checkpoint: Checkpoint,
): Promise<void> {
  const writer = await target.beginBatch({
    runId,
    table: entity.plan.into,
    columns: entity.writeColumns,
    upsertKey: entity.targetKey,
  });
  try {
    for (const row of rows) writer.add(row);
    await writer.commit([], checkpoint);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
