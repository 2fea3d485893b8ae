import type { Rejection } from '../../errors.js';

/** MySQL/MariaDB error numbers of a row refused for its data, as our codes. */
const CODES: Readonly<Record<number, Rejection['code']>> = {
  1062: 'unique_violation', // ER_DUP_ENTRY
  1048: 'not_null', // ER_BAD_NULL_ERROR
  1264: 'out_of_range', // ER_WARN_DATA_OUT_OF_RANGE
  1690: 'out_of_range', // ER_DATA_OUT_OF_RANGE
  1367: 'out_of_range', // ER_ILLEGAL_VALUE_FOR_TYPE
  1406: 'too_long', // ER_DATA_TOO_LONG
  1452: 'foreign_key_violation', // ER_NO_REFERENCED_ROW_2
  1216: 'foreign_key_violation', // ER_NO_REFERENCED_ROW
  3819: 'check_violation', // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025: 'check_violation', // ER_CONSTRAINT_FAILED (MariaDB)
  1644: 'rejected_by_target', // ER_SIGNAL_EXCEPTION: a trigger's SIGNAL
  1265: 'rejected_by_target', // WARN_DATA_TRUNCATED: an ENUM or SET value not in the list, among others
  1366: 'rejected_by_target', // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1292: 'rejected_by_target', // ER_TRUNCATED_WRONG_VALUE
  1213: 'conflict', // ER_LOCK_DEADLOCK
  1205: 'conflict', // ER_LOCK_WAIT_TIMEOUT
};

/**
 * Why MySQL or MariaDB refused a row, when it refused it for its data; undefined for any other failure. The
 * field is the column or key the message names in quotes (names only: a value is never taken from it).
 * `enumColumns` are the batch's ENUM and SET columns: a value truncated there was not in the list.
 */
export function mysqlRejection(error: unknown, enumColumns: ReadonlySet<string> = new Set()): Rejection | undefined {
  const e = error as { errno?: unknown; sqlMessage?: unknown };
  const errno = typeof e.errno === 'number' ? e.errno : Number.NaN;
  let code = CODES[errno];
  if (!code) return undefined;
  const message = typeof e.sqlMessage === 'string' ? e.sqlMessage : '';
  const column = /for column [`']([^`']+)[`']|Column [`']([^`']+)[`']/.exec(message);
  const key = errno === 1062 ? /for key '([^']+)'/.exec(message)?.[1] : undefined;
  const constraint = /constraint [`']([^`']+)[`']/i.exec(message)?.[1];
  const field = column?.[1] ?? column?.[2] ?? key?.replace(/^.*\./, '') ?? constraint ?? '';
  if (code === 'unique_violation' && key?.replace(/^.*\./, '') === 'PRIMARY') code = 'key_exists';
  if (errno === 1265 && enumColumns.has(field)) code = 'not_in_enum';
  return { code, databaseCode: String(errno), field };
}
