import { PlanError, type PlanIssue } from '../errors.js';
import type { EntityPlan } from '../mapping/compile.js';
import type { Plan } from '../plan/load.js';
import { didYouMean } from '../plan/suggest.js';
import { keyCopies } from './target-key.js';

/**
 * The entities in an order that loads every referenced entity before the ones that refer to it (the plan's
 * own order where refs allow). A ref to an unknown entity, or a cycle, is a plan error: cycles (a company's
 * primary contact, a contact's company) would need two passes, which are not done yet.
 */
export function loadOrder(plan: Plan): EntityPlan[] {
  const { order, issues } = ordered(plan.entities);
  if (issues.length > 0) throw new PlanError(issues.map((i) => ({ ...i, location: plan.locate(i.path) })));
  return order;
}

/** What is wrong with the plan's references, found when it loads (before any connection). */
export function referenceIssues(entities: readonly EntityPlan[]): PlanIssue[] {
  return ordered(entities).issues;
}

function ordered(entities: readonly EntityPlan[]): { order: EntityPlan[]; issues: PlanIssue[] } {
  const byName = new Map(entities.map((e) => [e.name, e]));
  const issues: PlanIssue[] = [];
  for (const entity of entities) {
    for (const field of entity.fields) {
      if (field.ref && !byName.has(field.ref.entity)) {
        issues.push({ severity: 'error', path: [...field.path, 'ref'], message: `no entity "${field.ref.entity}" to refer to`, hint: didYouMean(field.ref.entity, byName.keys()) });
      } else if (field.ref && keyCopies(byName.get(field.ref.entity) as EntityPlan).length === 0) {
        issues.push({ severity: 'error', path: [...field.path, 'ref'], message: `entity "${field.ref.entity}" gives its records no key in the target to refer to`, hint: `give ${field.ref.entity} a field new_id: uuid, or copy its key (id: id)` });
      }
    }
  }
  const order: EntityPlan[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (entity: EntityPlan, trail: string[]): void => {
    if (state.get(entity.name) === 'done') return;
    if (state.get(entity.name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(entity.name)), entity.name];
      const field = entity.fields.find((f) => f.ref && cycle.includes(f.ref.entity));
      issues.push({ severity: 'error', path: field ? [...field.path, 'ref'] : entity.path, message: `references go round in a cycle: ${cycle.join(' -> ')}`, hint: 'loading a cycle in two passes is not supported yet: load one side without the ref, then add it' });
      return;
    }
    state.set(entity.name, 'visiting');
    for (const field of entity.fields) {
      const target = field.ref && byName.get(field.ref.entity);
      if (target) visit(target, [...trail, entity.name]);
    }
    state.set(entity.name, 'done');
    order.push(entity);
  };
  for (const entity of entities) visit(entity, []);
  return { order, issues };
}
