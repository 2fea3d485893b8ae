import { readFileSync } from 'node:fs';
import { CrmMigrateError } from '../../errors.js';
import type { TlsSettings } from '../contract.js';

/** The PEM text of the plan's `tls.ca`, if it names one. */
export function readCa(tls: TlsSettings): string | undefined {
  if (tls.ca === undefined) return undefined;
  try {
    return readFileSync(tls.ca, 'utf8');
  } catch (cause) {
    throw new CrmMigrateError('E_PLAN', `cannot read tls.ca ${tls.ca}`, { cause });
  }
}
