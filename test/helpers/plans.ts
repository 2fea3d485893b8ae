import type { BoundEntity, TargetColumn } from '../../src/engine/schema-check.js';
import { parsePlan } from '../../src/plan/load.js';

/**
 * The seed scenario's plan (old_crm_customers -> new_crm_customers), as YAML text. Tests that check
 * positions in a plan (file:line:col) rely on this layout: the customers' fields start on line 11.
 */
export function seedPlan(options: {
  source: string;
  target: string;
  name?: string;
  batchSize?: number;
  phone?: string;
}): string {
  return `version: 1
name: ${options.name ?? 'seed'}
source: ${options.source}
target: ${options.target}
batch_size: ${options.batchSize ?? 10000}
entities:
  customers:
    from: old_crm_customers
    into: new_crm_customers
    key: id
    fields:
      id: id
      first_name: { from: name, transform: name.first }
      last_name: { from: name, transform: name.last }
      email: { from: email, clean: email, invalid: quarantine }
${options.phone === undefined ? '' : `      phone: ${options.phone}\n`}`;
}

/**
 * One entity (`people`, source `old`, key `id`) of an in-memory plan, bound to target columns without a
 * database: for tests of the row mapper, rules and mapping threads. `fields` are the YAML lines under
 * `fields:`, indented six spaces. Target columns are text (`id` integer) and nullable unless `column` says
 * otherwise.
 */
export function boundEntity(
  fields: string,
  sourceColumns: string[],
  column: (target: string) => Partial<TargetColumn> = () => ({}),
): BoundEntity {
  const text = `version: 1\nsource: "sqlite::memory:"\ntarget: "sqlite::memory:"\nentities:\n  people:\n    from: old\n    into: new\n    key: id\n    fields:\n${fields}`;
  const entity = parsePlan(text, 'p.yaml', {}).entities[0];
  if (!entity) throw new Error('no entity');
  const targetColumns = entity.fields.map((f) => ({
    name: f.target,
    type: f.target === 'id' ? ('integer' as const) : ('text' as const),
    nullable: true,
    ...column(f.target),
  }));
  return {
    plan: entity,
    sourceColumns,
    targetColumns,
    create: undefined,
    targetKey: [],
    writeColumns: targetColumns.map((c) => c.name),
    readColumns: sourceColumns,
    recordsCrosswalk: false,
  };
}
