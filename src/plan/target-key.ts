import type { EntityPlan } from '../mapping/compile.js';

/**
 * The target columns that hold a record's key: its new_id field, or the key columns copied as they are
 * (`id: id`); an empty list if neither.
 */
export function keyCopies(entity: EntityPlan): string[] {
  const newId = entity.fields.find((f) => f.newId);
  if (newId) return [newId.target];
  const copies = entity.key.map(
    (k) => entity.fields.find((f) => f.steps.length === 0 && f.from.length === 1 && f.from[0] === k)?.target,
  );
  return copies.every((t): t is string => t !== undefined) ? copies : [];
}
