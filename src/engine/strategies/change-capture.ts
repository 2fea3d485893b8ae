import type {
  BatchState,
  Checkpoint,
  Counts,
  QuarantinedRow,
  Removal,
  RowChange,
  Source,
  Target,
} from '../../connectors/contract.js';
import { CrmMigrateError } from '../../errors.js';
import { referencedEntities } from '../../mapping/identity.js';
import { rowFilter } from '../../mapping/where.js';
import { sourceKeyText, valueToJson, type Row, type Value } from '../../values.js';
import { chunkMapperFor, type MappedChunk } from '../map/chunk-mapper.js';
import { QualityTally, readStoredQuality, storedQuality } from '../map/quality.js';
import { piiColumns, rowForDisplay } from '../quarantine/pii.js';
import { crosswalkEntries, type RefResolver } from '../relations/refs.js';
import type { BoundEntity } from '../schema-check.js';
import { notOurs, type Ownership } from '../write/foreign-rows.js';
import { refusalReason, writeAllBut } from '../write/refused-rows.js';
import { zeroCounts } from '../write/load-entity.js';

/** The checkpoint that holds a followed entity's log position and change counts, beside its snapshot's. */
export const changesName = (entity: string): string => `${entity}#changes`;

/** Changes applied, by kind, over a follow session (kept in the checkpoint with the cleaning counts). */
export interface ChangeKinds {
  insert: number;
  update: number;
  delete: number;
}

/** A followed entity's state between batches: its position and what its changes have come to so far. */
export interface FollowedEntity {
  readonly entity: BoundEntity;
  /** Every change up to here is applied (committed with the batch that ended there). */
  position: string;
  counts: Counts;
  kinds: ChangeKinds;
  readonly tally: QualityTally;
  readonly map: (rows: Row[]) => MappedChunk;
  readonly resolve: RefResolver | undefined;
  /** Which mapped rows hold keys the entity wrote (their crosswalk lines exist) or someone else's (foreign-rows.ts). */
  readonly ownership: ((values: readonly (Row | null | undefined)[]) => Promise<Ownership>) | undefined;
}

export function followedEntity(
  entity: BoundEntity,
  from: Checkpoint,
  resolve: RefResolver | undefined,
  ownership: FollowedEntity['ownership'],
): FollowedEntity {
  const stored = readStoredQuality(from.quality);
  const kinds = (from.quality as { changes?: ChangeKinds } | undefined)?.changes;
  return {
    entity,
    position: String(from.lastKey?.[0] ?? ''),
    counts: { ...zeroCounts(), ...from.counts },
    kinds: { insert: 0, update: 0, delete: 0, ...kinds },
    tally: new QualityTally(
      entity.plan.fields.map((f) => f.target),
      stored.quality,
    ),
    map: chunkMapperFor(entity),
    resolve,
    ownership,
  };
}

/** The entity's changes checkpoint at its current position. */
export function changesCheckpoint(followed: FollowedEntity): Checkpoint {
  return {
    entity: changesName(followed.entity.plan.name),
    lastKey: [followed.position],
    counts: { ...followed.counts },
    done: false,
    quality: { ...(storedQuality(followed.tally.snapshot(), {}) as object), changes: { ...followed.kinds } },
  };
}

/**
 * One batch of an entity's changes, read and mapped but not yet applied: what `commitChanges` writes. Nothing
 * of the entity's state moves until then, so a batch can be prepared while the one before it commits.
 */
export interface PreparedChanges {
  readonly followed: FollowedEntity;
  readonly end: string;
  readonly kinds: ChangeKinds;
  /** Source rows upserted, read and filtered: counted when the batch commits. */
  readonly read: number;
  readonly filtered: number;
  /** Rows to map (with refs: mapped at commit, once the parents' rows of the batch are in). */
  readonly kept: Row[];
  readonly mapped: MappedChunk | undefined;
  /** Source keys whose target record goes: deleted, or filtered out by `where:` now. */
  readonly gone: readonly string[];
  /** The batch's changes of the entity and the rows read again, as prepared: to prepare it again with more. */
  readonly changes: readonly RowChange[];
  readonly reread: readonly Row[];
  /** Source keys whose last change in the batch is an update: one with no crosswalk line is a record back. */
  readonly updated: ReadonlySet<string>;
}

/**
 * Reads one batch of an entity's changes: the last change of each key wins (a row changed three times in a
 * batch is written once), an update of the key deletes the old record, and a row the entity's `where:` now
 * filters out (marked deleted) goes as a deleted one does. Changes at or before the entity's position were
 * applied before a restart and are skipped. An entity without refs is mapped here already: its mapping needs
 * nothing another batch writes.
 */
export async function prepareChanges(
  source: Source,
  followed: FollowedEntity,
  changes: readonly RowChange[],
  end: string,
  /** Rows read again as they are now (readColumns order), unless the batch changes them: see `referringRows`. */
  reread: readonly Row[] = [],
): Promise<PreparedChanges> {
  const { entity } = followed;
  const { plan } = entity;
  const kinds: ChangeKinds = { insert: 0, update: 0, delete: 0 };
  const last = new Map<string, RowChange>();
  for (const change of changes) {
    if (change.position <= followed.position) continue;
    kinds[change.kind] += 1;
    if (change.oldKey) last.set(recordKey(entity, change.oldKey), { ...change, kind: 'delete', row: change.oldKey });
    last.set(recordKey(entity, change.row), change);
  }
  const upserts = [...last.values()].filter((c) => c.kind !== 'delete');
  const rows = await completeRows(source, entity, upserts);
  for (const row of reread) if (!last.has(rowKey(entity, row))) rows.push(row);
  const filter = rowFilter(plan.where, entity.sourceColumns);
  const gone: string[] = [...last.entries()].filter(([, c]) => c.kind === 'delete').map(([k]) => k);
  const kept: Row[] = [];
  for (const row of rows) {
    if (filter?.(row) === undefined) kept.push(row);
    else gone.push(rowKey(entity, row));
  }
  return {
    followed,
    end,
    changes,
    reread,
    updated: new Set([...last].flatMap(([key, c]) => (c.kind === 'update' ? [key] : []))),
    kinds,
    read: rows.length,
    filtered: rows.length - kept.length,
    kept,
    mapped: followed.resolve ? undefined : followed.map(kept),
    gone,
  };
}

/**
 * A record whose refs resolve differently from a change on: removed for good (`deletes: hard`), or back after it
 * was away (a deleted flag cleared, a quarantined row now written). Where, and its source key.
 */
export interface RefTargetChange {
  readonly position: string;
  readonly key: string;
}

/**
 * The records a batch's changes of one entity remove with `deletes: hard` (a delete, the old key of a key change,
 * a row its `where:` filters out now), at or before its position too: after a crash between the parent's commit
 * and the child's, the child's rows still need reading again, though the parent skips what it applied. A row
 * whose filter columns the log left out counts as removed: reading its children again is harmless, missing them
 * is not.
 */
export function removalsIn(followed: FollowedEntity, changes: readonly RowChange[]): RefTargetChange[] {
  const { entity } = followed;
  const { plan } = entity;
  if (plan.deletes !== 'hard') return [];
  const filter = rowFilter(plan.where, entity.sourceColumns);
  const removals: RefTargetChange[] = [];
  for (const change of changes) {
    if (change.oldKey) removals.push({ position: change.position, key: recordKey(entity, change.oldKey) });
    const filtered = filter?.(entity.readColumns.map((c) => change.row[c] ?? null)) !== undefined;
    if (change.kind === 'delete' || filtered)
      removals.push({ position: change.position, key: recordKey(entity, change.row) });
  }
  return removals;
}

/** The source key of a change's row, by column name. */
const recordKey = (entity: BoundEntity, row: Readonly<Record<string, Value>>): string =>
  sourceKeyText(entity.plan.key.map((k) => valueToJson(row[k] ?? null)));

/** The source key of a read row (the key columns come first). */
const rowKey = (entity: BoundEntity, row: Row): string =>
  sourceKeyText(entity.plan.key.map((_k, i) => valueToJson(row[i] ?? null)));

/**
 * The rows of `child` whose refs point at records removed for good or brought back by changes it has not applied
 * yet (`changed`, by entity), read from the source as they are now. Written again after those changes, their refs
 * resolve as a snapshot taken today would resolve them (a removed record's by the orphan policy), and as verify
 * expects. One lookup per ref field (an index on the ref column keeps it cheap); a ref held in a joined column is
 * not its table's to look up.
 */
export async function referringRows(
  source: Source,
  child: FollowedEntity,
  changed: ReadonlyMap<string, readonly RefTargetChange[]>,
): Promise<Row[]> {
  const { plan, readColumns } = child.entity;
  const rows = new Map<string, Row>();
  for (const { ref } of plan.fields) {
    if (!ref || !readColumns.includes(ref.column)) continue;
    const keys = new Set<string>();
    for (const name of referencedEntities(ref))
      for (const r of changed.get(name) ?? []) if (r.position > child.position) keys.add(r.key);
    if (keys.size === 0) continue;
    for (const found of await source.lookup(plan.from, ref.column, [...keys], readColumns)) {
      const row = found.slice(1);
      rows.set(rowKey(child.entity, row), row);
    }
  }
  return [...rows.values()];
}

/**
 * Applies a prepared batch in one target transaction with the entity's new position, so a crash leaves all
 * of it or none: upserted rows go through the mapping, cleaning, refs and quarantine as loaded rows do, and
 * the gone ones follow the entity's `deletes:` policy. Batches of an entity commit in order. Resolves to the
 * source keys of records back: updated, and new to the crosswalk (see `commitBatch` in follow.ts).
 */
export async function commitChanges(options: {
  target: Target;
  runId: string;
  planName: string;
  prepared: PreparedChanges;
}): Promise<string[]> {
  const { target, planName, prepared } = options;
  const { followed, gone } = prepared;
  const { entity } = followed;
  const { plan } = entity;
  if (followed.resolve) await followed.resolve(prepared.kept);
  const mapped = prepared.mapped ?? followed.map(prepared.kept);
  const ownership = await followed.ownership?.(mapped.values);
  const foreign = ownership?.foreign;
  const pii = piiColumns(entity);
  const quarantine: QuarantinedRow[] = [];
  const quarantine1 = (row: Row, reasons: QuarantinedRow['reasons']) =>
    quarantine.push({
      entity: plan.name,
      sourceKey: rowKey(entity, row),
      row: rowForDisplay(entity, row, pii),
      reasons,
    });
  const values: Row[] = [];
  const sources: Row[] = [];
  /** Rows whose key is new to the entity: only they need a crosswalk line (an update's exists). */
  const fresh = new Set<number>();
  mapped.values.forEach((v, i) => {
    const row = mapped.rows[i];
    if (v && !foreign?.has(i)) {
      if (!ownership?.owned.has(i)) fresh.add(values.length);
      values.push(plan.tombstone ? [...v, null] : v);
      sources.push(row);
    } else quarantine1(row, foreign?.has(i) ? [notOurs(entity.targetKey[0] ?? '')] : (mapped.reasons[i] ?? []));
  });
  const writer = await target.beginBatch({
    runId: options.runId,
    table: plan.into,
    columns: entity.writeColumns,
    upsertKey: entity.targetKey,
  });
  try {
    if (plan.deletes !== 'ignore' && gone.length > 0)
      followed.counts.deleted += await writer.remove(
        await ownTargetKeys(target, planName, entity, gone),
        removal(entity),
      );
    const refused = await writeAllBut(writer, values);
    for (const [i, rejection] of refused) quarantine1(sources[i], [refusalReason(rejection)]);
    const written = values.flatMap((v, i) =>
      refused.has(i) ? [] : [{ sourceKey: rowKey(entity, sources[i]), values: v, i }],
    );
    const { counts } = followed;
    counts.read += prepared.read;
    counts.filtered += prepared.filtered;
    counts.written += written.length;
    for (const kind of ['insert', 'update', 'delete'] as const) followed.kinds[kind] += prepared.kinds[kind];
    followed.tally.merge(mapped.quality);
    const newLines = written.filter((w) => fresh.has(w.i));
    counts.quarantined += quarantine.length;
    followed.position = prepared.end;
    const touched = [...written.map((w) => w.sourceKey), ...gone, ...quarantine.map((q) => q.sourceKey)];
    const state: BatchState = {
      crosswalk: crosswalkEntries(planName, entity, newLines),
      // A record removed for good leaves the crosswalk: a ref to it is an orphan now (the children that held
      // one are re-read in this batch, see follow.ts), as it would be in a snapshot taken today.
      retired:
        plan.deletes === 'hard' && gone.length > 0
          ? { plan: planName, entity: plan.name, sourceKeys: gone }
          : undefined,
      closedQuarantine: touched.length > 0 ? { plan: planName, entity: plan.name, sourceKeys: touched } : undefined,
    };
    await writer.commit(quarantine, changesCheckpoint(followed), state);
    // Updated, and new to the crosswalk: a record back (restored from the legacy CRM's recycle bin).
    return newLines.map((w) => w.sourceKey).filter((key) => prepared.updated.has(key));
  } catch (error) {
    await writer.abort().catch(() => undefined);
    throw error;
  }
}

/** How the entity's deletes take rows away: a tombstone for soft deletes, else the row. */
function removal(entity: BoundEntity): Removal {
  const { plan } = entity;
  return {
    key: entity.targetKey,
    tombstone:
      plan.deletes === 'soft' && plan.tombstone ? { column: plan.tombstone, at: new Date().toISOString() } : undefined,
  };
}

/** The target keys of the records the entity wrote for these source keys (the crosswalk knows them). */
async function ownTargetKeys(
  target: Target,
  planName: string,
  entity: BoundEntity,
  sourceKeys: readonly string[],
): Promise<Row[]> {
  const found = await target.state.crosswalk(planName, entity.plan.name, sourceKeys);
  return [...found.values()].map((newKey) => (entity.targetKey.length === 1 ? [newKey] : (JSON.parse(newKey) as Row)));
}

/**
 * The upserted rows as the entity reads them (its read columns in order). A value the log left out — an
 * unchanged TOASTed column of a table without REPLICA IDENTITY FULL — is read from the source by key: the
 * row as it is now, which the changes after this one bring up to date anyway.
 */
async function completeRows(source: Source, entity: BoundEntity, changes: readonly RowChange[]): Promise<Row[]> {
  const columns = entity.readColumns;
  const rows = changes.map((c) => columns.map<Value | undefined>((name) => (name in c.row ? c.row[name] : undefined)));
  const partial = rows.flatMap((row, i) => (row.includes(undefined) ? [i] : []));
  if (partial.length > 0) {
    const [key, ...more] = entity.plan.key;
    if (key === undefined || more.length > 0)
      throw new CrmMigrateError(
        'E_SOURCE',
        `a change of ${entity.plan.from} left out unchanged values, and its key has several columns to read them by`,
        { hint: `ALTER TABLE ${entity.plan.from} REPLICA IDENTITY FULL` },
      );
    const others = columns.filter((c) => c !== key);
    const current = new Map(
      (
        await source.lookup(
          entity.plan.from,
          key,
          partial.map((i) => rows[i]?.[0] ?? null),
          others,
        )
      ).map((r) => [String(r[0]), r]),
    );
    for (const i of partial) {
      const row = rows[i];
      const now = current.get(String(row[0]));
      row.forEach((v, j) => {
        if (v === undefined) row[j] = now ? (now[others.indexOf(columns[j]) + 1] ?? null) : null;
      });
    }
  }
  return rows as Row[];
}
