import { CrmMigrateError } from '../../errors.js';

/**
 * Quotes a possibly schema-qualified identifier (`crm.customers`) part by part. Names come from plans and
 * catalogs, never from row data, but they are still quoted and checked: a name is data, not SQL.
 */
export function quoteIdentifier(name: string, quote = '"'): string {
  if (name.includes('\0') || name.trim() === '')
    throw new CrmMigrateError('E_PLAN', `invalid identifier ${JSON.stringify(name)}`);
  return name
    .split('.')
    .map((part) => `${quote}${part.split(quote).join(quote + quote)}${quote}`)
    .join('.');
}
