import { isBlank, type Value } from '../values.js';
import type { DedupePlan } from './plan.js';
import { SURVIVOR_RULES } from '../plan/schema.js';

/**
 * A survivorship rule of the user's own, for a field the built-in rules do not fit (say, "the phone that is a
 * mobile"): given the cluster's records (the survivor first, then best-ranked first) and the field, it returns
 * the merged value. Defined from TypeScript before the plan is loaded; plans name it in `dedupe.fields`.
 */
export type SurvivorRule = (records: readonly ClusterMember[], field: string) => Value;

const customRules = new Map<string, SurvivorRule>();

export function defineSurvivorRule(name: string, rule: SurvivorRule): void {
  if (customRules.has(name) || (SURVIVOR_RULES as readonly string[]).includes(name))
    throw new Error(`a survivorship rule named "${name}" is already defined`);
  customRules.set(name, rule);
}

/** Every rule a plan may name: the built-in ones, then those defined with defineSurvivorRule. */
export const survivorRuleNames = (): string[] => [...SURVIVOR_RULES, ...customRules.keys()];

/** One record of a cluster, by target column name. */
export interface ClusterMember {
  readonly entity: string;
  readonly sourceKey: string;
  readonly values: ReadonlyMap<string, Value>;
}

export interface Survived {
  /** Index in the members of the record whose key the merged record keeps. */
  readonly survivor: number;
  readonly values: Map<string, Value>;
}

function compareValues(a: Value, b: Value): number {
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const x = a instanceof Date ? a.toISOString() : String(a);
  const y = b instanceof Date ? b.toISOString() : String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Builds the surviving record of a cluster. The survivor (whose key is kept) is the first by the plan's
 * `survivor:` order; each field then takes its value by its rule. A blank value never wins over a filled
 * one, and `keep` columns (the keys) always come from the survivor: the merged record is the survivor's
 * record, enriched.
 */
export function survive(
  members: readonly ClusterMember[],
  plan: DedupePlan,
  keep: readonly string[],
  /** The member that must stay the survivor (an incremental entity's written record), ranked first. */
  anchor?: number,
): Survived {
  const filled = members.map((m) => [...m.values.values()].filter((v) => !isBlank(v)).length);
  const recency = (i: number): Value =>
    plan.recency === undefined ? null : (members[i].values.get(plan.recency) ?? null);
  const priority = (i: number): number => {
    const at = plan.priority.indexOf(members[i].entity);
    return at < 0 ? plan.priority.length : at;
  };
  /** Newest first; a record with no recency value after every record with one. */
  const byRecency = (i: number, j: number) => {
    const a = recency(i);
    const b = recency(j);
    if (isBlank(a) || isBlank(b)) return Number(isBlank(a)) - Number(isBlank(b));
    return compareValues(b, a);
  };
  const byCompleteness = (i: number, j: number) => filled[j] - filled[i];
  const byPriority = (i: number, j: number) => priority(i) - priority(j);
  const orders = {
    most_complete: [byCompleteness, byRecency, byPriority],
    most_recent: [byRecency, byCompleteness, byPriority],
    source_priority: [byPriority, byCompleteness, byRecency],
  };
  const sortBy = (comparators: ((i: number, j: number) => number)[]) =>
    members
      .map((_m, i) => i)
      .sort((i, j) => {
        for (const c of comparators) {
          const d = c(i, j);
          if (d !== 0) return d;
        }
        return i - j;
      });
  const byRule = sortBy(orders[plan.survivor]);
  const ranked = anchor === undefined ? byRule : [anchor, ...byRule.filter((i) => i !== anchor)];
  const survivor = ranked[0];
  const valueOf = (i: number, column: string): Value => members[i].values.get(column) ?? null;
  const firstFilled = (order: readonly number[], column: string): Value => {
    for (const i of order) if (!isBlank(valueOf(i, column))) return valueOf(i, column);
    return valueOf(survivor, column);
  };
  const extreme = (column: string, sign: 1 | -1): Value => {
    let best: Value = null;
    for (let i = 0; i < members.length; i++) {
      const v = valueOf(i, column);
      if (!isBlank(v) && (best === null || sign * compareValues(v, best) > 0)) best = v;
    }
    return best ?? valueOf(survivor, column);
  };
  const values = new Map<string, Value>();
  for (const column of members[survivor].values.keys()) {
    if (keep.includes(column)) {
      values.set(column, valueOf(survivor, column));
      continue;
    }
    const custom = customRules.get(plan.fields[column] ?? '');
    if (custom) {
      values.set(
        column,
        custom(
          ranked.map((i) => members[i]),
          column,
        ),
      );
      continue;
    }
    switch (plan.fields[column] ?? 'survivor') {
      case 'first_non_null':
        values.set(
          column,
          firstFilled(
            members.map((_m, i) => i),
            column,
          ),
        );
        break;
      case 'most_recent':
        values.set(column, firstFilled(sortBy([byRecency, byCompleteness]), column));
        break;
      case 'most_complete':
        values.set(column, firstFilled(sortBy([byCompleteness, byRecency]), column));
        break;
      case 'source_priority':
        values.set(column, firstFilled(sortBy([byPriority, byCompleteness]), column));
        break;
      case 'longest':
        // Equal lengths go to the better-ranked record (the survivor first).
        values.set(
          column,
          firstFilled(
            [...ranked].sort(
              (i, j) => String(valueOf(j, column) ?? '').length - String(valueOf(i, column) ?? '').length,
            ),
            column,
          ),
        );
        break;
      case 'max':
        values.set(column, extreme(column, 1));
        break;
      case 'min':
        values.set(column, extreme(column, -1));
        break;
      default: // survivor
        values.set(column, firstFilled(ranked, column));
    }
  }
  return { survivor, values };
}
