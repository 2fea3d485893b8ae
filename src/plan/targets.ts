import { CrmMigrateError, type PlanIssue } from '../errors.js';
import type { EntityPlan } from '../mapping/compile.js';
import { referencedEntities } from '../mapping/identity.js';
import type { PlanInput } from './schema.js';
import { didYouMean } from '../suggest.js';

/**
 * Several targets in one plan (`targets: { crm: postgres://…, archive: csv:./archive }`, each entity naming
 * its own with `target:`): a plan of several targets runs as one part per target. A part is the plan's
 * entities of that target, with the target's URL, its own name (`<plan>.<target>`: its runs, checkpoints,
 * quarantine and crosswalk live in that target, beside its data, and cannot meet another part's) and a hash of
 * its own mapping, so changing one part does not stop another from resuming. Each part is exactly-once on
 * its own; no transaction spans two targets, which is why a ref or a dedupe link may not cross from one to
 * another.
 */

/** Each entity's target name; issues for a missing, unknown or misplaced `target:`, and for links across targets. */
export function targetOfEntities(
  input: PlanInput,
  entities: readonly EntityPlan[],
  issues: PlanIssue[],
): Map<string, string> {
  const placed = new Map<string, string>();
  if ((input.target === undefined) === (input.targets === undefined)) {
    issues.push({
      severity: 'error',
      path: [],
      message: 'a plan needs either target: (one URL) or targets: (several, by name)',
    });
    return placed;
  }
  const names = Object.keys(input.targets ?? {});
  for (const entity of entities) {
    const given = input.entities[entity.name]?.target;
    const at = [...entity.path, 'target'];
    if (!input.targets) {
      if (given !== undefined)
        issues.push({
          severity: 'error',
          path: at,
          message: 'this plan has one target: "target" on an entity needs targets: at the top',
          hint: 'name them: targets: { crm: …, archive: … }',
        });
      continue;
    }
    const name = given ?? (names.length === 1 ? names[0] : undefined);
    if (name === undefined || !names.includes(name)) {
      issues.push({
        severity: 'error',
        path: at,
        message:
          name === undefined
            ? 'the plan has several targets: say which one this entity writes'
            : `no target named "${name}"`,
        hint: (name !== undefined ? didYouMean(name, names) : undefined) ?? `targets: ${names.join(', ')}`,
      });
      continue;
    }
    placed.set(entity.name, name);
  }
  if (placed.size === 0) return placed;
  for (const entity of entities) {
    const own = placed.get(entity.name);
    for (const field of entity.fields) {
      for (const name of field.ref ? referencedEntities(field.ref) : []) {
        const other = placed.get(name);
        if (other && own && other !== own) {
          issues.push({
            severity: 'error',
            path: [...field.path, 'ref'],
            message: `${name} is written to target ${other}, ${entity.name} to ${own}: a ref cannot cross targets (no transaction spans two)`,
            hint: `write both to one target, or copy the key instead of ref`,
          });
        }
      }
    }
    for (const [i, linked] of (entity.dedupe?.with ?? []).entries()) {
      const other = placed.get(linked);
      if (other && own && other !== own)
        issues.push({
          severity: 'error',
          path: [...entity.path, 'dedupe', 'with', i],
          message: `${linked} is written to target ${other}, ${entity.name} to ${own}: records are linked within one target`,
        });
    }
  }
  return placed;
}

/** The part of a plan of several targets that writes `target`; `plan` names the plan in messages. */
export function targetPart(
  plan: string,
  targets: Readonly<Record<string, string>>,
  target: string,
): { name: string; url: string } {
  const url = targets[target];
  if (url === undefined) {
    throw new CrmMigrateError('E_USAGE', `plan ${plan} has no target "${target}"`, {
      hint: didYouMean(target, Object.keys(targets)) ?? `its targets: ${Object.keys(targets).join(', ')}`,
    });
  }
  return { name: `${plan}.${target}`, url };
}
