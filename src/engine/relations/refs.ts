import type { CrosswalkEntry, Source, StateStore } from '../../connectors/contract.js';
import { ambiguousColumn, joinColumn, newUuid, orphanColumn, refColumn } from '../../mapping/identity.js';
import type { PickOrder } from '../../mapping/compile.js';
import { rowFilter } from '../../mapping/where.js';
import { compareValues } from '../../key-order.js';
import type { Plan } from '../../plan/load.js';
import { sourceKeyText, valueToJson, type Row, type Value } from '../../values.js';
import type { BoundEntity } from '../schema-check.js';
import type { TargetLookups } from './target-lookups.js';

/** Fills in a chunk's joined and ref columns, in place: rows grow from `readColumns` to `sourceColumns`. */
export type RefResolver = (rows: Row[]) => Promise<void>;

const keyOf = (value: Value): string => sourceKeyText([valueToJson(value)]);

/**
 * Fills in an entity's joined columns and resolves its references a chunk at a time: the referenced source keys of the chunk are looked up in
 * the crosswalk in one query per ref field, and each row gets the referenced record's key in the target —
 * or is marked an orphan (a record never migrated, or quarantined), which the field's `orphans:` policy
 * handles. `dryRun` (the plan preview, before anything was loaded) looks nothing up: a reference resolves to
 * the key the referenced record will get. Undefined when the entity has no joins and no refs.
 */
export function refResolver(
  plan: Plan,
  entity: BoundEntity,
  state: StateStore,
  source: Source,
  options: { dryRun?: boolean; fillDeferred?: boolean; lookups?: TargetLookups | undefined } = {},
): RefResolver | undefined {
  // An entity that joins nothing and refers to nothing reads its rows as they come.
  if (entity.plan.joins.length === 0 && !entity.plan.fields.some((f) => f.ref || f.lookup)) return undefined;
  const lookups = entity.plan.fields
    .filter((f) => f.lookup)
    .map((f) => ({
      plan: f.lookup as NonNullable<typeof f.lookup>,
      column: entity.sourceColumns.indexOf((f.lookup as NonNullable<typeof f.lookup>).column),
      value: entity.sourceColumns.indexOf(refColumn(f.target)),
      orphan: entity.sourceColumns.indexOf(orphanColumn(f.target)),
    }));
  if (lookups.length > 0 && !options.lookups)
    throw new Error(`entity ${entity.plan.name} has lookup fields, and nothing to look them up with`);
  const width = entity.sourceColumns.length;
  const joins = entity.plan.joins.map((j) => {
    // The columns looked up: those the fields read, and those the join's where and pick read.
    const fetched = [
      ...new Set([
        ...j.columns,
        ...j.where.flatMap((c) => c.columns),
        ...(j.pick ?? j.collect ?? []).map((p) => p.column),
      ]),
    ];
    const lookedUp = ['\u0000key', ...fetched];
    return {
      ...j,
      fetched,
      onAt: entity.sourceColumns.indexOf(j.on),
      at: j.columns.map((c) => entity.sourceColumns.indexOf(joinColumn(`${j.alias}.${c}`))),
      valueAt: j.columns.map((c) => lookedUp.indexOf(c)),
      ambiguousAt: entity.sourceColumns.indexOf(ambiguousColumn(j.alias)),
      passes: rowFilter(j.where, lookedUp),
      pick: j.pick && pickFirst(j.pick, lookedUp),
      collect: j.collect && inOrder(j.collect, lookedUp),
    };
  });
  const refs = entity.plan.fields
    .filter((f) => f.ref)
    .map((f) => {
      const ref = f.ref as NonNullable<typeof f.ref>;
      const usesNewId = (name: string) =>
        plan.entities.find((e) => e.name === name)?.fields.some((x) => x.newId) === true;
      const byAt = ref.by ? entity.sourceColumns.indexOf(ref.by.column) : -1;
      return {
        // The entity a row refers to: the ref's own, or the one its type names (undefined: a type not migrated).
        entityOf: ref.by ? (row: Row): string | undefined => ref.by?.to.get(String(row[byAt] ?? '')) : () => ref.entity,
        usesNewId,
        column: entity.sourceColumns.indexOf(ref.column),
        value: entity.sourceColumns.indexOf(refColumn(f.target)),
        orphan: entity.sourceColumns.indexOf(orphanColumn(f.target)),
        // A ref closing a cycle is NULL in the load (its target is not loaded yet), resolved by the second pass.
        deferred: !options.fillDeferred && (entity.deferredRefs ?? []).includes(f.target),
        applies: rowFilter(ref.when, entity.sourceColumns),
      };
    });
  return async (rows) => {
    for (const row of rows) row.length = width;
    // Joins first (a left join: a row with no match gets NULLs), one lookup per joined table and chunk. Of
    // several matches the plan's pick rule takes one; without a rule the row is marked ambiguous, never given
    // an arbitrary one of them.
    for (const join of joins) {
      // Chained on a join that collects, `on` holds a list: each of its items is looked up.
      const ons = (row: Row): readonly Value[] => {
        const on = row[join.onAt] ?? null;
        return Array.isArray(on) ? (on as Value[]) : on === null ? [] : [on];
      };
      const keys = [...new Set(rows.flatMap(ons).filter((v) => v !== null))];
      const matches = new Map<string, Row[]>();
      for (const r of keys.length === 0 ? [] : await source.lookup(join.from, join.key, keys, join.fetched)) {
        if (join.passes?.(r) !== undefined) continue;
        const key = String(r[0]);
        const list = matches.get(key);
        if (list) list.push(r);
        else matches.set(key, [r]);
      }
      const one = (on: Value): { match: Row | undefined; several: number } => {
        const found = on === null ? [] : (matches.get(String(on)) ?? []);
        const several = found.length > 1 && !join.pick ? found.length : 0;
        return { match: found.length > 1 && join.pick ? join.pick(found) : several ? undefined : found[0], several };
      };
      for (const row of rows) {
        if (join.collect) {
          // Every match, in the plan's order: each joined column a list (the cell holds an array, not a Value).
          const all = join.collect(matches.get(String(row[join.onAt] ?? '')) ?? []);
          join.at.forEach((i, k) => (row[i] = all.map((m) => m[join.valueAt[k]] ?? null) as unknown as Value));
          continue;
        }
        const on = row[join.onAt] ?? null;
        if (Array.isArray(on)) {
          const each = (on as Value[]).map(one);
          join.at.forEach((i, k) => (row[i] = each.map((e) => e.match?.[join.valueAt[k]] ?? null) as unknown as Value));
          if (join.ambiguousAt >= 0) row[join.ambiguousAt] = Math.max(0, ...each.map((e) => e.several)) || null;
          continue;
        }
        const { match, several } = one(on);
        join.at.forEach((i, k) => (row[i] = match?.[join.valueAt[k]] ?? null));
        if (join.ambiguousAt >= 0) row[join.ambiguousAt] = several || null;
      }
    }
    // Lookups in the new CRM: one match is the value, none an orphan, several never one of them.
    for (const lookup of lookups) {
      const found = await (options.lookups as TargetLookups).find(
        lookup.plan,
        rows.map((r) => r[lookup.column] ?? null),
      );
      for (const row of rows) {
        const source = row[lookup.column] ?? null;
        const matches = source === null ? [] : (found.get(String(source)) ?? []);
        row[lookup.value] = matches.length === 1 ? (matches[0] ?? null) : null;
        row[lookup.orphan] =
          source === null ? false : matches.length === 0 ? true : matches.length > 1 ? 'ambiguous' : false;
      }
    }
    for (const ref of refs) {
      if (ref.deferred) {
        for (const row of rows) {
          row[ref.value] = null;
          row[ref.orphan] = false;
        }
        continue;
      }
      // A polymorphic parent of another type: NULL, and nothing to look up.
      const applies = ref.applies;
      const sources = rows.map((r): Value => (applies && applies(r) !== undefined ? null : (r[ref.column] ?? null)));
      const targets = rows.map((r, i) => (sources[i] === null ? undefined : ref.entityOf(r)));
      const found = new Map<string, Map<string, string>>();
      for (const name of new Set(targets)) {
        if (name === undefined) continue;
        const keys = [...new Set(sources.filter((v, i) => v !== null && targets[i] === name).map((v) => keyOf(v)))];
        found.set(
          name,
          options.dryRun
            ? new Map(keys.map((k) => [k, ref.usesNewId(name) ? newUuid(name, k) : k]))
            : keys.length === 0
              ? new Map()
              : await state.crosswalk(plan.name, name, keys),
        );
      }
      for (const [i, row] of rows.entries()) {
        const source = sources[i] ?? null;
        const name = targets[i];
        const target = source === null || name === undefined ? undefined : found.get(name)?.get(keyOf(source));
        row[ref.value] = target ?? null;
        row[ref.orphan] = source === null ? false : name === undefined ? 'unknown_type' : target === undefined;
      }
    }
  };
}

/** The first of several joined rows in the pick rule's order; NULLs sort last whichever the direction. */
function pickFirst(order: readonly PickOrder[], columns: readonly string[]): (rows: Row[]) => Row | undefined {
  const sorted = inOrder(order, columns);
  return (rows) => sorted(rows)[0];
}

/** Joined rows in the plan's order (`collect:`, `pick:`); NULLs sort last whichever the direction. */
function inOrder(order: readonly PickOrder[], columns: readonly string[]): (rows: readonly Row[]) => Row[] {
  const at = order.map((o) => ({ i: columns.indexOf(o.column), sign: o.descending ? -1 : 1 }));
  const byRule = (a: Row, b: Row): number => {
    for (const { i, sign } of at) {
      const x = a[i] ?? null;
      const y = b[i] ?? null;
      if (x === null || y === null) {
        if (x !== y) return x === null ? 1 : -1;
        continue;
      }
      const c = compareValues(x, y);
      if (c !== 0) return sign * c;
    }
    return 0;
  };
  return (rows) => [...rows].sort(byRule);
}

/**
 * An entity's source rows in key order, a chunk at a time, joins and refs filled in: what its mapper takes.
 * Rows its `where:` filters out are left out (never matched, never expected in the target), and `keep` drops
 * more, before they are resolved (nothing is looked up for a row that is not wanted).
 */
export async function* resolvedChunks(
  source: Source,
  entity: BoundEntity,
  options: { key: readonly string[]; resolve: RefResolver | undefined; keep?: ((row: Row) => boolean) | undefined },
): AsyncIterable<Row[]> {
  const filter = rowFilter(entity.plan.where, entity.sourceColumns);
  const keep = options.keep;
  const wanted =
    filter || keep ? (row: Row) => (!filter || filter(row) === undefined) && (!keep || keep(row)) : undefined;
  for await (const read of source.read({
    table: entity.plan.from,
    columns: entity.readColumns,
    key: options.key,
    batchSize: 500,
  })) {
    const rows = wanted ? read.filter(wanted) : read;
    if (rows.length === 0) continue;
    if (options.resolve) await options.resolve(rows);
    yield rows;
  }
}

/** The crosswalk lines of written rows: each source key with the key its record has in the target. */
export function crosswalkEntries(
  plan: string,
  entity: BoundEntity,
  written: readonly { sourceKey: string; values: Row }[],
): CrosswalkEntry[] {
  const keyAt = entity.targetKey.map((k) => entity.writeColumns.indexOf(k));
  return written.map(({ sourceKey, values }) => ({
    plan,
    entity: entity.plan.name,
    sourceKey,
    newKey: sourceKeyText(keyAt.map((i) => valueToJson(values[i] ?? null))),
  }));
}
