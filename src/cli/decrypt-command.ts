import { createInterface } from 'node:readline';
import { CrmMigrateError } from '../index.js';
import { loadPlan } from '../index.js';
import { decryptValue, keyBytes } from '../index.js';
import type { Io } from './main.js';

export interface DecryptCommandOptions {
  key?: string;
  allowPlaintextSecrets?: boolean;
  showValues?: boolean;
}

/**
 * Decrypts values a plan's `protect: encrypt` wrote, with the plan's key (by reference, as the plan names
 * it): the values given, or one per line on stdin. Prints customer data: that is what it is for.
 */
export async function decryptCommand(
  file: string,
  values: readonly string[],
  options: DecryptCommandOptions,
  io: Io,
  input: NodeJS.ReadableStream = process.stdin,
): Promise<number> {
  const plan = await loadPlan(file, { allowPlaintextSecrets: options.allowPlaintextSecrets });
  const name = options.key ?? 'pii';
  const material = plan.keys[name];
  if (material === undefined)
    throw new CrmMigrateError('E_USAGE', `the plan has no key "${name}"`, {
      hint:
        Object.keys(plan.keys).length > 0
          ? `keys: ${Object.keys(plan.keys).join(', ')}`
          : 'add keys: { pii: ${env:CRM_PII_KEY} } to the plan',
    });
  const key = keyBytes(material);
  if (values.length > 0) {
    for (const v of values) io.out(decryptValue(key, v));
    return 0;
  }
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.trim() !== '') io.out(decryptValue(key, line.trim()));
  }
  return 0;
}
