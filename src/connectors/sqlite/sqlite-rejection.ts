import type { Rejection } from '../../errors.js';

/** SQLite's extended result codes for a row it refuses for its data, as our codes. */
const CODES: Readonly<Record<string, Rejection['code']>> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique_violation',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'key_exists',
  SQLITE_CONSTRAINT_NOTNULL: 'not_null',
  SQLITE_CONSTRAINT_CHECK: 'check_violation',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key_violation',
  SQLITE_CONSTRAINT_TRIGGER: 'rejected_by_target',
  SQLITE_CONSTRAINT: 'rejected_by_target',
  SQLITE_MISMATCH: 'rejected_by_target',
  SQLITE_TOOBIG: 'too_long',
};

/**
 * Why SQLite refused a row, when it refused it for its data; undefined for any other failure. The column comes
 * from the message ("UNIQUE constraint failed: people.email"), which names columns and never values; a
 * trigger's RAISE text is not used at all.
 */
export function sqliteRejection(error: unknown): Rejection | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  const ours = CODES[code];
  if (!ours) return undefined;
  const named = /constraint failed: (.+)$/.exec((error as Error).message ?? '')?.[1] ?? '';
  const field =
    code === 'SQLITE_CONSTRAINT_TRIGGER'
      ? ''
      : named
          .split(', ')
          .map((c) => c.slice(c.indexOf('.') + 1))
          .join(', ');
  return { code: ours, databaseCode: code, field };
}
