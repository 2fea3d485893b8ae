/**
 * The seed scenario's plan (old_crm_customers -> new_crm_customers), as YAML text. Tests that check
 * positions in a plan (file:line:col) rely on this layout: the customers' fields start on line 11.
 */
export function seedPlan(options: { source: string; target: string; name?: string; batchSize?: number; phone?: string }): string {
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
