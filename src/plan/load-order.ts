import { PlanError, type PlanIssue } from '../errors.js';
import type { EntityPlan, FieldPlan } from '../mapping/compile.js';
import { referencedEntities } from '../mapping/identity.js';
import type { Plan } from './load.js';
import { didYouMean } from '../suggest.js';
import { keyCopies } from './target-key.js';

/** A ref that a cycle makes load in a second pass: written NULL first, filled in once its target is loaded. */
export interface DeferredRef {
  readonly entity: string;
  /** The ref field's target column. */
  readonly field: string;
}

/**
 * The entities in an order that loads every referenced entity before the ones that refer to it (the plan's
 * own order where refs allow). References that go round in a cycle (a company's primary contact, a contact's
 * company) are loaded in two passes: a ref with `orphans: null` in the cycle is written NULL first and filled
 * in by a second pass once everything is loaded (`deferred`). A cycle with no such ref, or a ref to an
 * unknown entity, is a plan error.
 */
export function loadOrder(plan: Plan): { order: EntityPlan[]; deferred: DeferredRef[] } {
  const { order, deferred, issues } = ordered(plan.entities);
  if (issues.length > 0) throw new PlanError(issues.map((i) => ({ ...i, location: plan.locate(i.path) })));
  return { order, deferred };
}

/** What is wrong with the plan's references, found when it loads (before any connection). */
export function referenceIssues(entities: readonly EntityPlan[]): PlanIssue[] {
  return ordered(entities).issues;
}

/** A ref that may be written NULL and filled in later: its orphans are NULL anyway. */
const soft = (field: FieldPlan): boolean => field.ref !== undefined && field.invalid === 'null';

function ordered(entities: readonly EntityPlan[]): {
  order: EntityPlan[];
  deferred: DeferredRef[];
  issues: PlanIssue[];
} {
  const byName = new Map(entities.map((e) => [e.name, e]));
  const issues: PlanIssue[] = [];
  for (const entity of entities) {
    for (const field of entity.fields) {
      for (const name of field.ref ? referencedEntities(field.ref) : []) {
        const path = [...field.path, 'ref', ...(field.ref?.by ? ['to'] : [])];
        if (!byName.has(name)) {
          issues.push({
            severity: 'error',
            path,
            message: `no entity "${name}" to refer to`,
            hint: didYouMean(name, byName.keys()),
          });
        } else if (keyCopies(byName.get(name) as EntityPlan).length === 0) {
          issues.push({
            severity: 'error',
            path,
            message: `entity "${name}" gives its records no key in the target to refer to`,
            hint: `give ${name} a field new_id: uuid, or copy its key (id: id)`,
          });
        }
      }
      const kinds = new Set(
        (field.ref?.by ? referencedEntities(field.ref) : []).map(
          (name) => byName.get(name)?.fields.some((f) => f.newId) === true,
        ),
      );
      if (kinds.size > 1)
        issues.push({
          severity: 'error',
          path: [...field.path, 'ref', 'to'],
          message: 'a ref by type writes one column: its entities must all have new_id keys, or all copied keys',
          hint: 'give them keys of one kind',
        });
    }
  }
  if (issues.length > 0) return { order: [...entities], deferred: [], issues };
  // Every edge first; if a cycle has a hard ref where the walk closes it, order by the hard refs alone.
  const all = walk(entities, byName, () => true);
  const result = all.issues.length === 0 ? all : walk(entities, byName, (f) => !soft(f));
  if (result.issues.length > 0) return { ...result, deferred: [], issues: all.issues };
  const at = new Map(result.order.map((e, i) => [e.name, i]));
  const deferred = result.order.flatMap((e) =>
    e.fields
      .filter((f) => f.ref && referencedEntities(f.ref).some((name) => (at.get(name) ?? -1) >= (at.get(e.name) ?? 0)))
      .map((f) => ({ entity: e.name, field: f.target })),
  );
  for (const d of deferred) {
    const entity = byName.get(d.entity) as EntityPlan;
    if (entity.strategy !== 'full') {
      const field = entity.fields.find((f) => f.target === d.field) as FieldPlan;
      issues.push({
        severity: 'error',
        path: [...field.path, 'ref'],
        message: `this ref closes a cycle, and a cycle loads in two passes: ${entity.name} must be a full load`,
        hint: 'use strategy: full for it, or break the cycle',
      });
    }
  }
  return { order: result.order, deferred, issues };
}

/**
 * Each entity's dedupe group (the entity with `dedupe:` and those it names in `with:`), by entity name; an
 * entity in no group is absent. The group is matched when its first member loads, with every member's refs
 * resolved: so each member waits for what any member refers to. Built once: a lookup per entity visited made
 * loading a plan of thousands of entities quadratic.
 */
function dedupeGroups(
  entities: readonly EntityPlan[],
  byName: ReadonlyMap<string, EntityPlan>,
): Map<string, EntityPlan[]> {
  const groups = new Map<string, EntityPlan[]>();
  for (const owner of entities) {
    if (!owner.dedupe) continue;
    const group = [
      owner,
      ...owner.dedupe.with.flatMap((name) => (byName.has(name) ? [byName.get(name) as EntityPlan] : [])),
    ];
    for (const member of group) if (!groups.has(member.name)) groups.set(member.name, group);
  }
  return groups;
}

/** Depth-first over the refs `follow` keeps: referenced entities first; a cycle is an issue. */
function walk(
  entities: readonly EntityPlan[],
  byName: ReadonlyMap<string, EntityPlan>,
  follow: (field: FieldPlan) => boolean,
): { order: EntityPlan[]; issues: PlanIssue[] } {
  const issues: PlanIssue[] = [];
  const order: EntityPlan[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const groups = dedupeGroups(entities, byName);
  /** The entities being visited, outermost first: one shared stack, so a long chain of refs is not copied at each step. */
  const trail: string[] = [];
  const visit = (entity: EntityPlan): void => {
    if (state.get(entity.name) === 'done') return;
    state.set(entity.name, 'visiting');
    // Its own refs, and what the rest of its dedupe group refers to outside the group.
    const group = groups.get(entity.name) ?? [entity];
    const inGroup = (name: string) => group.some((g) => g.name === name);
    const others = group
      .filter((e) => e !== entity)
      .flatMap((e) => e.fields.filter((f) => !(f.ref && referencedEntities(f.ref).every(inGroup))));
    const edges = [...entity.fields, ...others].flatMap((field) =>
      field.ref && follow(field)
        ? referencedEntities(field.ref).map((name) => ({ field, target: byName.get(name) }))
        : [],
    );
    for (const { field, target } of edges) {
      if (!target) continue;
      if (state.get(target.name) === 'visiting') {
        // A soft ref closing the cycle is simply not followed: it is filled in by the second pass.
        if (soft(field)) continue;
        const cycle = [...trail.slice(trail.lastIndexOf(target.name)), entity.name, target.name];
        issues.push({
          severity: 'error',
          path: [...field.path, 'ref'],
          message: `references go round in a cycle: ${cycle.join(' -> ')}`,
          hint: 'a cycle loads in two passes: give one of its refs orphans: null (written NULL first, filled in once its target is loaded)',
        });
        continue;
      }
      trail.push(entity.name);
      visit(target);
      trail.pop();
    }
    state.set(entity.name, 'done');
    order.push(entity);
  };
  for (const entity of entities) visit(entity);
  return { order, issues };
}
