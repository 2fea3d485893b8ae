import pg from 'pg';
import { CrmMigrateError, type ErrorCode } from '../../errors.js';
import { redactUrl } from '../url.js';

/** Fixed session settings, so COPY text reads back the same way whatever the server's defaults. */
const SESSION = "SET datestyle = 'ISO'; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'; SET intervalstyle = 'iso_8601'";

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query(SESSION);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new CrmMigrateError('E_CONNECT', `cannot connect to ${redactUrl(url)}: ${describePgError(error)}`, { cause: error });
  }
  // An idle client whose server goes away emits 'error'; the next query reports it, so don't crash here.
  client.on('error', () => undefined);
  return client;
}

/**
 * A PostgreSQL error as safe text: SQLSTATE, message, constraint and column. Messages of data errors
 * (class 22: "invalid input syntax for type integer: …") end in the offending value, so that tail is cut;
 * `detail` and `where` are never used — they quote row values.
 */
export function describePgError(error: unknown): string {
  const e = error as Partial<pg.DatabaseError> & Error;
  if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return e.message ?? String(error);
  const message = e.code.startsWith('22') ? (e.message?.split(':')[0] ?? '') : (e.message ?? '');
  const context = [e.table && `table ${e.table}`, e.column && `column ${e.column}`, e.constraint && `constraint ${e.constraint}`].filter(Boolean);
  return `${message} [${e.code}${context.length > 0 ? `; ${context.join(', ')}` : ''}]`;
}

export function pgFailure(code: ErrorCode, what: string, error: unknown): CrmMigrateError {
  if (error instanceof CrmMigrateError) return error;
  return new CrmMigrateError(code, `${what}: ${describePgError(error)}`, { cause: error });
}
