import type { Reason, StateStore } from '../../connectors/contract.js';
import { sourceKeyText, valueToJson, type Row } from '../../values.js';
import type { BoundEntity } from '../schema-check.js';
import type { TargetLookups } from '../relations/target-lookups.js';

/** Why such a row is quarantined: never the value, only that the key is someone else's. */
export const notOurs = (field: string): Reason => ({
  field,
  rule: 'target',
  code: 'key_exists',
  detail: 'a target row this entity did not write has this key',
});

/**
 * An increment upserts: a row whose key is in the target already replaces that row. That is right for the
 * entity's own records, and wrong for a row it never wrote — the new CRM's own (a partner Odoo made during the
 * parallel run, with an id the legacy CRM also hands out), or another entity's in a shared table. This finds,
 * in a chunk of mapped rows, those whose key the target holds and the entity's crosswalk does not: they are
 * quarantined (`target:key_exists`), never written over.
 *
 * One crosswalk query per chunk; the target is looked up only for the keys the entity never wrote (new
 * records, mostly). Undefined for a target key of several columns (looked up by one column only).
 */
export function foreignRowFinder(
  planName: string,
  entity: BoundEntity,
  state: StateStore,
  lookups: TargetLookups,
): ((values: readonly (Row | null | undefined)[]) => Promise<Set<number>>) | undefined {
  const ownership = rowOwnership(planName, entity, state, lookups);
  return ownership && (async (values) => (await ownership(values)).foreign);
}

/** Which rows of a chunk hold keys the entity wrote before (`owned`), and which someone else's (`foreign`). */
export interface Ownership {
  readonly owned: ReadonlySet<number>;
  readonly foreign: Set<number>;
}

/** As foreignRowFinder, also telling the rows whose key the entity wrote before: their crosswalk lines exist. */
export function rowOwnership(
  planName: string,
  entity: BoundEntity,
  state: StateStore,
  lookups: TargetLookups,
): ((values: readonly (Row | null | undefined)[]) => Promise<Ownership>) | undefined {
  const [column, ...more] = entity.targetKey;
  if (column === undefined || more.length > 0) return undefined;
  const at = entity.writeColumns.indexOf(column);
  const lookup = { table: entity.plan.into, key: column, value: column, column: '' };
  return async (values) => {
    const keys = values.map((v) => (v ? sourceKeyText([valueToJson(v[at] ?? null)]) : undefined));
    const written = await state.writtenKeys(
      planName,
      entity.plan.name,
      keys.filter((k): k is string => k !== undefined),
    );
    const owned = new Set<number>();
    const unknown: number[] = [];
    keys.forEach((k, i) => {
      if (k === undefined) return;
      if (written.has(k)) owned.add(i);
      else unknown.push(i);
    });
    const foreign = new Set<number>();
    if (unknown.length === 0) return { owned, foreign };
    const found = await lookups.find(
      lookup,
      unknown.map((i) => (values[i] as Row)[at] ?? null),
    );
    for (const i of unknown) if ((found.get(String((values[i] as Row)[at])) ?? []).length > 0) foreign.add(i);
    return { owned, foreign };
  };
}
