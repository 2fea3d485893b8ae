import type { Target } from '../../connectors/contract.js';
import { CrmMigrateError } from '../../errors.js';
import { sourceKeyText, valueToJson } from '../../values.js';
import type { BoundEntity } from '../schema-check.js';

const KEYS_PER_CHUNK = 5_000;

/**
 * `run --fresh` empties the plan's tables. A table that also holds rows the plan never wrote (the new CRM's
 * own: Odoo's company and users' partners) would lose them with it — or, with a foreign key in the way, fail
 * with the database's words. Where the plan can tell (every entity writing the table keeps a crosswalk), the
 * target's keys are read and each chunk is asked of the crosswalks: one row that is none of theirs refuses the
 * fresh start before anything is emptied. A table filled only by entities without a crosswalk was the plan's
 * to make, and is emptied as before.
 */
export async function refuseFreshOverOthersRows(
  plan: string,
  entities: readonly BoundEntity[],
  target: Target,
  legacy: ReadonlySet<string>,
): Promise<void> {
  const byTable = new Map<string, BoundEntity[]>();
  for (const e of entities) byTable.set(e.plan.into, [...(byTable.get(e.plan.into) ?? []), e]);
  for (const [table, writers] of byTable) {
    const key = writers[0]?.targetKey ?? [];
    const sameKey = writers.every((w) => w.targetKey.join('\u0000') === key.join('\u0000'));
    // A writer loaded by a version that kept no crosswalk for it cannot tell its rows from others': emptied as before.
    if (
      key.length === 0 ||
      !sameKey ||
      !writers.every((w) => w.recordsCrosswalk && !legacy.has(w.plan.name)) ||
      !(await target.describe(table))
    )
      continue;
    let others = 0;
    for await (const rows of target.read({ table, columns: key, key, batchSize: KEYS_PER_CHUNK })) {
      const keys = rows.map((r) => sourceKeyText(r.map((v) => valueToJson(v ?? null))));
      const owned = new Set<string>();
      for (const w of writers) for (const k of await target.state.writtenKeys(plan, w.plan.name, keys)) owned.add(k);
      others += keys.filter((k) => !owned.has(k)).length;
    }
    if (others > 0) {
      throw new CrmMigrateError(
        'E_TARGET',
        `${table} holds ${others} row${others === 1 ? '' : 's'} this plan did not write (the new CRM's own, or another plan's): --fresh empties whole tables, and would delete ${others === 1 ? 'it' : 'them'} too`,
        {
          hint: `to start over, restore the target from a backup taken before the first run (its state tables with it), or load into a fresh copy of the new CRM`,
        },
      );
    }
  }
}

/**
 * The entities that were loaded before (the plan's last finished run has their checkpoint) and yet have no
 * crosswalk line: loaded by a version that kept none for them. Their increments upsert as that version did,
 * without asking which rows are theirs, and `--fresh` empties their tables as it did; the run warns of it.
 */
export async function entitiesWithoutCrosswalk(
  plan: string,
  entities: readonly BoundEntity[],
  target: Target,
): Promise<Set<string>> {
  const legacy = new Set<string>();
  const done = await target.state.latestRun(plan, 'done');
  if (!done) return legacy;
  const loaded = new Set((await target.state.checkpoints(done.runId)).map((c) => c.entity));
  for (const e of entities) {
    if (e.recordsCrosswalk && loaded.has(e.plan.name) && !(await target.state.hasCrosswalk(plan, e.plan.name)))
      legacy.add(e.plan.name);
  }
  return legacy;
}
